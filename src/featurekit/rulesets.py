"""Rulesets declared with a job: DQDL text, a severity, and what to do with failing rows.

Example::

    output = FeatureTable(
        "features.user_activity_daily", ...,
        quality=(
            Ruleset('Rules = [ IsComplete "user_id", IsPrimaryKey "user_id" "feature_date" ]'),
            Ruleset('Rules = [ ColumnValues "views_1d" >= 0 ]', on_failing_rows="drop"),
            Ruleset('Rules = [ RowCount > 100 ]', severity="warn"),
        ),
    )
    fresh = Ruleset('Rules = [ DataFreshness "ts" <= 2 days ]')
    events = TableInput("raw.events", quality=(fresh,))

A Ruleset's DQDL text is checked when it is declared, before any data is read: it must
hold a ``Rules = [ ... ]`` section whose every rule (and every operand of a composite
``(rule) and (rule)`` / ``or``) starts with one of DQDL's rule types, so a typo fails the
job's import with ``did you mean 'ColumnValues'?``. The check is static and light: the
rest of each rule (its columns, operators, thresholds, ``where`` clause) is left to
Deequ's DQDL parser, which evaluates the ruleset in the run (featurekit.quality.engine).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Optional

from featurekit.errors import ConfigError

SEVERITIES = ("fail", "warn")
ROW_ACTIONS = ("keep", "quarantine", "drop")

# DQDL's rule types. Source: the AWS Glue Data Quality "DQDL rule type reference"
# (https://docs.aws.amazon.com/glue/latest/dg/dqdl-rule-types.html), checked against
# rules/rules-config.json of the DQDL parser featurekit ships with Deequ
# (software.amazon.glue:dqdl:1.0.0, https://github.com/awslabs/dqdl), which lists exactly
# these. Keep them in step when the parser is upgraded.
RULE_TYPES = frozenset(
    {
        "AggregateMatch",
        "ColumnCorrelation",
        "ColumnCount",
        "ColumnDataType",
        "ColumnExists",
        "ColumnLength",
        "ColumnNamesMatchPattern",
        "ColumnValues",
        "Completeness",
        "CustomSql",
        "DataFreshness",
        "DatasetMatch",
        "DetectAnomalies",
        "DistinctValuesCount",
        "Entropy",
        "FileFreshness",
        "FileMatch",
        "FileSize",
        "FileUniqueness",
        "IsComplete",
        "IsPrimaryKey",
        "IsUnique",
        "Mean",
        "ReferentialIntegrity",
        "RowCount",
        "RowCountMatch",
        "SchemaMatch",
        "StandardDeviation",
        "Sum",
        "UniqueValueRatio",
        "Uniqueness",
    }
)
# The same parser's analyzer-only types: allowed in an ``Analyzers = [ ... ]`` section only.
ANALYZER_TYPES = frozenset({"AllStatistics"})
SECTIONS = ("Rules", "Analyzers")

# DQDL's tokens, as its lexer sees them: quoted strings (with \" and \\ escapes), line
# comments, identifiers, two-character operators, any other character.
_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|#[^\n]*|[A-Za-z0-9_.]+|>=|<=|!=|\S')
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")


@dataclass(frozen=True)
class Ruleset:
    """A DQDL ruleset (``Rules = [ ... ]``) with its severity.

    * ``severity``: ``"fail"`` fails the run before anything is committed when a rule
      fails; ``"warn"`` records the failure as a warning of the run;
    * ``on_failing_rows`` (output rulesets): ``"keep"`` writes every row; ``"quarantine"``
      also copies rows that fail a row-level rule to ``<table>__quarantine``; ``"drop"``
      moves them there, so the output gets only passing rows. Rules whose failing rows
      were dropped do not fail the run: the rows that failed them are not in the output.
    * ``name``: how the run record and ``featurekit quality show`` call it.
    """

    dqdl: str
    severity: str = "fail"
    on_failing_rows: str = "keep"
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.dqdl, str):
            raise ConfigError(
                f"A Ruleset takes DQDL text like 'Rules = [ IsComplete \"id\" ]', got "
                f"{self.dqdl!r}."
            )
        check_dqdl(self.dqdl, self.name)
        if self.severity not in SEVERITIES:
            raise ConfigError(
                f"Ruleset severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}."
            )
        if self.on_failing_rows not in ROW_ACTIONS:
            raise ConfigError(
                f"Ruleset on_failing_rows must be one of {', '.join(ROW_ACTIONS)}, got "
                f"{self.on_failing_rows!r}."
            )

    @property
    def quarantines(self) -> bool:
        return self.on_failing_rows != "keep"

    def label(self, target: str, index: int) -> str:
        """How outcomes and errors name this ruleset: its name, else ``target#index``
        (its place among ``target``'s rulesets, e.g. ``output#0``)."""
        return self.name or f"{target}#{index}"


def check_rulesets(owner: str, rulesets: object, *, output: bool) -> tuple[Ruleset, ...]:
    """``rulesets`` as a tuple of Ruleset; a bare Ruleset or DQDL string is accepted."""
    if isinstance(rulesets, (Ruleset, str)):
        rulesets = (rulesets,)
    if not isinstance(rulesets, (tuple, list)):
        raise TypeError(f"{owner}: quality must be a Ruleset or a tuple of them, got {rulesets!r}.")
    try:
        result = tuple(Ruleset(r) if isinstance(r, str) else r for r in rulesets)
    except ConfigError as exc:
        raise ConfigError(f"{owner}: {exc}") from exc
    for ruleset in result:
        if not isinstance(ruleset, Ruleset):
            raise TypeError(f"{owner}: quality holds {ruleset!r}, not a Ruleset.")
        if ruleset.quarantines and not output:
            raise ConfigError(
                f"{owner}: on_failing_rows={ruleset.on_failing_rows!r} applies to output "
                "rulesets only; an input's rulesets check it (severity fail or warn)."
            )
    return result


def check_dqdl(dqdl: str, name: str = "") -> None:
    """Raise ConfigError unless ``dqdl`` holds ``Rules = [ ... ]`` whose rules all start
    with a DQDL rule type; the message names the ruleset (``name``, else its text), each
    rule in error and the closest rule type (``did you mean 'ColumnValues'?``)."""
    problems = dqdl_problems(dqdl)
    if problems:
        label = repr(name) if name else _shorten(dqdl)
        text = "; ".join(problems)
        raise ConfigError(f"Ruleset {label}: {text}{'' if text.endswith(('?', ')')) else '.'}")


def dqdl_problems(dqdl: str) -> list[str]:
    """What :func:`check_dqdl` finds wrong with ``dqdl``, one sentence each (none: fine)."""
    tokens = [_Token.of(m) for m in _TOKEN.finditer(dqdl) if not m.group().startswith("#")]
    if '"' in tokens:
        return ["a quoted string is not closed (a missing '\"')"]
    start = _rules_section(tokens)
    if start is None:
        return [_no_rules_section(tokens)]
    end = _closing(tokens, start)
    if end is None:
        return ["the 'Rules = [' section is not closed (a missing ']' or ')')"]
    rest = tokens[end + 1 :]
    if rest and rest[0] != "Analyzers":
        return [f"unexpected {_text(dqdl, rest)} after the Rules section's ']'"]
    rules = _split(tokens[start + 1 : end], ",")
    if rules == [[]]:
        return []  # Rules = [ ]: DQDL allows an empty ruleset
    problems = []
    for rule in rules:
        if not rule:
            problems.append("an empty rule (a ',' too many?)")
            continue
        for operand in _operands(rule):
            problem = _check_type(operand[0] if operand else "", _text(dqdl, operand or rule))
            if problem:
                problems.append(problem)
    return problems


class _Token(str):
    """A token's text, and where it is in the DQDL text."""

    start: int
    end: int

    @classmethod
    def of(cls, match: re.Match[str]) -> _Token:
        token = cls(match.group())
        token.start, token.end = match.span()
        return token


def _text(dqdl: str, tokens: list[_Token]) -> str:
    """The DQDL text of ``tokens`` (from the first to the last), quoted and shortened."""
    return _shorten(dqdl[tokens[0].start : tokens[-1].end])


def _shorten(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def _rules_section(tokens: list[_Token]) -> Optional[int]:
    """Index of the ``[`` of ``Rules = [`` at the top level (outside Metadata's braces)."""
    depth = 0
    for i, token in enumerate(tokens):
        if depth == 0 and token == "Rules" and tokens[i + 1 : i + 3] == ["=", "["]:
            return i + 2
        depth += _nesting(token)
    return None


def _no_rules_section(tokens: list[_Token]) -> str:
    sections = [t for i, t in enumerate(tokens) if tokens[i + 1 : i + 3] == ["=", "["]]
    hint = "; put the rules in 'Rules = [ ... ]' (e.g. 'Rules = [ IsComplete \"id\" ]')"
    for section in sections:
        close = difflib.get_close_matches(section.capitalize(), SECTIONS, n=1, cutoff=0.6)
        if close and section != close[0]:
            return (
                f"no 'Rules = [ ... ]' section: {section!r} is not DQDL; did you mean {close[0]!r}?"
            )
    return f"no 'Rules = [ ... ]' section{hint}"


def _closing(tokens: list[_Token], start: int) -> Optional[int]:
    """Index of the bracket that closes ``tokens[start]``; None when it is never closed."""
    depth = 0
    for i in range(start, len(tokens)):
        depth += _nesting(tokens[i])
        if depth == 0:
            return i
    return None


def _nesting(token: _Token) -> int:
    """+1 for an opening bracket, -1 for a closing one, else 0."""
    return 1 if token in _OPEN else -1 if token in _CLOSE else 0


def _split(tokens: list[_Token], separator: str) -> list[list[_Token]]:
    """``tokens`` cut at the top-level ``separator`` tokens."""
    parts: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if depth == 0 and token == separator:
            parts.append([])
            continue
        depth += _nesting(token)
        parts[-1].append(token)
    return parts


def _operands(rule: list[_Token]) -> list[list[_Token]]:
    """The rule, or each operand of a composite ``(r1) and (r2) or r3``, as its tokens
    (each starts with its rule type).

    A composite starts with ``(``; its operands are cut at top-level ``and``/``or`` followed
    by ``(`` or by a capitalized word (a rule type), so ``between 1 and 5`` and ``between
    min(last(3)) and (now() - 1 days)`` inside an operand are left whole."""
    if rule[0] != "(":
        return [rule]
    operands: list[list[_Token]] = [[]]
    depth = 0
    for i, token in enumerate(rule):
        following = rule[i + 1] if i + 1 < len(rule) else ""
        cut = following[:1].isupper() or (following == "(" and _is_group(operands[-1]))
        if depth == 0 and token.lower() in ("and", "or") and operands[-1] and cut:
            operands.append([])
            continue
        depth += _nesting(token)
        operands[-1].append(token)
    found: list[list[_Token]] = []
    for operand in operands:
        if _is_group(operand) and len(operand) > 2:
            found.extend(_operands(operand[1:-1]))
        else:
            found.append(operand)
    return found


def _is_group(tokens: list[_Token]) -> bool:
    """True when ``tokens`` is one parenthesized group: ``( ... )``."""
    return bool(tokens) and tokens[0] == "(" and _closing(tokens, 0) == len(tokens) - 1


def _check_type(kind: str, rule: str) -> str:
    """Why ``kind`` is not a rule type (empty when it is one)."""
    if kind in RULE_TYPES:
        return ""
    if kind in ANALYZER_TYPES:
        return f"{kind!r} in rule {rule} is an analyzer: declare it in 'Analyzers = [ ... ]'"
    if not kind or not _WORD.fullmatch(kind):
        return f"rule {rule} does not start with a rule type (e.g. 'IsComplete \"id\"')"
    by_lower = {t.lower(): t for t in RULE_TYPES}
    close = difflib.get_close_matches(kind.lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        return f"unknown rule type {kind!r} in rule {rule}; did you mean {by_lower[close[0]]!r}?"
    return (
        f"unknown rule type {kind!r} in rule {rule} (DQDL's rule types: "
        f"{', '.join(sorted(RULE_TYPES))})"
    )
