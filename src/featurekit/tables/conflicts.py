"""Commit conflicts retried with jittered exponential backoff, where a retry is safe.

Delta's and Iceberg's optimistic concurrency make a commit fail when another writer
committed to the table first in a way that overlaps it (delta-spark's
``ConcurrentAppendException`` and its siblings, delta-rs's ``CommitFailedError``, a
conditional put's precondition failure, Iceberg's ``ValidationException``); the engines
raise :class:`~featurekit.errors.ConcurrentCommitError` then, and nothing of the failed
attempt is in the table. Such a commit is attempted again, up
to :attr:`CommitRetry.attempts` times in all, waiting a jittered, doubling time between
attempts (outside the table's commit lease, so other writers get their turn), when
repeating it cannot write anything twice:

* it carries a transaction id (``Txn``: an incremental batch, its quarantine), which
  makes a second application a no-op; or
* it replaces (``overwrite``: the whole table, or exactly its dates): applying it again
  leaves the same table as applying it once, after whatever the other writer did.

A blind append without a transaction id is never retried: it ends in one
``ConcurrentCommitError`` saying so. A writer refused by the commit lease
(:class:`~featurekit.errors.ConcurrentWriterError`, coordinator ``none``) is not a
conflict and is not retried either. Failed attempts leave nothing visible: the engines
remove what the attempt wrote, and files Delta's log or Iceberg's ``main`` do not name
are not in the table.

Example::

    retry = CommitRetry(attempts=5)
    result = commit_with_retries(lambda: commit_once(), retry, safe=True, path=table)
    result.conflicts  # how many conflicts were retried
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace
from typing import Callable, Optional

from featurekit.errors import ConcurrentCommitError, ConcurrentWriterError, ConfigError
from featurekit.tables.engine import CommitResult, Txn

#: attempts of a conflicting commit unless configured (``--commit-attempts``)
DEFAULT_ATTEMPTS = 5


@dataclass(frozen=True)
class CommitRetry:
    """How a conflicting commit is retried: ``attempts`` in all (1: never retried), the
    first wait ``first_wait`` seconds, doubling up to ``max_wait``, each jittered to
    between half and all of it.

    >>> CommitRetry(attempts=3).wait(1, jitter=1.0)
    0.5
    """

    attempts: int = DEFAULT_ATTEMPTS
    first_wait: float = 0.5
    max_wait: float = 10.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise TypeError(f"CommitRetry attempts must be an int, got {self.attempts!r}.")
        if self.attempts < 1:
            raise ConfigError(
                f"Commit attempts must be at least 1 (1: a conflict is never retried), "
                f"got {self.attempts}."
            )
        if self.first_wait < 0 or self.max_wait < self.first_wait:
            raise ConfigError("Commit retry waits: 0 <= first_wait <= max_wait.")

    def wait(self, conflicts: int, *, jitter: Optional[float] = None) -> float:
        """Seconds to wait after the ``conflicts``-th conflict (``jitter`` in [0, 1]:
        where in the upper half of the doubled wait; random when None)."""
        full = min(self.max_wait, self.first_wait * 2 ** (conflicts - 1))
        share = random.random() if jitter is None else jitter
        return float(full * (0.5 + share / 2))


def retry_is_safe(mode: str, txn: Optional[Txn]) -> bool:
    """True when applying the commit twice writes nothing twice (see the module doc)."""
    return txn is not None or mode != "append"


def commit_with_retries(
    attempt: Callable[[], CommitResult],
    retry: CommitRetry,
    *,
    safe: bool,
    path: str,
    sleep: Callable[[float], None] = time.sleep,
) -> CommitResult:
    """``attempt()`` (one whole commit, lease taken and let go inside), again after each
    conflict while ``safe`` and attempts are left; the result counts the conflicts."""
    conflicts = 0
    while True:
        try:
            result = attempt()
        except ConcurrentWriterError:
            raise  # refused by the commit lease: not a conflict
        except ConcurrentCommitError as exc:
            conflicts += 1
            if not safe:
                raise ConcurrentCommitError(
                    f"Another writer committed to {path} first, and this commit appends "
                    "without a transaction id, so retrying it could write its rows twice: "
                    "nothing of it was committed. Re-run the job."
                ) from exc
            if conflicts >= retry.attempts:
                raise ConcurrentCommitError(
                    f"The commit to {path} conflicted with other writers {conflicts} "
                    f"time(s) and was retried with backoff up to its {retry.attempts} "
                    "attempts: nothing of it was committed. Re-run the job, or allow more "
                    "attempts (--commit-attempts)."
                ) from exc
            sleep(retry.wait(conflicts))
            continue
        return replace(result, conflicts=conflicts) if conflicts else result
