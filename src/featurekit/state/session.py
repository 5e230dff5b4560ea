"""A run's hold on its job's state: the lock, the bookmarks, and the pending batch.

Documents in the store, per job::

    <job>/state            JobState: batch number, bookmark per input, horizon
    <job>/pending          the next JobState plus what its batch still has to do,
                           written before any commit of that batch
    <job>/backfill/<id>    progress of one backfill (finished chunks)

Commit protocol of a batch ``b``: write ``pending`` -> commit the output (and
the partials table) with ``Txn(app_id, b)`` -> write ``state`` -> drop
``pending``. A later run that finds ``pending`` asks the tables whether batch
``b`` reached them: if so it finishes the batch (promotes the state), if not it
drops ``pending``; either way nothing is read twice or skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any, Optional

from featurekit.runs import utc_now
from featurekit.storage.state_store import StateStore, Stored


def app_id(job: str) -> str:
    """The Delta application id under which a job's batches are committed."""
    return f"featurekit/{job}"


@dataclass
class JobState:
    """Bookmarks of one job. ``batch`` is the last committed batch (the Txn version)."""

    job: str
    batch: int = 0
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    horizon: Optional[str] = None  # latest date with partial aggregates (windowed jobs)
    run_id: Optional[str] = None
    updated_at: Optional[str] = None

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> JobState:
        known = {k: doc[k] for k in cls.__dataclass_fields__ if k in doc}
        return cls(**known)

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)


class StateSession:
    """Lock a job's state for one run (or one backfill); read, stage and advance it.

    Example::

        with StateSession(store, "daily_sums", run_id="r1") as session:
            state = session.state
            ...
            session.write_pending(new_state, {"affected": [...]})
            ...  # commits with Txn(app_id(job), new_state.batch)
            session.promote()
    """

    def __init__(self, store: StateStore, job: str, *, run_id: str) -> None:
        self.store = store
        self.job = job
        self.run_id = run_id
        self._lock: Any = None
        self._state: Optional[Stored] = None
        self._pending: Optional[Stored] = None

    def __enter__(self) -> StateSession:
        self._lock = self.store.lock(self.job, {"run_id": self.run_id, "since": utc_now()})
        self._lock.__enter__()
        try:
            self._state = self.store.get(self.key("state"))
            self._pending = self.store.get(self.key("pending"))
        except BaseException as exc:
            self._lock.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def __exit__(
        self,
        kind: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._lock.__exit__(kind, exc, tb)

    def key(self, name: str) -> str:
        return f"{self.job}/{name}"

    @property
    def state(self) -> JobState:
        if self._state is None:
            return JobState(job=self.job)
        return JobState.from_doc(self._state.doc)

    @property
    def pending(self) -> Optional[dict[str, Any]]:
        """The unfinished batch left by an earlier run, if any."""
        return None if self._pending is None else dict(self._pending.doc)

    def write_pending(self, state: JobState, work: Mapping[str, Any]) -> None:
        """Record the next state and its remaining work before the batch commits anything."""
        doc = {"state": state.to_doc(), **work}
        expect = self._pending.token if self._pending else None
        token = self.store.put(self.key("pending"), doc, expect=expect)
        self._pending = Stored(doc, token)

    def drop_pending(self) -> None:
        self.store.delete(self.key("pending"))
        self._pending = None

    def save(self, state: JobState) -> None:
        """Write ``state`` (compare-and-set against the version this session read)."""
        state.run_id, state.updated_at = self.run_id, utc_now()
        doc = state.to_doc()
        token = self.store.put(
            self.key("state"), doc, expect=self._state.token if self._state else None
        )
        self._state = Stored(doc, token)

    def promote(self) -> JobState:
        """Make the pending batch's state the current one, then drop the pending record."""
        if self._pending is None:
            raise RuntimeError("promote() without a pending batch")
        state = JobState.from_doc(self._pending.doc["state"])
        self.save(state)
        self.drop_pending()
        return state
