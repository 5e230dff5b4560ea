"""Backfills: rebuild a date range in chunks, resumable and idempotent.

``backfill(job, runtime, start=..., end=..., chunk_days=7)`` runs the job once per
chunk of dates, oldest first, each chunk a range run (its dates replaced). The
finished chunks are recorded in the job's state (``<job>/backfill/<id>``), so a
backfill started again after a crash skips them; a finished backfill run again
writes nothing. The whole backfill holds the job's lock.

For a job with incremental inputs that has never run incrementally, the backfill
pins the inputs' current units at its start, reads only those in every chunk,
and adopts them as the bookmarks when it finishes: the next incremental run
reads exactly what arrived after the backfill started.

Example::

    backfill(DailyClicks(), runtime, start=date(2026, 1, 1), end=date(2026, 3, 31),
             chunk_days=14)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, TextIO

from featurekit.job import make_context
from featurekit.run import execute
from featurekit.run.plan import Chunk, plan_chunks, uses_state
from featurekit.runs import utc_now
from featurekit.state.session import StateSession
from featurekit.state.units import plan_input

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from featurekit.job import FeatureJob
    from featurekit.run.env import Platform
    from featurekit.runs import RunRecord
    from featurekit.storage import Storage


@dataclass
class BackfillResult:
    """What one backfill invocation did."""

    key: str
    chunks: list[Chunk]
    ran: list[Chunk] = field(default_factory=list)
    skipped: list[Chunk] = field(default_factory=list)
    records: list[RunRecord] = field(default_factory=list)


class Progress:
    """A one-line-per-chunk progress bar with an ETA, on stderr."""

    def __init__(self, job: str, total: int, done: int, stream: Optional[TextIO]) -> None:
        self.job, self.total, self.done = job, total, done
        self.stream = stream
        self.began = time.perf_counter()
        self.ran = 0

    def step(self, chunk: Chunk) -> None:
        self.done += 1
        self.ran += 1
        elapsed = time.perf_counter() - self.began
        eta = elapsed / self.ran * (self.total - self.done)
        width = 24
        filled = round(width * self.done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        if self.stream is not None:
            print(
                f"backfill {self.job} [{bar}] {self.done}/{self.total} chunks "
                f"({chunk[0]}..{chunk[1]} done) elapsed {elapsed:.0f}s ETA {eta:.0f}s",
                file=self.stream,
                flush=True,
            )


def backfill_key(job: str, start: dt.date, end: dt.date, chunk_days: int, params: Any) -> str:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    return f"{job}/backfill/{start}_{end}_{chunk_days}d_{digest.hexdigest()[:8]}"


def _pin(
    job: FeatureJob, spark: SparkSession, storage: Storage, session: StateSession
) -> dict[str, Any]:
    """Current units of the incremental inputs that have no bookmark yet."""
    have = session.state.inputs
    return {
        name: plan_input(spark, storage, name, job.inputs[name], strategy, None).bookmark
        for name, strategy in job.incremental_inputs().items()
        if name not in have
    }


def _progress_doc(
    job: FeatureJob, spark: SparkSession, storage: Storage, session: StateSession, key: str
) -> tuple[dict[str, Any], str]:
    """The backfill's progress document (created, with its pinned units, on the first start)."""
    got = session.store.get(key)
    if got is not None and "pinned" in got.doc:
        return dict(got.doc), got.token
    doc: dict[str, Any] = {"done": [], "started_at": utc_now()}
    doc["pinned"] = _pin(job, spark, storage, session) if uses_state(job) else {}
    return doc, session.store.put(key, doc, expect=got.token if got else None)


def backfill(
    job: FeatureJob,
    platform: Platform,
    *,
    start: dt.date,
    end: dt.date,
    chunk_days: int = 7,
    params: Optional[Mapping[str, Any]] = None,
    progress: Optional[TextIO] = sys.stderr,
) -> BackfillResult:
    """Run ``job`` over ``start..end`` in chunks, skipping chunks a previous attempt finished."""
    chunks = plan_chunks(start, end, chunk_days)
    first = make_context(type(job), platform.name, params=params, start=start, end=end)
    key = backfill_key(job.name, start, end, chunk_days, dict(first.params))
    store = platform.storage.state_store
    result = BackfillResult(key, chunks)
    with StateSession(store, job.name, run_id=first.run_id) as session:
        doc, token = _progress_doc(job, platform.spark, platform.storage, session, key)
        bar = Progress(job.name, len(chunks), len(doc["done"]), progress)
        for chunk in chunks:
            label = f"{chunk[0]}..{chunk[1]}"
            if label in doc["done"]:
                result.skipped.append(chunk)
                continue
            ctx = make_context(
                type(job), platform.name, params=params, start=chunk[0], end=chunk[1]
            )
            record = execute(job, platform, ctx, session=session, pinned=doc["pinned"])
            result.records.append(record)
            result.ran.append(chunk)
            doc["done"] = [*doc["done"], label]
            token = store.put(key, doc, expect=token)
            bar.step(chunk)
        _adopt(session, doc["pinned"])
        if "finished_at" not in doc:
            doc["finished_at"] = utc_now()
            store.put(key, doc, expect=token)
    return result


def _adopt(session: StateSession, pinned: Mapping[str, Any]) -> None:
    """After the last chunk, the pinned units become the bookmarks of inputs without one."""
    state = session.state
    missing = {k: dict(v) for k, v in pinned.items() if k not in state.inputs}
    if missing:
        state.inputs.update(missing)
        session.save(state)
