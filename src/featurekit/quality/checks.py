"""Rulesets applied in a run: outcomes into the run record, severities enforced, and the
output split into the rows it keeps and the rows it quarantines.

Each ruleset is one evaluation by Deequ (:func:`featurekit.quality.engine.evaluate`).
Rulesets that quarantine are chained: each adds its failed-rule column to the rows the
next one sees, so one lazy frame carries every row's failed rules to the two writes.

A rule the output contract has already proven is not evaluated twice: once featurekit's
row checks have passed on the staged rows, the table's keys and date column are known
complete and unique together, so ``IsPrimaryKey`` over exactly those columns passes
without Deequ's grouping pass over the output (its outcome says ``evaluated_by``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.core.names import sql_name
from featurekit.errors import QualityError
from featurekit.quality.dynamic import Resolved, resolve, split_rules
from featurekit.quality.engine import ROW_COLUMNS, ROW_FAIL, evaluate
from featurekit.rulesets import Ruleset

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

RULES_COLUMN = "quarantine_rules"
RUN_COLUMN = "quarantine_run_id"
DATE_COLUMN = "quarantine_date"
_FAIL_PREFIX = "__featurekit_dq_fail_"
History = Sequence[dict[str, Any]]  # earlier run records of the job, newest first
DEEQU = "deequ"
CONTRACT = "output contract"
_PRIMARY_KEY = re.compile(r'IsPrimaryKey((?:\s+"[^"]+")+)')
Report = Callable[[str], None]  # a progress line (the run's report)


def _silent(_message: str) -> None:
    """No progress lines."""


def announce(report: Report, index: int, rulesets: Sequence[Ruleset], target: str) -> None:
    """``quality: evaluating ruleset 2/3 name (4 rules) on output``: before each ruleset,
    whose evaluation may be a long Spark pass with nothing else to show."""
    ruleset = rulesets[index]
    try:
        count = f" ({len(split_rules(ruleset.dqdl)[1])} rules)"
    except ValueError:  # no rule list to count: the engine says what is wrong with it
        count = ""
    name = f" {ruleset.name}" if ruleset.name else ""
    report(f"quality: evaluating ruleset {index + 1}/{len(rulesets)}{name}{count} on {target}")


@dataclass
class Checked:
    """The output after its rulesets: rows to write, rows to quarantine (None: none asked)."""

    output: DataFrame
    quarantine: Optional[DataFrame] = None
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # the evaluated texts of the row-level rules whose failing rows are counted
    failing: list[str] = field(default_factory=list)
    # each quarantining ruleset's row-level frame as Deequ returned it, by ruleset index
    row_levels: dict[int, DataFrame] = field(default_factory=dict)


def rule_outcomes(
    evaluation_rows: Sequence[Any],
    ruleset: Ruleset,
    target: str,
    index: int,
    resolved: Optional[Resolved] = None,
) -> list[dict[str, Any]]:
    """Plain dicts for the run record, one per rule, in the engine's order; dynamic rules
    under their declared text (the evaluated text in ``evaluated_rule``)."""
    resolved = resolved or Resolved("", {}, {})
    outcomes = []
    for row in evaluation_rows:
        text = row["Rule"]
        why = resolved.skipped.get(text)
        outcome = _outcome(ruleset, target, index, resolved.original.get(text, text), DEEQU)
        outcome["evaluated_rule"] = text
        outcome["outcome"] = "Skipped" if why else row["Outcome"]
        outcome["failure_reason"] = why or row["FailureReason"]
        outcome["metrics"] = dict(row["EvaluatedMetrics"] or {})
        outcomes.append(outcome)
    return outcomes


def _outcome(
    ruleset: Ruleset, target: str, index: int, rule: str, evaluated_by: str
) -> dict[str, Any]:
    """A rule's outcome record as the run record keeps it (a pass until told otherwise)."""
    return {
        "target": target,
        "ruleset": ruleset.label(target, index),
        "rule": rule,
        "evaluated_rule": rule,
        "outcome": "Passed",
        "failure_reason": None,
        "metrics": {},
        "severity": ruleset.severity,
        "failing_rows": None,
        "handled": False,
        "evaluated_by": evaluated_by,
    }


