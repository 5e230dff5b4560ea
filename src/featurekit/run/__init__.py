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

from typing import TYPE_CHECKING, Optional

from featurekit.cost.usage import UsageProbe
from featurekit.errors import FeatureKitError
from featurekit.maintain import maintain_output
from featurekit.run.env import Platform, RunEnv
from featurekit.run.incremental import Bookmarks, run_stateful
from featurekit.run.plan import INCREMENTAL, RunPlan, plan_run
from featurekit.run.read import read_inputs
from featurekit.run.write import Target, shape_output, write_output
from featurekit.runs import RunRecord, utc_now
from featurekit.state.session import StateSession

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
    # the steps get this frozen value, never the platform
    env = RunEnv(
        runtime=platform.name,
        spark=platform.spark,
        storage=platform.storage,
        report=platform.report,
        check_quality=platform.config.check_quality,
        read_input=platform.read_input,
        on_phase=platform.on_phase,
    )
    record = new_record(env.runtime, ctx)
    succeeded = False
    env.report(f"run {ctx.job} ({ctx.run_id}) on {env.runtime}")
    probe = UsageProbe.start(env.spark)
    try:
        platform.begin(ctx)
        plan = plan_run(job, ctx, platform_tracks_inputs=platform.owns_increments(job))
        if plan.kind == INCREMENTAL:
            _run_incremental(job, env, ctx, record, session, pinned)
        else:
            _run_plain(job, env, ctx, record, plan)
        record.status = "succeeded"
        succeeded = True
        maintain_output(job.output, env.storage, ctx, record, env.report)  # never raises
    except BaseException as exc:
        _failed(record, exc, env)
        raise
    finally:
        record.counters.update(ctx.counters)
        record.finished_at = utc_now()
        platform.finish(ctx, succeeded)
        record.usage, record.usage_missing = probe.finish()
        env.storage.save_record(record)
        env.report(record.summary())
    return record


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
        frames = read_inputs(job, env, ctx, record)
    with record.phase("transform", env.report):
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
