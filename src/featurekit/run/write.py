"""The write step: output contract, quality, quarantine, one atomic commit, registration.

Nothing is visible before the commit: Spark writes the output once into a staging area,
the staged rows are checked, and one atomic Delta commit publishes them (with the
quarantine, when a ruleset keeps failing rows, committed just before it). A commit with a
``txn`` is idempotent per batch. What to write where comes in one frozen :class:`Target`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Optional

from featurekit.core.names import sql_name
from featurekit.errors import OutputContractError, contract_breach
from featurekit.plans import unique_on
from featurekit.quality.checks import quarantine_rows
from featurekit.quality.engine import ROW_FAIL
from featurekit.run import split
from featurekit.run.quality import (
    check_output_quality,
    commit_quarantine,
    enforce_output_quality,
    quarantine_location,
    skipped,
    stage_quarantine,
)
from featurekit.runs import OutputRecord
from featurekit.tables.engine import one_task_for_one_value, partition_folders
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

    Every ruleset is evaluated on the staged files before the commit, after the row
    checks: the output is computed and written once, as without rules, Deequ reads only
    the columns its rules name, and an ``IsPrimaryKey`` over the table's keys and date
    column is answered by the row checks instead of a second grouping. A ruleset that
    quarantines rows stages them from the staged files (their row-level outcomes
    evaluated there); one that drops rows re-stages the passing rows from the staged files
    only when a row was dropped. The quarantine is committed just before the output.
    """
    table = target.table
    # Proven on the job's own plan (a cached or filtered plan hides what Spark knows).
    proven = unique_on(out, [*table.keys, table.date_column])  # plan analysis, no Spark job
    if skipped(env, f"output {table.name}", len(table.quality), record):
        return _write_checked(out, target, env, record, proven=proven)
    return _write_checked(out, target, env, record, proven=proven, rules_on_staged=True)


def _write_checked(
    out: DataFrame,
    target: Target,
    env: RunEnv,
    record: RunRecord,
    *,
    proven: bool,
    rules_on_staged: bool = False,
) -> CommitResult:
    table, storage = target.table, env.storage
    location = storage.output_location(table)
    storage.check_output_format(table, location)
    engine = storage.engine_for(table)
    record.output = OutputRecord(table.name, location, engine.name, target.mode)
    record.staging.append(location)  # stored when the write phase begins
    if rules_on_staged and any(ruleset.quarantines for ruleset in table.quality):
        record.staging.append(quarantine_location(storage, table))
    observation = None
    if proven:  # keys unique by the plan: the other checks are counted during the write
        out, observation = observe_rows(out, table)
    planned = split.plan(out, table, env, record) if rules_on_staged else None
    if planned is None and _one_value(target):
        out = one_task_for_one_value(out)
    with record.phase("write", env.report), _contract_checked(table):
        env.report(f"write: staging {table.name}{_layout(target)} at {location}")
        if planned is None:
            staged = engine.stage(
                out, location, partition_by=table.partitions, label=target.ctx.run_id
            )
            parts = None
        else:  # passing and failing rows in folders of their own (featurekit.run.split)
            raw = engine.stage(
                planned[0], location, partition_by=(split.FLAG, *table.partitions),
                label=target.ctx.run_id,
            )  # fmt: skip
            staged, kept, failing = split.written(raw, planned[1])
            parts = (planned[1], kept, failing)
        env.report(f"write: staged {_staged(staged)}")
    output, held = staged, None
    try:
        record.output.row_checks = _check_staged(staged, target, env, record, observation)
        if rules_on_staged:  # after the row checks: rules they proved are not run again
            output, held = _rules_on_staged(staged, parts, target, env, record)
        with record.phase("commit", env.report):
            result = _commit(output, held, target, env, record)
    except BaseException:
        engine.abort(output)
        if held is not None:
            engine.abort(held)
        raise
    finally:
        if output is not staged:  # what is left of the staged write (a split's folders)
            engine.abort(staged)
    storage.register_output(table, location)
    record.output.version = result.version
    record.output.rows_written = result.rows
    record.output.files = result.files
    record.output.skipped = result.skipped
    record.output.commit_conflicts = result.conflicts
    if result.conflicts:
        env.report(
            f"commit: {table.name} committed after {result.conflicts} conflict(s) with "
            "other writers, retried with backoff"
        )
    return result