def _deequ_outcomes(
    df: DataFrame, dqdl: str, ruleset: Ruleset, target: str, index: int, history: History
) -> list[dict[str, Any]]:
    """Deequ's outcomes of ``dqdl`` (one of ``ruleset``'s texts) on ``df``, rule by rule."""
    resolved = resolve(dqdl, target, history)
    rows = evaluate(df, resolved.dqdl, row_level=False).rule_outcomes.collect()
    return rule_outcomes(rows, ruleset, target, index, resolved)


def settled_rules(dqdl: str, settled: Sequence[str]) -> tuple[str, list[str]]:
    """``dqdl`` without the rules the output contract has proven, and those rules.

    ``settled``: columns known complete and unique together (the table's keys and date
    column once the row checks passed). Only ``IsPrimaryKey`` over exactly those columns
    qualifies; a rule with anything more (a ``where`` clause, other columns) stays with
    Deequ. Returns an empty ruleset text when every rule is settled.
    """
    if not settled or "IsPrimaryKey" not in dqdl:
        return dqdl, []
    head, rules, tail = split_rules(dqdl)
    proven = [r for r in rules if _proves(r, settled)]
    if not proven:
        return dqdl, []
    rest = [r for r in rules if r not in proven]
    return (f"{head} {', '.join(rest)} {tail}" if rest else ""), proven


def _proves(rule: str, settled: Sequence[str]) -> bool:
    match = _PRIMARY_KEY.fullmatch(rule.strip())
    if match is None:
        return False
    columns = re.findall(r'"([^"]+)"', match.group(1))
    return len(columns) == len(set(columns)) and set(columns) == set(settled)


def contract_outcome(rule: str, ruleset: Ruleset, target: str, index: int) -> dict[str, Any]:
    """The outcome of an ``IsPrimaryKey`` the output contract proved: passed, with the
    metrics Deequ reports for it (uniqueness and completeness 1.0)."""
    columns = re.findall(r'"([^"]+)"', rule)
    scope = f"Multicolumn.{','.join(columns)}" if len(columns) > 1 else f"Column.{columns[0]}"
    outcome = _outcome(ruleset, target, index, rule, CONTRACT)
    outcome["metrics"] = {
        f"{scope}.Uniqueness": 1.0,
        **{f"Column.{c}.Completeness": 1.0 for c in columns},
    }
    return outcome


def enforce(outcomes: Sequence[dict[str, Any]], where: str) -> list[str]:
    """Raise QualityError for failed rules of severity fail; return warnings for the rest."""
    failed = [o for o in outcomes if o["outcome"] == "Failed" and not o["handled"]]
    errors = [o for o in failed if o["severity"] == "fail"]
    warnings = [_describe(o) for o in failed if o["severity"] == "warn"]
    if errors:
        listing = "; ".join(_describe(o) for o in errors)
        raise QualityError(
            f"{len(errors)} data quality rule(s) of severity 'fail' failed on {where}: "
            f"{listing}. Nothing was committed. Fix the data or the rules, or declare the "
            "ruleset severity='warn' (or on_failing_rows='drop' for row-level rules)."
        )
    return warnings


def _describe(outcome: dict[str, Any]) -> str:
    reason = outcome["failure_reason"] or outcome["outcome"]
    return f"[{outcome['target']}] {outcome['rule']}: {reason}"


def check_input(
    df: DataFrame,
    rulesets: Sequence[Ruleset],
    target: str,
    history: History = (),
    report: Report = _silent,
) -> Checked:
    """Evaluate an input's rulesets (``history``: earlier run records, for dynamic rules;
    ``report``: a progress line before each)."""
    checked = Checked(output=df)
    for index, ruleset in enumerate(rulesets):
        announce(report, index, rulesets, target)
        checked.outcomes += _deequ_outcomes(df, ruleset.dqdl, ruleset, target, index, history)
    return checked


