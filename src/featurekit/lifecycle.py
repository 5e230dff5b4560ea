"""The one place a run happens: read -> transform -> check -> stage -> check -> commit -> record.

Nothing is visible before the commit: Spark writes the output once into a
staging area, the staged rows are checked, and one atomic Delta commit
publishes them. A run with a date range replaces exactly those dates, so
repeating it leaves the same table; a run without one replaces the table.

Jobs with incremental inputs (``incremental=True``) run under their state's lock
and read only new units; see ``featurekit.state.execute`` and docs/incremental.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Optional

from featurekit.errors import ConfigError, FeatureKitError
from featurekit.plans import unique_on
from featurekit.quality.run import (
    check_input_quality,
    check_output_quality,
    commit_quarantine,
    skipped,
    stage_quarantine,
)
from featurekit.runs import OutputRecord, RunRecord, utc_now
from featurekit.validate import check_columns, check_rows, observe_rows, observed_problems

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.io import FeatureTable
    from featurekit.job import FeatureJob, JobContext
    from featurekit.runtime.base import Runtime
    from featurekit.state.session import StateSession
    from featurekit.tables.engine import CommitResult, Txn


def write_plan(
    table: FeatureTable, ctx: JobContext
) -> tuple[str, Optional[Mapping[str, Sequence[str]]]]:
    """(mode, replace) for this run: replace the range's dates, or overwrite everything."""
    if ctx.start is None:
        return "overwrite", None
    if table.date_column not in table.partitions or table.columns[table.date_column] != "date":
        raise ConfigError(
            f"A run with --start/--end replaces dates of {table.name}, which needs its date "
            f"column {table.date_column!r} to be of type date and a partition column "
            f"(partition_by={list(table.partitions)})."
        )
    return "replace", {table.date_column: [d.isoformat() for d in ctx.dates()]}


def _read_inputs(
    job: FeatureJob, runtime: Runtime, ctx: JobContext, record: RunRecord
) -> dict[str, DataFrame]:
    frames = {}
    for name, inp in job.inputs.items():
        df, described = runtime.read_input(name, inp, ctx)
        described.rows = df.count()
        record.inputs.append(described)
        check_input_quality(runtime, name, inp, df, record)
        frames[name] = df
    return frames


def shape_output(out: DataFrame, table: FeatureTable) -> DataFrame:
    """Check the declared columns (schema only) and keep them in declared order."""
    from featurekit.core.names import sql_name

    check_columns(out.schema, table)
    # quoted: select parses a string, "user.id" would be field id of a struct user
    return out.select(*map(sql_name, table.columns)) if table.strict_columns else out


def write_output(
    out: DataFrame,
    table: FeatureTable,
    runtime: Runtime,
    ctx: JobContext,
    record: RunRecord,
    *,
    mode: str,
    replace: Optional[Mapping[str, Sequence[str]]] = None,
    txn: Optional[Txn] = None,
) -> CommitResult:
    """Check quality, stage, check the staged rows, commit (idempotent on ``txn``), register.

    Rulesets that keep every row are evaluated on the staged files before the commit,
    after the row checks: the output is computed once, as without rules, Deequ reads
    only the columns its rules name, and an ``IsPrimaryKey`` over the table's keys and
    date column is answered by the row checks instead of a second grouping. When a
    ruleset quarantines rows, the rows are cached once for Deequ's passes and both writes;
    the quarantine is staged with the output and committed just before it.
    """
    # Proven on the job's own plan (a cached or filtered plan hides what Spark knows).
    proven = unique_on(out, [*table.keys, table.date_column])  # plan analysis, no Spark job
    args = (table, runtime, ctx, record, mode, replace, txn)
    if skipped(runtime, f"output {table.name}", len(table.quality), record):
        return _write_checked(out, None, proven, *args)
    if not any(ruleset.quarantines for ruleset in table.quality):
        return _write_checked(out, None, proven, *args, rules_on_staged=True)
    cached = out.persist()
    try:
        with record.phase("quality", runtime.report):
            checked = check_output_quality(runtime, cached, table, ctx, record)
        return _write_checked(checked.output, checked.quarantine, proven, *args)
    finally:
        cached.unpersist()


