"""Glue job bookmarks, kept in the warehouse with Glue's semantics.

State lives in ``WAREHOUSE/_glue_bookmarks/<job name>.json``::

    {"job": ..., "version": N,
     "current": {transformation_ctx: element, ...},
     "runs": [{"run_id": ..., "committed_at": ..., "state": {...}}, ...]}

An element is ``{"kind": "s3", "files": {uri: mtime}}`` (S3 objects seen, by path
and modification time: a modified object counts as new) or ``{"kind": "keys",
"keys": [...], "order": "asc"|"desc", "max": [...]}`` (catalog sources with
``jobBookmarkKeys``: only rows beyond the last committed key are new).

A :class:`BookmarkSession` is opened by ``Job.init``; reads record what they
saw in it, and only ``job.commit()`` saves (atomically, all elements at once).
No commit, or a failed run, saves nothing: the next run reprocesses.

Example::

    store = BookmarkStore(Warehouse("warehouse"))
    store.show("my_job")        # the committed state and its runs
    store.reset("my_job")       # forget everything: the next run reads all
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from featurekit.errors import ConfigError, LockedError, StateError
from featurekit.warehouse import Warehouse

ENABLE, PAUSE, DISABLE = "job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable"
OPTIONS = (ENABLE, PAUSE, DISABLE)
FOLDER = "_glue_bookmarks"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _file_name(job: str) -> str:
    """The bookmark file's name for ``job``: the name itself when it is safe as a file name,
    else the name made safe plus a digest of the real name, so that two Glue jobs whose
    names differ only in unsafe characters (``orders etl``, ``orders_etl``) never share
    a bookmark."""
    safe = _SAFE.sub("_", job)
    if safe == job:
        return job
    return f"{safe}-{hashlib.sha256(job.encode()).hexdigest()[:12]}"


def _empty(job: str) -> dict[str, Any]:
    return {"job": job, "version": 0, "current": {}, "runs": []}


class BookmarkStore:
    """Committed bookmark state of every Glue job, one JSON file per job name."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def check_local(self) -> None:
        """Bookmarks are saved under a file lock: an S3 warehouse cannot keep them."""
        if self.warehouse.remote:
            from featurekit.errors import UnsupportedError

            raise UnsupportedError(
                f"featurekit glue run keeps job bookmarks in a local warehouse folder, and "
                f"{self.warehouse.uri} is on S3: run with a local --warehouse, or without bookmarks"
                " (--job-bookmark-option job-bookmark-disable; featurekit's own incremental "
                "state works on S3)."
            )

    def _relative(self, job: str) -> str:
        if not job:
            raise ConfigError("A job bookmark needs a job name (Job.init(JOB_NAME, args)).")
        return f"{FOLDER}/{_file_name(job)}.json"

    def show(self, job: str) -> dict[str, Any]:
        """The stored document for ``job`` (an empty state when it never committed)."""
        if not self.warehouse.has_json(self._relative(job)):
            return _empty(job)
        doc: dict[str, Any] = self.warehouse.read_json(self._relative(job))
        return doc

    def run_state(self, job: str, run_id: str) -> dict[str, Any]:
        """The state as committed by run ``run_id``; StateError when unknown."""
        doc = self.show(job)
        for run in doc["runs"]:
            if run["run_id"] == run_id:
                state: dict[str, Any] = run["state"]
                return state
        known = ", ".join(r["run_id"] for r in doc["runs"]) or "none"
        raise StateError(
            f"Job {job!r} has no committed bookmark run {run_id!r}; committed runs: {known}."
        )

    def save(
        self, job: str, run_id: str, updates: Mapping[str, Any], *, expected_version: int
    ) -> dict[str, Any]:
        """Commit ``updates`` for run ``run_id`` if nobody committed since ``expected_version``."""
        with self._lock(job):
            doc = self.show(job)
            if doc["version"] != expected_version:
                raise StateError(
                    f"Job bookmark version mismatch for {job!r}: run {run_id} started at "
                    f"version {expected_version} but another run committed version "
                    f"{doc['version']}. Glue bookmarks need MaxConcurrentRuns=1; rerun the job."
                )
            doc["current"] = {**doc["current"], **updates}
            doc["version"] += 1
            stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            doc["runs"].append({"run_id": run_id, "committed_at": stamp, "state": doc["current"]})
            self.warehouse.write_json(self._relative(job), doc)
            return doc

    def reset(self, job: str, run_id: Optional[str] = None) -> dict[str, Any]:
        """Rewind ``job``: to nothing, or to the state committed by run ``run_id``."""
        with self._lock(job):
            doc = self.show(job)
            if run_id is None:
                doc["current"], doc["runs"] = {}, []
            else:
                state = self.run_state(job, run_id)
                index = [r["run_id"] for r in doc["runs"]].index(run_id)
                doc["current"], doc["runs"] = state, doc["runs"][: index + 1]
            doc["version"] += 1
            self.warehouse.write_json(self._relative(job), doc)
            return doc

    class _Lock:
        def __init__(self, path: str) -> None:
            self.path = path

        def __enter__(self) -> None:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError as exc:
                raise LockedError(
                    f"Job bookmark {self.path} is locked by another commit or reset; "
                    "retry, or delete the .lock file if no run is active."
                ) from exc
            os.close(fd)

        def __exit__(self, *exc: object) -> None:
            os.unlink(self.path)

    def _lock(self, job: str) -> BookmarkStore._Lock:
        self.check_local()
        target = self.warehouse.root / self._relative(job)
        target.parent.mkdir(parents=True, exist_ok=True)
        return BookmarkStore._Lock(f"{target}.lock")


