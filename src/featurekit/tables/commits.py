"""Safe concurrent commits on S3: a per-table commit lease both Delta engines take.

Plain S3 has no atomic rename, so two Delta writers can both write ``N.json`` and one
commit is lost (delta-rs #3736). Every featurekit commit to a table on S3 (delta-spark,
delta-rs, and their OPTIMIZE and VACUUM) therefore runs while holding that table's
**commit lease**, chosen by one setting, the commit coordinator:

* ``none`` (the default): the lease is an S3 object created with ``If-None-Match: *``
  (``TABLE/_featurekit_commit_lease.json``). A second writer that finds it held is
  **refused** with :class:`ConcurrentWriterError`: nothing waits, nothing is lost.
* ``s3-conditional``: the same S3 object, but a second writer **waits** for it (with
  backoff, up to ``wait_seconds``). delta-rs also commits with S3 conditional puts.
* ``dynamodb:TABLE``: the lease is an item of a DynamoDB table with Delta's
  S3DynamoDBLogStore key schema (``tablePath`` HASH, ``fileName`` RANGE, ``expireTime``);
  writers wait for it. Lease items use their own ``tablePath`` (``featurekit-lease:`` +
  the table's URI), so they never mix with the commit entries of Delta's LogStore.

A lease expires ``lease_seconds`` after it was last renewed; a holder renews it from a
background thread every third of that, and a writer whose renewal failed does not start
its commit. A holder that dies leaves a lease that expires and is then taken over.
Tables in a local folder need no lease: the file system's atomic create/rename already
lets only one writer create ``N.json``.

Example::

    coordinator = CommitCoordinator.parse("dynamodb:featurekit_commits")
    guard = CommitGuard(coordinator, s3_client=s3, dynamodb_client=ddb)
    with guard.hold("s3://bucket/wh/features/daily") as lease:
        lease.check()          # raises if the lease was lost
        ...                    # the Delta commit
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Callable, Optional

from featurekit.errors import CommitCoordinatorError, ConcurrentWriterError, ConfigError
from featurekit.runs import process_gone, this_holder
from featurekit.tables.conflicts import CommitRetry, commit_with_retries, retry_is_safe
from featurekit.tables.engine import CommitResult, Txn

KINDS = ("none", "s3-conditional", "dynamodb")
S3_SCHEMES = ("s3://", "s3a://", "s3n://")
LEASE_OBJECT = "_featurekit_commit_lease.json"
LEASE_FILE_NAME = "featurekit-commit-lease"
LEASE_PATH_PREFIX = "featurekit-lease:"
_RELEASED = "released just now"


@dataclass(frozen=True)
class CommitCoordinator:
    """How writers of one table on S3 take turns: ``none``, ``s3-conditional`` or
    ``dynamodb:TABLE`` (see the module docstring).

    >>> str(CommitCoordinator.parse("dynamodb:delta_log"))
    'dynamodb:delta_log'
    """

    kind: str = "none"
    table: Optional[str] = None  # the DynamoDB table (kind "dynamodb")
    lease_seconds: float = 60.0
    wait_seconds: float = 900.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"Unknown commit coordinator {self.kind!r}; use {describe()}.")
        if (self.kind == "dynamodb") != bool(self.table):
            raise ConfigError(
                "The commit coordinator dynamodb needs its table, as dynamodb:TABLE "
                "(e.g. dynamodb:delta_log); the other coordinators take none."
            )
        if self.lease_seconds < 3 or self.wait_seconds < 0:
            raise ConfigError("A commit lease lasts at least 3 s and the wait is not negative.")

    @classmethod
    def parse(cls, text: Optional[str]) -> CommitCoordinator:
        """``none`` (or empty), ``s3-conditional`` or ``dynamodb:TABLE``."""
        text = (text or "none").strip()
        kind, _, table = text.partition(":")
        if kind == "dynamodb":
            return cls(kind, table or None)
        if table:
            raise ConfigError(f"Commit coordinator {text!r}: only dynamodb takes a table name.")
        return cls(kind)

    def __str__(self) -> str:
        return f"dynamodb:{self.table}" if self.kind == "dynamodb" else self.kind

    @property
    def waits(self) -> bool:
        """True when a second writer waits its turn; False: it is refused."""
        return self.kind != "none"

    def iam_actions(self) -> tuple[str, ...]:
        """The IAM actions a job's role needs for the lease, besides S3 reads and writes."""
        if self.kind == "dynamodb":
            return (
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:DescribeTable",
            )
        return ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")