def check_output(
    df: DataFrame,
    rulesets: Sequence[Ruleset],
    *,
    run_id: str,
    run_date: str,
    history: History = (),
    settled: Sequence[str] = (),
    report: Report = _silent,
    count_failing: bool = True,
) -> Checked:
    """Evaluate the output's rulesets, chaining those that quarantine failing rows.

    ``settled``: columns the output contract has verified complete and unique together on
    these rows (see :func:`settled_rules`; used for rulesets that keep every row);
    ``report``: a progress line before each ruleset and before counting failing rows;
    ``count_failing=False``: the rows failing each row-level rule are not counted here
    (``Checked.failing`` says what to count on the quarantine rows: the caller counts
    them while writing those rows and gives the counts to :func:`record_failing_rows`)."""
    from pyspark.sql import functions as F

    columns = list(df.columns)
    frame, fail_columns, drop_columns = df, [], []
    outcomes: list[dict[str, Any]] = []
    row_levels: dict[int, DataFrame] = {}
    for index, ruleset in enumerate(rulesets):
        announce(report, index, rulesets, "output")
        if not ruleset.quarantines and settled:
            outcomes += _keeping_ruleset(frame, ruleset, index, history, settled)
            continue
        resolved = resolve(ruleset.dqdl, "output", history)
        evaluation = evaluate(frame, resolved.dqdl, row_level=ruleset.quarantines)
        rows = evaluation.rule_outcomes.collect()
        evaluated = rule_outcomes(rows, ruleset, "output", index, resolved)
        outcomes += evaluated
        if ruleset.quarantines:
            refuse_unevaluable(evaluated, ruleset)
            row_levels[index] = evaluation.row_level
            column = f"{_FAIL_PREFIX}{index}"
            others = [c for c in ROW_COLUMNS if c != ROW_FAIL]
            frame = evaluation.row_level.drop(*others).withColumnRenamed(ROW_FAIL, column)
            fail_columns.append(column)
            if ruleset.on_failing_rows == "drop":
                drop_columns.append(column)
    checked = Checked(output=df, outcomes=outcomes, row_levels=row_levels)
    if not fail_columns:
        return checked
    failed = F.concat(*[F.col(c) for c in fail_columns])
    checked.failing = row_level_rules(outcomes, rulesets)
    if count_failing:
        report("quality: counting the rows that fail each row-level rule")
        _count_failing_rows(frame, failed, outcomes, rulesets)
    checked.quarantine = quarantine_rows(frame, failed, columns, run_id, run_date)
    if drop_columns:
        dropped = F.concat(*[F.col(c) for c in drop_columns])
        checked.output = frame.where(F.size(dropped) == 0).select(*map(sql_name, columns))
    return checked


# Deequ's reasons for a rule it could not evaluate on these columns (its analyzers'
# preconditions): every row fails such a rule, whatever its values.
_UNEVALUABLE = re.compile(r"Input data does not include column |Expected type of column ")


def refuse_unevaluable(outcomes: Sequence[dict[str, Any]], ruleset: Ruleset) -> None:
    """A QualityError when a rule of ``ruleset`` (one that drops or quarantines failing
    rows) could not be evaluated on the output's columns: a name or type the output does
    not have would otherwise fail, and drop or quarantine, every row."""
    broken = [o for o in outcomes if _UNEVALUABLE.match(o["failure_reason"] or "")]
    if not broken:
        return
    listing = "; ".join(f"{o['rule']}: {o['failure_reason'].splitlines()[0]}" for o in broken)
    action = "dropped" if ruleset.on_failing_rows == "drop" else "quarantined"
    raise QualityError(
        f"[{broken[0]['ruleset']}] cannot evaluate {len(broken)} rule(s) on the output's "
        f"columns: {listing} Every row would fail them and be {action}. Fix the rule's "
        "column name or type. Nothing was committed."
    )


