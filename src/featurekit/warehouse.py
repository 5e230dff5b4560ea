"""The local warehouse: one folder holding Delta tables, the catalog, run records and state.

Layout::

    WAREHOUSE/
      <db>/<table>/            Delta tables registered in the catalog
      _catalog/<db>.<table>.json
      _runs/<job>/<run id>.json
      _state/...               incremental state
      _s3/<bucket>/<key>       where s3://bucket/key lives locally

``s3://`` paths map into ``_s3`` so job code keeps its cloud paths.

The catalog stores table locations relative to the warehouse (``features/daily``), so a
warehouse copied or moved elsewhere stays whole: its tables are found, and written, in the
new place. Only external locations (outside the warehouse) are stored absolute. Entries
written before that rule by older featurekit hold absolute paths; one that points outside
this warehouse is read by :meth:`Warehouse.absolute_location`:

1. inside another warehouse (an ancestor folder holds ``_catalog``, as when this one is a
   copy): its path below that warehouse, in this one;
2. else, an existing path is external and used as it is;
3. else (the old warehouse moved away): the longest tail of the path that is a folder in
   this warehouse; none: the path as it is (reading it says the table is missing).

On Glue and EMR the warehouse can be an S3 prefix instead (:class:`S3Warehouse`,
from ``open_warehouse("s3://bucket/prefix")``): the same layout, with the catalog and
run records stored as S3 objects and the tables written there by delta-spark.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional, Union

from featurekit.core.names import check_table_name
from featurekit.errors import ConfigError, MissingDependencyError

DEFAULT_WAREHOUSE = "warehouse"


S3_SCHEMES = ("s3://", "s3a://", "s3n://")
_MISSING = ("404", "NoSuchKey", "NotFound")  # S3 error codes of an absent object


def open_warehouse(root: Union[str, Path], *, s3_client: Any = None) -> Warehouse:
    """The warehouse at ``root``: an S3 prefix (``s3://bucket/prefix``) or a local folder."""
    text = str(root)
    if text.startswith(S3_SCHEMES):
        return S3Warehouse(text, client=s3_client)
    if "://" in text and not text.startswith("file://"):
        raise ConfigError(
            f"Warehouse {text!r}: use a local folder or an s3://bucket/prefix warehouse."
        )
    return Warehouse(text[len("file://") :] if text.startswith("file://") else text)


class Warehouse:
    """A warehouse folder on the local filesystem."""

    remote = False

    def __init__(self, root: Union[str, Path]) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"

    @property
    def uri(self) -> str:
        """Where the warehouse is, for messages and records."""
        return str(self.root)

    def resolve(self, path: str) -> str:
        """Map a user path to a local one: ``s3://b/k`` -> ``ROOT/_s3/b/k``; others unchanged."""
        for scheme in ("s3://", "s3a://", "s3n://"):
            if path.startswith(scheme):
                rest = path[len(scheme) :].strip("/")
                if not rest:
                    raise ConfigError(f"S3 path {path!r} has no bucket.")
                return str(self.root / "_s3" / rest)
        if path.startswith("file://"):
            return path[len("file://") :]
        if "://" in path:
            raise ConfigError(
                f"Path {path!r} has a scheme the local warehouse cannot map; "
                "use a local path or s3://bucket/key."
            )
        return str(Path(path).expanduser().resolve())

    def table_location(self, name: str) -> str:
        """Default location of table ``db.table``: ``ROOT/db/table``."""
        db, table = check_table_name(name).split(".")
        return str(self.root / db / table)

    def relative_location(self, location: str) -> str:
        """How the catalog stores ``location``: relative inside the warehouse, else as is.

        >>> Warehouse("/wh").relative_location("/wh/features/daily")
        'features/daily'
        """
        if "://" in location and not location.startswith("file://"):
            return location  # s3://bucket/key: the same in every copy (it maps into _s3)
        path = Path(self.resolve(location))  # a relative local path is the caller's cwd's
        if path.is_relative_to(self.root) and path != self.root:
            return path.relative_to(self.root).as_posix()
        return str(path)

    def absolute_location(self, stored: str) -> str:
        """Where a stored catalog location is now (see the module docstring for old entries)."""
        if "://" in stored:
            return stored
        path = Path(stored)
        if not path.is_absolute():
            return str(self.root / path)
        if path.is_relative_to(self.root):
            return stored
        return self._relocated(path) or stored

    def _relocated(self, path: Path) -> Optional[str]:
        for parent in path.parents:
            if (parent / "_catalog").is_dir():
                return str(self.root / path.relative_to(parent))
        if path.exists():
            return None
        parts = path.parts[1:]
        for i in range(len(parts)):
            candidate = self.root.joinpath(*parts[i:])
            if candidate.is_dir():
                return str(candidate)
        return None

    # Small JSON documents (catalog entries, run records), written atomically.
    def write_json(self, relative: str, doc: Any) -> Path:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, json.dumps(doc, indent=2, sort_keys=True, default=str))
        return target

    def read_json(self, relative: str) -> Any:
        return json.loads((self.root / relative).read_text())

    def has_json(self, relative: str) -> bool:
        return (self.root / relative).is_file()

    def list_json(self, folder: str) -> list[str]:
        """Relative names of the JSON documents under ``folder``, sorted."""
        base = self.root / folder
        found = sorted(base.rglob("*.json")) if base.is_dir() else []
        return [str(p.relative_to(self.root)) for p in found]


