"""The Delta table engine port, and the rules every engine shares.

A write is two steps so a run can check its output before anything is visible:
``stage`` makes Spark compute and write the data once; ``commit`` publishes
it as one atomic Delta commit (or ``abort`` throws it away). ``write`` does both.

Commit modes:
  * ``append``    add the rows;
  * ``overwrite`` replace every row;
  * ``replace``   replace the rows whose partition values are listed in
    ``replace`` (e.g. ``{"feature_date": ["2024-01-01", "2024-01-02"]}``); the
    staged rows must all fall inside those values.

A commit with a ``Txn(app_id, version)`` is idempotent: when the table already
records that application at that version or later, nothing is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import posixpath
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from featurekit.core.names import col as named
from featurekit.core.names import sql_name
from featurekit.errors import ConfigError, SchemaEvolutionError, TableError
from featurekit.plans import coalesced_to_one, estimated_bytes
from featurekit.tables.filters import FILTER_OPS
from featurekit.tables.filters import PartitionFilter as PartitionFilter  # re-exported
from featurekit.tables.maintenance import (
    CheckpointResult,
    OptimizeResult,
    VacuumResult,
    scoped_conf,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

MODES = ("append", "overwrite", "replace")
# Both engines stage a write under TABLE/_featurekit_staging/<stage id>/ (Delta ignores
# folders starting with "_"), in Hive-style col=value folders.
STAGING = "_featurekit_staging"
# A stage folder is named "<label>.<12 hex>", the label being the run id of the run that
# staged it (see staging_label), so a dead run's leftovers are found by its record.
# Hadoop file systems whose folders are object-key prefixes (see remove_stage).
OBJECT_STORES = ("s3", "s3a", "s3n")
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


@dataclass(frozen=True)
class Txn:
    """An application transaction: the (app id, batch version) a commit is idempotent on."""

    app_id: str
    version: int


@dataclass(frozen=True)
class CommitResult:
    version: Optional[int]  # table version after the commit (None when skipped)
    skipped: bool  # True when the Txn had already been committed
    rows: int
    files: int
    conflicts: int = 0  # conflicts with other writers retried before it (tables.conflicts)


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    timestamp: str
    operation: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TableInfo:
    """One snapshot's version, schema and partition columns."""

    version: int
    schema: StructType
    partition_columns: tuple[str, ...]


@dataclass
class Staged:
    """Data computed and written by Spark but not yet part of the table."""

    path: str
    staging_dir: str
    schema: StructType
    partition_by: tuple[str, ...]
    rows: int
    files: list[str]
    spark: SparkSession
    details: dict[str, Any] = field(default_factory=dict)

    def dataframe(self) -> DataFrame:
        """The staged rows, read back from the staged files (cheap: no recomputation)."""
        if not self.files:
            return self.spark.createDataFrame([], self.schema)
        frame = (
            self.spark.read.schema(self.schema)
            .option("basePath", self.staging_dir)
            .parquet(*self.files)
        )
        # Spark puts partition columns last; keep the order the job declared.
        return frame.select(*map(sql_name, self.schema.fieldNames()))


