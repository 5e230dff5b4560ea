"""Iceberg tables read without Spark, through pyiceberg (``featurekit[iceberg]``).

What ``featurekit table list|show|history`` use for Iceberg tables, as deltalake
(delta-rs) serves them for Delta: it starts in a second and needs no JVM. Versions are
numbered as the Iceberg engine numbers them (featurekit.tables.iceberg_java): positions in
the main branch's snapshot lineage, 0 the oldest kept one.

A table is opened from its folder's ``metadata/version-hint.text`` (the tables the
Iceberg engine writes) or, failing that, from the ``metadata_location`` its catalog entry
names (an Iceberg table a catalog such as Glue's commits).

Example::

    table = IcebergSnapshotReader.open("warehouse/features/daily", metadata_location=None)
    table.version(), table.to_arrow(version=0).num_rows, table.history()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from featurekit.errors import ConfigError, MissingDependencyError, TableNotFoundError

SUMMARY_META = "featurekit.meta."


def _static_table() -> Any:
    try:
        from pyiceberg.table import StaticTable
    except ImportError as exc:
        raise MissingDependencyError("pyiceberg", "iceberg", "Reading Iceberg tables") from exc
    return StaticTable


def io_properties(storage_options: Optional[Mapping[str, str]]) -> dict[str, str]:
    """pyiceberg's S3 settings from the delta-rs style options featurekit's S3 access
    gives (endpoint, region, keys); empty for a local table."""
    if not storage_options:
        return {}
    names = {
        "AWS_ENDPOINT_URL": "s3.endpoint",
        "AWS_REGION": "s3.region",
        "AWS_ACCESS_KEY_ID": "s3.access-key-id",
        "AWS_SECRET_ACCESS_KEY": "s3.secret-access-key",
        "AWS_SESSION_TOKEN": "s3.session-token",
    }
    return {names[k]: v for k, v in storage_options.items() if k in names}


def metadata_file(location: str, metadata_location: Optional[str], io: Any) -> str:
    """The metadata file to read: the folder's version hint, else the catalog's pointer."""
    hint = f"{location.rstrip('/')}/metadata/version-hint.text"
    try:
        with io.new_input(hint).open() as stream:
            number = stream.read().decode().strip()
        return f"{location.rstrip('/')}/metadata/v{number}.metadata.json"
    except FileNotFoundError:
        pass
    if metadata_location:
        return metadata_location
    raise TableNotFoundError(f"No Iceberg table at {location} (no metadata/version-hint.text).")


@dataclass(frozen=True)
class Commit:
    """One snapshot of the main branch, as ``featurekit table history`` prints it."""

    version: int
    timestamp: str
    operation: str
    parameters: dict[str, str]
    metadata: dict[str, str]


class IcebergSnapshotReader:
    """One Iceberg table's main branch, read through pyiceberg."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.lineage = _lineage(table)

    @classmethod
    def open(
        cls,
        location: str,
        *,
        metadata_location: Optional[str] = None,
        storage_options: Optional[Mapping[str, str]] = None,
    ) -> IcebergSnapshotReader:
        static = _static_table()  # a clear error without pyiceberg
        from pyiceberg.io import load_file_io

        properties = io_properties(storage_options)
        io = load_file_io(properties, location)
        found = metadata_file(location, metadata_location, io)
        return cls(static.from_metadata(found, properties=properties))

    def version(self) -> Optional[int]:
        """The latest version (None: a table with no snapshot yet)."""
        return len(self.lineage) - 1 if self.lineage else None

    def _snapshot_id(self, version: Optional[int]) -> Optional[int]:
        if version is None or not self.lineage:
            return None
        if not 0 <= version < len(self.lineage):
            raise ConfigError(
                f"Iceberg table {self.table.metadata.location} has versions "
                f"0..{len(self.lineage) - 1}; version {version} is not one of them."
            )
        return int(self.lineage[version].snapshot_id)

    def to_arrow(self, version: Optional[int] = None) -> Any:
        """The rows at ``version`` (default: the latest) as an Arrow table."""
        return self.table.scan(snapshot_id=self._snapshot_id(version)).to_arrow()

    def history(self, limit: Optional[int] = None) -> list[Commit]:
        """The main branch's snapshots, newest first."""
        numbered = list(enumerate(self.lineage))[::-1]
        return [_commit(i, s) for i, s in (numbered[:limit] if limit else numbered)]


def _lineage(table: Any) -> list[Any]:
    """The main branch's snapshots, oldest first."""
    chain = []
    snapshot = table.current_snapshot()
    while snapshot is not None:
        chain.append(snapshot)
        parent = snapshot.parent_snapshot_id
        snapshot = table.snapshot_by_id(parent) if parent is not None else None
    return chain[::-1]


def _commit(version: int, snapshot: Any) -> Commit:
    stamp = dt.datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=dt.timezone.utc)
    summary = snapshot.summary
    fields = {str(k): str(v) for k, v in summary.ser_model().items() if k != "operation"}
    meta = {k[len(SUMMARY_META) :]: v for k, v in fields.items() if k.startswith(SUMMARY_META)}
    operation = str(getattr(summary.operation, "value", summary.operation))
    return Commit(
        version=version,
        timestamp=stamp.isoformat(timespec="milliseconds"),
        operation=operation,
        parameters={
            "snapshot_id": str(snapshot.snapshot_id),
            **{k: v for k, v in fields.items() if not k.startswith("featurekit.")},
        },
        metadata=meta,
    )
