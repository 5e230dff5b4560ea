"""The write step: output contract, quality, quarantine, one atomic commit, registration.

Nothing is visible before the commit: Spark writes the output once into a staging area,
the staged rows are checked, and one atomic Delta commit publishes them (with the
quarantine, when a ruleset keeps failing rows, committed just before it). A commit with a
``txn`` is idempotent per batch. What to write where comes in one frozen :class:`Target`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from featurekit.core.names import sql_name
from featurekit.plans import unique_on
from featurekit.run.quality import (
    check_output_quality,
    commit_quarantine,
    quarantine_location,
    skipped,
    stage_quarantine,
)
from featurekit.runs import OutputRecord
from featurekit.validate import check_columns, check_rows, observe_rows, observed_problems

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Observation

    from featurekit.io import FeatureTable
    from featurekit.job import JobContext
    from featurekit.run.env import RunEnv
    from featurekit.runs import RunRecord
    from featurekit.tables.engine import CommitResult, Staged, Txn


@dataclass(frozen=True)
class Target:
    """One write: the table, the run (its ids and dates), and how the commit replaces rows.

    ``mode`` is ``overwrite`` (the whole table), ``replace`` (exactly the dates in
    ``replace``) or ``append``; ``txn`` makes the commit idempotent per batch.
    """

    table: FeatureTable
    ctx: JobContext
    mode: str
    replace: Optional[Mapping[str, Sequence[str]]] = None
    txn: Optional[Txn] = None


def shape_output(out: DataFrame, table: FeatureTable) -> DataFrame:
    """Check the declared columns (schema only) and keep them in declared order."""
    check_columns(out.schema, table)
    # quoted: select parses a string, "user.id" would be field id of a struct user
    return out.select(*map(sql_name, table.columns)) if table.strict_columns else out


def write_output(out: DataFrame, target: Target, env: RunEnv, record: RunRecord) -> CommitResult:
    """Check quality, stage, check the staged rows, commit (idempotent on ``txn``), register.

    Rulesets that keep every row are evaluated on the staged files before the commit,
    after the row checks: the output is computed once, as without rules, Deequ reads
    only the columns its rules name, and an ``IsPrimaryKey`` over the table's keys and
    date column is answered by the row checks instead of a second grouping. When a
    ruleset quarantines rows, the rows are cached once for Deequ's passes and both writes;
    the quarantine is staged with the output and committed just before it.
    """
    table = target.table
    # Proven on the job's own plan (a cached or filtered plan hides what Spark knows).
    proven = unique_on(out, [*table.keys, table.date_column])  # plan analysis, no Spark job
    if skipped(env, f"output {table.name}", len(table.quality), record):
        return _write_checked(out, target, env, record, proven=proven)
    if not any(ruleset.quarantines for ruleset in table.quality):
        return _write_checked(out, target, env, record, proven=proven, rules_on_staged=True)
    cached = out.persist()
    try:
        with record.phase("quality", env.report):
            checked = check_output_quality(
                env.storage, cached, table, target.ctx, record, report=env.report
            )
        return _write_checked(
            checked.output, target, env, record, proven=proven, quarantine=checked.quarantine
        )
    finally:
        cached.unpersist()


def _write_checked(
    out: DataFrame,
    target: Target,
    env: RunEnv,
    record: RunRecord,
    *,
    proven: bool,
    quarantine: Optional[DataFrame] = None,
    rules_on_staged: bool = False,
) -> CommitResult:
    table, storage = target.table, env.storage
    location = storage.output_location(table)
    engine = storage.engine_for(table)
    record.output = OutputRecord(table.name, location, engine.name, target.mode)
    record.staging.append(location)  # stored when the write phase begins
    if quarantine is not None:
        record.staging.append(quarantine_location(storage, table))
    observation = None
    if proven:  # keys unique by the plan: the other checks are counted during the write
        out, observation = observe_rows(out, table)
    with record.phase("write", env.report):
        env.report(f"write: staging {table.name}{_layout(target)} at {location}")
        staged = engine.stage(out, location, partition_by=table.partitions, label=target.ctx.run_id)
        env.report(f"write: staged {_staged(staged)}")
        if quarantine is not None:
            env.report("write: staging the quarantined rows")
        held = stage_quarantine(storage, table, quarantine, target.ctx.run_id)
    try:
        record.output.row_checks = _check_staged(
            staged, target, env, record, observation, rules_on_staged
        )
        with record.phase("commit", env.report):
            result = _commit(staged, held, target, env, record)
    except BaseException:
        engine.abort(staged)
        if held is not None:
            engine.abort(held)
        raise
    storage.register_output(table, location)
    record.output.version = result.version
    record.output.rows_written = result.rows
    record.output.files = result.files
    record.output.skipped = result.skipped
    return result


def _layout(target: Target) -> str:
    """`` (partitioned by feature_date; replacing 30 dates)``, or nothing."""
    parts = []
    if target.table.partitions:
        parts.append(f"partitioned by {', '.join(target.table.partitions)}")
    if target.replace:
        dates = sum(len(values) for values in target.replace.values())
        parts.append(f"replacing {dates} date(s)")
    return f" ({'; '.join(parts)})" if parts else ""


def _staged(staged: Staged) -> str:
    """``1200 rows in 31 files, 30 partitions``: what Spark wrote into staging."""
    text = f"{staged.rows} rows in {len(staged.files)} files"
    if staged.partition_by:
        folders = {f.rsplit("/", 1)[0] for f in staged.files}
        text += f", {len(folders)} partitions"
    return text


def _check_staged(
    staged: Staged,
    target: Target,
    env: RunEnv,
    record: RunRecord,
    observation: Optional[Observation],
    rules_on_staged: bool,
) -> str:
    """The row checks (observed during the write, or one read back), then the rules on
    the staged rows; returns how the row checks ran."""
    ctx, table = target.ctx, target.table
    how = "observed"
    with record.phase("validate", env.report):
        if observation is None or observed_problems(observation, start=ctx.start, end=ctx.end):
            # counts every check and names examples; raises when one fails
            check_rows(staged.dataframe(), table, start=ctx.start, end=ctx.end)
            how = "read back"
    if rules_on_staged:  # after the row checks: rules they proved are not run again
        with record.phase("quality", env.report):
            check_output_quality(
                env.storage, staged.dataframe(), table, ctx, record,
                contract_checked=True, report=env.report,
            )  # fmt: skip
    return how


def _commit(
    staged: Staged, held: Optional[Staged], target: Target, env: RunEnv, record: RunRecord
) -> CommitResult:
    """The quarantine first, then the output naming it in its metadata."""
    engine = env.storage.engine_for(target.table)
    paired = commit_quarantine(
        env.storage, target.table, held, record,
        mode=target.mode, replace=target.replace, txn=target.txn,
    )  # fmt: skip
    return engine.commit(
        staged,
        mode=target.mode,
        replace=target.replace,
        txn=target.txn,
        metadata={"job": target.ctx.job, "run_id": target.ctx.run_id, **paired},
    )
