"""Runs of jobs with incremental inputs, under their state's lock: batches and range rebuilds.

One batch ``b``::

    lock -> finish or drop an earlier pending batch -> plan new units per input
    -> read only those -> transform (or partials) -> write pending state
    -> [partials commit, Txn b] -> output commit, Txn b -> state commit -> unlock

Both commits are idempotent on ``Txn(app_id(job), b)``, so a crash anywhere is
repaired by the next run: before the first commit nothing changed (the pending
record is dropped); after it, the next run completes batch ``b`` from what was
committed and only then starts its own.

A range run reads each incremental input as of its bookmark (or the units a backfill
pinned), never the units that arrived since, so the next batch still reads those
exactly once. Bookmarks do not move; a windowed job's horizon may.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Optional

from featurekit.core.names import col
from featurekit.errors import OutputContractError, StateError
from featurekit.run.inputs import prune_dates
from featurekit.run.plan import windowed_job, write_plan
from featurekit.run.read import ReadInputs, Source, read_inputs
from featurekit.run.write import Target, shape_output, write_output
from featurekit.runs import InputRecord
from featurekit.state.partials import (
    affected_dates,
    as_day,
    partials_location,
    partials_table,
    shape_partials,
    stored_partials,
    stored_partials_where,
)
from featurekit.state.session import JobState, StateSession, app_id
from featurekit.state.units import UnitPlan, plan_input, read_processed
from featurekit.tables.engine import Staged, Txn, file_partition_values

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.job import FeatureJob, IncrementalFeatureJob, JobContext
    from featurekit.run.env import RunEnv
    from featurekit.runs import RunRecord

Bookmarks = Mapping[str, Mapping[str, Any]]


def run_stateful(
    job: FeatureJob,
    env: RunEnv,
    ctx: JobContext,
    record: RunRecord,
    session: StateSession,
    pinned: Optional[Bookmarks] = None,
) -> None:
    """Run one batch (no range) or one range rebuild of ``job``; ``session`` holds its lock."""
    recover(job, env, ctx, record, session)
    if ctx.start is None:
        _run_batch(job, env, ctx, record, session)
    else:
        run_range(job, env, ctx, record, session, pinned or {})


def _txn(env: RunEnv, location: str, job: str) -> int:
    found = env.storage.engine_at(location).txn_version(location, app_id(job))
    return -1 if found is None else found


def recover(
    job: FeatureJob, env: RunEnv, ctx: JobContext, record: RunRecord, session: StateSession
) -> None:
    """Finish (or drop) the batch an earlier run left pending when it died."""
    pending = session.pending
    if pending is None:
        return
    batch = int(pending["state"]["batch"])
    windowed = windowed_job(job)
    storage = env.storage
    if _txn(env, storage.output_location(job.output), ctx.job) >= batch:
        session.promote()
        env.report(f"batch {batch} had reached the output: state advanced to it")
    elif windowed and _txn(env, partials_location(storage, windowed), ctx.job) >= batch:
        dates = [dt.date.fromisoformat(d) for d in pending.get("affected") or []]
        env.report(f"batch {batch}: partials committed, finishing its {len(dates)} dates")
        commit_features(windowed, env, ctx, record, dates, bool(pending.get("rebuild")), batch)
        session.promote()
    else:
        session.drop_pending()
        env.report(f"batch {batch} had committed nothing: dropped")
        return
    record.counters["repaired_batch"] = batch
    env.on_phase(ctx, "state_committed")


def _next_batch(job: FeatureJob, env: RunEnv, ctx: JobContext, state: JobState) -> int:
    done = [state.batch, _txn(env, env.storage.output_location(job.output), ctx.job)]
    windowed = windowed_job(job)
    if windowed:
        done.append(_txn(env, partials_location(env.storage, windowed), ctx.job))
    return max(done) + 1


def _new_units(
    job: FeatureJob, plans: Mapping[str, UnitPlan], record: RunRecord
) -> dict[str, Source]:
    """Sources reading only the new units of each incremental input."""

    def source(name: str, plan: UnitPlan) -> Source:
        def read() -> tuple[DataFrame, InputRecord]:
            version = plan.bookmark.get("version")
            kind = f"{plan.kind} (new units)"
            record.counters[f"new_units.{name}"] = len(plan.new)
            return plan.read(), InputRecord(name, job.inputs[name].label, kind, version)

        return read

    return {name: source(name, plan) for name, plan in plans.items()}


def _plan_units(job: FeatureJob, env: RunEnv, state: JobState) -> dict[str, UnitPlan]:
    return {
        name: plan_input(
            env.spark,
            env.storage,
            name,
            job.inputs[name],
            strategy,
            state.inputs.get(name),
            job.name,
        )
        for name, strategy in job.incremental_inputs().items()
    }


def _run_batch(
    job: FeatureJob, env: RunEnv, ctx: JobContext, record: RunRecord, session: StateSession
) -> None:
    state = session.state
    with record.phase("plan", env.report):
        plans = _plan_units(job, env, state)
    if plans and not any(p.new for p in plans.values()):
        env.report("no new units in any incremental input: nothing to do")
        return
    fresh = all(p.fresh for p in plans.values())
    windowed = windowed_job(job)
    if windowed and not fresh and any(p.fresh for p in plans.values()):
        names = sorted(n for n, p in plans.items() if p.fresh)
        raise StateError(
            f"Inputs {names} of {ctx.job} have no bookmark while others do; reading them in "
            "full would count their rows twice in the stored partials. Reset the whole state "
            f"(featurekit state reset {ctx.job}) to rebuild."
        )
    batch = _next_batch(job, env, ctx, state)
    record.counters["batch"] = batch
    bookmarks = {**state.inputs, **{n: p.bookmark for n, p in plans.items()}}
    new_state = replace(state, batch=batch, inputs=bookmarks)
    with record.phase("read", env.report):  # counted while the next phase builds on it
        reading = read_inputs(job, env, ctx, record, _new_units(job, plans, record))
    if windowed:
        _batch_windowed(windowed, env, ctx, record, session, reading, new_state, fresh)
    else:
        with record.phase("transform", env.report), reading as frames:
            out = shape_output(job.transform(ctx, **frames), job.output)
        session.write_pending(new_state, {"affected": None})
        env.on_phase(ctx, "pending")
        mode = "overwrite" if fresh else "append"
        target = Target(job.output, ctx, mode, txn=Txn(app_id(ctx.job), batch))
        write_output(out, target, env, record)
        env.on_phase(ctx, "output_committed")
    session.promote()
    env.on_phase(ctx, "state_committed")


def _staged_dates(staged: Staged, column: str) -> list[dt.date]:
    """The days of staged partials, from their files' partition folders (no Spark job)."""
    values = {file_partition_values(staged, f)[column] for f in staged.files}
    return sorted(as_day(v) for v in values if v is not None)


