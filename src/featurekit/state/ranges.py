"""Range runs of jobs with incremental inputs: rebuild dates from the processed units.

A range run reads each incremental input as of its bookmark (or the units a
backfill pinned), never the units that arrived since, so the next batch still
reads those exactly once. Bookmarks do not move; a windowed job's horizon may.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from featurekit.lifecycle import shape_output, write_output, write_plan
from featurekit.quality.run import check_input_quality
from featurekit.runs import InputRecord
from featurekit.runtime.base import prune_dates
from featurekit.state.partials import (
    as_day,
    commit_features,
    commit_partials,
    shape_partials,
    windowed_job,
)
from featurekit.state.units import read_processed

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.job import FeatureJob, JobContext
    from featurekit.runs import RunRecord
    from featurekit.runtime.base import Runtime
    from featurekit.state.session import StateSession

Bookmarks = Mapping[str, Mapping[str, Any]]


def _read_range(
    job: FeatureJob,
    runtime: Runtime,
    ctx: JobContext,
    record: RunRecord,
    bookmarks: Bookmarks,
) -> dict[str, DataFrame]:
    """A range run's inputs: incremental ones as of their bookmarks (else in full)."""
    frames = {}
    incremental = job.incremental_inputs()
    for name, inp in job.inputs.items():
        bookmark = bookmarks.get(name) if name in incremental else None
        if bookmark is None:
            df, described = runtime.read_input(name, inp, ctx)
        else:
            df = prune_dates(read_processed(runtime, name, inp, bookmark), inp, ctx)
            kind = f"{bookmark.get('kind')} (processed units)"
            described = InputRecord(name, inp.label, kind, bookmark.get("version"))
        described.rows = df.count()
        record.inputs.append(described)
        check_input_quality(runtime, name, inp, df, record)
        frames[name] = df
    return frames


def run_range(
    job: FeatureJob,
    runtime: Runtime,
    ctx: JobContext,
    record: RunRecord,
    session: StateSession,
    pinned: Bookmarks,
) -> None:
    """Rebuild the dates ``ctx.start..ctx.end`` from the processed units; bookmarks unchanged."""
    state = session.state
    mode, replace_days = write_plan(job.output, ctx)
    with record.phase("read", runtime.report):
        frames = _read_range(job, runtime, ctx, record, {**pinned, **state.inputs})
    windowed = windowed_job(job)
    if windowed is None:
        with record.phase("transform", runtime.report):
            out = shape_output(job.transform(ctx, **frames), job.output)
        write_output(out, job.output, runtime, ctx, record, mode=mode, replace=replace_days)
        return
    if ctx.start is None or ctx.end is None:  # write_plan guarantees a range; for mypy
        raise ValueError("a range run needs start and end")
    column = job.output.date_column
    from pyspark.sql import functions as F

    from featurekit.core.names import col

    with record.phase("partials", runtime.report):
        parts = windowed.merge_partials(ctx, windowed.partials(ctx, **frames))
        parts = shape_partials(parts, windowed).where(
            col(column).between(F.lit(ctx.start), F.lit(ctx.end))
        )
    with record.phase("partials_commit", runtime.report):
        commit_partials(windowed, runtime, ctx, parts, replace_days, None)
    horizon = max([ctx.end, *([as_day(state.horizon)] if state.horizon else [])])
    last = min(ctx.end + dt.timedelta(days=windowed.window_days - 1), horizon)
    dates = [ctx.start + dt.timedelta(days=i) for i in range((last - ctx.start).days + 1)]
    commit_features(windowed, runtime, ctx, record, dates, False, None)
    if state.horizon != horizon.isoformat():
        state.horizon = horizon.isoformat()
        session.save(state)
