"""One package owns a run: plan -> read -> transform -> write -> record.

::

    execute(job, platform, ctx)
      plan      featurekit.run.plan         plain, incremental (batch or range), backfill chunks
      read      featurekit.run.read         declared inputs + their rulesets
      transform the job's own DataFrame code
      write     featurekit.run.write        output contract, quality, quarantine, one atomic
                                            commit, registration; then the table's maintenance
      record    the run record, stored through Storage and printed

The entry sees the platform (a runtime: its session, storage and hooks); every step gets
one frozen :class:`~featurekit.run.env.RunEnv` (session, storage, progress, two hooks)
and a :class:`~featurekit.storage.Storage` through it, never the runtime.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Optional

from featurekit.core.faults import missing_bucket, storage_unavailable
from featurekit.core.unreadable import data_unreadable
from featurekit.cost.usage import UsageProbe
from featurekit.errors import FeatureKitError
from featurekit.maintain import maintain_output
from featurekit.run.env import Platform, RunEnv
from featurekit.run.incremental import Bookmarks, run_stateful
from featurekit.run.keeper import RunKeeper, abandon_dead_runs
from featurekit.run.plan import INCREMENTAL, RunPlan, plan_run
from featurekit.run.read import read_inputs
from featurekit.run.write import Target, shape_output, write_output
from featurekit.runs import RunRecord, this_holder, utc_now
from featurekit.state.session import StateSession
from featurekit.storage.run_lease import RunLease

if TYPE_CHECKING:
    from featurekit.job import FeatureJob, JobContext

__all__ = ["Platform", "RunEnv", "execute"]


def new_record(runtime: str, ctx: JobContext) -> RunRecord:
    """The record of a run of ``ctx`` on ``runtime`` starting now."""
    return RunRecord(
        job=ctx.job,
        run_id=ctx.run_id,
        runtime=runtime,
        params={k: str(v) for k, v in ctx.params.items()},
        start=ctx.start.isoformat() if ctx.start else None,
        end=ctx.end.isoformat() if ctx.end else None,
    )


def execute(
    job: FeatureJob,
    platform: Platform,
    ctx: JobContext,
    *,
    session: Optional[StateSession] = None,
    pinned: Optional[Bookmarks] = None,
) -> RunRecord:
    """Run ``job`` on ``platform`` for ``ctx``; store and return the run record.

    ``session`` (an already locked state session) and ``pinned`` (bookmarks a
    range run must read as of) are given by :func:`featurekit.run.backfill.backfill`.
    """
    record = new_record(platform.name, ctx)
    record.holder = this_holder()

    def on_phase(at: JobContext, phase: str) -> None:
        platform.on_phase(at, phase)
        record.begin(phase)  # stored: a run killed after it says so

    # the steps get this frozen value, never the platform
    env = RunEnv(
        runtime=platform.name,
        spark=platform.spark,
        storage=platform.storage,
        report=platform.report,
        check_quality=platform.config.check_quality,
        read_input=platform.read_input,
        on_phase=on_phase,
    )
    keeper = RunKeeper(env.storage, record, _lease(job, env, ctx), env.report)
    succeeded = begun = False
    env.report(f"run {ctx.job} ({ctx.run_id}) on {env.runtime}")
    probe = UsageProbe.start(env.spark)
    try:
        record.duplicate_of = keeper.claim()
        keeper.start()  # the record says "running" before any work
        _clean_up_after_dead_runs(env, record)
        if record.duplicate_of is None:
            begun = True
            platform.begin(ctx)
            _run(job, env, ctx, record, platform, session, pinned)
        record.status = "succeeded"
        succeeded = True
        if record.duplicate_of is None:
            maintain_output(job.output, env.storage, ctx, record, env.report)  # never raises
    except BaseException as exc:
        translated = _translated(exc, f"Run {ctx.job} ({ctx.run_id})")
        _failed(record, translated or exc, env)  # its one line, not a Java trace
        _carry(translated or exc, record)
        if translated is not None and translated is not exc:
            raise translated from exc
        raise
    finally:
        keeper.stop()
        record.counters.update(ctx.counters)
        record.finished_at = utc_now()
        if begun:
            platform.finish(ctx, succeeded)
        record.usage, record.usage_missing = probe.finish()
        _store_final(keeper, env, failing=not succeeded)
        env.report(record.summary())
    return record


_RECORD = "featurekit_run_record"


def _carry(exc: BaseException, record: RunRecord) -> None:
    """``record`` on the error the run raises (:func:`failed_record`); stored as it is
    when the run ends."""
    with contextlib.suppress(Exception):  # an exception type that takes no attribute
        setattr(exc, _RECORD, record)


def failed_record(exc: BaseException) -> Optional[RunRecord]:
    """The record of the run that raised ``exc`` (status ``failed``), or None when ``exc``
    did not come out of a run (e.g. a bad option refused before it)."""
    found = getattr(exc, _RECORD, None)
    return found if isinstance(found, RunRecord) else None


def _translated(exc: BaseException, label: str) -> Optional[FeatureKitError]:
    """What a failure of Spark or storage means for the user: an outage, input files
    Spark cannot read (a failed task of whichever job read them first), or a bucket that
    does not exist; else None."""
    translated: Optional[FeatureKitError] = storage_unavailable(exc, label)
    if translated is None and not isinstance(exc, FeatureKitError):
        translated = data_unreadable(exc, label) or missing_bucket(exc, label)
    return translated


def _lease(job: FeatureJob, env: RunEnv, ctx: JobContext) -> RunLease:
    """The lease of (job, output table, dates): one live run of them at a time."""
    scope = {
        "table": job.output.name,
        "start": ctx.start.isoformat() if ctx.start else None,
        "end": ctx.end.isoformat() if ctx.end else None,
    }
    store = env.storage.state_store
    return RunLease(store, ctx.job, scope, run_id=ctx.run_id, seconds=env.storage.run_lease_seconds)


def _run(
    job: FeatureJob,
    env: RunEnv,
    ctx: JobContext,
    record: RunRecord,
    platform: Platform,
    session: Optional[StateSession],
    pinned: Optional[Bookmarks],
) -> None:
    plan = plan_run(job, ctx, platform_tracks_inputs=platform.owns_increments(job))
    if plan.kind == INCREMENTAL:
        _run_incremental(job, env, ctx, record, session, pinned)
    else:
        _run_plain(job, env, ctx, record, plan)


def _clean_up_after_dead_runs(env: RunEnv, record: RunRecord) -> None:
    """Dead runs of the job: records marked abandoned, stage folders removed. A failure
    here is a warning: the run itself does not need it."""
    try:
        lines = abandon_dead_runs(env.storage, record)
    except Exception as exc:
        if storage_unavailable(exc, "") is not None:
            raise
        record.warnings.append(f"cleaning up after dead runs failed: {exc}".splitlines()[0])
        return
    for line in lines:
        env.report(line)


def _store_final(keeper: RunKeeper, env: RunEnv, *, failing: bool) -> None:
    """Store the finished record, then release the lease. When the run failed, a failure
    to store its record is a report line, never the error the run ends with."""
    try:
        keeper.save()
        keeper.release()
    except Exception as exc:
        if not failing:
            translated = storage_unavailable(
                exc, f"Storing the record of run {keeper.record.run_id}"
            )
            if translated is not None:
                raise translated from exc
            raise
        cause = "S3 is unavailable" if storage_unavailable(exc, "") else str(exc)
        first = cause.splitlines()[0] if cause else type(exc).__name__
        env.report(f"warning: the failed run's record was not stored ({first})")


def _failed(record: RunRecord, exc: BaseException, env: RunEnv) -> None:
    """The failure in the record; a report line for what is not featurekit's own error."""
    record.status = "failed"
    record.error_type = type(exc).__name__
    record.error = str(exc)
    if not isinstance(exc, (FeatureKitError, KeyboardInterrupt)):
        env.report(f"unexpected {type(exc).__name__}: {exc}")


def _run_plain(
    job: FeatureJob, env: RunEnv, ctx: JobContext, record: RunRecord, plan: RunPlan
) -> None:
    with record.phase("read", env.report):
        reading = read_inputs(job, env, ctx, record)
    with record.phase("transform", env.report), reading as frames:
        out = shape_output(job.transform(ctx, **frames), job.output)
    write_output(out, Target(job.output, ctx, plan.mode, plan.replace), env, record)


def _run_incremental(
    job: FeatureJob,
    env: RunEnv,
    ctx: JobContext,
    record: RunRecord,
    session: Optional[StateSession],
    pinned: Optional[Bookmarks],
) -> None:
    """Under the job's state lock (taken here unless a backfill holds it already)."""
    if session is not None:
        run_stateful(job, env, ctx, record, session, pinned)
        return
    with StateSession(env.storage.state_store, ctx.job, run_id=ctx.run_id) as held:
        run_stateful(job, env, ctx, record, held, pinned)
