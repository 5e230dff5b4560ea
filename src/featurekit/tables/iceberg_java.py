"""Iceberg's Java API as the Iceberg engine uses it, through the session's py4j gateway.

Kept apart from the engine so the engine reads as the commit protocol only: loading a
path table (Iceberg's ``HadoopTables``), walking the main branch's snapshots, turning
featurekit's partition values into Iceberg row filters, and converting schemas.

Versions: Iceberg names snapshots by random 64-bit ids; the port numbers them. Version
``n`` is the ``n``-th snapshot of the main branch's lineage (0 the oldest kept one), so
the numbers run 0, 1, 2 as Delta's do; ``HistoryEntry.parameters["snapshot_id"]`` gives
the id itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from featurekit.errors import ConfigError, TableError, TableNotFoundError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

    from featurekit.tables.filters import PartitionFilter

# Snapshot summary keys featurekit writes (Iceberg keeps a snapshot's summary with it).
TXN_PREFIX = "featurekit.txn."
META_PREFIX = "featurekit.meta."
RUNTIME_CLASS = "org.apache.iceberg.hadoop.HadoopTables"


def jvm(spark: SparkSession) -> Any:
    gateway = spark._jvm
    if gateway is None:
        raise TableError("This SparkSession has no JVM gateway (Spark Connect is not supported).")
    return gateway


def iceberg_available(spark: SparkSession) -> bool:
    """True when Iceberg's Spark runtime loads in this session's JVM."""
    try:
        loader = jvm(spark).java.lang.Thread.currentThread().getContextClassLoader()
        loader.loadClass(RUNTIME_CLASS)
        loader.loadClass("org.apache.iceberg.spark.source.IcebergSource")
    except Exception:  # py4j raises Py4JJavaError (ClassNotFoundException)
        return False
    return True


def java_list(iterable: Any) -> Iterator[Any]:
    """The items of a Java ``Iterable`` (py4j does not iterate those by itself)."""
    items = iterable.iterator()
    while items.hasNext():
        yield items.next()


@dataclass(frozen=True)
class SnapshotRef:
    """One snapshot of the main branch, numbered as the port numbers versions."""

    version: int
    snapshot_id: int
    timestamp_ms: int
    operation: str
    summary: Mapping[str, str]


class PathTables:
    """Iceberg tables addressed by their folder (Iceberg's ``HadoopTables``)."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.jvm = jvm(spark)
        self.tables = self.jvm.org.apache.iceberg.hadoop.HadoopTables(
            spark._jsc.hadoopConfiguration()
        )

    def source(self, path: str) -> str:
        """What Spark's Iceberg source loads for the table at ``path``: the folder."""
        return path

    def exists(self, path: str) -> bool:
        return bool(self.tables.exists(path))

    def load(self, path: str) -> Any:
        if not self.exists(path):
            raise TableNotFoundError(f"No Iceberg table at {path}.")
        return self.tables.load(path)

    def create(self, path: str, schema: StructType, partition_by: Sequence[str]) -> Any:
        """A new table at ``path``: format version 2, snappy parquet (as Delta writes)."""
        ischema = iceberg_schema(self.spark, schema)
        builder = self.jvm.org.apache.iceberg.PartitionSpec.builderFor(ischema)
        for column in partition_by:
            builder = builder.identity(column)
        properties = self.jvm.java.util.HashMap()
        for key, value in new_table_properties().items():
            properties.put(key, value)
        return self.tables.create(ischema, builder.build(), properties, path)

    def drop(self, path: str) -> None:
        self.tables.dropTable(path, True)


def new_table_properties() -> dict[str, str]:
    """A new table's properties: format version 2, snappy parquet (as Delta writes)."""
    return {"format-version": "2", "write.parquet.compression-codec": "snappy"}


def iceberg_schema(spark: SparkSession, schema: StructType) -> Any:
    """The Iceberg schema of a Spark schema (fresh field ids)."""
    gateway = jvm(spark)
    jtype = gateway.org.apache.spark.sql.types.DataType.fromJson(schema.json())
    return gateway.org.apache.iceberg.spark.SparkSchemaUtil.convert(jtype.asNullable())


def spark_schema(spark: SparkSession, table: Any) -> StructType:
    """The Spark schema of an Iceberg table's current schema."""
    import json

    from pyspark.sql.types import StructType

    jtype = jvm(spark).org.apache.iceberg.spark.SparkSchemaUtil.convert(table.schema())
    return StructType.fromJson(json.loads(jtype.json()))


def partition_columns(table: Any) -> tuple[str, ...]:
    """Source columns of the table's identity partition fields (featurekit writes only those)."""
    names = []
    for field in java_list(table.spec().fields()):
        if not field.transform().isIdentity():
            raise TableError(
                f"Iceberg table {table.location()} has a {field.transform()} partition field; "
                "featurekit reads and writes identity-partitioned tables only."
            )
        names.append(str(table.schema().findColumnName(field.sourceId())))
    return tuple(names)


def main_lineage(table: Any) -> list[SnapshotRef]:
    """The main branch's snapshots, oldest first, each numbered by its sequence number
    less one (the table's commits count from 0, as Delta's versions do). The numbers stay
    when older snapshots expire (``table vacuum``), so version N is always the same
    snapshot; a format-1 table has no sequence numbers and is numbered by position."""
    chain = []
    snapshot = table.currentSnapshot()
    while snapshot is not None:
        chain.append(snapshot)
        parent = snapshot.parentId()
        snapshot = table.snapshot(parent) if parent is not None else None
    chain.reverse()
    numbers = [int(s.sequenceNumber()) - 1 for s in chain]
    if any(n < 0 for n in numbers):  # format 1: no sequence numbers
        numbers = list(range(len(chain)))
    return [
        SnapshotRef(
            version=n,
            snapshot_id=int(s.snapshotId()),
            timestamp_ms=int(s.timestampMillis()),
            operation=str(s.operation()),
            summary={str(k): str(v) for k, v in dict(s.summary()).items()},
        )
        for n, s in zip(numbers, chain)
    ]


def pick_snapshot(
    lineage: Sequence[SnapshotRef],
    path: str,
    version: Optional[int] = None,
    timestamp: Optional[dt.datetime] = None,
) -> SnapshotRef:
    """The snapshot a read means: at ``version``, the last one at ``timestamp``, or the latest."""
    if not lineage:
        raise TableError(f"Iceberg table {path} has no snapshot yet.")
    if timestamp is not None:
        stamp = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=dt.timezone.utc)
        millis = int(stamp.timestamp() * 1000)
        older = [s for s in lineage if s.timestamp_ms <= millis]
        if not older:
            raise TableError(f"Iceberg table {path} has no snapshot at or before {stamp}.")
        return older[-1]
    if version is None:
        return lineage[-1]
    found = [s for s in lineage if s.version == version]
    if not found:
        first, last = lineage[0].version, lineage[-1].version
        gone = f" (versions before {first} have expired)" if 0 <= version < first else ""
        raise TableError(
            f"Iceberg table {path} has versions {first} to {last}; there is no {version}{gone}."
        )
    return found[0]


