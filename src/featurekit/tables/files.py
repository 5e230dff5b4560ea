"""Files tables of the catalog (csv, json, parquet), read as Athena and Glue read them.

A table without partition keys is its folder, read with the registered schema and reader
options. A partitioned table is the folders of its **registered partitions** only (the
catalog's ``partitions``): each is read on its own and its rows take the partition's
values, cast to the registered column types. So a folder on disk that is not registered
is not read (``featurekit crawl`` again, or ``table register --partition-columns``, adds
it), and a registered partition whose folder is gone is an :class:`InputError`, not an
empty result. A run with dates whose time column is a partition key reads only the
partitions of those dates (values ``2026-03-01``, or starting so); one scan per partition.

Example::

    df = read_files_table(spark, warehouse, catalog, "orders", catalog.get("raw.orders"))
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from typing import TYPE_CHECKING, Any, Optional

from featurekit.core.unreadable import illegal_parquet, unreadable
from featurekit.errors import ConfigError, InputError
from featurekit.tables.catalog import CatalogEntry, Partition

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.tables.catalogs import Catalog
    from featurekit.warehouse import Warehouse

_HIDDEN = ("_", ".")
# (time column, first date, last date) of a run: partitions outside are not read
DateWindow = tuple[str, dt.date, dt.date]


class HadoopFs:
    """Hadoop's FileSystem through the session's JVM: local, viewfs-mapped s3://, s3a."""

    def __init__(self, spark: SparkSession) -> None:
        jvm: Any = spark.sparkContext._jvm
        self.jvm = jvm
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _fs(self, path: str) -> tuple[Any, Any]:
        hpath = self.jvm.org.apache.hadoop.fs.Path(path)
        return hpath.getFileSystem(self.conf), hpath

    def exists(self, path: str) -> bool:
        fs, hpath = self._fs(path)
        return bool(fs.exists(hpath))

    def children(self, path: str) -> list[tuple[str, bool]]:
        """(name, is folder) of the entries of ``path``, hidden ones left out, sorted."""
        fs, hpath = self._fs(path)
        if not fs.exists(hpath):
            raise ConfigError(f"Nothing to crawl at {path}: the path does not exist.")
        entries = [(s.getPath().getName(), s.isDirectory()) for s in fs.listStatus(hpath)]
        return sorted(e for e in entries if not e[0].startswith(_HIDDEN) or e[0] == "_delta_log")


def read_files_table(
    spark: SparkSession, warehouse: Warehouse, catalog: Catalog, name: str, entry: CatalogEntry,
    window: Optional[DateWindow] = None,
) -> DataFrame:  # fmt: skip
    """Input ``name``: the files table ``entry``, or its registered partitions (in
    ``window`` when its column is a partition key)."""
    from pyspark.sql.types import StructType

    if not entry.partition_columns:
        return _load(spark, name, entry, warehouse.resolve(entry.location))
    partitions = registered_partitions(catalog, entry, f"Input {name!r}: ")
    chosen = [p for p in partitions if _in_window(entry, p, window)]
    if not chosen:  # none of the run's dates: no rows, the registered columns
        return spark.createDataFrame([], StructType.fromJson(entry.schema))
    fs = HadoopFs(spark)
    frames = [_partition(spark, fs, warehouse, name, entry, p) for p in chosen]
    return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


def registered_partitions(catalog: Catalog, entry: CatalogEntry, who: str) -> list[Partition]:
    """The catalog's partitions of the partitioned files table ``entry``; an InputError
    (prefixed ``who``) when it holds none: there is nothing to read, as in Athena."""
    partitions = catalog.partitions(entry.name)
    if not partitions:
        raise InputError(
            f"{who}{entry.name} is partitioned by {', '.join(entry.partition_columns)} but "
            "has no partitions registered in the catalog, so there is nothing to read (as in "
            f"Athena). Register them: 'featurekit crawl {entry.location} --database ...', "
            f"'featurekit table register {entry.name} --location {entry.location} "
            "--partition-columns ...', or a Glue sink with enableUpdateCatalog and partitionKeys."
        )
    return partitions


def missing_partition(entry: CatalogEntry, partition: Partition, who: str) -> InputError:
    """The error of a registered partition whose folder is gone (prefixed ``who``)."""
    where = "/".join(f"{k}={v}" for k, v in zip(entry.partition_columns, partition.values))
    return InputError(
        f"{who}partition {where} of {entry.name} is registered in the catalog at "
        f"{partition.location}, which does not exist. Restore the folder, or remove the "
        "partition from the catalog."
    )


def _in_window(entry: CatalogEntry, partition: Partition, window: Optional[DateWindow]) -> bool:
    """False for a partition whose date (``2026-03-01``, ``2026-03-01T...``) is outside."""
    if window is None or window[0] not in entry.partition_columns:
        return True
    value = partition.values[entry.partition_columns.index(window[0])]
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return True  # not a date: the rows are filtered after reading
    return window[1] <= day <= window[2]


def _partition(
    spark: SparkSession, fs: HadoopFs, warehouse: Warehouse, name: str, entry: CatalogEntry,
    partition: Partition,
) -> DataFrame:  # fmt: skip
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    location = warehouse.resolve(partition.location)
    if not fs.exists(location):
        raise missing_partition(entry, partition, f"Input {name!r}: ")
    df = _load(spark, name, entry, location)
    types = StructType.fromJson(entry.schema) if entry.schema.get("fields") else StructType()
    names = types.fieldNames()
    for key, value in zip(entry.partition_columns, partition.values):
        kind = types[key].dataType if key in names else "string"
        df = df.withColumn(key, F.lit(value).cast(kind))
    return df


def _load(spark: SparkSession, name: str, entry: CatalogEntry, location: str) -> DataFrame:
    """The files at ``location`` with the registered schema (parquet: the files' own)."""
    from pyspark.errors import AnalysisException
    from pyspark.sql.types import StructType

    reader = spark.read.format(entry.format).options(**entry.options)
    if entry.schema.get("fields") and entry.format != "parquet":
        fields = [f for f in entry.schema["fields"] if f["name"] not in entry.partition_columns]
        reader = reader.schema(StructType.fromJson({"type": "struct", "fields": fields}))
    try:
        return reader.load(location)
    except AnalysisException as exc:  # Spark 4 names an illegal parquet type here
        found = illegal_parquet(exc, f"Input {name!r} ({location})")
        if found is not None:
            raise found from exc
        raise InputError(f"Input {name!r}: cannot read {location}: {exc}") from exc
    except Exception as exc:  # parquet: the Spark job reading the files' schema failed
        error = unreadable(exc, f"Input {name!r} ({location})")
        if error is None:
            raise
        raise error from exc