def _batch_windowed(
    job: IncrementalFeatureJob,
    env: RunEnv,
    ctx: JobContext,
    record: RunRecord,
    session: StateSession,
    reading: ReadInputs,
    new_state: JobState,
    fresh: bool,
) -> None:
    """Merge the new rows' partials into the stored ones, then recompute affected dates.

    The new rows' partials are staged (written once, not committed) before anything
    else, and their days read from the staged files' partition folders: a batch of new
    days (the nightly case) commits those files as they are; days seen before are merged
    with their stored partials and staged again."""
    with _staged_partials(job, env, ctx, record, reading) as (staged, days):
        _commit_batch(job, env, ctx, record, session, staged, days, new_state, fresh)


@contextmanager
def _staged_partials(
    job: IncrementalFeatureJob,
    env: RunEnv,
    ctx: JobContext,
    record: RunRecord,
    reading: ReadInputs,
    within: Optional[tuple[dt.date, dt.date]] = None,
) -> Iterator[tuple[Staged, list[dt.date]]]:
    """The partials of the rows read (their days in ``within`` only, when given), staged in
    the partials table's folder (written once, not committed), and their days, read from
    the staged files' partition folders (no Spark job). The stage folder is removed after
    the block: files it committed have left it."""
    from pyspark.sql import functions as F

    column = job.output.date_column
    engine, location = env.storage.engine, partials_location(env.storage, job)
    record.staging.append(location)  # stored when the partials phase begins
    with record.phase("partials", env.report), reading as frames:
        parts = shape_partials(job.merge_partials(ctx, job.partials(ctx, **frames)), job)
        if within is not None:
            parts = parts.where(col(column).between(F.lit(within[0]), F.lit(within[1])))
        staged = engine.stage(
            parts, location, partition_by=partials_table(job, parts.schema).partitions,
            label=ctx.run_id,
        )  # fmt: skip
    try:
        yield staged, _staged_dates(staged, column)
    finally:
        engine.abort(staged)


