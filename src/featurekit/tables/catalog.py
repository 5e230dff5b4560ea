"""The local catalog: ``db.table`` -> location, format, schema, partitioning, description.

One JSON file per table under ``WAREHOUSE/_catalog`` (written atomically), so two
jobs registering different tables never race on one file; a files table's partitions
(values and folder, as Glue's ``BatchCreatePartition`` records them) in one file per
table under ``WAREHOUSE/_partitions``. Locations are stored relative to the warehouse
(``Warehouse.relative_location``) and handed out absolute, so a copied or moved warehouse
reads and writes its own tables.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Optional

from featurekit.errors import ConfigError, TableNotFoundError
from featurekit.warehouse import Warehouse


@dataclass(frozen=True)
class CatalogEntry:
    """What the catalog knows of one table. ``schema`` is Spark's StructType JSON."""

    name: str
    location: str
    format: str = "delta"
    schema: dict[str, Any] = field(default_factory=dict)
    partition_columns: tuple[str, ...] = ()
    description: str = ""
    keys: tuple[str, ...] = ()
    date_column: Optional[str] = None
    updated_at: str = ""
    # reader options of a files table (csv: header, sep; json: multiLine)
    options: dict[str, str] = field(default_factory=dict)
    # an Iceberg table's current metadata file (what Athena and Iceberg's GlueCatalog read)
    metadata_location: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["partition_columns"] = list(self.partition_columns)
        doc["keys"] = list(self.keys)
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CatalogEntry:
        doc = dict(doc)
        doc["partition_columns"] = tuple(doc.get("partition_columns", ()))
        doc["keys"] = tuple(doc.get("keys", ()))
        return cls(**doc)

    @property
    def column_types(self) -> dict[str, str]:
        """Column name -> Spark type JSON name (``string``, ``long``, ...)."""
        return {f["name"]: _type_name(f["type"]) for f in self.schema.get("fields", [])}


@dataclass(frozen=True, order=True)
class Partition:
    """One partition of a files table: its values (strings, in the order of the table's
    partition keys) and its folder.

    >>> Partition(("2026-03-01",), "s3://landing/orders/dt=2026-03-01").values
    ('2026-03-01',)
    """

    values: tuple[str, ...]
    location: str

    def to_json(self) -> dict[str, Any]:
        return {"values": list(self.values), "location": self.location}


def new_partitions(known: Sequence[Partition], given: Sequence[Partition]) -> list[Partition]:
    """The partitions of ``given`` whose values ``known`` lacks, once each, sorted."""
    seen = {p.values for p in known}
    fresh: dict[tuple[str, ...], Partition] = {}
    for partition in given:
        if partition.values not in seen:
            fresh.setdefault(tuple(partition.values), partition)
    return sorted(fresh.values())


# Catalog names: featurekit's own (``db.table``, identifiers) and the Glue Data Catalog's,
# which also allows hyphens and leading digits (``crime-database.04``).
_CATALOG_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*\.[A-Za-z0-9_][A-Za-z0-9_-]*$")


def check_catalog_name(name: str) -> str:
    """Return ``name`` if it is ``database.table`` as a catalog allows; ConfigError otherwise."""
    if not _CATALOG_NAME.match(name):
        raise ConfigError(
            f"Catalog table name {name!r} must look like 'database.table' (letters, digits, "
            "underscores and hyphens)."
        )
    return name


def _type_name(spark_type: Any) -> str:
    return spark_type if isinstance(spark_type, str) else str(spark_type.get("type", "struct"))


def new_entry(
    name: str,
    location: str,
    *,
    schema: dict[str, Any],
    partition_columns: Sequence[str] = (),
    description: str = "",
    keys: Sequence[str] = (),
    date_column: Optional[str] = None,
    format: str = "delta",
    options: Optional[dict[str, str]] = None,
    metadata_location: Optional[str] = None,
) -> CatalogEntry:
    """The entry ``register`` writes, stamped with the time (both catalogs use it)."""
    return CatalogEntry(
        name=name,
        location=location,
        format=format,
        schema=schema,
        partition_columns=tuple(partition_columns),
        description=description,
        keys=tuple(keys),
        date_column=date_column,
        updated_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        options=dict(options or {}),
        metadata_location=metadata_location,
    )