def typed_filter(
    spark: SparkSession, table: Any, replace: Mapping[str, Sequence[Optional[str]]]
) -> Any:
    """An Iceberg row filter keeping the rows whose partition values are listed (an AND of
    ORs), each value typed as its column (Iceberg binds a string literal to dates and
    timestamps, not to numbers)."""
    expressions = jvm(spark).org.apache.iceberg.expressions.Expressions
    combined = expressions.alwaysTrue()
    for column, values in replace.items():
        either = expressions.alwaysFalse()
        for value in values:
            typed = _typed(table, column, value)
            term = expressions.isNull(column) if typed is None else expressions.equal(column, typed)
            either = getattr(expressions, "or")(either, term)
        combined = getattr(expressions, "and")(combined, either)
    return combined


_COMPARISONS = {
    "=": "equal",
    "!=": "notEqual",
    "<": "lessThan",
    "<=": "lessThanOrEqual",
    ">": "greaterThan",
    ">=": "greaterThanOrEqual",
}


def filter_expression(spark: SparkSession, table: Any, filters: Sequence[PartitionFilter]) -> Any:
    """Checked partition filters (featurekit.tables.engine) as one Iceberg expression."""
    expressions = jvm(spark).org.apache.iceberg.expressions.Expressions
    combined = expressions.alwaysTrue()
    for column, op, value in filters:
        if op == "in":
            term = typed_filter(spark, table, {column: list(value)})
        elif op == "not in":
            term = getattr(expressions, "not")(typed_filter(spark, table, {column: list(value)}))
        else:
            term = getattr(expressions, _COMPARISONS[op])(column, _typed(table, column, value))
        combined = getattr(expressions, "and")(combined, term)
    return combined


def _typed(table: Any, column: str, value: Optional[str]) -> Any:
    field = table.schema().findField(column)
    if field is None:
        raise ConfigError(f"Iceberg table {table.location()} has no column {column!r}.")
    if value is None:
        return None
    kind = str(field.type().typeId())
    if kind in ("INTEGER", "LONG"):
        return int(value)
    if kind in ("FLOAT", "DOUBLE"):
        return float(value)
    if kind == "BOOLEAN":
        return value.lower() == "true"
    return str(value)
