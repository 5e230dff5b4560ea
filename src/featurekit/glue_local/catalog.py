"""The catalog as Glue scripts see it: every catalog access of the emulation goes through here.

Behind it is the runtime's catalog port (:mod:`featurekit.tables.catalogs`): the local
catalog, or the Glue Data Catalog with ``featurekit glue run --catalog glue``. Names follow
Glue: they are lower-cased, and hyphens and leading digits are allowed (``crime-database.04``).

Example::

    catalog = ScriptCatalog(LocalCatalog(warehouse))
    entry = catalog.table("Sales-DB", "orders")      # looks up "sales-db.orders"
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

from featurekit.errors import ConfigError
from featurekit.tables.catalog import CatalogEntry

if TYPE_CHECKING:
    from featurekit.tables.catalogs import Catalog

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

UPDATE_BEHAVIORS = ("UPDATE_IN_DATABASE", "LOG")
FORMATS = {"glueparquet": "parquet", "parquet": "parquet", "csv": "csv", "json": "json"}


def glue_name(database: str, table: str) -> str:
    """The catalog key of a Glue table: ``database.table`` lower-cased, as Glue stores names."""
    return f"{database.lower()}.{table.lower()}"


class ScriptCatalog:
    """Tables by Glue database and name, on a catalog (local or the Glue Data Catalog)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def table(self, database: str, table: str) -> CatalogEntry:
        return self._catalog.get(glue_name(database, table))

    def find(self, database: str, table: str) -> Optional[CatalogEntry]:
        return self._catalog.find(glue_name(database, table))

    def schema(self, database: str, table: str) -> StructType:
        """The registered schema (Spark types) of a table."""
        from pyspark.sql.types import StructType

        entry = self.table(database, table)
        if not entry.schema.get("fields"):
            raise ConfigError(f"Catalog table {entry.name} has no registered schema.")
        return StructType.fromJson(entry.schema)

    def register(
        self,
        database: str,
        table: str,
        *,
        location: str,
        format: str,
        schema: StructType,
        partition_keys: Sequence[str] = (),
    ) -> CatalogEntry:
        """Create or replace a table entry (what a crawler or CreateTable does)."""
        if format not in FORMATS:
            raise ConfigError(f"Catalog format {format!r}: use one of {sorted(FORMATS)}.")
        return self._catalog.register(
            glue_name(database, table), location, schema=schema.jsonValue(),
            partition_columns=partition_keys, format=FORMATS[format],
        )  # fmt: skip

    def register_connection_table(
        self,
        database: str,
        table: str,
        *,
        classification: str,
        connection: str,
        location: str,
        schema: StructType,
    ) -> CatalogEntry:
        """A table Glue reads through a connection, as a JDBC crawler registers it:
        ``classification`` (postgresql, mysql, ..., dynamodb), the Glue ``connection`` and
        ``location`` (``database.schema.table``; a DynamoDB table's name)."""
        from featurekit.glue_local.connections import JDBC_TYPES

        kind = classification.lower()
        if kind not in (*JDBC_TYPES, "dynamodb"):
            raise ConfigError(
                f"Connection table classification {classification!r}: use one of "
                f"{', '.join(JDBC_TYPES)}, dynamodb."
            )
        key = "tableName" if kind == "dynamodb" else "dbtable"
        parts = location.split(".")
        database_part = parts[0] if kind != "dynamodb" and len(parts) >= 3 else ""
        options = {"connectionName": connection, "location": location}
        options[key] = ".".join(parts[1:]) if database_part else location
        if database_part:
            options["database"] = database_part
        return self._catalog.register(
            glue_name(database, table), location, schema=schema.jsonValue(), format=kind,
            options=options,
        )  # fmt: skip

    def update_from_sink(
        self,
        database: str,
        table: str,
        df: DataFrame,
        *,
        location: str,
        format: str,
        partition_keys: Sequence[str],
        behavior: str,
    ) -> CatalogEntry:
        """A sink with ``enableUpdateCatalog``: create the table, or add the frame's new
        fields to its schema (``UPDATE_IN_DATABASE``); ``LOG`` keeps an existing schema."""
        if behavior not in UPDATE_BEHAVIORS:
            raise ConfigError(f"updateBehavior {behavior!r}: use one of {list(UPDATE_BEHAVIORS)}.")
        entry = self.find(database, table)
        if entry is not None and behavior == "LOG":
            return entry
        schema = df.schema if entry is None else _merged(entry, df)
        keys = partition_keys or (entry.partition_columns if entry else ())
        where = entry.location if entry is not None else location
        fmt = entry.format if entry is not None else format
        return self.register(database, table, location=where, format=fmt, schema=schema,
                             partition_keys=keys)  # fmt: skip


def _merged(entry: CatalogEntry, df: DataFrame) -> Any:
    from pyspark.sql.types import StructType

    known = StructType.fromJson(entry.schema) if entry.schema.get("fields") else StructType([])
    names = {f.name.lower() for f in known.fields}
    for field in df.schema.fields:
        if field.name.lower() not in names:
            known = known.add(field)
    return known
