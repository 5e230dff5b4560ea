"""The run lease: at most one live run per (job, output table, dates).

An orchestrator that retries a job while its first attempt still runs starts a second
run of the same job and dates. The lease makes the second one wait for the first: it is
a document in the state store (``<job>/_running/<scope hash>``) created with a
conditional write (local: an exclusive create under an OS lock; S3: ``put_object`` with
``If-None-Match: *``), holding the holder (host, boot id, pid) and a ``lease_until`` the
holder renews. A holder that died is recognised (see :func:`featurekit.runs.holder_alive`)
and its lease taken over with a compare-and-set on the document's token (S3:
``If-Match`` on its ETag), so two waiters never both take it.

Example::

    lease = RunLease(store, "daily_spend", scope={"table": "f.daily", "start": None}, run_id="r2")
    first = lease.try_take()      # None: ours; else the live holder's document
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Optional

from featurekit.errors import StateConflictError
from featurekit.runs import holder_alive, this_holder
from featurekit.storage.state_store import StateStore

#: seconds a run stays "alive" without renewing (it renews every third of that)
LEASE_SECONDS = 600.0
# run ids holding a lease in this process: a lease this process holds for a run id not
# here was left by a run of this process that could not release it (storage failed)
_ACTIVE: set[str] = set()


def scope_key(job: str, scope: Mapping[str, Any]) -> str:
    """The state key of ``job``'s lease on ``scope`` (its output table and dates)."""
    text = json.dumps(dict(scope), sort_keys=True, default=str)
    return f"{job}/_running/{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def lease_until(seconds: float) -> str:
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return until.isoformat(timespec="seconds")


class RunLease:
    """One run's claim on (job, scope); see the module docstring."""

    def __init__(
        self,
        store: StateStore,
        job: str,
        scope: Mapping[str, Any],
        *,
        run_id: str,
        seconds: float = LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.key = scope_key(job, scope)
        self.scope = dict(scope)
        self.run_id = run_id
        self.seconds = seconds
        self._token: Optional[str] = None

    @property
    def held(self) -> bool:
        return self._token is not None

    def _doc(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "scope": self.scope,
            "holder": this_holder(),
            "lease_until": lease_until(self.seconds),
        }

    def try_take(self) -> Optional[dict[str, Any]]:
        """Take the lease (None), or return the document of the live run holding it."""
        for _ in range(5):  # a release or takeover can race us; look again
            _ACTIVE.add(self.run_id)  # before the write: a reader must never see it unlisted
            try:
                self._token = self.store.put(self.key, self._doc(), expect=None)
                return None
            except StateConflictError:
                _ACTIVE.discard(self.run_id)
            got = self.store.get(self.key)
            if got is None:
                continue  # released between our write and our read
            holder = got.doc.get("holder") or {}
            alive = holder_alive(holder, got.doc.get("lease_until"))
            if holder == this_holder() and got.doc.get("run_id") not in _ACTIVE:
                alive = False  # left by an earlier run of this very process
            if alive and got.doc.get("run_id") != self.run_id:
                return dict(got.doc)
            _ACTIVE.add(self.run_id)
            try:  # its holder died: take it over, unless another waiter just did
                self._token = self.store.put(self.key, self._doc(), expect=got.token)
                return None
            except StateConflictError:
                _ACTIVE.discard(self.run_id)
                continue
        got = self.store.get(self.key)
        return dict(got.doc) if got is not None else {"run_id": "unknown"}

    def renew(self) -> bool:
        """Extend the lease; False when it is no longer ours (taken over after expiring)."""
        if self._token is None:
            return False
        try:
            self._token = self.store.put(self.key, self._doc(), expect=self._token)
        except StateConflictError:
            self._token = None
            return False
        return True

    def release(self) -> None:
        """Drop the lease if it is still ours."""
        if self._token is None:
            return
        _ACTIVE.discard(self.run_id)
        self._token = None
        got = self.store.get(self.key)
        if got is not None and got.doc.get("run_id") == self.run_id:
            self.store.delete(self.key)