def _commit_batch(
    job: IncrementalFeatureJob,
    env: RunEnv,
    ctx: JobContext,
    record: RunRecord,
    session: StateSession,
    staged: Staged,
    days: list[dt.date],
    new_state: JobState,
    fresh: bool,
) -> None:
    column = job.output.date_column
    old_horizon = None if fresh or not new_state.horizon else as_day(new_state.horizon)
    horizon = max([*days, *([old_horizon] if old_horizon else [])], default=None)
    affected = (
        [] if horizon is None else affected_dates(days, job.window_days, old_horizon, horizon)
    )
    new_state.horizon = horizon.isoformat() if horizon else None
    record.counters["affected_dates"] = len(affected)
    session.write_pending(
        new_state, {"affected": [d.isoformat() for d in affected], "rebuild": fresh}
    )
    env.on_phase(ctx, "pending")
    if days:
        replace_days = None if fresh else {column: [d.isoformat() for d in days]}
        # Only days up to the old horizon can have stored partials to merge with; a
        # batch of new days (the nightly case) is committed as staged.
        seen = [d for d in days if old_horizon is not None and d <= old_horizon]
        with record.phase("partials_commit", env.report):
            if seen:
                parts = staged.dataframe()
                old = stored_partials_where(
                    env.spark, env.storage, job, [(column, "in", seen)], like=parts
                )
                merged = shape_partials(job.merge_partials(ctx, old.unionByName(parts)), job)
                commit_partials(job, env, ctx, merged, replace_days, new_state.batch)
            else:
                commit_partials(job, env, ctx, staged, replace_days, new_state.batch)
    env.on_phase(ctx, "partials_committed")
    try:
        commit_features(job, env, ctx, record, affected, fresh, new_state.batch)
    except OutputContractError as exc:
        if not days:
            raise
        raise type(exc)(_partials_kept(str(exc))) from exc
    env.on_phase(ctx, "output_committed")


def _partials_kept(message: str) -> str:
    """An output error's message, told that the batch's partials were committed."""
    kept = (
        "The output was not committed; the batch's partials were, and the next run finishes "
        "the batch from them once the job or its data is fixed."
    )
    if message.endswith("Nothing was committed."):
        return message[: -len("Nothing was committed.")] + kept
    return f"{message} {kept}"


# -- range rebuilds ----------------------------------------------------------------
def _processed_units(
    job: FeatureJob, env: RunEnv, ctx: JobContext, bookmarks: Bookmarks
) -> dict[str, Source]:
    """Sources reading incremental inputs as of their bookmarks (others: the platform's)."""

    def source(name: str, bookmark: Mapping[str, Any]) -> Source:
        inp = job.inputs[name]

        def read() -> tuple[DataFrame, InputRecord]:
            rows = read_processed(env.spark, env.storage, name, inp, bookmark)
            kind = f"{bookmark.get('kind')} (processed units)"
            described = InputRecord(name, inp.label, kind, bookmark.get("version"))
            return prune_dates(rows, inp, ctx), described

        return read

    return {
        name: source(name, bookmarks[name])
        for name in job.incremental_inputs()
        if bookmarks.get(name) is not None
    }


