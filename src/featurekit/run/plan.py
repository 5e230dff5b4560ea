"""The planner: what one run (or one backfill) does, decided before anything is read.

A run is one of three plans: **plain** (read everything the range needs, replace the
range's dates or the whole table), **incremental** (a job with incremental inputs, under
its state's lock: a batch of new units without a range, a rebuild of the processed units
with one; :mod:`featurekit.run.incremental`), and a **backfill** is a list of range runs
(:func:`plan_chunks`), each one of the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from featurekit.errors import ConfigError
from featurekit.job import IncrementalFeatureJob

if TYPE_CHECKING:
    from featurekit.io import FeatureTable
    from featurekit.job import FeatureJob, JobContext

Chunk = tuple[dt.date, dt.date]
PLAIN, INCREMENTAL = "plain", "incremental"


@dataclass(frozen=True)
class RunPlan:
    """``kind`` (plain or incremental); a plain run's write ``mode`` and ``replace``d dates."""

    kind: str
    mode: str = "overwrite"
    replace: Optional[Mapping[str, Sequence[str]]] = None


def plan_run(job: FeatureJob, ctx: JobContext, *, platform_tracks_inputs: bool) -> RunPlan:
    """The plan of one run of ``job``; ``platform_tracks_inputs``: Glue's bookmarks do."""
    if uses_state(job) and not platform_tracks_inputs:
        return RunPlan(INCREMENTAL)
    mode, replace = write_plan(job.output, ctx)
    return RunPlan(PLAIN, mode, replace)


def uses_state(job: FeatureJob) -> bool:
    """Whether runs of ``job`` go through the incremental plan (featurekit's own state)."""
    return bool(job.incremental_inputs()) or isinstance(job, IncrementalFeatureJob)


def windowed_job(job: FeatureJob) -> Optional[IncrementalFeatureJob]:
    """``job`` when it is an IncrementalFeatureJob (kept from partials), else None."""
    return job if isinstance(job, IncrementalFeatureJob) else None


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


def plan_chunks(start: dt.date, end: dt.date, chunk_days: int) -> list[Chunk]:
    """Consecutive ``chunk_days``-day ranges covering ``start..end`` (the last may be shorter).

    >>> plan_chunks(dt.date(2026, 1, 1), dt.date(2026, 1, 5), 2)[-1]
    (datetime.date(2026, 1, 5), datetime.date(2026, 1, 5))
    """
    if chunk_days < 1:
        raise ConfigError(f"--chunk-days must be at least 1, got {chunk_days}.")
    if start > end:
        raise ConfigError(f"--start {start} is after --end {end}.")
    chunks, first = [], start
    while first <= end:
        last = min(first + dt.timedelta(days=chunk_days - 1), end)
        chunks.append((first, last))
        first = last + dt.timedelta(days=1)
    return chunks
