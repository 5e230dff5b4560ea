"""A run's record and lease while it runs, and what dead runs left behind.

:class:`RunKeeper` stores the record with status ``running`` before any work and again
when each phase begins; a background thread renews the record's ``lease_until`` and the
run lease (:class:`~featurekit.storage.run_lease.RunLease`) every third of the lease. A
second run of the same job, table and dates waits for the first (:meth:`RunKeeper.claim`)
and, when the first succeeded with the same parameters, writes nothing; a run over
overlapping but different dates, or with other parameters, waits for it too, then runs
its own. :func:`abandon_dead_runs` marks the records
of the job's dead runs ``abandoned`` and removes their stage folders.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.runs import is_dead, judge
from featurekit.storage.leftovers import remove_run_staging
from featurekit.storage.run_lease import RunLease, lease_until

if TYPE_CHECKING:
    from featurekit.runs import RunRecord
    from featurekit.storage import Storage

#: records of a job looked at for dead runs (the newest; run ids sort by start time)
SCANNED_RECORDS = 20
#: seconds between two looks at a lease another live run holds
WAIT_POLL_SECONDS = 2.0


class RunKeeper:
    """Stores ``record`` through ``storage`` and keeps its lease; see the module docstring."""

    def __init__(
        self,
        storage: Storage,
        record: RunRecord,
        lease: RunLease,
        report: Callable[[str], None],
    ) -> None:
        self.storage = storage
        self.record = record
        self.lease = lease
        self.report = report
        self._lock = threading.Lock()
        self._doc: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.renew_failed: Optional[str] = None

    def claim(self, poll: float = WAIT_POLL_SECONDS) -> Optional[str]:
        """Take the lease, waiting while another live run holds it; the run id of that run
        when it succeeded meanwhile (this run then has nothing to do), else None."""
        waited_for: Optional[str] = None
        same = False  # the run waited for last had this run's very dates
        while True:
            holder = self.lease.try_claim()
            if holder is None:
                break
            if holder.get("run_id") != waited_for:
                waited_for = str(holder.get("run_id"))
                same = holder.get("scope") == self.lease.scope
                what = "dates" if same else "table, over overlapping dates"
                self.report(
                    f"waiting for run {waited_for} of the same job and {what} "
                    f"(on {(holder.get('holder') or {}).get('host')}) to finish"
                )
            time.sleep(poll)
        if waited_for is None or not same:
            return None
        first = self.storage.run_record(self.record.job, waited_for)
        if first is None or first.get("status") != "succeeded":
            return None
        # Other parameters are other rows: this run writes its own, after the first.
        if (first.get("params") or {}) != self.record.params:
            return None
        return waited_for

    def save(self) -> None:
        """Store the record as it is now (called on the run's own thread)."""
        self.record.lease_until = lease_until(self.lease.seconds)
        doc = self.record.to_json()
        with self._lock:
            self._doc = doc
            self.storage.store_record(doc)

    def start(self) -> None:
        """Store the record at the start and at each phase; renew in the background."""
        self.record.listen(lambda _phase: self.save())
        self.save()
        self._thread = threading.Thread(
            target=self._beat, name=f"featurekit-lease-{self.record.run_id}", daemon=True
        )
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.lease.seconds / 3):
            try:
                with self._lock:
                    doc = {**self._doc, "lease_until": lease_until(self.lease.seconds)}
                    self.storage.store_record(doc)
                if not self.lease.renew():
                    self.renew_failed = "the run lease was taken over by another run"
            except Exception as exc:  # the run itself fails on the next write if S3 is gone
                self.renew_failed = f"{type(exc).__name__}: {exc}".splitlines()[0]

    def stop(self) -> None:
        """Stop renewing (before the final record is stored)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.renew_failed:
            self.record.warnings.append(f"renewing the run's lease failed: {self.renew_failed}")

    def release(self) -> None:
        self.lease.release()


def abandon_dead_runs(storage: Storage, record: RunRecord) -> list[str]:
    """Mark the job's dead ``running`` records abandoned and remove their stage folders;
    one line per run for the report."""
    lines = []
    for doc in storage.recent_records(record.job, SCANNED_RECORDS):
        if doc.get("run_id") == record.run_id or not is_dead(doc):
            continue
        marked = judge(doc, by=record.run_id)
        removed = remove_run_staging(storage.warehouse, doc.get("staging") or [], doc["run_id"])
        storage.store_record(marked)
        info = marked["abandoned"]
        lines.append(
            f"run {doc['run_id']} died during {info['last_phase']!r} "
            f"(found dead {info['age_seconds']} s after its start): marked abandoned, "
            f"{removed} stage folder(s) removed"
        )
    return lines
