"""The Iceberg engine: Apache Iceberg tables written by Iceberg's Spark runtime.

Needs the ``iceberg-spark-runtime`` jar of the session's Spark line on the classpath
(Glue: ``--datalake-formats iceberg``; EMR: the ``iceberg-defaults`` classification;
locally: ``LocalConfig(iceberg=True)``, resolved from Maven Central). No session
extension or catalog setting is needed: tables are addressed by their folder.

A write is staged and committed as the Delta engines do, with Iceberg's own tools:

* ``stage`` writes plain parquet under ``TABLE/_featurekit_staging/<id>/`` (Iceberg reads
  only the files its metadata lists, so these are never part of the table), timestamps as
  TIMESTAMP_MICROS as Iceberg's own writer stores them;
* ``commit`` imports those files as the table's data files, as Iceberg's ``add_files``
  does, without writing the rows again: each is moved into the table's data folder (the
  location Iceberg gives a file of its partition; on S3 a copy and a delete) and described
  by its size, its partition values (from its staged ``col=value`` folders) and its column
  metrics read from its parquet footer. Spark's files carry no Iceberg field ids, so the
  table has a name mapping (``schema.name-mapping.default``) by which readers resolve
  their columns; files written with ids (by Spark's Iceberg writer, before) are read by
  their ids. Then it publishes exactly those files on ``main`` in ONE snapshot: an append,
  an overwrite of every row, or an overwrite of the rows whose partition values are
  replaced (``overwriteByRowFilter``). The snapshot's summary carries the run's markers
  (``featurekit.txn.<app id>`` = batch version, ``featurekit.meta.<key>``). A commit
  validates against the snapshot it started from: another writer's data in the replaced
  partitions meanwhile is a conflict, retried with backoff as the Delta engines' are when
  the commit is safe to repeat (featurekit.tables.conflicts). A retry publishes the same
  data files again on the table's new current snapshot: the files are moved once;
* the moved files of a commit that publishes nothing (failed, or a batch already
  committed) are deleted with the staging folder.

Versions are positions in ``main``'s lineage (see featurekit.tables.iceberg_java).
Path tables commit by renaming metadata files, atomic on local and HDFS file systems but
not on S3: there every commit holds the table's commit lease (featurekit.tables.commits,
as the Delta engines do), and with the Glue Data Catalog the table is kept in Iceberg's
GlueCatalog by name (featurekit.tables.iceberg_catalog), which swaps the metadata pointer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Union
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from featurekit.errors import ConcurrentCommitError, TableError
from featurekit.tables.commits import NO_GUARD, CommitGuard, Lease
from featurekit.tables.engine import (
    STAGING,
    CommitResult,
    HistoryEntry,
    PartitionFilter,
    Staged,
    TableEngine,
    TableInfo,
    Txn,
    check_commit_args,
    check_inside,
    check_partition_filters,
    evolve_schema,
    file_partition_values,
    hadoop_fs,
    new_stage_id,
    partition_predicate,
    remove_stage,
    write_stage,
)
from featurekit.tables.iceberg_catalog import CatalogTables
from featurekit.tables.iceberg_java import (
    META_PREFIX,
    TXN_PREFIX,
    PathTables,
    SnapshotRef,
    iceberg_schema,
    main_lineage,
    partition_columns,
    pick_snapshot,
    spark_schema,
    typed_filter,
)
from featurekit.tables.iceberg_maintenance import IcebergMaintenance

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

NAME_MAPPING = "schema.name-mapping.default"
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
Tables = Union[PathTables, CatalogTables]


class IcebergEngine(IcebergMaintenance, TableEngine):
    """Iceberg tables at a folder, written through Iceberg's Spark data source."""

    name = "iceberg"

    def __init__(
        self,
        spark: SparkSession,
        *,
        guard: Optional[CommitGuard] = None,
        tables: Optional[Tables] = None,
    ) -> None:
        """``guard``: the commit lease every commit to a table on S3 holds (docs/s3.md),
        the same one the Delta engines take. ``tables``: how a location names its table
        (default: the folder itself; on S3, a catalog's name, see iceberg_catalog)."""
        self.spark = spark
        self.tables: Tables = tables or PathTables(spark)
        self.guard = guard or NO_GUARD

    def _load(self, path: str) -> Any:
        return self.tables.load(path)

    def exists(self, path: str) -> bool:
        return self.tables.exists(path)

    def version(self, path: str) -> Optional[int]:
        if not self.exists(path):
            return None
        lineage = main_lineage(self._load(path))
        return lineage[-1].version if lineage else None

    def metadata_location(self, path: str) -> str:
        """The table's current metadata file (what a Glue entry's ``metadata_location``
        names for Athena)."""
        return str(self._load(path).operations().current().metadataFileLocation())

    def schema(self, path: str) -> Optional[StructType]:
        return spark_schema(self.spark, self._load(path)) if self.exists(path) else None

    def describe(self, path: str) -> TableInfo:
        table = self._load(path)
        snapshot = pick_snapshot(main_lineage(table), path)
        return TableInfo(
            version=snapshot.version,
            schema=self._scan(path, snapshot).schema,
            partition_columns=partition_columns(table),
        )

    def _scan(self, path: str, snapshot: SnapshotRef) -> DataFrame:
        reader = self.spark.read.format("iceberg").option("versionAsOf", snapshot.snapshot_id)
        return reader.load(self.tables.source(path))

    def read(
        self,
        spark: SparkSession,
        path: str,
        *,
        version: Optional[int] = None,
        timestamp: Optional[dt.datetime] = None,
        partitions: Sequence[PartitionFilter] = (),
    ) -> DataFrame:
        table = self._load(path)
        snapshot = pick_snapshot(main_lineage(table), path, version, timestamp)
        # Pinned to a snapshot id (Spark's versionAsOf) even for the latest, so a cached
        # plan never serves older rows.
        reader = spark.read.format("iceberg").option("versionAsOf", snapshot.snapshot_id)
        frame = reader.load(self.tables.source(path))
        if not partitions:
            return frame
        # Iceberg prunes data files by these predicates (partition values in its manifests).
        filters = check_partition_filters(partitions, partition_columns(table), table=path)
        return frame.where(partition_predicate(filters, frame.schema))

    def history(self, path: str, limit: Optional[int] = None) -> list[HistoryEntry]:
        lineage = list(reversed(main_lineage(self._load(path))))
        return [_entry(s) for s in (lineage[:limit] if limit else lineage)]

    def txn_version(self, path: str, app_id: str) -> Optional[int]:
        """The latest batch version of ``app_id`` on ``main``, read from snapshot summaries
        newest first (kept as long as the snapshots are: expire_snapshots bounds it)."""
        if not self.exists(path):
            return None
        for snapshot in reversed(main_lineage(self._load(path))):
            found = snapshot.summary.get(TXN_PREFIX + app_id)
            if found is not None:
                return int(found)
        return None

    # -- staging ------------------------------------------------------------------------
    def stage(
        self,
        df: DataFrame,
        path: str,
        *,
        partition_by: Sequence[str] = (),
        label: Optional[str] = None,
    ) -> Staged:
        stage_id = new_stage_id(label)
        staging_dir = f"{path.rstrip('/')}/{STAGING}/{stage_id}"
        write_stage(df, staging_dir, partition_by, micros=True)  # as Iceberg stores them
        listed = self.spark.read.schema(df.schema).option("basePath", staging_dir)
        files = sorted(unquote(f) for f in listed.parquet(staging_dir).inputFiles())
        staged = Staged(
            path=path,
            staging_dir=staging_dir,
            schema=df.schema,
            partition_by=tuple(partition_by),
            rows=0,
            files=files,
            spark=self.spark,
            details={"stage_id": stage_id},
        )
        staged.rows = staged.dataframe().count()
        return staged

    def abort(self, staged: Staged) -> None:
        """Delete the staging folder, and the files a commit moved into the table's data
        folder unless a snapshot of ``main`` lists them (or may: an unknown commit state)."""
        remove_stage(self.spark, staged.staging_dir)
        if staged.details.get("committed") or staged.details.get("uncertain"):
            return
        self._remove_moved(staged)

    def _remove_moved(self, staged: Staged) -> None:
        for target in staged.details.pop("moved", []):
            fs, file = self._fs(target)
            fs.delete(file, False)

    def _fs(self, path: str) -> tuple[Any, Any]:
        """Hadoop's file system of ``path``, and the path as a Hadoop ``Path``."""
        return hadoop_fs(self.spark, path)

    # -- commit -------------------------------------------------------------------------
    def commit(
        self,
        staged: Staged,
        *,
        mode: str = "append",
        replace: Optional[Mapping[str, Sequence[str]]] = None,
        txn: Optional[Txn] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> CommitResult:
        check_commit_args(mode, replace, staged.partition_by)
        if replace is not None:
            check_inside(staged, replace)
        publish = _Publish(mode, replace, txn, metadata or {})
        try:
            # Iceberg commits by swapping the table's metadata file; on S3 every attempt
            # also holds the table's commit lease, as the Delta engines' do. A conflict is
            # retried with backoff when the commit is safe to repeat.
            return self.guard.commit(
                staged.path,
                lambda lease: self._commit_held(staged, publish, lease),
                mode=mode,
                txn=txn,
            )
        finally:
            self.abort(staged)

    def _commit_held(self, staged: Staged, publish: _Publish, lease: Lease) -> CommitResult:
        """One attempt of a commit: the table read afresh, the staged files imported as its
        data files by the first attempt only, published on ``main``'s current snapshot."""
        lease.check()
        if publish.txn is not None and self._already_committed(staged.path, publish.txn):
            return CommitResult(version=None, skipped=True, rows=0, files=0)
        created = not self.exists(staged.path)
        table = self._prepared_table(staged)
        try:
            base = table.currentSnapshot()
            first = "data_files" not in staged.details  # this attempt moves the files
            files = self._import_staged(table, staged)
            # Iceberg rebases an append over newer snapshots by itself, so a txn is checked
            # again: another run of the batch may have committed while the files moved.
            txn = publish.txn
            if first and txn is not None and self._already_committed(staged.path, txn):
                return CommitResult(version=None, skipped=True, rows=0, files=0)
            lease.check()
            try:
                self._publish(table, files, base.snapshotId() if base else None, publish)
            except Exception as exc:
                if "CommitStateUnknown" in f"{exc} {exc.__cause__}":  # maybe on main
                    staged.details["uncertain"] = True  # its files stay
                raise
            staged.details["committed"] = True  # the table's files now: abort keeps them
        except BaseException:
            if created:
                self._drop_created(staged)
            raise
        return CommitResult(
            version=self.version(staged.path),
            skipped=False,
            rows=staged.rows,
            files=len(staged.files),
        )

    def _drop_created(self, staged: Staged) -> None:
        """Drop the table a failed attempt created, with the files it wrote, unless another
        writer has committed to it since: then it is theirs, and a retry publishes there."""
        if self.exists(staged.path) and self._load(staged.path).currentSnapshot() is not None:
            return
        staged.details.pop("data_files", None)
        self._remove_moved(staged)
        self.tables.drop(staged.path)

    def _prepared_table(self, staged: Staged) -> Any:
        """The table to commit to: created with the staged schema, or checked (same
        partitioning, only new nullable columns) and widened by those."""
        if not self.exists(staged.path):
            return self.tables.create(staged.path, staged.schema, staged.partition_by)
        table = self._load(staged.path)
        partitioned_by = partition_columns(table)
        if partitioned_by != staged.partition_by:
            raise TableError(
                f"Table {staged.path} is partitioned by {list(partitioned_by)}, the write by "
                f"{list(staged.partition_by)}; write with the table's partitioning."
            )
        current = spark_schema(self.spark, table)
        wanted = evolve_schema(current, staged.schema, table=staged.path)
        if len(wanted.fields) > len(current.fields):
            # Schema and snapshots are separate in Iceberg: the added columns become part of
            # the schema (null in every existing row) just before the data commit.
            table.updateSchema().unionByNameWith(iceberg_schema(self.spark, wanted)).commit()
            table.refresh()
        return table

    def _import_staged(self, table: Any, staged: Staged) -> list[Any]:
        """The staged parquet files as data files of ``table``: each moved into the
        table's data folder and described by its size, partition values and the column
        metrics of its footer (Spark wrote the rows once, in ``stage``). Moved once per
        commit: a retry gets the same files."""
        if "data_files" in staged.details:  # moved by an earlier attempt of this commit
            return list(staged.details["data_files"])
        if staged.rows == 0:
            return []
        iceberg = self.tables.jvm.org.apache.iceberg
        mapping = iceberg.mapping.NameMappingParser.fromJson(self._name_mapping(table))
        metrics_config = iceberg.MetricsConfig.forTable(table)
        spec, io, locations = table.spec(), table.io(), table.locationProvider()
        moved: list[str] = staged.details.setdefault("moved", [])
        files = []
        for index, source in enumerate(staged.files):
            staged_file = io.newInputFile(source)
            described = (
                iceberg.DataFiles.builder(spec)
                .withPath(source)
                .withFormat("parquet")
                .withFileSizeInBytes(staged_file.getLength())
                .withMetrics(self._metrics(source, mapping, metrics_config))
            )
            partition = None
            if staged.partition_by:
                values = file_partition_values(staged, source)
                described = described.withPartitionValues(self._partition_strings(staged, values))
                partition = self._partition(staged, source, values, described.build().partition())
                described = described.withPartition(partition)
            name = f"{staged.details['stage_id']}-{index:05d}.parquet"
            target = (
                locations.newDataLocation(spec, partition, name)
                if partition is not None
                else locations.newDataLocation(name)
            )
            self._move(source, target)
            moved.append(target)
            copied = iceberg.DataFiles.builder(spec).copy(described.build())
            files.append(copied.withPath(target).build())
        staged.details["data_files"] = files
        return files

    def _metrics(self, source: str, mapping: Any, config: Any) -> Any:
        """Row count and column metrics (sizes, value and null counts, bounds) of a staged
        file's footer, its columns given the table's field ids by ``mapping``. Iceberg
        1.10's ``ParquetUtil.fileMetrics`` maps the names but then reads the metrics of
        the unmapped columns (none: they have no ids), so the footer is given the mapped
        schema first."""
        jvm = self.tables.jvm
        parquet = jvm.org.apache.iceberg.shaded.org.apache.parquet  # Iceberg's own copy
        hadoop_file = parquet.hadoop.util.HadoopInputFile.fromPath(
            jvm.org.apache.hadoop.fs.Path(source), self.spark._jsc.hadoopConfiguration()
        )
        reader = parquet.hadoop.ParquetFileReader.open(hadoop_file)
        try:
            footer = reader.getFooter()
        finally:
            reader.close()
        meta = footer.getFileMetaData()
        schema_util = jvm.org.apache.iceberg.parquet.ParquetSchemaUtil
        mapped = schema_util.applyNameMapping(meta.getSchema(), mapping)
        with_ids = parquet.hadoop.metadata.ParquetMetadata(
            parquet.hadoop.metadata.FileMetaData(
                mapped, meta.getKeyValueMetaData(), meta.getCreatedBy()
            ),
            footer.getBlocks(),
        )
        fields = jvm.java.util.stream.Stream.empty()
        return jvm.org.apache.iceberg.parquet.ParquetUtil.footerMetrics(
            with_ids, fields, config, mapping
        )

    def _name_mapping(self, table: Any) -> str:
        """The table's name mapping (JSON), set from its schema when it has none. Iceberg
        updates it with every schema change after that (added columns are mapped)."""
        current = table.properties().get(NAME_MAPPING)
        if current is not None:
            return str(current)
        iceberg = self.tables.jvm.org.apache.iceberg
        mapping = iceberg.mapping.NameMappingParser.toJson(
            iceberg.mapping.MappingUtil.create(table.schema())
        )
        table.updateProperties().set(NAME_MAPPING, mapping).commit()  # no snapshot
        return str(mapping)

    def _partition_strings(self, staged: Staged, values: Mapping[str, Optional[str]]) -> Any:
        """The partition values as Iceberg parses them from strings (Hive's null for a
        null; timestamps, which it cannot parse, are set by ``_partition``)."""
        texts = self.tables.jvm.java.util.ArrayList()
        for column in staged.partition_by:
            value = values[column]
            kind = staged.schema[column].dataType.typeName()
            texts.add(_HIVE_NULL if value is None or kind.startswith("timestamp") else value)
        return texts

    def _partition(
        self, staged: Staged, source: str, values: Mapping[str, Optional[str]], partition: Any
    ) -> Any:
        """``partition`` with its timestamp values (of ``values``) set: microseconds since
        the epoch, of the folder's text in the session's time zone (as Spark wrote it) or as
        local time (``timestamp_ntz``)."""
        for position, column in enumerate(staged.partition_by):
            kind = staged.schema[column].dataType.typeName()
            text = values[column]
            if not kind.startswith("timestamp") or text is None:
                continue
            stamp = dt.datetime.fromisoformat(text)
            if kind == "timestamp":
                zone = ZoneInfo(str(self.spark.conf.get("spark.sql.session.timeZone")))
                micros = (stamp.replace(tzinfo=zone) - _EPOCH) // dt.timedelta(microseconds=1)
            else:
                naive = _EPOCH.replace(tzinfo=None)
                micros = (stamp - naive) // dt.timedelta(microseconds=1)
            if -(2**31) <= micros < 2**31:  # py4j would pass a Java int, not a long
                raise TableError(
                    f"Cannot commit {source} to Iceberg table {staged.path}: its partition "
                    f"value {column}={text} is within 36 minutes of 1970-01-01."
                )
            partition.set(position, micros)
        return partition

    def _move(self, source: str, target: str) -> None:
        """Move a staged file to ``target`` (Hadoop's rename; on S3 a copy and a delete)."""
        fs, moving = self._fs(source)
        _target_fs, into = self._fs(target)
        fs.mkdirs(into.getParent())
        if not fs.rename(moving, into):
            raise TableError(f"Cannot move staged file {source} to {target}.")

    def _publish(
        self, table: Any, files: Sequence[Any], base: Optional[int], publish: _Publish
    ) -> None:
        """One snapshot on ``main`` adding ``files`` (and removing what is replaced)."""
        expressions = self.tables.jvm.org.apache.iceberg.expressions.Expressions
        if publish.mode == "append":
            op = table.newAppend()
            for file in files:
                op = op.appendFile(file)
        else:
            condition = (
                typed_filter(self.spark, table, publish.replace)
                if publish.replace is not None
                else expressions.alwaysTrue()
            )
            op = table.newOverwrite().overwriteByRowFilter(condition)
            for file in files:
                op = op.addFile(file)
            if base is not None:  # another writer's rows in these partitions since: refuse
                op = op.validateFromSnapshot(base).conflictDetectionFilter(condition)
                op = op.validateNoConflictingData().validateNoConflictingDeletes()
        if publish.txn is not None:
            op = op.set(TXN_PREFIX + publish.txn.app_id, str(publish.txn.version))
        for key, value in publish.metadata.items():
            op = op.set(META_PREFIX + key, str(value))
        try:
            op.commit()
        except Exception as exc:
            if _lost_a_race(exc):
                raise ConcurrentCommitError(
                    f"Another writer committed to {table.location()} first. Re-run the job."
                ) from exc
            raise TableError(f"Iceberg commit to {table.location()} failed: {exc}") from exc


@dataclass(frozen=True)
class _Publish:
    """What one commit publishes (the options of ``commit``)."""

    mode: str
    replace: Optional[Mapping[str, Sequence[str]]]
    txn: Optional[Txn]
    metadata: Mapping[str, str]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _lost_a_race(exc: Exception) -> bool:
    """True when Iceberg refused a commit because another writer committed first."""
    text = str(exc)
    return any(
        name in text
        for name in ("ValidationException", "CommitFailedException", "CommitStateUnknown")
    )


def _entry(snapshot: SnapshotRef) -> HistoryEntry:
    stamp = dt.datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=dt.timezone.utc)
    summary = snapshot.summary
    return HistoryEntry(
        version=snapshot.version,
        timestamp=stamp.isoformat(timespec="milliseconds"),
        operation=snapshot.operation,
        parameters={
            "snapshot_id": str(snapshot.snapshot_id),
            **{k: v for k, v in summary.items() if not k.startswith("featurekit.")},
        },
        metadata={
            k[len(META_PREFIX) :]: v for k, v in summary.items() if k.startswith(META_PREFIX)
        },
    )
