"""State stores: small JSON documents with compare-and-set writes, and a per-job lock.

Two stores share one port: :class:`LocalStateStore` (a folder in the warehouse:
atomic rename, an OS file lock released by the kernel when the process dies)
and ``S3StateStore`` (boto3, conditional writes; see ``featurekit.storage.s3_state``).
The same store serves the local, Glue and EMR runtimes.

Example::

    store = LocalStateStore("warehouse/_state")
    with store.lock("daily_sums", owner={"run_id": "r1"}):
        got = store.get("daily_sums/state")
        store.put("daily_sums/state", {"batch": 1}, expect=got.token if got else None)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from featurekit.errors import LockedError, StateConflictError, StateError, UnsupportedError
from featurekit.warehouse import atomic_write_text


@dataclass(frozen=True)
class Stored:
    """A document as read, with the token a conditional write must present."""

    doc: dict[str, Any]
    token: str


def check_key(key: str) -> str:
    parts = key.split("/")
    if not key or any(not p or p.startswith(".") for p in parts):
        raise StateError(f"Invalid state key {key!r}: use 'job/name' segments without dots first.")
    return key


class StateStore(ABC):
    """Where incremental state lives. Writes are conditional: ``expect`` is the token read
    (None: the key must not exist yet); a mismatch raises StateConflictError."""

    @abstractmethod
    def get(self, key: str) -> Optional[Stored]: ...

    @abstractmethod
    def put(self, key: str, doc: Mapping[str, Any], *, expect: Optional[str]) -> str:
        """Write ``doc`` if the key still has token ``expect``; return the new token."""

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def keys(self, prefix: str) -> list[str]: ...

    @abstractmethod
    @contextlib.contextmanager
    def lock(self, job: str, owner: Mapping[str, Any]) -> Iterator[None]:
        """Hold the job's lock for the block; raise LockedError when another run holds it."""
        yield  # pragma: no cover

    @property
    @abstractmethod
    def where(self) -> str:
        """Human-readable location, for messages."""


@contextlib.contextmanager
def _held(path: Path) -> Iterator[None]:
    """An exclusive OS lock on ``path`` for the block (released by the kernel if the
    holder dies); a no-op where fcntl is missing (Windows: the job lock refuses there)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _token(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class LocalStateStore(StateStore):
    """State documents as JSON files under ``root`` (normally ``WAREHOUSE/_state``).

    Conditional writes compare a content hash; they are race-free because every
    writer holds the job's lock (``fcntl.flock``), which the kernel releases when
    the holder dies, so a killed run never leaves a stale lock behind.
    """

    def __init__(self, root: Union[str, Path]) -> None:
        self.root = Path(root)

    @property
    def where(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / f"{check_key(key)}.json"

    def get(self, key: str) -> Optional[Stored]:
        path = self._path(key)
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise StateError(
                f"State file {path} is not valid JSON ({exc}); fix it or run "
                "'featurekit state reset JOB'."
            ) from exc
        return Stored(doc, _token(text))

    def put(self, key: str, doc: Mapping[str, Any], *, expect: Optional[str]) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(doc, indent=2, sort_keys=True, default=str)
        with _held(path.parent / f".{path.name}.lock"):  # compare and write as one step
            current = self.get(key)
            if (current.token if current else None) != expect:
                raise StateConflictError(
                    f"State {key!r} in {self.where} changed since this run read it; "
                    "another run advanced it. Re-run the job."
                )
            atomic_write_text(path, text)
        return _token(text)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root))[: -len(".json")] for p in base.rglob("*.json"))

    @contextlib.contextmanager
    def lock(self, job: str, owner: Mapping[str, Any]) -> Iterator[None]:
        try:
            import fcntl
        except ImportError as exc:  # Windows
            raise UnsupportedError(
                "The local state store locks with fcntl (Linux, macOS); use an S3 state store "
                "on this platform."
            ) from exc
        path = self.root / check_key(job) / ".lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                holder = path.read_text().strip() or "unknown"
                raise LockedError(
                    f"Job {job!r} is already running (lock {path} held by {holder}). "
                    "Wait for that run to finish; nothing was changed by this one."
                ) from exc
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({**owner, "pid": os.getpid()}, default=str).encode())
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