def run_range(
    job: FeatureJob,
    env: RunEnv,
    ctx: JobContext,
    record: RunRecord,
    session: StateSession,
    pinned: Bookmarks,
) -> None:
    """Rebuild the dates ``ctx.start..ctx.end`` from the processed units; bookmarks unchanged."""
    state = session.state
    mode, replace_days = write_plan(job.output, ctx)
    with record.phase("read", env.report):
        sources = _processed_units(job, env, ctx, {**pinned, **state.inputs})
        reading = read_inputs(job, env, ctx, record, sources)
    windowed = windowed_job(job)
    if windowed is None:
        with record.phase("transform", env.report), reading as frames:
            out = shape_output(job.transform(ctx, **frames), job.output)
        write_output(out, Target(job.output, ctx, mode, replace_days), env, record)
        return
    if ctx.start is None or ctx.end is None:  # write_plan guarantees a range; for mypy
        raise ValueError("a range run needs start and end")
    within = (ctx.start, ctx.end)
    with (
        _staged_partials(windowed, env, ctx, record, reading, within) as (staged, days),
        record.phase("partials_commit", env.report),
    ):
        commit_partials(windowed, env, ctx, staged, replace_days, None)
    # the last day with partials, as a full recompute's: never a day of the range past it
    old = [as_day(state.horizon)] if state.horizon else []
    horizon = max([*days, *old], default=None)
    if horizon is None:
        return
    last = min(ctx.end + dt.timedelta(days=windowed.window_days - 1), horizon)
    dates = [ctx.start + dt.timedelta(days=i) for i in range((last - ctx.start).days + 1)]
    commit_features(windowed, env, ctx, record, dates, False, None)
    if state.horizon != horizon.isoformat():
        state.horizon = horizon.isoformat()
        session.save(state)


# -- the partials table and the features computed from it ---------------------------
def commit_partials(
    job: IncrementalFeatureJob,
    env: RunEnv,
    ctx: JobContext,
    parts: DataFrame | Staged,
    replace_days: Optional[Mapping[str, Any]],
    batch: Optional[int],
) -> None:
    """Write the partials table: overwrite, or replace ``replace_days``; Txn when ``batch``.
    ``parts``: the partials, or partials staged in the table's folder (committed as they
    are, and left to the caller to abort on failure).

    Example: ``commit_partials(job, env, ctx, parts, {"feature_date": ["2026-01-31"]}, 7)``
    """
    storage = env.storage
    location = partials_location(storage, job)
    mode = "overwrite" if replace_days is None else "replace"
    txn = None if batch is None else Txn(app_id(ctx.job), batch)
    metadata = {"job": ctx.job, "run_id": ctx.run_id}
    table = partials_table(job, parts.schema)
    if isinstance(parts, Staged):
        storage.engine.commit(parts, mode=mode, replace=replace_days, txn=txn, metadata=metadata)
    else:
        storage.engine.write(
            parts, location, mode=mode, partition_by=table.partitions, replace=replace_days,
            txn=txn, metadata=metadata,
        )  # fmt: skip
    storage.register_output(table, location)


def features_for(
    job: IncrementalFeatureJob, env: RunEnv, ctx: JobContext, dates: list[dt.date]
) -> tuple[DataFrame, JobContext]:
    """Feature rows for ``dates`` from the stored partials of their windows, and the ctx used."""
    first, last = dates[0], dates[-1]
    window_start = first - dt.timedelta(days=job.window_days - 1)
    parts = stored_partials(env.spark, env.storage, job, window_start, last)
    fctx = replace(ctx, start=first, end=last)
    out = job.combine(fctx, parts)
    return out.where(col(job.output.date_column).isin(dates)), fctx


def commit_features(
    job: IncrementalFeatureJob,
    env: RunEnv,
    ctx: JobContext,
    record: RunRecord,
    dates: list[dt.date],
    rebuild: bool,
    batch: Optional[int],
) -> None:
    """Recompute the feature rows of ``dates`` from the stored partials and commit them.

    ``rebuild`` overwrites the output; otherwise exactly ``dates`` are replaced.
    """
    if not dates:
        return
    with record.phase("combine", env.report):
        out, fctx = features_for(job, env, ctx, dates)
        out = shape_output(out, job.output)
    column = job.output.date_column
    target = Target(
        job.output,
        fctx,
        "overwrite" if rebuild else "replace",
        None if rebuild else {column: [d.isoformat() for d in dates]},
        None if batch is None else Txn(app_id(ctx.job), batch),
    )
    write_output(out, target, env, record)
