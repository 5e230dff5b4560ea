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

With ``parallel=N`` up to N chunks run at once, as concurrent Spark jobs of the one
application (threads): each stages its dates while the others do, and their commits to the
output table take turns (the engine's commit guard), each replacing only its own dates, so
the table ends as a serial backfill leaves it. Jobs with incremental inputs run serially
(their chunks read and advance one state). Resource usage recorded per chunk then overlaps.

Example::

    backfill(DailyClicks(), runtime, start=date(2026, 1, 1), end=date(2026, 3, 31),
             chunk_days=14, parallel=4)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, TextIO

from featurekit.errors import ConfigError, UnsupportedError
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
    parallel: int = 1,
) -> BackfillResult:
    """Run ``job`` over ``start..end`` in chunks, skipping chunks a previous attempt finished;
    up to ``parallel`` chunks at once."""
    check_parallel(job, parallel)
    chunks = plan_chunks(start, end, chunk_days)
    first = make_context(type(job), platform.name, params=params, start=start, end=end)
    key = backfill_key(job.name, start, end, chunk_days, dict(first.params))
    store = platform.storage.state_store
    result = BackfillResult(key, chunks)
    with StateSession(store, job.name, run_id=first.run_id) as session:
        doc, token = _progress_doc(job, platform.spark, platform.storage, session, key)
        bar = Progress(job.name, len(chunks), len(doc["done"]), progress)
        result.skipped = [c for c in chunks if _label(c) in doc["done"]]
        todo = [c for c in chunks if _label(c) not in doc["done"]]
        book = _Book(store, key, doc, token, bar)

        def one(chunk: Chunk) -> RunRecord:
            ctx = make_context(
                type(job), platform.name, params=params, start=chunk[0], end=chunk[1]
            )
            record = execute(job, platform, ctx, session=session, pinned=doc["pinned"])
            book.done(chunk)
            return record

        ran = _run_all(one, todo, parallel)
        result.ran = [c for c in todo if c in ran]
        result.records = [ran[c] for c in result.ran]
        doc, token = book.doc, book.token
        _adopt(session, doc["pinned"])
        if "finished_at" not in doc:
            doc["finished_at"] = utc_now()
            store.put(key, doc, expect=token)
    return result


def check_parallel(job: FeatureJob, parallel: int) -> None:
    """``parallel`` is a count, and only jobs without featurekit's incremental state run
    chunks in parallel (such chunks share one state)."""
    if not isinstance(parallel, int) or parallel < 1:
        raise ConfigError(f"--parallel takes how many chunks run at once (1+): {parallel!r}.")
    if parallel > 1 and uses_state(job):
        raise UnsupportedError(
            f"Job {job.name!r} has incremental inputs: its backfill chunks share one state "
            "and run one at a time. Drop --parallel (or use --parallel 1)."
        )


def _label(chunk: Chunk) -> str:
    return f"{chunk[0]}..{chunk[1]}"


class _Book:
    """The backfill's progress document, advanced by one chunk at a time (thread-safe)."""

    def __init__(self, store: Any, key: str, doc: dict[str, Any], token: str, bar: Progress):
        self.store, self.key, self.doc, self.token, self.bar = store, key, doc, token, bar
        self._lock = threading.Lock()

    def done(self, chunk: Chunk) -> None:
        with self._lock:
            self.doc["done"] = [*self.doc["done"], _label(chunk)]
            self.token = self.store.put(self.key, self.doc, expect=self.token)
            self.bar.step(chunk)


def _run_all(
    one: Callable[[Chunk], RunRecord], chunks: list[Chunk], parallel: int
) -> dict[Chunk, RunRecord]:
    """``one(chunk)`` for every chunk, up to ``parallel`` at once. After a failure no new
    chunk starts; those running finish (and are recorded), then the first error is raised."""
    if parallel == 1:
        return {chunk: one(chunk) for chunk in chunks}
    ran: dict[Chunk, RunRecord] = {}
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="backfill") as pool:
        pending = {pool.submit(one, chunk): chunk for chunk in chunks}
        finished, _rest = wait(pending, return_when=FIRST_EXCEPTION)
        failed = [f for f in finished if f.exception() is not None]
        if failed:
            for future in pending:
                future.cancel()
        wait(pending)
    for future, chunk in pending.items():
        if not future.cancelled() and future.exception() is None:
            ran[chunk] = future.result()
    for future in pending:
        error = None if future.cancelled() else future.exception()
        if error is not None:
            raise error
    return ran


def _adopt(session: StateSession, pinned: Mapping[str, Any]) -> None:
    """After the last chunk, the pinned units become the bookmarks of inputs without one."""
    state = session.state
    missing = {k: dict(v) for k, v in pinned.items() if k not in state.inputs}
    if missing:
        state.inputs.update(missing)
        session.save(state)
