"""The S3 state store: JSON documents in a bucket, advanced with conditional writes.

Every write is ``put_object`` with ``If-Match: <etag read>`` (or ``If-None-Match: *``
for a new key), so two runs can never both advance the same state: the second
gets HTTP 412 and a StateConflictError. The job lock is an object created with
``If-None-Match: *`` holding a lease (``lease_seconds``) and its holder (host, boot id,
pid); a lock whose lease has expired, or whose holder's process on this machine is gone
(killed), is taken over with ``If-Match`` on its ETag.

Example::

    import boto3
    store = S3StateStore(boto3.client("s3"), "s3://my-bucket/featurekit/state")
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any, Optional

from featurekit.errors import ConfigError, LockedError, StateConflictError, StateError
from featurekit.runs import process_gone, this_holder
from featurekit.storage.state_store import StateStore, Stored, check_key

DEFAULT_LEASE_SECONDS = 6 * 3600


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix without slashes at the ends)."""
    if not uri.startswith("s3://") or not uri[5:].strip("/"):
        raise ConfigError(f"State location {uri!r} must look like s3://bucket/prefix.")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix.strip("/")


def _status(exc: Exception) -> int:
    response = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class S3StateStore(StateStore):
    """State documents under ``s3://bucket/prefix/<key>.json`` (boto3 client given)."""

    def __init__(
        self, client: Any, uri: str, *, lease_seconds: int = DEFAULT_LEASE_SECONDS
    ) -> None:
        self.client = client
        self.bucket, self.prefix = split_s3_uri(uri)
        self.lease_seconds = lease_seconds

    @classmethod
    def from_uri(cls, uri: str, **client_args: Any) -> S3StateStore:
        """A store on a default boto3 S3 client (the platform's credentials)."""
        from featurekit.errors import MissingDependencyError

        try:
            import boto3
        except ImportError as exc:
            raise MissingDependencyError("boto3", "aws", "The S3 state store") from exc
        from featurekit.core.faults import boto_config

        client_args.setdefault("config", boto_config())
        return cls(boto3.client("s3", **client_args), uri)

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, key: str) -> str:
        name = f"{check_key(key)}.json"
        return f"{self.prefix}/{name}" if self.prefix else name

    def get(self, key: str) -> Optional[Stored]:
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if _status(exc) == 404:
                return None
            raise StateError(f"Cannot read state {key!r} from {self.where}: {exc}") from exc
        body = got["Body"].read().decode()
        return Stored(json.loads(body), str(got["ETag"]))

    def put(self, key: str, doc: Mapping[str, Any], *, expect: Optional[str]) -> str:
        body = json.dumps(doc, indent=2, sort_keys=True, default=str).encode()
        condition = {"IfNoneMatch": "*"} if expect is None else {"IfMatch": expect}
        try:
            out = self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=body, **condition
            )
        except Exception as exc:
            if _status(exc) in (409, 412):
                raise StateConflictError(
                    f"State {key!r} in {self.where} changed since this run read it; "
                    "another run advanced it. Re-run the job."
                ) from exc
            raise StateError(f"Cannot write state {key!r} to {self.where}: {exc}") from exc
        return str(out["ETag"])

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise StateError(f"Cannot delete state {key!r} in {self.where}: {exc}") from exc

    def keys(self, prefix: str) -> list[str]:
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        start = len(self.prefix) + 1 if self.prefix else 0
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=full
        ):
            for item in page.get("Contents", []):
                name = str(item["Key"])[start:]
                if name.endswith(".json") and not name.endswith("/_lock.json"):
                    found.append(name[: -len(".json")])
        return sorted(found)

    # -- lock ------------------------------------------------------------------------
    def _lock_key(self, job: str) -> str:
        return self._key(f"{check_key(job)}/_lock")

    def _lease(self, owner: Mapping[str, Any]) -> bytes:
        until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.lease_seconds)
        doc = {**owner, "holder": this_holder(), "expires_at": until.isoformat()}
        return json.dumps(doc, default=str).encode()

    def _acquire(self, job: str, owner: Mapping[str, Any]) -> None:
        key = self._lock_key(job)
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=self._lease(owner), IfNoneMatch="*"
            )
            return
        except Exception as exc:
            if _status(exc) not in (409, 412):
                raise StateError(f"Cannot take the lock of {job!r} in {self.where}: {exc}") from exc
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:  # released between our put and this read
            raise LockedError(f"Job {job!r}: the lock changed hands; run again.") from exc
        holder = json.loads(got["Body"].read().decode())
        expires = dt.datetime.fromisoformat(str(holder.get("expires_at")))
        # a holder on this machine whose process is gone (killed) is dead before its lease ends
        gone = process_gone(holder.get("holder") or {})
        if expires > dt.datetime.now(dt.timezone.utc) and not gone:
            raise LockedError(
                f"Job {job!r} is already running (lock s3://{self.bucket}/{key} held by "
                f"{holder}, lease until {expires.isoformat()}). Wait for that run to finish; "
                "nothing was changed by this one."
            )
        try:  # the holder's lease expired: take the lock over, unless someone else just did
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=self._lease(owner), IfMatch=got["ETag"]
            )
        except Exception as exc:
            raise LockedError(f"Job {job!r}: another run took the expired lock first.") from exc

    @contextlib.contextmanager
    def lock(self, job: str, owner: Mapping[str, Any]) -> Iterator[None]:
        self._acquire(job, owner)
        try:
            yield
        finally:
            self._release(job, owner)

    def _release(self, job: str, owner: Mapping[str, Any]) -> None:
        """Delete the lock if it is still ours (an expired lease may have been taken over)."""
        key = self._lock_key(job)
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _status(exc) == 404:  # already gone: nothing to release
                return
            raise StateError(f"Cannot release the lock of {job!r} in {self.where}: {exc}") from exc
        holder = json.loads(got["Body"].read().decode())
        if all(holder.get(k) == v for k, v in owner.items() if k != "since"):
            self.client.delete_object(Bucket=self.bucket, Key=key)
