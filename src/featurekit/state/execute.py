"""The incremental lifecycle: a job with incremental inputs, run under its state's lock.

One batch ``b``::

    lock -> finish or drop an earlier pending batch -> plan new units per input
    -> read only those -> transform (or partials) -> write pending state
    -> [partials commit, Txn b] -> output commit, Txn b -> state commit -> unlock

Both commits are idempotent on ``Txn(app_id(job), b)``, so a crash anywhere is
repaired by the next run: before the first commit nothing changed (the pending
record is dropped); after it, the next run completes batch ``b`` from what was
committed and only then starts its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Optional

from featurekit.errors import StateError
from featurekit.lifecycle import shape_output, write_output
from featurekit.quality.run import check_input_quality
from featurekit.runs import InputRecord
from featurekit.state.partials import (
    affected_dates,
    as_day,
    commit_features,
    commit_partials,
    partials_location,
    shape_partials,
    stored_partials_where,
    windowed_job,
)
from featurekit.state.ranges import Bookmarks, run_range
from featurekit.state.session import JobState, StateSession, app_id
from featurekit.state.units import UnitPlan, plan_input
from featurekit.tables.engine import Txn

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.job import FeatureJob, IncrementalFeatureJob, JobContext
    from featurekit.runs import RunRecord
    from featurekit.runtime.base import Runtime


def uses_state(job: FeatureJob) -> bool:
    """Whether runs of ``job`` go through the incremental lifecycle."""
    from featurekit.job import IncrementalFeatureJob

    return bool(job.incremental_inputs()) or isinstance(job, IncrementalFeatureJob)


def run_stateful(
    job: FeatureJob,
    runtime: Runtime,
    ctx: JobContext,
    record: RunRecord,
    *,
    session: Optional[StateSession] = None,
    pinned: Optional[Bookmarks] = None,
) -> None:
    """Run one batch (no range) or one range rebuild of ``job`` holding its state lock."""
    if session is None:
        with StateSession(runtime.state_store, ctx.job, run_id=ctx.run_id) as held:
            run_stateful(job, runtime, ctx, record, session=held, pinned=pinned)
        return
    recover(job, runtime, ctx, record, session)
    if ctx.start is None:
        _run_batch(job, runtime, ctx, record, session)
    else:
        run_range(job, runtime, ctx, record, session, pinned or {})


def _txn(runtime: Runtime, location: str, job: str) -> int:
    found = runtime.engine.txn_version(location, app_id(job))
    return -1 if found is None else found


def recover(
    job: FeatureJob, runtime: Runtime, ctx: JobContext, record: RunRecord, session: StateSession
) -> None:
    """Finish (or drop) the batch an earlier run left pending when it died."""
    pending = session.pending
    if pending is None:
        return
    batch = int(pending["state"]["batch"])
    windowed = windowed_job(job)
    if _txn(runtime, runtime.output_location(job.output), ctx.job) >= batch:
        session.promote()
        runtime.report(f"batch {batch} had reached the output: state advanced to it")
    elif windowed and _txn(runtime, partials_location(runtime, windowed), ctx.job) >= batch:
        dates = [dt.date.fromisoformat(d) for d in pending.get("affected") or []]
        runtime.report(f"batch {batch}: partials committed, finishing its {len(dates)} dates")
        commit_features(windowed, runtime, ctx, record, dates, bool(pending.get("rebuild")), batch)
        session.promote()
    else:
        session.drop_pending()
        runtime.report(f"batch {batch} had committed nothing: dropped")
        return
    record.counters["repaired_batch"] = batch
    runtime.on_phase(ctx, "state_committed")


def _next_batch(job: FeatureJob, runtime: Runtime, ctx: JobContext, state: JobState) -> int:
    done = [state.batch, _txn(runtime, runtime.output_location(job.output), ctx.job)]
    windowed = windowed_job(job)
    if windowed:
        done.append(_txn(runtime, partials_location(runtime, windowed), ctx.job))
    return max(done) + 1


def _read_new(
    job: FeatureJob,
    runtime: Runtime,
    ctx: JobContext,
    record: RunRecord,
    plans: Mapping[str, UnitPlan],
) -> dict[str, DataFrame]:
    frames = {}
    for name, inp in job.inputs.items():
        if name not in plans:
            df, described = runtime.read_input(name, inp, ctx)
        else:
            plan = plans[name]
            df = plan.read()
            version = plan.bookmark.get("version")
            described = InputRecord(name, inp.label, f"{plan.kind} (new units)", version)
            record.counters[f"new_units.{name}"] = len(plan.new)
        described.rows = df.count()
        record.inputs.append(described)
        check_input_quality(runtime, name, inp, df, record)
        frames[name] = df
    return frames


def _run_batch(
    job: FeatureJob, runtime: Runtime, ctx: JobContext, record: RunRecord, session: StateSession
) -> None:
    state = session.state
    with record.phase("plan", runtime.report):
        plans = {
            name: plan_input(runtime, name, job.inputs[name], strategy, state.inputs.get(name))
            for name, strategy in job.incremental_inputs().items()
        }
    if plans and not any(p.new for p in plans.values()):
        runtime.report("no new units in any incremental input: nothing to do")
        return
    with record.phase("read", runtime.report):
        frames = _read_new(job, runtime, ctx, record, plans)
    batch = _next_batch(job, runtime, ctx, state)
    record.counters["batch"] = batch
    bookmarks = {**state.inputs, **{n: p.bookmark for n, p in plans.items()}}
    new_state = replace(state, batch=batch, inputs=bookmarks)
    fresh = all(p.fresh for p in plans.values())
    windowed = windowed_job(job)
    if windowed and not fresh and any(p.fresh for p in plans.values()):
        names = sorted(n for n, p in plans.items() if p.fresh)
        raise StateError(
            f"Inputs {names} of {ctx.job} have no bookmark while others do; reading them in "
            "full would count their rows twice in the stored partials. Reset the whole state "
            f"(featurekit state reset {ctx.job}) to rebuild."
        )
    if windowed:
        _batch_windowed(windowed, runtime, ctx, record, session, frames, new_state, fresh)
    else:
        with record.phase("transform", runtime.report):
            out = shape_output(job.transform(ctx, **frames), job.output)
        session.write_pending(new_state, {"affected": None})
        runtime.on_phase(ctx, "pending")
        mode = "overwrite" if fresh else "append"
        txn = Txn(app_id(ctx.job), batch)
        write_output(out, job.output, runtime, ctx, record, mode=mode, txn=txn)
        runtime.on_phase(ctx, "output_committed")
    session.promote()
    runtime.on_phase(ctx, "state_committed")


def _partial_dates(parts: DataFrame, column: str) -> list[dt.date]:
    from featurekit.core.names import sql_name

    dates = parts.select(sql_name(column)).distinct().collect()
    return sorted(r[0] for r in dates if r[0] is not None)


def _batch_windowed(
    job: IncrementalFeatureJob,
    runtime: Runtime,
    ctx: JobContext,
    record: RunRecord,
    session: StateSession,
    frames: Mapping[str, DataFrame],
    new_state: JobState,
    fresh: bool,
) -> None:
    """Merge the new rows' partials into the stored ones, then recompute affected dates."""
    column = job.output.date_column
    with record.phase("partials", runtime.report):
        parts = shape_partials(job.merge_partials(ctx, job.partials(ctx, **frames)), job)
        parts = parts.cache()
        days = _partial_dates(parts, column)
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
    runtime.on_phase(ctx, "pending")
    if days:
        merged = parts
        # Only days up to the old horizon can have stored partials to merge with; a
        # batch of new days (the nightly case) is written as it is.
        seen = [d for d in days if old_horizon is not None and d <= old_horizon]
        if seen:
            old = stored_partials_where(runtime, job, [(column, "in", seen)], like=parts)
            merged = shape_partials(job.merge_partials(ctx, old.unionByName(parts)), job)
        replace_days = None if fresh else {column: [d.isoformat() for d in days]}
        with record.phase("partials_commit", runtime.report):
            commit_partials(job, runtime, ctx, merged, replace_days, new_state.batch)
    runtime.on_phase(ctx, "partials_committed")
    commit_features(job, runtime, ctx, record, affected, fresh, new_state.batch)
    runtime.on_phase(ctx, "output_committed")
    parts.unpersist()