def check_partition_values(entry: CatalogEntry, partitions: Sequence[Partition]) -> None:
    """ConfigError unless every partition has one value per partition key of a files table."""
    if entry.format == "delta" and partitions:
        raise ConfigError(
            f"{entry.name} is a Delta table: its partitions are in its log, not the catalog."
        )
    keys = entry.partition_columns
    for partition in partitions:
        if len(partition.values) != len(keys):
            raise ConfigError(
                f"Partition {list(partition.values)} of {entry.name} needs one value per "
                f"partition key ({', '.join(keys) or 'none'})."
            )


LISTED_TABLES = 20  # a missing table's error names at most this many known tables


def table_not_found(name: str, known: Sequence[str], where: str, check: str) -> TableNotFoundError:
    """The error for a table ``name`` the catalog ``where`` lacks: close names first
    (difflib), the known tables, and what to do. The demo is named only when the catalog
    is empty, the one case where a newcomer may not have any data yet; ``check`` is the
    option that picks the catalog (``--warehouse``)."""
    known = sorted(known)
    if not known:
        return TableNotFoundError(
            f"Table {name!r} is not in {where}: the catalog is empty. Run the job that "
            "writes it, register or crawl your data ('featurekit table register', "
            f"'featurekit crawl PATH --database DB'), or check {check}; 'featurekit demo' "
            "builds the demo's tables (raw.events, raw.labels, features.*)."
        )
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    listing = ", ".join(known[:LISTED_TABLES])
    if len(known) > LISTED_TABLES:
        listing += f", ... ({len(known)} in all: 'featurekit table list')"
    return TableNotFoundError(
        f"Table {name!r} is not in {where}.{hint} Known tables: {listing}. Run the job "
        "that writes it, register or crawl it ('featurekit table register', "
        f"'featurekit crawl'), or check {check}."
    )


class LocalCatalog:
    """Tables registered in a warehouse folder."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    @staticmethod
    def _file(name: str) -> str:
        return f"_catalog/{check_catalog_name(name)}.json"

    def register(
        self,
        name: str,
        location: str,
        *,
        schema: dict[str, Any],
        partition_columns: Sequence[str] = (),
        description: str = "",
        keys: Sequence[str] = (),
        date_column: Optional[str] = None,
        format: str = "delta",
        options: Optional[dict[str, str]] = None,
        metadata_location: Optional[str] = None,
    ) -> CatalogEntry:
        """Create or update the entry for ``name``."""
        entry = new_entry(
            name, location, schema=schema, partition_columns=partition_columns,
            description=description, keys=keys, date_column=date_column, format=format,
            options=options, metadata_location=metadata_location,
        )  # fmt: skip
        stored = replace(entry, location=self.warehouse.relative_location(location))
        self.warehouse.write_json(self._file(name), stored.to_json())
        return entry

    def _entry(self, doc: dict[str, Any]) -> CatalogEntry:
        entry = CatalogEntry.from_json(doc)
        return replace(entry, location=self.warehouse.absolute_location(entry.location))

    def find(self, name: str) -> Optional[CatalogEntry]:
        """The entry for ``name``, or None when the catalog has none (one read)."""
        try:
            return self._entry(self.warehouse.read_json(self._file(name)))
        except FileNotFoundError:
            return None

    def get(self, name: str) -> CatalogEntry:
        entry = self.find(name)
        if entry is None:
            raise table_not_found(
                name,
                [e.name for e in self.list()],
                f"the catalog at {self.warehouse.uri}",
                "--warehouse",
            )
        return entry

    def exists(self, name: str) -> bool:
        return self.warehouse.has_json(self._file(name))

    def partitions(self, name: str) -> list[Partition]:
        """The registered partitions of ``name``, sorted by values (none: empty)."""
        relative = f"_partitions/{check_catalog_name(name)}.json"
        if not self.warehouse.has_json(relative):
            return []
        docs = self.warehouse.read_json(relative)
        return sorted(
            Partition(tuple(d["values"]), self.warehouse.absolute_location(d["location"]))
            for d in docs
        )

    def add_partitions(self, name: str, partitions: Sequence[Partition]) -> list[Partition]:
        """Register those of ``partitions`` not yet present; returns the ones added."""
        entry = self.get(name)
        check_partition_values(entry, partitions)
        known = self.partitions(name)
        added = new_partitions(known, partitions)
        if added:
            stored = [
                {"values": list(p.values), "location": self.warehouse.relative_location(p.location)}
                for p in sorted([*known, *added])
            ]
            self.warehouse.write_json(f"_partitions/{check_catalog_name(name)}.json", stored)
        return added

    def list(self) -> list[CatalogEntry]:
        return [
            self._entry(self.warehouse.read_json(name))
            for name in self.warehouse.list_json("_catalog")
        ]