def describe() -> str:
    return "none, s3-conditional or dynamodb:TABLE"


def on_s3(path: str) -> bool:
    return path.startswith(S3_SCHEMES)


def normal_uri(path: str) -> str:
    """``s3a://b/p/`` -> ``s3://b/p``: one lease per table whatever scheme names it."""
    return "s3://" + path.split("://", 1)[1].strip("/")


class Lease:
    """A held lease: ``check()`` raises when a renewal failed (another writer may own it)."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.lost: Optional[str] = None

    def check(self) -> None:
        if self.lost is not None:
            raise CommitCoordinatorError(
                f"The commit lease of {self.table} was lost before the commit ({self.lost}); "
                "nothing was committed. Re-run the job."
            )


class _Backend:
    """Take, renew and drop one table's lease; ``take`` returns None or the holder."""

    def take(self, table: str, owner: Mapping[str, str], lease_seconds: float) -> Optional[str]:
        raise NotImplementedError

    def renew(self, table: str, owner: Mapping[str, str], lease_seconds: float) -> bool:
        raise NotImplementedError

    def drop(self, table: str, owner: Mapping[str, str]) -> None:
        raise NotImplementedError


class CommitGuard:
    """Holds a table's commit lease around each commit, as the coordinator says."""

    def __init__(
        self,
        coordinator: CommitCoordinator,
        *,
        s3_client: Optional[Callable[[], Any]] = None,
        dynamodb_client: Optional[Callable[[], Any]] = None,
        retry: Optional[CommitRetry] = None,
    ) -> None:
        """``retry``: how a commit that conflicted with another writer is retried
        (:mod:`featurekit.tables.conflicts`; default 5 attempts)."""
        self.coordinator = coordinator
        self.retry = retry or CommitRetry()
        self._s3_client = s3_client
        self._dynamodb_client = dynamodb_client
        self._backend: Optional[_Backend] = None
        self._locks: dict[str, threading.Lock] = {}  # per table, for threads of this process
        self._locks_lock = threading.Lock()

    def _local_lock(self, path: str) -> threading.Lock:
        key = normal_uri(path) if on_s3(path) else path.rstrip("/")
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())

    def _lease_backend(self) -> _Backend:
        if self._backend is None:
            if self.coordinator.kind == "dynamodb":
                client = _make(self._dynamodb_client, "dynamodb")
                self._backend = DynamoDbLeases(client, str(self.coordinator.table))
            else:
                self._backend = S3Leases(_make(self._s3_client, "s3"))
        return self._backend

    @contextlib.contextmanager
    def hold(self, path: str) -> Iterator[Lease]:
        """The commit lease of the table at ``path``. Threads sharing this guard (a parallel
        backfill's chunks) take turns first; a table in a local folder needs nothing more."""
        with self._local_lock(path), self._hold(path) as lease:
            yield lease

    def commit(
        self,
        path: str,
        attempt: Callable[[Lease], CommitResult],
        *,
        mode: str,
        txn: Optional[Txn],
    ) -> CommitResult:
        """``attempt(lease)`` under the table's lease; after a conflict, when the commit
        is safe to repeat (:func:`~featurekit.tables.conflicts.retry_is_safe`), again
        with backoff, the lease let go while waiting."""

        def once() -> CommitResult:
            with self.hold(path) as lease:
                return attempt(lease)

        safe = retry_is_safe(mode, txn)
        return commit_with_retries(once, self.retry, safe=safe, path=path)

    @contextlib.contextmanager
    def _hold(self, path: str) -> Iterator[Lease]:
        lease = Lease(path)
        if not on_s3(path):
            yield lease
            return
        table = normal_uri(path)
        backend = self._lease_backend()
        me = this_holder()  # host, boot and process: a dead holder here is seen at once
        owner = {"owner": uuid.uuid4().hex, **{k: str(v) for k, v in me.items()}}
        self._acquire(backend, table, owner)
        stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(backend, table, owner, lease, stop), daemon=True
        )
        beat.start()
        try:
            yield lease
        finally:
            stop.set()
            beat.join()
            backend.drop(table, owner)

    def _acquire(self, backend: _Backend, table: str, owner: Mapping[str, str]) -> None:
        settings = self.coordinator
        deadline = time.monotonic() + settings.wait_seconds
        pause = 0.1
        while True:
            holder = backend.take(table, owner, settings.lease_seconds)
            if holder is None:
                return
            if not settings.waits:
                raise ConcurrentWriterError(
                    f"Another writer is committing to {table} ({holder}) and no commit "
                    "coordinator is configured, so this commit was refused rather than risk "
                    "a lost commit; nothing was committed. Re-run when it is done, or let "
                    "writers take turns: --commit-coordinator s3-conditional or "
                    "dynamodb:TABLE (docs/s3.md)."
                )
            if time.monotonic() + pause > deadline:
                raise CommitCoordinatorError(
                    f"Waited {settings.wait_seconds:g} s for the commit lease of {table} "
                    f"({settings}); it is still held ({holder}). Nothing was committed."
                )
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 1.6, 5.0)  # few requests while many writers wait

    def _heartbeat(
        self,
        backend: _Backend,
        table: str,
        owner: Mapping[str, str],
        lease: Lease,
        stop: threading.Event,
    ) -> None:
        every = self.coordinator.lease_seconds / 3
        while not stop.wait(every):
            try:
                renewed = backend.renew(table, owner, self.coordinator.lease_seconds)
            except Exception as exc:  # any failure to renew means the lease may be gone
                renewed, reason = False, str(exc)
            else:
                reason = "another writer took it over"
            if not renewed:
                lease.lost = reason
                return