class S3Warehouse(Warehouse):
    """A warehouse under an S3 prefix: JSON documents are S3 objects (one PUT each, atomic).

    Tables live at ``s3://bucket/prefix/db/table`` and are written by delta-spark (Glue,
    EMR); credentials and endpoint come from boto3's usual sources.
    """

    remote = True

    def __init__(self, uri: str, *, client: Any = None) -> None:
        _scheme, _, rest = uri.partition("://")
        bucket, _, prefix = rest.strip("/").partition("/")
        if not bucket:
            raise ConfigError(f"Warehouse {uri!r} has no bucket; use s3://bucket/prefix.")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.root = Path("/nonexistent-s3-warehouse")  # never touched: every method is S3
        self._client = client

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import boto3
            except ImportError as exc:
                raise MissingDependencyError("boto3", "aws", "An s3:// warehouse") from exc
            from featurekit.core.faults import boto_config

            self._client = boto3.client("s3", config=boto_config())
        return self._client

    def _key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}".lstrip("/")

    def resolve(self, path: str) -> str:
        """S3 paths stay as they are (Spark reads them on Glue and EMR); local ones resolve."""
        if path.startswith(S3_SCHEMES):
            return "s3://" + path.split("://", 1)[1]
        return super().resolve(path)

    def table_location(self, name: str) -> str:
        db, table = check_table_name(name).split(".")
        return f"{self.uri}/{db}/{table}"

    def relative_location(self, location: str) -> str:
        """Relative below the prefix (any of s3/s3a/s3n), else as is."""
        if location.startswith(S3_SCHEMES):
            normal = "s3://" + location.split("://", 1)[1]
            if normal.startswith(self.uri + "/"):
                return normal[len(self.uri) + 1 :].strip("/")
        return location

    def absolute_location(self, stored: str) -> str:
        """Relative entries sit below the prefix; absolute ones (older entries, or external
        tables) are used as they are: S3 has no cheap way to tell a copied prefix."""
        if "://" in stored or stored.startswith("/"):
            return stored
        return f"{self.uri}/{stored}"

    def write_json(self, relative: str, doc: Any) -> Path:
        body = json.dumps(doc, indent=2, sort_keys=True, default=str).encode()
        with _s3_faults(f"Writing {self.uri}/{relative}"):
            self.client.put_object(Bucket=self.bucket, Key=self._key(relative), Body=body)
        return Path(relative)

    def read_json(self, relative: str) -> Any:
        """The document at ``relative``; FileNotFoundError when absent, as for a folder."""
        from botocore.exceptions import ClientError

        with _s3_faults(f"Reading {self.uri}/{relative}"):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self._key(relative))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _MISSING:
                    raise FileNotFoundError(f"{self.uri}/{relative}") from exc
                raise
            return json.loads(answer["Body"].read())

    def has_json(self, relative: str) -> bool:
        from botocore.exceptions import ClientError

        with _s3_faults(f"Reading {self.uri}/{relative}"):
            try:
                self.client.head_object(Bucket=self.bucket, Key=self._key(relative))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _MISSING:
                    return False
                raise
        return True

    def list_json(self, folder: str) -> list[str]:
        start = self._key(folder).rstrip("/") + "/"
        names = []
        with _s3_faults(f"Listing {self.uri}/{folder}"):
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start
            ):
                for item in page.get("Contents", []):
                    if item["Key"].endswith(".json"):
                        names.append(item["Key"][len(self.prefix) :].lstrip("/"))
        return sorted(names)


@contextlib.contextmanager
def _s3_faults(what: str) -> Iterator[None]:
    """An S3 outage (after botocore's retries) raised as one StorageUnavailableError."""
    from featurekit.core.faults import missing_bucket, storage_unavailable

    try:
        yield
    except Exception as exc:
        missing = missing_bucket(exc, what)
        if missing is not None:
            raise missing from exc
        translated = storage_unavailable(exc, what)
        if translated is None:
            raise
        raise translated from exc


def atomic_write_text(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` so readers see the old or the new file, never a mix."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