@dataclass
class BookmarkSession:
    """The bookmark view of one job run, from ``Job.init`` to ``job.commit()``."""

    store: BookmarkStore
    job: str
    run_id: str
    option: str = DISABLE
    range_from: Optional[str] = None
    range_to: Optional[str] = None
    base: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    pending: dict[str, Any] = field(default_factory=dict)
    committed: bool = False

    @classmethod
    def open(
        cls,
        store: BookmarkStore,
        job: str,
        run_id: str,
        option: str = DISABLE,
        range_from: Optional[str] = None,
        range_to: Optional[str] = None,
    ) -> BookmarkSession:
        """Load the committed state for a run with ``option`` (enable, pause or disable)."""
        if option not in OPTIONS:
            raise ConfigError(f"--job-bookmark-option {option!r} is not one of {OPTIONS}.")
        if (range_from is None) != (range_to is None) or (range_from and option != PAUSE):
            raise ConfigError(
                "--job-bookmark-from and --job-bookmark-to go together, and only with "
                "--job-bookmark-option job-bookmark-pause."
            )
        if option != DISABLE:
            store.check_local()
        doc = store.show(job)
        return cls(store, job, run_id, option, range_from, range_to, doc["current"], doc["version"])

    @property
    def active(self) -> bool:
        return self.option != DISABLE

    def _bounds(self, ctx: str) -> tuple[dict[str, Any], Optional[dict[str, Any]]]:
        """(lower, upper) elements for ``ctx``: what counts as already processed, and the cap."""
        if self.range_from is not None and self.range_to is not None:
            lower = self.store.run_state(self.job, self.range_from).get(ctx, {})
            upper = self.store.run_state(self.job, self.range_to).get(ctx, {})
            return lower, upper
        return self.base.get(ctx, {}), None

    def new_files(self, ctx: str, files: Mapping[str, float]) -> list[str]:
        """The objects of ``files`` (uri -> mtime) to process; records them for the commit."""
        if not self.active or not ctx:
            return sorted(files)
        lower, upper = self._bounds(ctx)
        seen: dict[str, float] = lower.get("files", {})
        chosen = {u: m for u, m in files.items() if seen.get(u) != m}
        if upper is not None:
            cap: dict[str, float] = upper.get("files", {})
            chosen = {u: m for u, m in chosen.items() if cap.get(u) == m}
        if self.option == ENABLE:
            self.pending[ctx] = {"kind": "s3", "files": {**seen, **chosen}}
        return sorted(chosen)

    def key_bounds(self, ctx: str) -> tuple[Optional[list[Any]], Optional[list[Any]]]:
        """(after, up_to) key values for a ``jobBookmarkKeys`` source; None = unbounded."""
        if not self.active or not ctx:
            return None, None
        lower, upper = self._bounds(ctx)
        return lower.get("max"), (upper or {}).get("max") if upper is not None else None

    def record_keys(self, ctx: str, keys: list[str], order: str, last: Optional[list[Any]]) -> None:
        """Remember the last key read by ``ctx`` (kept as before when nothing new was read)."""
        if self.option != ENABLE or not ctx:
            return
        previous = self.base.get(ctx, {}).get("max")
        self.pending[ctx] = {"kind": "keys", "keys": keys, "order": order, "max": last or previous}

    def commit(self) -> None:
        """Save every element read in this run (enable only); pause and disable save nothing."""
        if self.option == ENABLE:
            doc = self.store.save(
                self.job, self.run_id, self.pending, expected_version=self.version
            )
            self.base, self.version, self.pending = doc["current"], doc["version"], {}
        self.committed = True
