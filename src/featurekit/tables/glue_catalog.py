"""The Glue Data Catalog as featurekit's catalog: the metadata Glue, EMR and Athena share.

Same interface as :class:`featurekit.tables.catalog.LocalCatalog` (``register``, ``find``,
``get``, ``exists``, ``list``, ``partitions``, ``add_partitions``), through boto3's
``glue`` client. boto3 is imported here
only (``pip install 'featurekit[aws]'``).

How a table is written, so that every reader finds it:

* **Delta** (featurekit's outputs): an ``EXTERNAL_TABLE`` whose ``Location`` is the
  table folder, with ``table_type=DELTA`` (Athena reads the Delta log natively),
  ``spark.sql.sources.provider=delta`` and the serde parameter ``path`` (Spark on EMR and
  Glue, with the Glue catalog as its metastore, then resolves it as a Delta table),
  ``classification=delta``; ``Columns`` carry the schema for the console and for tools
  that list columns, and no ``PartitionKeys`` (Delta keeps its partitioning in its log).
* **csv / json / parquet** (files a crawler or ``table register`` found): Hive's serde,
  input and output formats for the format, ``classification``, the partition columns as
  ``PartitionKeys``, and for csv the delimiter and ``skip.header.line.count``.
* partitions of a files table: ``BatchCreatePartition`` with the values and a copy of the
  table's storage descriptor located at the partition's folder; listed by ``GetPartitions``.
* featurekit's own facts go in as table parameters: ``featurekit.keys``,
  ``featurekit.date_column``, ``featurekit.schema`` (Spark's schema JSON, exact types and
  nullability) and ``featurekit.options`` (reader options); the description as the
  table's ``Description``.

Names follow Glue's rules: database and table names are lower-cased, hyphens and a
leading digit are allowed (``crime-database.04``).

Example::

    catalog = GlueCatalog(GlueCatalogConfig(region="us-east-1"))
    catalog.register("features.user_daily", "s3://bucket/wh/features/user_daily", schema=...)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from featurekit.errors import CatalogError, ConfigError, MissingDependencyError, TableNotFoundError
from featurekit.tables.catalog import (
    CatalogEntry,
    Partition,
    check_partition_values,
    new_entry,
    new_partitions,
)
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
FORMATS = tuple(SERDES)


def split_name(name: str) -> tuple[str, str]:
    """``db.table`` -> (database, table) as Glue stores them: lower-case."""
    db, dot, table = name.partition(".")
    if not dot or not db or not table or "." in table:
        raise ConfigError(f"Table name {name!r} must look like 'database.table'.")
    return db.lower(), table.lower()


@dataclass(frozen=True)
class GlueCatalogConfig:
    """Where the Glue Data Catalog is: region, endpoint (moto, LocalStack), catalog id."""

    region: Optional[str] = None
    endpoint_url: Optional[str] = None
    catalog_id: Optional[str] = None  # the account id; None: the caller's own catalog


def _parameters(entry: CatalogEntry) -> dict[str, str]:
    params = {"EXTERNAL": "TRUE", "classification": entry.format}
    if entry.format == "delta":
        params.update({"table_type": "DELTA", "spark.sql.sources.provider": "delta"})
    if entry.format == "csv" and entry.options.get("header", "false").lower() == "true":
        params["skip.header.line.count"] = "1"
    if entry.format == "delta" and entry.partition_columns:  # Delta's own, not Hive's
        params["featurekit.partitions"] = ",".join(entry.partition_columns)
    if entry.keys:
        params["featurekit.keys"] = ",".join(entry.keys)
    if entry.date_column:
        params["featurekit.date_column"] = entry.date_column
    if entry.options:
        params["featurekit.options"] = json.dumps(entry.options, sort_keys=True)
    params["featurekit.schema"] = json.dumps(entry.schema, sort_keys=True)
    return params


def table_input(entry: CatalogEntry) -> dict[str, Any]:
    """The Glue ``TableInput`` of a catalog entry."""
    _, table = split_name(entry.name)
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
    partition_columns = tuple(c["Name"] for c in table.get("PartitionKeys", [])) or tuple(
        p for p in params.get("featurekit.partitions", "").split(",") if p
    )
    if "featurekit.schema" in params:
        schema = json.loads(params["featurekit.schema"])
    else:
        schema = columns_to_struct([*sd.get("Columns", []), *table.get("PartitionKeys", [])])
    options = json.loads(params.get("featurekit.options", "{}"))
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
    )


class GlueCatalog:
    """Tables in the Glue Data Catalog (the same calls on Glue, EMR and locally)."""

    def __init__(self, config: GlueCatalogConfig, client: Any = None) -> None:
        self.config = config
        self._client = client

    @property
    def uri(self) -> str:
        where = self.config.endpoint_url or self.config.region or "the default region"
        return f"the Glue Data Catalog ({where})"

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import boto3
            except ImportError as exc:
                raise MissingDependencyError("boto3", "aws", "The Glue Data Catalog") from exc
            self._client = boto3.client(
                "glue", region_name=self.config.region, endpoint_url=self.config.endpoint_url
            )
        return self._client

    def _ids(self) -> dict[str, str]:
        return {"CatalogId": self.config.catalog_id} if self.config.catalog_id else {}

    def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(**self._ids(), **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "EntityNotFoundException":
                raise TableNotFoundError(f"{what}: not found in {self.uri}.") from exc
            raise CatalogError(f"{what} failed in {self.uri}: {exc}") from exc
        except BotoCoreError as exc:
            raise CatalogError(f"{what} failed in {self.uri}: {exc}") from exc

    def ensure_database(self, db: str) -> None:
        try:
            self._call(f"Database {db}", "get_database", Name=db)
        except TableNotFoundError:
            self._call(f"Creating database {db}", "create_database", DatabaseInput={"Name": db})

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
        """Create or update the table ``name`` (and its database)."""
        if format not in SERDES:
            raise ConfigError(f"Format {format!r} is not one of {', '.join(FORMATS)}.")
        db, table = split_name(name)
        entry = new_entry(
            f"{db}.{table}", location, schema=schema, partition_columns=partition_columns,
            description=description, keys=keys, date_column=date_column, format=format,
            options=options,
        )  # fmt: skip
        self.ensure_database(db)
        request = table_input(entry)
        if self.exists(name):
            self._call(f"Updating {name}", "update_table", DatabaseName=db, TableInput=request)
        else:
            self._call(f"Creating {name}", "create_table", DatabaseName=db, TableInput=request)
        return entry

    def find(self, name: str) -> Optional[CatalogEntry]:
        db, table = split_name(name)
        try:
            found = self._call(f"Table {name}", "get_table", DatabaseName=db, Name=table)
        except TableNotFoundError:
            return None
        return entry_of(db, found["Table"])

    def get(self, name: str) -> CatalogEntry:
        entry = self.find(name)
        if entry is None:
            known = ", ".join(e.name for e in self.list()) or "none"
            raise TableNotFoundError(
                f"Table {name!r} is not in {self.uri}. Known tables: {known}. Register it "
                "('featurekit table register' or a crawl) or run the job that writes it."
            )
        return entry

    def exists(self, name: str) -> bool:
        return self.find(name) is not None

    def partitions(self, name: str) -> list[Partition]:
        """The table's partitions (``GetPartitions``, every page), sorted by values."""
        db, table = split_name(name)
        found = self._pages("get_partitions", "Partitions", DatabaseName=db, TableName=table)
        return sorted(
            Partition(tuple(p["Values"]), p.get("StorageDescriptor", {}).get("Location", ""))
            for p in found
        )

    def add_partitions(self, name: str, partitions: Sequence[Partition]) -> list[Partition]:
        """``BatchCreatePartition`` (100 a call) for those of ``partitions`` not yet
        present, each with the table's storage descriptor at its own folder."""
        db, table = split_name(name)
        found = self._call(f"Table {name}", "get_table", DatabaseName=db, Name=table)["Table"]
        check_partition_values(entry_of(db, found), partitions)
        added = new_partitions(self.partitions(name), partitions)
        sd = found.get("StorageDescriptor", {})
        for start in range(0, len(added), 100):
            inputs = [partition_input(sd, p) for p in added[start : start + 100]]
            result = self._call(
                f"Adding partitions to {name}", "batch_create_partition",
                DatabaseName=db, TableName=table, PartitionInputList=inputs,
            )  # fmt: skip
            failed = [  # one registered meanwhile by someone else is fine
                e for e in result.get("Errors", [])
                if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"
            ]  # fmt: skip
            if failed:
                raise CatalogError(f"Adding partitions to {name} in {self.uri} failed: {failed}")
        return added

    def _pages(self, method: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        token: Optional[str] = None
        while True:
            page = self._call(
                f"Listing {key}", method, **kwargs, **({"NextToken": token} if token else {})
            )
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return

    def list(self) -> list[CatalogEntry]:
        entries = []
        for database in self._pages("get_databases", "DatabaseList"):
            db = database["Name"]
            entries += [
                entry_of(db, t) for t in self._pages("get_tables", "TableList", DatabaseName=db)
            ]
        return sorted(entries, key=lambda e: e.name)