class TableEngine(ABC):
    """One way to read and commit Delta tables. Two exist: delta-spark and delta-rs."""

    name: str = "abstract"

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def version(self, path: str) -> Optional[int]:
        """Latest version, or None when there is no table at ``path``."""

    @abstractmethod
    def schema(self, path: str) -> Optional[StructType]: ...

    @abstractmethod
    def describe(self, path: str) -> TableInfo:
        """The latest snapshot's version, schema and partition columns; reading
        ``version=info.version`` afterwards reads exactly that snapshot."""

    @abstractmethod
    def read(
        self,
        spark: SparkSession,
        path: str,
        *,
        version: Optional[int] = None,
        timestamp: Optional[dt.datetime] = None,
        partitions: Sequence[PartitionFilter] = (),
    ) -> DataFrame:
        """The table (at ``version`` or ``timestamp``), only the partitions ``partitions`` keeps.

        Pruning happens before Spark sees the files: a read of 7 daily partitions of a
        year-long table plans 7 partitions' files, not 365.
        """

    @abstractmethod
    def stage(
        self,
        df: DataFrame,
        path: str,
        *,
        partition_by: Sequence[str] = (),
        label: Optional[str] = None,
    ) -> Staged:
        """Write ``df`` under ``path/_featurekit_staging/<stage id>`` (the id starting with
        ``staging_label(label)`` when given)."""

    @abstractmethod
    def commit(
        self,
        staged: Staged,
        *,
        mode: str = "append",
        replace: Optional[Mapping[str, Sequence[str]]] = None,
        txn: Optional[Txn] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> CommitResult: ...

    @abstractmethod
    def abort(self, staged: Staged) -> None: ...

    @abstractmethod
    def history(self, path: str, limit: Optional[int] = None) -> list[HistoryEntry]: ...

    @abstractmethod
    def txn_version(self, path: str, app_id: str) -> Optional[int]: ...

    # -- maintenance (see featurekit.tables.maintenance) ------------------------------
    @abstractmethod
    def optimize(self, path: str, *, partitions: Sequence[PartitionFilter] = ()) -> OptimizeResult:
        """Compact the small files of the partitions ``partitions`` keeps (all by default)
        into fewer, larger ones: one commit, the data unchanged."""

    @abstractmethod
    def vacuum(
        self,
        path: str,
        *,
        retention_hours: Optional[float] = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> VacuumResult:
        """Delete files no version younger than ``retention_hours`` needs (default: the
        table's retention). Under the table's retention raises RetentionError unless
        ``force``; ``dry_run`` only lists the files."""

    @abstractmethod
    def checkpoint(self, path: str) -> CheckpointResult:
        """Write a checkpoint of the latest version into ``_delta_log``."""

    @abstractmethod
    def last_checkpoint(self, path: str) -> Optional[int]:
        """Version of the table's latest checkpoint, or None when it has none."""

    @abstractmethod
    def live_files(self, path: str) -> int:
        """Number of data files in the latest snapshot."""

    def write(
        self,
        df: DataFrame,
        path: str,
        *,
        mode: str = "append",
        partition_by: Sequence[str] = (),
        replace: Optional[Mapping[str, Sequence[str]]] = None,
        txn: Optional[Txn] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> CommitResult:
        """Stage and commit in one call (``abort`` on any failure)."""
        check_commit_args(mode, replace, partition_by)
        if txn is not None and self._already_committed(path, txn):
            return CommitResult(version=None, skipped=True, rows=0, files=0)
        staged = self.stage(df, path, partition_by=partition_by)
        try:
            return self.commit(staged, mode=mode, replace=replace, txn=txn, metadata=metadata)
        except BaseException:
            self.abort(staged)
            raise

    def _already_committed(self, path: str, txn: Txn) -> bool:
        done = self.txn_version(path, txn.app_id) if self.exists(path) else None
        return done is not None and done >= txn.version


#: Outputs Spark estimates at most this size are written by one task instead of
#: being shuffled by partition value first: one file per value either way. It is Spark's
#: own least partition after adaptive coalescing (1 MiB), at which the shuffle's rows
#: would come back to one task anyway.
ONE_TASK_BYTES = 1 << 20


#: Outputs of one partition value (a nightly run's one date) Spark estimates at most this
#: size are finished by one task too. One task writes them either way (one file); a
#: shuffle first only spreads the work before the write over more tasks, which adaptive
#: execution would not do below its advisory partition size (64 MiB) either. An
#: incremental day's combine then runs its final aggregation in the writing task, with no
#: shuffle of the output rows and no Spark job of its own (0.9x of the day's time at the
#: incremental benchmark's size).
ONE_VALUE_BYTES = 64 << 20


def one_file_per_value(df: DataFrame, partition_by: Sequence[str]) -> DataFrame:
    """``df`` laid out so a write partitioned by ``partition_by`` makes one file per value:
    repartitioned by the values (a shuffle), or, when Spark estimates the rows at most
    :data:`ONE_TASK_BYTES` (:func:`featurekit.plans.estimated_bytes`), coalesced into one
    task (no shuffle, no Spark job of its own; a wrong estimate costs time in that task,
    never a file or a row). A ``df`` already coalesced into one task
    (:func:`one_task_for_one_value`) is written as it is."""
    if not partition_by or coalesced_to_one(df):
        return df
    size = estimated_bytes(df)
    if size is not None and size <= ONE_TASK_BYTES:
        return df.coalesce(1)
    return df.repartition(*map(sql_name, partition_by))  # names, never parsed


def one_task_for_one_value(df: DataFrame) -> DataFrame:
    """``df``, whose rows all have one partition value, coalesced into one task when Spark
    estimates it at most :data:`ONE_VALUE_BYTES`; otherwise unchanged (then shuffled by
    the value before its write, as any output). Rows of another value, if the caller was
    wrong, are still written to files of their own: it costs time, never a file or a row."""
    size = estimated_bytes(df)
    return df.coalesce(1) if size is not None and size <= ONE_VALUE_BYTES else df


def write_stage(
    df: DataFrame, staging_dir: str, partition_by: Sequence[str], *, micros: bool = False
) -> None:
    """Spark writes ``df`` as parquet into the new folder ``staging_dir``, partitioned by
    ``partition_by`` with one file per value (:func:`one_file_per_value`). ``micros``:
    timestamps as TIMESTAMP_MICROS, which delta-rs and Iceberg store (Spark's default is
    INT96). A write that fails leaves nothing: Spark aborts its job's files, and the
    folder it made goes too."""
    writer = one_file_per_value(df, partition_by).write.mode("errorifexists")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    try:
        if not micros:
            writer.parquet(staging_dir)
            return
        with scoped_conf(
            df.sparkSession, "spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS"
        ):
            writer.parquet(staging_dir)
    except BaseException:
        _remove_failed_stage(df.sparkSession, staging_dir)
        raise


def hadoop_fs(spark: SparkSession, path: str) -> tuple[Any, Any]:
    """Hadoop's file system of ``path`` in ``spark``'s JVM, and the path as a Hadoop
    ``Path`` (local, s3a, viewfs-mapped s3://: whatever the session's configuration maps)."""
    jvm: Any = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def remove_stage(spark: SparkSession, staging_dir: str) -> None:
    """Delete the stage folder ``staging_dir`` and, on S3, the staging folder's marker."""
    fs, folder = hadoop_fs(spark, staging_dir)
    fs.delete(folder, True)
    if str(fs.getScheme()) not in OBJECT_STORES:
        return  # a real folder, which another run may be about to stage into: it stays
    # Deleting the last stage folder makes S3A put an empty marker object for STAGING
    # itself. Other runs may be staging beside this one, so it goes only when nothing is
    # listed under it, by a non-recursive delete: S3A then deletes just the marker object
    # (and refuses, should another run's files have appeared since).
    parent = folder.getParent()
    try:
        if len(fs.listStatus(parent)) == 0:
            fs.delete(parent, False)
    except Exception:  # gone already, or no longer empty: nothing of this run's is left
        pass


def _remove_failed_stage(spark: SparkSession, staging_dir: str) -> None:
    """Remove what a failed write left of ``staging_dir`` (:func:`remove_stage`). Best
    effort: the write's own error is the one the caller gets."""
    with contextlib.suppress(Exception):  # else `featurekit table vacuum` removes it
        remove_stage(spark, staging_dir)


def staging_label(run_id: str) -> str:
    """The run id as the first part of a stage folder's name (only ``[A-Za-z0-9_-]``)."""
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in run_id)


def new_stage_id(label: Optional[str]) -> str:
    """A new stage folder's name: ``<label>.<12 hex>``, or ``<local time>-<12 hex>``."""
    import time
    import uuid

    head = staging_label(label) if label else time.strftime("%Y%m%dT%H%M%S")
    return f"{head}{'.' if label else '-'}{uuid.uuid4().hex[:12]}"


def check_commit_args(
    mode: str, replace: Optional[Mapping[str, Sequence[str]]], partition_by: Sequence[str]
) -> None:
    if mode not in MODES:
        raise ConfigError(f"Unknown write mode {mode!r}; use one of {', '.join(MODES)}.")
    if (mode == "replace") != (replace is not None):
        raise ConfigError("mode='replace' and replace={column: values} go together.")
    for column in replace or {}:
        if column not in partition_by:
            raise ConfigError(
                f"Cannot replace by {column!r}: it is not a partition column "
                f"(partition columns: {list(partition_by) or 'none'})."
            )


def check_partition_filters(
    filters: Sequence[PartitionFilter], partition_by: Sequence[str], *, table: str
) -> list[PartitionFilter]:
    """The filters, values as strings (how Delta stores partition values); clear errors."""
    checked: list[PartitionFilter] = []
    for item in filters:
        if not isinstance(item, tuple) or len(item) != 3:
            raise ConfigError(f"A partition filter is (column, operator, value), got {item!r}.")
        column, op, value = item
        if column not in partition_by:
            raise ConfigError(
                f"Cannot filter {table} by {column!r}: it is not a partition column "
                f"(partition columns: {list(partition_by) or 'none'})."
            )
        if op not in FILTER_OPS:
            raise ConfigError(f"Unknown partition filter operator {op!r}; use one of {FILTER_OPS}.")
        if op in ("in", "not in"):
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise ConfigError(f"Operator {op!r} takes a list of values, got {value!r}.")
            checked.append((column, op, [_as_text(v) for v in value]))
        else:
            checked.append((column, op, _as_text(value)))
    return checked


def _as_text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def partition_predicate(filters: Sequence[PartitionFilter], schema: StructType) -> Any:
    """The ANDed filters as a Spark Column (values cast to each column's type)."""
    import operator

    from pyspark.sql import functions as F

    compare = {
        "=": operator.eq,
        "!=": operator.ne,
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
    }

    def typed(column: str, value: str) -> Any:
        # the type by name: one call into Spark, where a DataType object takes a dozen
        return F.lit(value).cast(schema[column].dataType.simpleString())

    predicate = F.lit(True)
    for column, op, value in filters:
        col = named(column)
        if op in ("in", "not in"):
            cond = col.isin([typed(column, v) for v in value])
            cond = ~cond if op == "not in" else cond
        else:
            cond = compare[op](col, typed(column, value))
        predicate = predicate & cond
    return predicate


def _loose(data_type: Any) -> Any:
    """``data_type`` with every nested field, element and value nullable: Spark derives
    those flags from the plan (a table read back, a merge of partials), not from the data,
    so the same column can come with either; the table keeps its own."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.StructType):
        return T.StructType([T.StructField(f.name, _loose(f.dataType)) for f in data_type])
    if isinstance(data_type, T.ArrayType):
        return T.ArrayType(_loose(data_type.elementType), True)
    if isinstance(data_type, T.MapType):
        return T.MapType(_loose(data_type.keyType), _loose(data_type.valueType), True)
    return data_type


def evolve_schema(current: Optional[StructType], new: StructType, *, table: str) -> StructType:
    """The schema a table has after writing ``new``: equal, or ``current`` plus nullable columns.

    Anything else (a type change, a dropped column, a new non-nullable column) is
    rejected with SchemaEvolutionError naming each offending column. Nullability inside
    nested types is not compared (:func:`_loose`).
    """
    if current is None:
        return new
    from pyspark.sql.types import StructType

    new_fields = {f.name: f for f in new.fields}
    problems = []
    for old in current.fields:
        got = new_fields.get(old.name)
        if got is None:
            problems.append(f"column {old.name!r} ({old.dataType.simpleString()}) is missing")
        elif _loose(got.dataType) != _loose(old.dataType):
            problems.append(
                f"column {old.name!r} changes type "
                f"{old.dataType.simpleString()} -> {got.dataType.simpleString()}"
            )
    old_names = {f.name for f in current.fields}
    added = [f for f in new.fields if f.name not in old_names]
    problems += [f"new column {f.name!r} is not nullable" for f in added if not f.nullable]
    if problems:
        raise SchemaEvolutionError(
            f"Cannot write to {table}: " + "; ".join(problems) + ". Only new nullable columns "
            "may be added; write to a new table (or drop and rebuild this one) to change others."
        )
    return StructType([*current.fields, *added])


def partition_folders(path: str, columns: Sequence[str]) -> tuple[str, ...]:
    """The Hive-style ``col=value`` folders of ``path`` that name one of ``columns``, in
    order: a staged write may put folders of its own among a table's partitions."""
    from urllib.parse import unquote

    return tuple(p for p in path.split("/") if p and unquote(p.partition("=")[0]) in columns)


def partition_values(folders: Sequence[str], columns: Sequence[str]) -> dict[str, Optional[str]]:
    """``{column: value}`` of Hive-style ``col=value`` folders (None for Hive's null)."""
    from urllib.parse import unquote

    values: dict[str, Optional[str]] = {}
    for part in folders:
        key, _, raw = part.partition("=")
        value = unquote(raw)
        values[unquote(key)] = None if value == _HIVE_NULL else value
    missing = [c for c in columns if c not in values]
    if missing:
        raise TableError(f"Staged folders {list(folders)} lack partition values for {missing}.")
    return {c: values[c] for c in columns}


def file_partition_values(staged: Staged, file: str) -> dict[str, Optional[str]]:
    """The table's partition values of one staged file, from its ``col=value`` folders
    (a split write's own folder among them is not one of the table's)."""
    tail = file.partition(f"/{STAGING}/")[2]
    folders = partition_folders(posixpath.dirname(tail), staged.partition_by)
    return partition_values(folders, staged.partition_by)


def check_inside(staged: Staged, replace: Mapping[str, Sequence[str]]) -> None:
    """Every staged file's partition values must be among the values being replaced, so a
    replace never touches, or leaves rows in, a partition it was not asked to."""
    allowed = {c: {str(v) for v in values} for c, values in replace.items()}
    for file in staged.files:
        values = file_partition_values(staged, file)
        for column, ok in allowed.items():
            if values[column] not in ok:
                raise TableError(
                    f"Write to {staged.path} replaces {column} in {sorted(ok)} but has rows "
                    f"with {column}={values[column]!r}; filter the output to the replaced values."
                )
