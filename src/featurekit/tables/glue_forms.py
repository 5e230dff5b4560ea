"""featurekit's catalog entries in the Glue Data Catalog's form, and back.

How a table is written, so that every reader finds it:

* **Delta** (featurekit's outputs): an ``EXTERNAL_TABLE`` whose ``Location`` is the
  table folder, with ``table_type=DELTA`` (Athena reads the Delta log natively),
  ``spark.sql.sources.provider=delta`` and the serde parameter ``path`` (Spark on EMR and
  Glue, with the Glue catalog as its metastore, then resolves it as a Delta table),
  ``classification=delta``; ``Columns`` carry the schema for the console and for tools
  that list columns, and no ``PartitionKeys`` (Delta keeps its partitioning in its log).
* **Iceberg**: the shape Iceberg's own ``GlueCatalog`` writes and Athena reads: an
  ``EXTERNAL_TABLE`` with ``table_type=ICEBERG`` and ``metadata_location`` (the table's
  current ``metadata/*.metadata.json``; ``previous_metadata_location`` after an update),
  the table folder as ``Location`` and the columns for display, no serde, input or output
  format and no ``PartitionKeys`` (the metadata file is the truth, partitioning included).
* **csv / json / parquet** (files a crawler or ``table register`` found): Hive's serde,
  input and output formats for the format, ``classification``, the partition columns as
  ``PartitionKeys``, and for csv the delimiter and ``skip.header.line.count``.
* partitions of a files table: ``BatchCreatePartition`` with the values and a copy of the
  table's storage descriptor located at the partition's folder; listed by ``GetPartitions``.
* featurekit's own facts go in as table parameters: ``featurekit.keys``,
  ``featurekit.date_column``, ``featurekit.schema`` (Spark's schema JSON, exact types and
  nullability) and ``featurekit.options`` (reader options); the description as the
  table's ``Description``.

Example::

    request = table_input(entry)      # the TableInput of CreateTable / UpdateTable
    entry = entry_of("raw", table)    # a Glue Table (featurekit's, or a crawler's)
"""

from __future__ import annotations

import json
from typing import Any, Optional

from featurekit.errors import ConfigError
from featurekit.tables.catalog import CatalogEntry, Partition
from featurekit.tables.hive_types import columns_to_struct, struct_to_columns

_PARQUET = (
    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
)
_TEXT_IN = "org.apache.hadoop.mapred.TextInputFormat"
_TEXT_OUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
SERDES = {  # format -> (serde, input format, output format)
    "parquet": _PARQUET,
    "delta": _PARQUET,
    "csv": ("org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe", _TEXT_IN, _TEXT_OUT),
    "json": ("org.openx.data.jsonserde.JsonSerDe", _TEXT_IN, _TEXT_OUT),
}
FORMATS = (*SERDES, "iceberg")  # an Iceberg entry has no serde (table_input)


def split_name(name: str) -> tuple[str, str]:
    """``db.table`` -> (database, table) as Glue stores them: lower-case."""
    db, dot, table = name.partition(".")
    if not dot or not db or not table or "." in table:
        raise ConfigError(f"Table name {name!r} must look like 'database.table'.")
    return db.lower(), table.lower()


# Table formats that keep their partitioning (and schema) in their own metadata.
_OPEN_FORMATS = ("delta", "iceberg")


def _parameters(entry: CatalogEntry, previous: Optional[str] = None) -> dict[str, str]:
    params = {"EXTERNAL": "TRUE", "classification": entry.format}
    if entry.format == "delta":
        params.update({"table_type": "DELTA", "spark.sql.sources.provider": "delta"})
    if entry.format == "iceberg":
        params.update(_iceberg_parameters(entry, previous))
    if entry.format == "csv" and entry.options.get("header", "false").lower() == "true":
        params["skip.header.line.count"] = "1"
    if entry.format in _OPEN_FORMATS and entry.partition_columns:  # theirs, not Hive's
        params["featurekit.partitions"] = ",".join(entry.partition_columns)
    if entry.keys:
        params["featurekit.keys"] = ",".join(entry.keys)
    if entry.date_column:
        params["featurekit.date_column"] = entry.date_column
    if entry.options:
        params["featurekit.options"] = json.dumps(entry.options, sort_keys=True)
    params["featurekit.schema"] = json.dumps(entry.schema, sort_keys=True)
    return params


