"""Quality in a run: input rulesets after reading, output rulesets before or after
staging, and the quarantine staged and committed just before the output.

Used by the read and write steps; the functions here never commit the output.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.quality.checks import (
    RULES_COLUMN,
    Checked,
    check_input,
    check_output,
    enforce,
    failing_row_counts,
    record_failing_rows,
)
from featurekit.quality.dynamic import DYNAMIC
from featurekit.quality.quarantine import VERSION_KEY, quarantine_name, register
from featurekit.validate import observed_metrics

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.io import FeatureTable, Input
    from featurekit.job import JobContext
    from featurekit.rulesets import Ruleset
    from featurekit.run.env import RunEnv
    from featurekit.runs import RunRecord
    from featurekit.storage import Storage
    from featurekit.tables.engine import Staged, Txn


def skipped(env: RunEnv, what: str, count: int, record: RunRecord) -> bool:
    """True (and a warning in ``record``) when the run was told not to check quality."""
    if count == 0 or env.check_quality:
        return count == 0
    record.warnings.append(
        f"{count} quality ruleset(s) of {what} not evaluated: quality checks are off "
        "(--no-quality / check_quality=False)."
    )
    return True


def check_input_quality(
    env: RunEnv, name: str, inp: Input, df: DataFrame, record: RunRecord
) -> None:
    """Evaluate input ``name``'s rulesets into ``record``; raise QualityError on a fail."""
    if skipped(env, f"input {name}", len(inp.quality), record):
        return
    past = history(env.storage, record, inp.quality)
    checked = check_input(df, inp.quality, f"input {name}", past, report=env.report)
    record.quality += checked.outcomes
    record.warnings += enforce(checked.outcomes, f"input {name!r}")


def history(
    storage: Storage, record: RunRecord, rulesets: Sequence[Ruleset]
) -> list[dict[str, Any]]:
    """The job's earlier run records, newest first (for dynamic rules; none are read when
    no ruleset has one)."""
    if not any(DYNAMIC.search(r.dqdl) for r in rulesets):
        return []
    docs = storage.run_records(record.job)
    earlier = [d for d in docs if d.get("run_id") != record.run_id]
    return sorted(earlier, key=lambda d: str(d.get("started_at") or ""), reverse=True)


def check_output_quality(
    storage: Storage,
    out: DataFrame,
    table: FeatureTable,
    ctx: JobContext,
    record: RunRecord,
    *,
    contract_checked: bool = False,
    report: Optional[Callable[[str], None]] = None,
    count_failing: bool = True,
) -> Checked:
    """Evaluate the output's rulesets into ``record``; raise QualityError on a fail.

    ``contract_checked``: the row checks passed on ``out`` (its keys and date column are
    complete and unique together), so rules proven by them are not evaluated again;
    ``report``: progress lines (one before each ruleset); ``count_failing=False``: when a
    ruleset quarantines or drops rows, their failing rows are counted while the quarantine
    is staged (:func:`stage_quarantine`), and :func:`enforce_output_quality` enforces the
    severities then."""
    checked = check_output(
        out,
        table.quality,
        run_id=ctx.run_id,
        run_date=record.started_at[:10],
        history=history(storage, record, table.quality),
        settled=(*table.keys, table.date_column) if contract_checked else (),
        report=report or (lambda _message: None),
        count_failing=count_failing,
    )
    record.quality += checked.outcomes
    if count_failing or not checked.failing:
        record.warnings += enforce(checked.outcomes, f"output {table.name}")
    return checked


def enforce_output_quality(
    table: FeatureTable, checked: Checked, record: RunRecord, counts: Mapping[str, int]
) -> None:
    """The failing rows counted while staging the quarantine (``counts``: evaluated rule
    -> rows) into the outcomes, then the severities enforced, as check_output_quality
    does when it counts them itself."""
    record_failing_rows(checked.outcomes, table.quality, counts)
    record.warnings += enforce(checked.outcomes, f"output {table.name}")


def quarantine_location(storage: Storage, table: FeatureTable) -> str:
    """Where ``table``'s quarantine table is."""
    return storage.location(quarantine_name(table.name))


def stage_quarantine(
    storage: Storage, table: FeatureTable, checked: Checked, label: str
) -> tuple[Optional[Staged], dict[str, int]]:
    """Stage the quarantine rows (None when no ruleset quarantines) in a stage folder
    labelled ``label`` (the run id), and the rows failing each row-level rule (evaluated
    rule text -> rows): counted by the write itself, or, when Spark did not deliver the
    counts, by one aggregation over the staged quarantine rows."""
    from pyspark.sql import Observation

    if checked.quarantine is None:
        return None, {}
    location = quarantine_location(storage, table)
    rows, observation = checked.quarantine, None
    if checked.failing:
        observation = Observation(f"featurekit_failing_rows_{uuid.uuid4().hex[:12]}")
        rows = rows.observe(observation, *failing_row_counts(checked.failing))
    # the quarantine table is kept in its output's format
    engine = storage.engine_for(table)
    staged = engine.stage(rows, location, partition_by=table.partitions, label=label)
    if staged.rows == 0:  # no row failed (and Spark may have run no query to observe)
        return staged, {}
    got = observed_metrics(observation) if observation is not None else {}
    if len(got) == len(checked.failing):
        return staged, {text: int(got[f"rule_{i}"]) for i, text in enumerate(checked.failing)}
    return staged, _count_staged(staged)


def _count_staged(staged: Staged) -> dict[str, int]:
    """Rows per failed rule of a staged quarantine (one aggregation over its rule lists)."""
    from pyspark.sql import functions as F

    rules = staged.dataframe().select(F.explode(RULES_COLUMN).alias("rule"))
    counted = rules.groupBy("rule").agg(F.count(F.lit(1)).alias("n")).collect()
    return {str(r["rule"]): int(r["n"]) for r in counted}


def commit_quarantine(
    storage: Storage,
    table: FeatureTable,
    staged: Optional[Staged],
    record: RunRecord,
    *,
    mode: str,
    replace: Optional[Mapping[str, Sequence[str]]],
    txn: Optional[Txn],
) -> dict[str, str]:
    """Commit the staged quarantine (before the output: see featurekit.quality.quarantine);
    returns the metadata the output commit carries to name it."""
    from featurekit.tables.engine import Txn

    if staged is None:
        return {}
    engine = storage.engine_for(table)
    if staged.rows == 0 and not engine.exists(staged.path):
        engine.abort(staged)  # nothing quarantined, nothing to replace
        record.quarantine = {"table": quarantine_name(table.name), "rows": 0, "version": None}
        return {}
    result = engine.commit(
        staged,
        mode=mode,
        replace=replace,
        txn=Txn(f"{txn.app_id}__quarantine", txn.version) if txn else None,
        metadata={"job": record.job, "run_id": record.run_id},
    )
    register(storage, table, staged.path)
    record.quarantine = {
        "table": quarantine_name(table.name),
        "location": staged.path,
        "rows": staged.rows,
        "version": result.version,
        "commit_conflicts": result.conflicts,
    }
    version = result.version if result.version is not None else engine.version(staged.path)
    return {VERSION_KEY: str(version)}