def _make(factory: Optional[Callable[[], Any]], service: str) -> Any:
    if factory is not None:
        return factory()
    try:
        import boto3
    except ImportError as exc:
        from featurekit.errors import MissingDependencyError

        raise MissingDependencyError("boto3", "aws", "The commit lease on S3") from exc
    return boto3.client(service)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _status(exc: Exception) -> int:
    response = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _until(lease_seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=lease_seconds)


class S3Leases(_Backend):
    """The lease as ``TABLE/_featurekit_commit_lease.json``, created with ``If-None-Match``,
    renewed and taken over with ``If-Match``, deleted with ``If-Match``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._etags: dict[str, str] = {}

    @staticmethod
    def _where(table: str) -> tuple[str, str]:
        bucket, _, prefix = table[len("s3://") :].partition("/")
        return bucket, f"{prefix}/{LEASE_OBJECT}".lstrip("/")

    def _body(self, owner: Mapping[str, str], lease_seconds: float) -> bytes:
        return json.dumps({**owner, "expires_at": _until(lease_seconds).isoformat()}).encode()

    def _put(self, table: str, body: bytes, **condition: str) -> bool:
        bucket, key = self._where(table)
        try:
            out = self.client.put_object(Bucket=bucket, Key=key, Body=body, **condition)
        except Exception as exc:
            if _status(exc) in (409, 412):
                return False
            raise CommitCoordinatorError(
                f"Cannot write the commit lease of {table}: {exc}"
            ) from exc
        self._etags[table] = str(out["ETag"])
        return True

    def take(self, table: str, owner: Mapping[str, str], lease_seconds: float) -> Optional[str]:
        body = self._body(owner, lease_seconds)
        bucket, key = self._where(table)
        for _attempt in range(3):
            if self._put(table, body, IfNoneMatch="*"):
                return None
            try:
                got = self.client.get_object(Bucket=bucket, Key=key)
                break
            except Exception as exc:
                if _status(exc) != 404:  # 404: released between the two calls, try again
                    raise CommitCoordinatorError(
                        f"Cannot read the commit lease of {table}: {exc}"
                    ) from exc
        else:
            return "taken and released by others while this writer asked"
        holder = json.loads(got["Body"].read().decode())
        expires = dt.datetime.fromisoformat(str(holder.get("expires_at")))
        if expires > dt.datetime.now(dt.timezone.utc) and not _gone(holder):
            return _holder_text(holder, expires)
        if self._put(table, body, IfMatch=str(got["ETag"])):  # its holder died: take it over
            return None
        return "taken over by another writer just now"

    def renew(self, table: str, owner: Mapping[str, str], lease_seconds: float) -> bool:
        etag = self._etags.get(table)
        return etag is not None and self._put(table, self._body(owner, lease_seconds), IfMatch=etag)

    def drop(self, table: str, owner: Mapping[str, str]) -> None:
        etag = self._etags.pop(table, None)
        if etag is None:
            return
        bucket, key = self._where(table)
        with contextlib.suppress(Exception):  # not ours any more, or already gone: expires
            self.client.delete_object(Bucket=bucket, Key=key, IfMatch=etag)


class DynamoDbLeases(_Backend):
    """The lease as one item of a DynamoDB table with Delta's LogStore key schema."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def _key(self, table: str) -> dict[str, Any]:
        return {
            "tablePath": {"S": LEASE_PATH_PREFIX + table},
            "fileName": {"S": LEASE_FILE_NAME},
        }

    def _fail(self, table: str, exc: Exception) -> CommitCoordinatorError:
        if _code(exc) == "ResourceNotFoundException":
            return CommitCoordinatorError(
                f"The DynamoDB table {self.table_name!r} of the commit coordinator does not "
                "exist: create it with Delta's LogStore schema (tablePath HASH, fileName "
                "RANGE, both strings; docs/s3.md), or fix --commit-coordinator."
            )
        return CommitCoordinatorError(f"The commit lease of {table} in DynamoDB failed: {exc}")

    def take(self, table: str, owner: Mapping[str, str], lease_seconds: float) -> Optional[str]:
        for _attempt in range(3):
            holder = self._take_once(table, owner, lease_seconds)
            if holder != _RELEASED:
                return holder
        return "taken and released by others while this writer asked"

    def _take_once(
        self, table: str, owner: Mapping[str, str], lease_seconds: float
    ) -> Optional[str]:
        now = time.time()
        item = {
            **self._key(table),
            "expireTime": {"N": str(int(now + lease_seconds))},
            **{k: {"S": v} for k, v in owner.items()},
        }
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(tablePath) OR expireTime < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
        except Exception as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise self._fail(table, exc) from exc
            return self._holder(table, item)
        return None

    def _holder(self, table: str, item: Mapping[str, Any]) -> Optional[str]:
        """Who holds the lease; None when its holder died on this machine and ``item``
        (this writer's lease) replaced it."""
        try:
            got = self.client.get_item(TableName=self.table_name, Key=self._key(table))
        except Exception as exc:
            raise self._fail(table, exc) from exc
        found = got.get("Item")
        if not found:
            return _RELEASED
        holder = {k: v.get("S", v.get("N")) for k, v in found.items()}
        expires = dt.datetime.fromtimestamp(float(holder["expireTime"]), dt.timezone.utc)
        if not _gone(holder):
            return _holder_text(holder, expires)
        try:  # its holder died: take it over, unless another writer did first
            self.client.put_item(
                TableName=self.table_name,
                Item=dict(item),
                ConditionExpression="#owner = :theirs",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":theirs": {"S": str(holder.get("owner"))}},
            )
        except Exception as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise self._fail(table, exc) from exc
            return _RELEASED  # changed hands meanwhile: ask again
        return None

    def renew(self, table: str, owner: Mapping[str, str], lease_seconds: float) -> bool:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(table),
                UpdateExpression="SET expireTime = :until",
                ConditionExpression="#owner = :me",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={
                    ":until": {"N": str(int(time.time() + lease_seconds))},
                    ":me": {"S": owner["owner"]},
                },
            )
        except Exception as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def drop(self, table: str, owner: Mapping[str, str]) -> None:
        with contextlib.suppress(Exception):  # not ours any more: it expires on its own
            self.client.delete_item(
                TableName=self.table_name,
                Key=self._key(table),
                ConditionExpression="#owner = :me",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":me": {"S": owner["owner"]}},
            )


def _gone(holder: Mapping[str, Any]) -> bool:
    """True when a lease's holder ran on this machine (same host and boot) and its process
    is gone (killed mid-commit): its lease is taken over at once, not when it expires."""
    pid = str(holder.get("pid", ""))
    return pid.isdigit() and process_gone({**holder, "pid": int(pid)})


def _holder_text(holder: Mapping[str, Any], expires: dt.datetime) -> str:
    return (
        f"held by {holder.get('host')} pid {holder.get('pid')} until "
        f"{expires.isoformat(timespec='seconds')}"
    )


NO_GUARD = CommitGuard(CommitCoordinator())
