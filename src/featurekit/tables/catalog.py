"""The local catalog: ``db.table`` -> location, format, schema, partitioning, description.

One JSON file per table under ``WAREHOUSE/_catalog`` (written atomically), so two
jobs registering different tables never race on one file. Locations are stored relative
to the warehouse (``Warehouse.relative_location``) and handed out absolute, so a copied or
moved warehouse reads and writes its own tables.
"""

from __future__ import annotations

import datetime as dt
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
    ) -> CatalogEntry:
        """Create or update the entry for ``name``."""
        entry = new_entry(
            name, location, schema=schema, partition_columns=partition_columns,
            description=description, keys=keys, date_column=date_column, format=format,
            options=options,
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
            known = ", ".join(e.name for e in self.list()) or "none"
            raise TableNotFoundError(
                f"Table {name!r} is not in the catalog at {self.warehouse.uri}. "
                f"Known tables: {known}. Run the job that writes it first "
                "(e.g. 'featurekit demo' creates raw.events), or check --warehouse."
            )
        return entry

    def exists(self, name: str) -> bool:
        return self.warehouse.has_json(self._file(name))

    def list(self) -> list[CatalogEntry]:
        return [
            self._entry(self.warehouse.read_json(name))
            for name in self.warehouse.list_json("_catalog")
        ]