def _rules_on_staged(
    staged: Staged,
    parts: Optional[tuple[split.Split, Staged, Staged]],  # the split, kept and failing rows
    target: Target,
    env: RunEnv,
    record: RunRecord,
) -> tuple[Staged, Optional[Staged]]:
    """Evaluate the output's rulesets on the staged rows; stage the quarantine (counting
    the rows failing each row-level rule as they are written) and, when a ruleset dropped
    rows, the kept rows: the passing rows as written when the write split them by the
    ruleset's own row-level rules, else from the staged files (the job's plan is not run
    again). Returns the output to commit and the staged quarantine (or None)."""
    table, storage = target.table, env.storage
    with record.phase("quality", env.report):
        checked = check_output_quality(
            storage, staged.dataframe(), table, target.ctx, record,
            contract_checked=True, report=env.report, count_failing=False,
        )  # fmt: skip
    if checked.quarantine is None:
        return staged, None
    from pyspark.sql import functions as F

    engine = storage.engine_for(table)
    if parts is not None and not split.matches(parts[0], checked.row_levels.get(parts[0].index)):
        parts = None  # Deequ's rules on the staged rows are not the ones the write split by
    if parts is not None:  # the quarantine from the failing files alone
        rows = split.failing_rows(parts[0], parts[2])
        checked = replace(
            checked,
            quarantine=quarantine_rows(
                rows, F.col(ROW_FAIL), staged.schema.fieldNames(), target.ctx.run_id,
                record.started_at[:10],
            ),
        )  # fmt: skip
    held = None
    try:
        with record.phase("write", env.report):
            env.report("write: staging the quarantined rows, counting the rows failing each rule")
            held, counts = stage_quarantine(storage, table, checked, target.ctx.run_id)
            enforce_output_quality(table, checked, record, counts)  # severities, as before
            if not _dropped_rows(record, table):
                return staged, held
            if parts is not None:
                _how, kept, failing = parts
                env.report(
                    f"write: keeping the {kept.rows} passing rows of {staged.rows} as staged "
                    f"({failing.rows} failing)"
                )
                return kept, held
            env.report(f"write: staging the kept rows of {table.name}")
            kept = engine.stage(
                checked.output, staged.path, partition_by=table.partitions, label=target.ctx.run_id
            )
    except BaseException:
        if held is not None:
            engine.abort(held)
        raise
    env.report(f"write: staged {_staged(kept)}")
    return kept, held


def _one_value(target: Target) -> bool:
    """Whether every row written has one partition value: a replace of one value of the
    table's only partition column (the commit refuses rows outside it)."""
    parts, replace = target.table.partitions, target.replace
    return replace is not None and len(parts) == 1 and len(replace.get(parts[0], ())) == 1


def _dropped_rows(record: RunRecord, table: FeatureTable) -> bool:
    """True when a ruleset that drops rows found rows failing it (the output checks count
    each quarantining ruleset's failing rows into its outcomes)."""
    dropping = {
        r.label("output", i) for i, r in enumerate(table.quality) if r.on_failing_rows == "drop"
    }
    return any(
        int(o.get("failing_rows") or 0) > 0
        for o in record.quality
        if "failing_rows" in o and o.get("ruleset") in dropping
    )


@contextmanager
def _contract_checked(table: FeatureTable) -> Iterator[None]:
    """A contract check inside the plan that failed the write (``CONTRACT_MARK``) becomes
    the run's :class:`OutputContractError`; nothing was staged for a commit."""
    try:
        yield
    except Exception as exc:
        breach = contract_breach(exc)
        if breach is None:
            raise
        raise OutputContractError(
            f"Output of {table.name} breaks its declaration: {breach}. Nothing was committed."
        ) from exc


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
    if staged.partition_by:  # the table's partition values (not a split's own folders)
        values = {partition_folders(f, staged.partition_by) for f in staged.files}
        text += f", {len(values)} partitions"
    return text


def _check_staged(
    staged: Staged,
    target: Target,
    env: RunEnv,
    record: RunRecord,
    observation: Optional[Observation],
) -> str:
    """The row checks (observed during the write, or one read back); returns how they ran."""
    ctx, table = target.ctx, target.table
    how = "observed"
    with record.phase("validate", env.report):
        if observation is None or observed_problems(observation, start=ctx.start, end=ctx.end):
            # counts every check and names examples; raises when one fails
            check_rows(staged.dataframe(), table, start=ctx.start, end=ctx.end)
            how = "read back"
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