def _iceberg_parameters(entry: CatalogEntry, previous: Optional[str]) -> dict[str, str]:
    if not entry.metadata_location:
        raise ConfigError(
            f"Iceberg table {entry.name}: a Glue entry needs the table's metadata_location "
            "(its current metadata/*.metadata.json), which Athena reads."
        )
    params = {"table_type": "ICEBERG", "metadata_location": entry.metadata_location}
    if previous and previous != entry.metadata_location:
        params["previous_metadata_location"] = previous
    return params


def table_input(entry: CatalogEntry, *, previous: Optional[str] = None) -> dict[str, Any]:
    """The Glue ``TableInput`` of a catalog entry (``previous``: an Iceberg table's
    metadata location the entry pointed at before this update)."""
    _, table = split_name(entry.name)
    if entry.format == "iceberg":
        return _iceberg_input(table, entry, previous)
    serde, input_format, output_format = SERDES[entry.format]
    delta = entry.format == "delta"
    partitions = () if delta else entry.partition_columns
    serde_params = {"serialization.format": "1"}
    if delta:
        serde_params["path"] = entry.location
    if entry.format == "csv":
        serde_params["field.delim"] = entry.options.get("sep", entry.options.get("delimiter", ","))
    fields = {f["name"]: f for f in entry.schema.get("fields", [])}
    part_schema = {"fields": [fields[p] for p in partitions if p in fields]}
    return {
        "Name": table,
        "Description": entry.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": _parameters(entry),
        "PartitionKeys": struct_to_columns(part_schema),
        "StorageDescriptor": {
            "Location": entry.location,
            "Columns": struct_to_columns(entry.schema, skip=tuple(partitions)),
            "InputFormat": input_format,
            "OutputFormat": output_format,
            "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_params},
        },
    }


def _iceberg_input(table: str, entry: CatalogEntry, previous: Optional[str]) -> dict[str, Any]:
    return {
        "Name": table,
        "Description": entry.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": _parameters(entry, previous),
        "StorageDescriptor": {
            "Location": entry.location,
            "Columns": struct_to_columns(entry.schema),
        },
    }


def partition_input(sd: dict[str, Any], partition: Partition) -> dict[str, Any]:
    """The Glue ``PartitionInput`` of a partition: the table's columns, serde and formats,
    at the partition's folder, as a crawler writes it."""
    keep = ("Columns", "InputFormat", "OutputFormat", "SerdeInfo", "Compressed")
    descriptor = {k: sd[k] for k in keep if k in sd}
    return {
        "Values": list(partition.values),
        "StorageDescriptor": {**descriptor, "Location": partition.location},
    }


def entry_of(db: str, table: dict[str, Any]) -> CatalogEntry:
    """The catalog entry of a Glue ``Table`` (one featurekit wrote, or a crawler's)."""
    params = table.get("Parameters", {})
    sd = table.get("StorageDescriptor", {})
    fmt = params.get("classification", "").lower()
    if (
        params.get("table_type", "").upper() == "DELTA"
        or params.get("spark.sql.sources.provider", "").lower() == "delta"
    ):
        fmt = "delta"
    if params.get("table_type", "").upper() == "ICEBERG":
        fmt = "iceberg"
    partition_columns = tuple(c["Name"] for c in table.get("PartitionKeys", [])) or tuple(
        p for p in params.get("featurekit.partitions", "").split(",") if p
    )
    if "featurekit.schema" in params:
        schema = json.loads(params["featurekit.schema"])
    else:
        schema = columns_to_struct([*sd.get("Columns", []), *table.get("PartitionKeys", [])])
    options = json.loads(params.get("featurekit.options", "{}"))
    if params.get("connectionName") and "featurekit.options" not in params:
        options = {"connectionName": params["connectionName"]}  # a JDBC crawler's table
    if fmt == "csv" and "featurekit.options" not in params:
        delim = sd.get("SerdeInfo", {}).get("Parameters", {}).get("field.delim", ",")
        header = params.get("skip.header.line.count", "0") != "0"
        options = {"sep": delim, "header": str(header).lower()}
    updated = table.get("UpdateTime") or table.get("CreateTime")
    return CatalogEntry(
        name=f"{db}.{table['Name']}",
        location=sd.get("Location", ""),
        format=fmt or "parquet",
        schema=schema,
        partition_columns=partition_columns,
        description=table.get("Description", ""),
        keys=tuple(k for k in params.get("featurekit.keys", "").split(",") if k),
        date_column=params.get("featurekit.date_column") or None,
        updated_at=updated.isoformat(timespec="seconds") if updated else "",
        options=options,
        metadata_location=params.get("metadata_location") if fmt == "iceberg" else None,
    )
