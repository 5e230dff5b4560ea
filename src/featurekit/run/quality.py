"""Quality in a run: input rulesets after reading, output rulesets before or after
staging, and the quarantine staged and committed just before the output.

Used by the read and write steps; the functions here never commit the output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.quality.checks import Checked, check_input, check_output, enforce
from featurekit.quality.dynamic import DYNAMIC
from featurekit.quality.quarantine import VERSION_KEY, quarantine_name, register

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
) -> Checked:
    """Evaluate the output's rulesets into ``record``; raise QualityError on a fail.

    ``contract_checked``: the row checks passed on ``out`` (its keys and date column are
    complete and unique together), so rules proven by them are not evaluated again;
    ``report``: progress lines (one before each ruleset)."""
    checked = check_output(
        out,
        table.quality,
        run_id=ctx.run_id,
        run_date=record.started_at[:10],
        history=history(storage, record, table.quality),
        settled=(*table.keys, table.date_column) if contract_checked else (),
        report=report or (lambda _message: None),
    )
    record.quality += checked.outcomes
    record.warnings += enforce(checked.outcomes, f"output {table.name}")
    return checked


def quarantine_location(storage: Storage, table: FeatureTable) -> str:
    """Where ``table``'s quarantine table is."""
    return storage.location(quarantine_name(table.name))


def stage_quarantine(
    storage: Storage, table: FeatureTable, rows: Optional[DataFrame], label: str
) -> Optional[Staged]:
    """Stage the quarantine rows (None when no ruleset quarantines) in a stage folder
    labelled ``label`` (the run id)."""
    if rows is None:
        return None
    location = quarantine_location(storage, table)
    # the quarantine table is kept in its output's format
    engine = storage.engine_for(table)
    return engine.stage(rows, location, partition_by=table.partitions, label=label)


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
    }
    version = result.version if result.version is not None else engine.version(staged.path)
    return {VERSION_KEY: str(version)}
