"""Rulesets applied in a run: outcomes into the run record, severities enforced, and the
output split into the rows it keeps and the rows it quarantines.

Each ruleset is one evaluation by Deequ (:func:`featurekit.quality.engine.evaluate`).
Rulesets that quarantine are chained: each adds its failed-rule column to the rows the
next one sees, so one lazy frame carries every row's failed rules to the two writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from featurekit.errors import QualityError
from featurekit.quality.dynamic import Resolved, resolve
from featurekit.quality.engine import ROW_COLUMNS, ROW_FAIL, evaluate
from featurekit.quality.rules import Ruleset

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

RULES_COLUMN = "quarantine_rules"
RUN_COLUMN = "quarantine_run_id"
DATE_COLUMN = "quarantine_date"
_FAIL_PREFIX = "__featurekit_dq_fail_"
History = Sequence[dict[str, Any]]  # earlier run records of the job, newest first


@dataclass
class Checked:
    """The output after its rulesets: rows to write, rows to quarantine (None: none asked)."""

    output: DataFrame
    quarantine: Optional[DataFrame] = None
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def rule_outcomes(
    evaluation_rows: Sequence[Any],
    ruleset: Ruleset,
    target: str,
    index: int,
    resolved: Optional[Resolved] = None,
) -> list[dict[str, Any]]:
    """Plain dicts for the run record, one per rule, in the engine's order; dynamic rules
    under their declared text (the evaluated text in ``evaluated_rule``)."""
    name = ruleset.name or f"{target}#{index}"
    resolved = resolved or Resolved("", {}, {})
    outcomes = []
    for row in evaluation_rows:
        text = row["Rule"]
        why = resolved.skipped.get(text)
        outcomes.append(
            {
                "target": target,
                "ruleset": name,
                "rule": resolved.original.get(text, text),
                "evaluated_rule": text,
                "outcome": "Skipped" if why else row["Outcome"],
                "failure_reason": why or row["FailureReason"],
                "metrics": dict(row["EvaluatedMetrics"] or {}),
                "severity": ruleset.severity,
                "failing_rows": None,
                "handled": False,
            }
        )
    return outcomes


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
    df: DataFrame, rulesets: Sequence[Ruleset], target: str, history: History = ()
) -> Checked:
    """Evaluate an input's rulesets (``history``: earlier run records, for dynamic rules)."""
    checked = Checked(output=df)
    for index, ruleset in enumerate(rulesets):
        resolved = resolve(ruleset.dqdl, target, history)
        rows = evaluate(df, resolved.dqdl, row_level=False).rule_outcomes.collect()
        checked.outcomes += rule_outcomes(rows, ruleset, target, index, resolved)
    return checked


def check_output(
    df: DataFrame,
    rulesets: Sequence[Ruleset],
    *,
    run_id: str,
    run_date: str,
    history: History = (),
) -> Checked:
    """Evaluate the output's rulesets, chaining those that quarantine failing rows."""
    from pyspark.sql import functions as F

    columns = list(df.columns)
    frame, fail_columns, drop_columns = df, [], []
    outcomes: list[dict[str, Any]] = []
    for index, ruleset in enumerate(rulesets):
        resolved = resolve(ruleset.dqdl, "output", history)
        evaluation = evaluate(frame, resolved.dqdl, row_level=ruleset.quarantines)
        rows = evaluation.rule_outcomes.collect()
        outcomes += rule_outcomes(rows, ruleset, "output", index, resolved)
        if ruleset.quarantines:
            column = f"{_FAIL_PREFIX}{index}"
            others = [c for c in ROW_COLUMNS if c != ROW_FAIL]
            frame = evaluation.row_level.drop(*others).withColumnRenamed(ROW_FAIL, column)
            fail_columns.append(column)
            if ruleset.on_failing_rows == "drop":
                drop_columns.append(column)
    checked = Checked(output=df, outcomes=outcomes)
    if not fail_columns:
        return checked
    failed = F.concat(*[F.col(c) for c in fail_columns])
    _count_failing_rows(frame, failed, outcomes, rulesets)
    checked.quarantine = frame.where(F.size(failed) > 0).select(
        *columns,
        failed.alias(RULES_COLUMN),
        F.lit(run_id).alias(RUN_COLUMN),
        F.lit(run_date).cast("date").alias(DATE_COLUMN),
    )
    if drop_columns:
        dropped = F.concat(*[F.col(c) for c in drop_columns])
        checked.output = frame.where(F.size(dropped) == 0).select(*columns)
    return checked


def _count_failing_rows(
    frame: DataFrame, failed: Any, outcomes: list[dict[str, Any]], rulesets: Sequence[Ruleset]
) -> None:
    """Per rule, how many rows failed it (one aggregation); rules of dropping rulesets
    whose failures are all in dropped rows are marked handled."""
    from pyspark.sql import functions as F

    counts = {
        row["rule"]: row["n"]
        for row in frame.select(F.explode(failed).alias("rule"))
        .groupBy("rule")
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    }
    by_name = {r.name or f"output#{i}": r for i, r in enumerate(rulesets)}
    for outcome in outcomes:
        ruleset = by_name[outcome["ruleset"]]
        if not ruleset.quarantines:
            continue
        outcome["failing_rows"] = int(counts.get(outcome["evaluated_rule"], 0))
        if ruleset.on_failing_rows == "drop" and outcome["failing_rows"] > 0:
            outcome["handled"] = True
