"""DQDL's dynamic rules, resolved from previous runs: ``RowCount >= min(last(3))``.

Deequ's engine has no metric history, so it fails ``last(k)`` operands. featurekit keeps
one: every run record holds each rule's evaluated metrics. Before evaluation,
``avg|min|max|sum(last(k))`` in a rule becomes the number computed from the metric of
the same rule (same target, same text) in the job's last ``k`` succeeded runs. A rule with
no previous run yet is evaluated with an always-true condition, so its metric is recorded
for the next runs, and its outcome is ``Skipped`` with the reason.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional

DYNAMIC = re.compile(r"(avg|min|max|sum)\s*\(\s*last\s*\(\s*(\d+)\s*\)\s*\)")
_CONDITION = re.compile(r"\s(>=|<=|!=|>|<|=|between)\s")
_ALWAYS = "between -999999999999999999.0 and 999999999999999999.0"
_FUNCS: dict[str, Callable[[list[float]], float]] = {
    "avg": statistics.fmean,
    "min": lambda v: min(v),
    "max": lambda v: max(v),
    "sum": lambda v: float(sum(v)),
}


@dataclass(frozen=True)
class Resolved:
    """A ruleset with its dynamic rules replaced; ``original`` maps evaluated text back."""

    dqdl: str
    original: dict[str, str]  # evaluated rule text -> rule as declared
    skipped: dict[str, str]  # evaluated rule text -> why its outcome is Skipped


def split_rules(dqdl: str) -> tuple[str, list[str], str]:
    """(text before the rules, the rules, text after) of ``Rules = [ r1, r2 ]``."""
    start = dqdl.index("[") + 1
    rules, depth, quoted, begin = [], 0, False, start
    for i in range(start, len(dqdl)):
        ch = dqdl[i]
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "([":
            depth += 1
        elif not quoted and ch in ")]":
            if depth == 0:
                rules.append(dqdl[begin:i].strip())
                return dqdl[:start], [r for r in rules if r], dqdl[i:]
            depth -= 1
        elif not quoted and ch == "," and depth == 0:
            rules.append(dqdl[begin:i].strip())
            begin = i + 1
    raise ValueError(f"unbalanced brackets in ruleset {dqdl!r}")


def resolve(dqdl: str, target: str, history: Sequence[dict[str, Any]]) -> Resolved:
    """Replace the ``last(k)`` operands of ``dqdl`` from ``history`` (records, newest first)."""
    if "last" not in dqdl or not DYNAMIC.search(dqdl):
        return Resolved(dqdl, {}, {})
    head, rules, tail = split_rules(dqdl)
    original: dict[str, str] = {}
    skipped: dict[str, str] = {}
    out = []
    for rule in rules:
        text, why = _resolve_rule(rule, target, history)
        out.append(text)
        if text != rule:
            original[text] = rule
        if why:
            skipped[text] = why
    return Resolved(f"{head} {', '.join(out)} {tail}", original, skipped)


def _resolve_rule(rule: str, target: str, history: Sequence[dict[str, Any]]) -> tuple[str, str]:
    if not DYNAMIC.search(rule):
        return rule, ""
    values = _past_values(rule, target, history)
    if not values:
        match = _CONDITION.search(rule)
        head = rule[: match.start()] if match else rule
        return f"{head} {_ALWAYS}", "dynamic rule: no previous run to compare with yet"

    def number(m: re.Match[str]) -> str:
        window = values[: int(m.group(2))]
        return repr(float(_FUNCS[m.group(1)](window)))

    return DYNAMIC.sub(number, rule), ""


def _past_values(rule: str, target: str, history: Sequence[dict[str, Any]]) -> list[float]:
    values = []
    for record in history:
        value = _metric(record, rule, target)
        if value is not None:
            values.append(value)
    return values


def _metric(record: dict[str, Any], rule: str, target: str) -> Optional[float]:
    if record.get("status") != "succeeded":
        return None
    for outcome in record.get("quality") or []:
        if outcome["rule"] == rule and outcome["target"] == target and outcome["metrics"]:
            return float(next(iter(outcome["metrics"].values())))
    return None