def _write_checked(
    out: DataFrame,
    quarantine: Optional[DataFrame],
    proven: bool,
    table: FeatureTable,
    runtime: Runtime,
    ctx: JobContext,
    record: RunRecord,
    mode: str,
    replace: Optional[Mapping[str, Sequence[str]]],
    txn: Optional[Txn],
    *,
    rules_on_staged: bool = False,
) -> CommitResult:
    location = runtime.output_location(table)
    record.output = OutputRecord(table.name, location, runtime.engine.name, mode)
    report = runtime.report
    observation = None
    if proven:  # keys unique by the plan: the other checks are counted during the write
        out, observation = observe_rows(out, table)
    with record.phase("write", report):
        staged = runtime.engine.stage(out, location, partition_by=table.partitions)
        held = stage_quarantine(runtime, table, quarantine)
    try:
        with record.phase("validate", report):
            if observation is None or observed_problems(observation, start=ctx.start, end=ctx.end):
                # counts every check and names examples; raises when one fails
                check_rows(staged.dataframe(), table, start=ctx.start, end=ctx.end)
                record.output.row_checks = "read back"
            else:
                record.output.row_checks = "observed"
        if rules_on_staged:  # after the row checks: rules they proved are not run again
            with record.phase("quality", report):
                check_output_quality(
                    runtime, staged.dataframe(), table, ctx, record, contract_checked=True
                )
        with record.phase("commit", report):
            paired = commit_quarantine(
                runtime, table, held, record, mode=mode, replace=replace, txn=txn
            )
            result = runtime.engine.commit(
                staged,
                mode=mode,
                replace=replace,
                txn=txn,
                metadata={"job": ctx.job, "run_id": ctx.run_id, **paired},
            )
    except BaseException:
        runtime.engine.abort(staged)
        if held is not None:
            runtime.engine.abort(held)
        raise
    runtime.register_output(table, location)
    record.output.version = result.version
    record.output.rows_written = result.rows
    record.output.files = result.files
    record.output.skipped = result.skipped
    return result


def _run_plain(job: FeatureJob, runtime: Runtime, ctx: JobContext, record: RunRecord) -> None:
    mode, replace = write_plan(job.output, ctx)
    with record.phase("read", runtime.report):
        frames = _read_inputs(job, runtime, ctx, record)
    with record.phase("transform", runtime.report):
        out = shape_output(job.transform(ctx, **frames), job.output)
    write_output(out, job.output, runtime, ctx, record, mode=mode, replace=replace)


def new_record(runtime: Runtime, ctx: JobContext) -> RunRecord:
    return RunRecord(
        job=ctx.job,
        run_id=ctx.run_id,
        runtime=runtime.name,
        params={k: str(v) for k, v in ctx.params.items()},
        start=ctx.start.isoformat() if ctx.start else None,
        end=ctx.end.isoformat() if ctx.end else None,
    )


def execute(
    job: FeatureJob,
    runtime: Runtime,
    ctx: JobContext,
    *,
    session: Optional[StateSession] = None,
    pinned: Optional[Mapping[str, Mapping[str, object]]] = None,
) -> RunRecord:
    """Run ``job`` on ``runtime`` for ``ctx``; store and return the run record.

    ``session`` (an already locked state session) and ``pinned`` (bookmarks a
    range run must read as of) are given by ``featurekit.backfill``.
    """
    from featurekit.cost.usage import UsageProbe
    from featurekit.maintain import maintain_output
    from featurekit.state.execute import run_stateful, uses_state

    record = new_record(runtime, ctx)
    report = runtime.report
    succeeded = False
    report(f"run {ctx.job} ({ctx.run_id}) on {runtime.name}")
    probe = UsageProbe.start(runtime.spark)
    try:
        runtime.begin(ctx)
        if uses_state(job) and not runtime.owns_increments(job):
            run_stateful(job, runtime, ctx, record, session=session, pinned=pinned)
        else:
            _run_plain(job, runtime, ctx, record)
        record.status = "succeeded"
        succeeded = True
        maintain_output(job.output, runtime, ctx, record)  # after the commit; never raises
    except BaseException as exc:
        record.status = "failed"
        record.error_type = type(exc).__name__
        record.error = str(exc)
        if not isinstance(exc, (FeatureKitError, KeyboardInterrupt)):
            report(f"unexpected {type(exc).__name__}: {exc}")
        raise
    finally:
        record.counters.update(ctx.counters)
        record.finished_at = utc_now()
        runtime.finish(ctx, succeeded)
        record.usage, record.usage_missing = probe.finish()
        runtime.save_record(record)
        report(record.summary())
    return record