def quarantine_rows(
    frame: DataFrame, failed: Any, columns: Sequence[str], run_id: str, run_date: str
) -> DataFrame:
    """The rows of ``frame`` whose ``failed`` rules (an array column) are not empty, as
    the quarantine table keeps them: the output's ``columns``, the failed rules, the run."""
    from pyspark.sql import functions as F

    return frame.where(F.size(failed) > 0).select(
        *map(sql_name, columns),
        failed.alias(RULES_COLUMN),
        F.lit(run_id).alias(RUN_COLUMN),
        F.lit(run_date).cast("date").alias(DATE_COLUMN),
    )


def row_level_rules(outcomes: Sequence[dict[str, Any]], rulesets: Sequence[Ruleset]) -> list[str]:
    """The evaluated texts of the rules whose failing rows are counted (those of the
    rulesets that quarantine or drop rows), each once, in order."""
    by_name = {r.label("output", i): r for i, r in enumerate(rulesets)}
    rules = [o["evaluated_rule"] for o in outcomes if by_name[o["ruleset"]].quarantines]
    return list(dict.fromkeys(rules))


def failing_row_counts(rules: Sequence[str]) -> list[Any]:
    """Aggregate columns counting, over quarantine rows, the rows failing each of ``rules``
    (named ``rule_0``, ``rule_1``, ...): a row whose failed rules name one twice counts
    twice, as an exploding count does. Rows outside the quarantine fail no rule, so the
    counts over the quarantine rows are the counts over the whole output."""
    from pyspark.sql import functions as F

    failed = F.col(RULES_COLUMN)
    return [
        F.coalesce(F.sum(F.size(F.filter(failed, _equals(text)))), F.lit(0))
        .cast("long")
        .alias(f"rule_{i}")
        for i, text in enumerate(rules)
    ]


def _equals(text: str) -> Callable[[Any], Any]:
    """``element == text``, for a higher-order function over an array column."""
    from pyspark.sql import functions as F

    return lambda element: element == F.lit(text)


def record_failing_rows(
    outcomes: list[dict[str, Any]], rulesets: Sequence[Ruleset], counts: Mapping[str, int]
) -> None:
    """Each row-level rule's failing rows (``counts``: evaluated rule text -> rows) into
    its outcome; rules of dropping rulesets whose failures are all in dropped rows are
    marked handled."""
    by_name = {r.label("output", i): r for i, r in enumerate(rulesets)}
    for outcome in outcomes:
        ruleset = by_name[outcome["ruleset"]]
        if not ruleset.quarantines:
            continue
        outcome["failing_rows"] = int(counts.get(outcome["evaluated_rule"], 0))
        if ruleset.on_failing_rows == "drop" and outcome["failing_rows"] > 0:
            outcome["handled"] = True


def _keeping_ruleset(
    df: DataFrame, ruleset: Ruleset, index: int, history: History, settled: Sequence[str]
) -> list[dict[str, Any]]:
    """Outcomes of a ruleset that keeps every row, in declared order: the rules the output
    contract proved, and Deequ's outcomes for the rest (no Deequ pass when none is left)."""
    dqdl, proven = settled_rules(ruleset.dqdl, settled)
    evaluated = _deequ_outcomes(df, dqdl, ruleset, "output", index, history) if dqdl else []
    if not proven:
        return evaluated
    _, declared, _ = split_rules(ruleset.dqdl)
    by_contract = [r in proven for r in declared]
    if len(evaluated) + sum(by_contract) != len(declared):  # Deequ merged repeated rules
        return [contract_outcome(r, ruleset, "output", index) for r in proven] + evaluated
    rest = iter(evaluated)  # Deequ answers the remaining rules in their declared order
    return [
        contract_outcome(r, ruleset, "output", index) if mine else next(rest)
        for r, mine in zip(declared, by_contract)
    ]


def _count_failing_rows(
    frame: DataFrame, failed: Any, outcomes: list[dict[str, Any]], rulesets: Sequence[Ruleset]
) -> None:
    """Per rule, how many rows failed it (one aggregation), into the outcomes."""
    from pyspark.sql import functions as F

    counts = {
        row["rule"]: row["n"]
        for row in frame.select(F.explode(failed).alias("rule"))
        .groupBy("rule")
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    }
    record_failing_rows(outcomes, rulesets, counts)
