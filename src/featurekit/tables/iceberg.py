"""The Iceberg engine: Apache Iceberg tables written by Iceberg's Spark runtime.

Needs the ``iceberg-spark-runtime`` jar of the session's Spark line on the classpath
(Glue: ``--datalake-formats iceberg``; EMR: the ``iceberg-defaults`` classification;
locally: ``LocalConfig(iceberg=True)``, resolved from Maven Central). No session
extension or catalog setting is needed: tables are addressed by their folder.

A write is staged and committed as the Delta engines do, with Iceberg's own tools:

* ``stage`` writes plain parquet under ``TABLE/_featurekit_staging/<id>/`` (Iceberg reads
  only the files its metadata lists, so these are never part of the table);
* ``commit`` has Spark write the rows as Iceberg data files onto a private branch
  ``featurekit-stage-<id>`` (never read by readers of the table, which read ``main``),
  then publishes exactly those files on ``main`` in ONE snapshot: an append, an overwrite
  of every row, or an overwrite of the rows whose partition values are replaced
  (``overwriteByRowFilter``). The snapshot's summary carries the run's markers
  (``featurekit.txn.<app id>`` = batch version, ``featurekit.meta.<key>``). A commit
  validates against the snapshot it started from: another writer's data in the replaced
  partitions meanwhile is a conflict, retried with backoff as the Delta engines' are when
  the commit is safe to repeat (featurekit.tables.conflicts). A retry publishes the same
  data files again on the table's new current snapshot: the rows are written once;
* the branch is dropped once its files are written, and on any failure with the data it
  wrote.

Versions are positions in ``main``'s lineage (see featurekit.tables.iceberg_java).
Path tables commit by renaming metadata files, atomic on local and HDFS file systems but
not on S3: there every commit holds the table's commit lease (featurekit.tables.commits,
as the Delta engines do), and with the Glue Data Catalog the table is kept in Iceberg's
GlueCatalog by name (featurekit.tables.iceberg_catalog), which swaps the metadata pointer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Union
from urllib.parse import unquote

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
    new_stage_id,
    one_file_per_value,
    partition_predicate,
)
from featurekit.tables.iceberg_catalog import CatalogTables
from featurekit.tables.iceberg_java import (
    META_PREFIX,
    TXN_PREFIX,
    PathTables,
    SnapshotRef,
    iceberg_schema,
    java_list,
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

BRANCH_PREFIX = "featurekit-stage-"
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
        df = one_file_per_value(df, partition_by)  # not one per task and value
        writer = df.write.mode("errorifexists")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.parquet(staging_dir)
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
        jvm = self.tables.jvm
        hpath = jvm.org.apache.hadoop.fs.Path(staged.staging_dir)
        hpath.getFileSystem(self.spark._jsc.hadoopConfiguration()).delete(hpath, True)

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
        """One attempt of a commit: the table read afresh, the rows written to a branch
        by the first attempt only, their files published on ``main``'s current snapshot."""
        lease.check()
        if publish.txn is not None and self._already_committed(staged.path, publish.txn):
            return CommitResult(version=None, skipped=True, rows=0, files=0)
        created = not self.exists(staged.path)
        table = self._prepared_table(staged)
        try:
            base = table.currentSnapshot()
            first = "data_files" not in staged.details  # this attempt writes the branch
            files = self._write_branch(table, staged)
            # Iceberg rebases an append over newer snapshots by itself, so a txn is checked
            # again: another run of the batch may have committed while Spark wrote.
            txn = publish.txn
            if first and txn is not None and self._already_committed(staged.path, txn):
                return CommitResult(version=None, skipped=True, rows=0, files=0)
            lease.check()
            self._publish(table, files, base.snapshotId() if base else None, publish)
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

    def _write_branch(self, table: Any, staged: Staged) -> list[Any]:
        """Spark writes the staged rows as Iceberg data files on a private branch; the
        files it added, which no reader of ``main`` sees. Written once per commit: a retry
        gets the same files."""
        if "data_files" in staged.details:  # written by an earlier attempt of this commit
            return list(staged.details["data_files"])
        if staged.rows == 0:
            return []
        branch = BRANCH_PREFIX + str(staged.details.get("stage_id", uuid.uuid4().hex))
        table.manageSnapshots().createBranch(branch).commit()
        try:
            writer = staged.dataframe().write.format("iceberg").option("branch", branch)
            writer.mode("append").save(self.tables.source(staged.path))
            table.refresh()
            head = table.snapshot(table.refs().get(branch).snapshotId())
            files = list(java_list(head.addedDataFiles(table.io())))
            staged.details["data_files"] = files
            return files
        finally:
            table.refresh()
            table.manageSnapshots().removeBranch(branch).commit()

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
