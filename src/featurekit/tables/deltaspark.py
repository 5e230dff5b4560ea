"""The delta-spark engine: Delta's own Spark data source (Glue, EMR, the Docker image).

Needs the Delta jars on the classpath and the session configured with
``spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension`` and
``spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog``
(Glue: ``--datalake-formats delta``; EMR: the ``delta-defaults`` classification).

``stage`` writes plain parquet under ``TABLE/_featurekit_staging/<id>/`` (Delta
ignores folders starting with ``_``); ``commit`` copies it into the table with
one Delta write carrying ``txnAppId``/``txnVersion``, ``replaceWhere`` for
partition replacement and ``mergeSchema`` only for allowed additions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import unquote

from featurekit.core.names import sql_name
from featurekit.errors import ConcurrentCommitError, ConfigError, TableError, TableNotFoundError
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
    hadoop_fs,
    new_stage_id,
    partition_predicate,
    remove_stage,
    write_stage,
)
from featurekit.tables.maintenance import (
    CheckpointResult,
    OptimizeResult,
    VacuumResult,
    check_retention,
    scoped_conf,
    sql_predicate,
    table_retention_hours,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType


def _jvm(spark: SparkSession) -> Any:
    jvm = spark._jvm
    if jvm is None:
        raise TableError("This SparkSession has no JVM gateway (Spark Connect is not supported).")
    return jvm


def delta_spark_available(spark: SparkSession) -> bool:
    """True when Delta's classes load in this session's JVM."""
    try:
        # Jars given through spark.jars live in the context class loader, not the app one.
        loader = _jvm(spark).java.lang.Thread.currentThread().getContextClassLoader()
        loader.loadClass("io.delta.tables.DeltaTable")
    except Exception:  # py4j raises Py4JJavaError (ClassNotFoundException)
        return False
    return True


def _sql_literal(value: Any) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


class DeltaPythonMissingError(ConfigError):
    """Delta's JVM side is there, its Python module ``delta`` is not."""

    def __init__(self) -> None:
        super().__init__(
            "The delta-spark engine needs Delta's Python module 'delta', which ships inside "
            "the delta-spark jar: add that jar to --py-files as well as --jars (e.g. "
            "spark-submit --jars delta-spark_2.12-3.3.2.jar,... --py-files "
            "delta-spark_2.12-3.3.2.jar,featurekit.zip), or pip install delta-spark."
        )


class DeltaSparkEngine(TableEngine):
    """Delta tables through delta-spark's data source and ``DeltaTable`` API."""

    name = "delta-spark"

    def __init__(self, spark: SparkSession, *, guard: Optional[CommitGuard] = None) -> None:
        """``guard``: the commit lease every commit to a table on S3 holds (docs/s3.md)."""
        self.spark = spark
        self.guard = guard or NO_GUARD

    def _delta_table(self, path: str) -> Any:
        try:
            from delta.tables import DeltaTable
        except ImportError as exc:
            raise DeltaPythonMissingError() from exc

        if not self.exists(path):
            raise TableNotFoundError(f"No Delta table at {path}.")
        return DeltaTable.forPath(self.spark, path)

    def _hadoop_fs(self, path: str) -> tuple[Any, Any]:
        return hadoop_fs(self.spark, path)

    def exists(self, path: str) -> bool:
        from delta.tables import DeltaTable

        return bool(DeltaTable.isDeltaTable(self.spark, path))

    def version(self, path: str) -> Optional[int]:
        if not self.exists(path):
            return None
        return int(self._delta_table(path).history(1).collect()[0]["version"])

    def schema(self, path: str) -> Optional[StructType]:
        return self.spark.read.format("delta").load(path).schema if self.exists(path) else None

    def _snapshot(self, path: str) -> tuple[int, tuple[str, ...]]:
        """The latest snapshot's version and partition columns, from one log refresh."""
        snapshot = self._delta_log(path).unsafeVolatileSnapshot()
        columns = str(snapshot.metadata().partitionColumns().mkString("\u0000"))
        return int(snapshot.version()), tuple(c for c in columns.split("\u0000") if c)

    def describe(self, path: str) -> TableInfo:
        version, columns = self._snapshot(path)
        return TableInfo(
            version=version,
            schema=self.read(self.spark, path, version=version).schema,
            partition_columns=columns,
        )

    def read(
        self,
        spark: SparkSession,
        path: str,
        *,
        version: Optional[int] = None,
        timestamp: Optional[dt.datetime] = None,
        partitions: Sequence[PartitionFilter] = (),
    ) -> DataFrame:
        latest, columns = self._snapshot(path)  # says when there is no table
        reader = spark.read.format("delta")
        if timestamp is not None:
            reader = reader.option("timestampAsOf", timestamp.isoformat())
        else:
            # Pinned even for the latest: Spark's cache matches a Delta scan by its path, so
            # an unpinned read could be served rows cached from an older version.
            reader = reader.option("versionAsOf", latest if version is None else version)
        frame = reader.load(path)
        if not partitions:
            return frame
        # Delta's own data skipping prunes files by these partition predicates.
        filters = check_partition_filters(partitions, list(columns), table=path)
        return frame.where(partition_predicate(filters, frame.schema))

    def history(self, path: str, limit: Optional[int] = None) -> list[HistoryEntry]:
        table = self._delta_table(path)
        rows = (table.history(limit) if limit else table.history()).collect()
        return [
            HistoryEntry(
                version=int(r["version"]),
                timestamp=r["timestamp"].isoformat(timespec="milliseconds"),
                operation=str(r["operation"]),
                parameters=dict(r["operationParameters"] or {}),
                metadata={"userMetadata": r["userMetadata"]} if r["userMetadata"] else {},
            )
            for r in rows
        ]

    def txn_version(self, path: str, app_id: str) -> Optional[int]:
        """Latest recorded version of ``app_id``, read from the JSON commits of the log.

        Commits are read newest first through Hadoop's FileSystem (local, s3a, EMRFS), and
        the first one naming ``app_id`` holds its latest version: a writer's versions only
        grow. JSON commits are kept for ``delta.logRetentionDuration`` (30 days by
        default), which bounds how far back a repeated batch is recognised.
        """
        if not self.exists(path):
            return None
        jvm = _jvm(self.spark)
        fs, log = self._hadoop_fs(f"{path.rstrip('/')}/_delta_log")
        commits = sorted(
            (s.getPath() for s in fs.listStatus(log) if _is_commit(s.getPath().getName())),
            key=lambda p: int(p.getName().split(".")[0]),
            reverse=True,
        )
        for commit in commits:
            stream = fs.open(commit)
            try:
                text = jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
            finally:
                stream.close()
            found = _txn_in_commit(str(text), app_id)
            if found is not None:
                return found
        return None

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
        write_stage(df, staging_dir, partition_by)
        staged_df = self.spark.read.schema(df.schema).option("basePath", staging_dir)
        # inputFiles() gives URIs; Spark's readers take Hadoop paths (one level of escaping)
        files = sorted(unquote(f) for f in staged_df.parquet(staging_dir).inputFiles())
        staged = Staged(
            path=path,
            staging_dir=staging_dir,
            schema=df.schema,
            partition_by=tuple(partition_by),
            rows=0,
            files=files,
            spark=self.spark,
        )
        staged.rows = staged.dataframe().count()
        return staged

    def abort(self, staged: Staged) -> None:
        remove_stage(self.spark, staged.staging_dir)

    def _checked_schema(self, staged: Staged) -> tuple[Optional[StructType], StructType]:
        """The table's schema now (None: no table yet) and after the write; the
        partitioning must stay as it is."""
        current = self.schema(staged.path)
        if current is not None:
            _version, partitioned_by = self._snapshot(staged.path)
            if partitioned_by != staged.partition_by:
                raise TableError(
                    f"Table {staged.path} is partitioned by {list(partitioned_by)}, the write by "
                    f"{list(staged.partition_by)}; write with the table's partitioning."
                )
        return current, evolve_schema(current, staged.schema, table=staged.path)

    def _writer(
        self,
        staged: Staged,
        mode: str,
        replace: Optional[Mapping[str, Sequence[str]]],
        txn: Optional[Txn],
        metadata: Optional[Mapping[str, str]],
    ) -> Any:
        """Delta's DataFrameWriter for the staged rows, every option of the commit set."""
        if replace is not None:
            check_inside(staged, replace)
        current, schema = self._checked_schema(staged)
        writer = staged.dataframe().write.format("delta")
        writer = writer.mode("append" if mode == "append" else "overwrite")
        if staged.partition_by:
            writer = writer.partitionBy(*staged.partition_by)
        if replace is not None:
            writer = writer.option("replaceWhere", _sql_replace_where(replace))
        if current is not None and len(schema.fields) > len(current.fields):
            writer = writer.option("mergeSchema", "true")
        if txn is not None:
            writer = writer.option("txnAppId", txn.app_id).option("txnVersion", txn.version)
        if metadata:
            writer = writer.option(
                "userMetadata", ",".join(f"{k}={v}" for k, v in metadata.items())
            )
        return writer

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
        try:
            # Delta's S3SingleDriverLogStore keeps two writers apart inside one JVM only: on
            # S3 every commit holds the table's commit lease (featurekit.tables.commits).
            # A conflict is retried with backoff when the commit is safe to repeat.
            result = self.guard.commit(
                staged.path,
                lambda lease: self._commit_held(staged, mode, replace, txn, metadata, lease),
                mode=mode,
                txn=txn,
            )
        finally:
            self.abort(staged)  # the staged copy is no longer needed, or never will be
        return result

    def _commit_held(
        self,
        staged: Staged,
        mode: str,
        replace: Optional[Mapping[str, Sequence[str]]],
        txn: Optional[Txn],
        metadata: Optional[Mapping[str, str]],
        lease: Lease,
    ) -> CommitResult:
        before = self.version(staged.path)
        if txn is not None and self._already_committed(staged.path, txn):
            return CommitResult(version=None, skipped=True, rows=0, files=0)
        writer = self._writer(staged, mode, replace, txn, metadata)
        lease.check()
        try:
            writer.save(staged.path)
        except Exception as exc:
            if _lost_a_race(exc):
                raise ConcurrentCommitError(
                    f"Another writer committed to {staged.path} first. Re-run the job."
                ) from exc
            raise TableError(f"Delta commit to {staged.path} failed: {exc}") from exc
        after = self.version(staged.path)
        return CommitResult(
            version=after, skipped=after == before, rows=staged.rows, files=len(staged.files)
        )

    # -- maintenance (Delta's OPTIMIZE, VACUUM and DeltaLog.checkpoint) -----------------
    def _delta_log(self, path: str) -> Any:
        """Delta's JVM log of the table, refreshed (a clear error when there is none)."""
        self._delta_table(path)
        jvm = _jvm(self.spark)
        return jvm.org.apache.spark.sql.delta.DeltaLog.forTable(self.spark._jsparkSession, path)

    def live_files(self, path: str) -> int:
        return int(self._delta_table(path).detail().first()["numFiles"])

    def optimize(self, path: str, *, partitions: Sequence[PartitionFilter] = ()) -> OptimizeResult:
        table = self._delta_table(path)
        detail = table.detail().first()
        filters = check_partition_filters(partitions, list(detail["partitionColumns"]), table=path)
        builder = table.optimize()
        if filters:
            schema = self.spark.read.format("delta").load(path).schema
            builder = builder.where(sql_predicate(filters, schema))
        try:
            with self.guard.hold(path) as lease:
                lease.check()
                row = builder.executeCompaction().first()
        except TableError:
            raise
        except Exception as exc:
            raise _maintenance_error("Compaction", path, exc) from exc
        metrics = row["metrics"] if row is not None else None
        return OptimizeResult(
            version=self.version(path),
            files_removed=int(metrics["numFilesRemoved"]) if metrics else 0,
            files_added=int(metrics["numFilesAdded"]) if metrics else 0,
            files_before=int(detail["numFiles"]),
            files_after=self.live_files(path),
        )

    def vacuum(
        self,
        path: str,
        *,
        retention_hours: Optional[float] = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> VacuumResult:
        properties = self._delta_table(path).detail().first()["properties"] or {}
        hours = check_retention(
            path, retention_hours, table_retention_hours(properties), force=force
        )
        sql = f"VACUUM delta.`{path.replace('`', '``')}`"
        if retention_hours is not None:
            sql += f" RETAIN {hours:g} HOURS"
        # Delta's own check repeats the one above; a forced vacuum lifts it for this call only.
        lifted = scoped_conf(self.spark, RETENTION_CHECK, "false") if force else nullcontext()
        before = set() if dry_run else self._data_files(path)
        held = nullcontext(Lease(path)) if dry_run else self.guard.hold(path)
        try:
            with lifted, held as lease:
                lease.check()
                listed = self.spark.sql(sql + (" DRY RUN" if dry_run else "")).collect()
        except TableError:
            raise
        except Exception as exc:
            raise _maintenance_error("Vacuum", path, exc) from exc
        if dry_run:
            root = self._root_uri(path)
            files = {
                r["path"][len(root) :] if r["path"].startswith(root) else r["path"] for r in listed
            }
        else:
            files = before - self._data_files(path)
        return VacuumResult(tuple(sorted(files)), hours, dry_run=dry_run, forced=force)

    def _root_uri(self, path: str) -> str:
        fs, hpath = self._hadoop_fs(path)
        return str(fs.makeQualified(hpath).toString()).rstrip("/") + "/"

    def _data_files(self, path: str) -> set[str]:
        """Files under the table folder outside ``_``/``.`` folders, relative to it."""
        fs, hpath = self._hadoop_fs(path)
        root = self._root_uri(path)
        found, listing = set(), fs.listFiles(hpath, True)
        while listing.hasNext():
            name = str(listing.next().getPath().toString())
            relative = name[len(root) :] if name.startswith(root) else name
            if not any(part.startswith(("_", ".")) for part in relative.split("/")):
                found.add(relative)
        return found

    def checkpoint(self, path: str) -> CheckpointResult:
        log = self._delta_log(path)
        none = _jvm(self.spark).scala.Option.empty()
        try:
            snapshot = log.update(False, none, none)
            log.checkpoint(snapshot, none)
        except Exception as exc:
            raise _maintenance_error("Checkpoint", path, exc) from exc
        version = int(snapshot.version())
        fs, _ = self._hadoop_fs(path)
        pattern = f"{path.rstrip('/')}/_delta_log/{version:020d}.checkpoint*.parquet"
        found = fs.globStatus(_jvm(self.spark).org.apache.hadoop.fs.Path(pattern)) or []
        if not found:
            raise TableError(f"Checkpoint of {path} at version {version} left no file.")
        return CheckpointResult(version=version, file=str(found[0].getPath().toString()))

    def last_checkpoint(self, path: str) -> Optional[int]:
        last = self._delta_log(path).readLastCheckpointFile()
        return int(last.get().version()) if last.isDefined() else None


RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"


# Delta's conflict exceptions (io.delta.exceptions / delta.exceptions): another writer
# committed first, and nothing of the refused commit is in the table.
_CONFLICTS = (
    "ConcurrentAppend",
    "ConcurrentDeleteRead",
    "ConcurrentDeleteDelete",
    "ConcurrentWrite",
    "ConcurrentTransaction",
    "ConcurrentModification",
    "MetadataChanged",
    "ProtocolChanged",
)


def _lost_a_race(exc: Exception) -> bool:
    """True when Delta refused a commit because another writer committed first."""
    text = f"{type(exc).__name__} {exc}"
    return any(name in text for name in _CONFLICTS)


def _maintenance_error(what: str, path: str, exc: Exception) -> TableError:
    if _lost_a_race(exc):
        return ConcurrentCommitError(
            f"{what} of {path} lost a race with another writer. Run it again."
        )
    return TableError(f"{what} of {path} failed: {exc}")


def _sql_replace_where(replace: Mapping[str, Sequence[str]]) -> str:
    return " AND ".join(
        f"{sql_name(col)} IN ({', '.join(_sql_literal(v) for v in values) or 'NULL'})"
        for col, values in replace.items()
    )


def _is_commit(name: str) -> bool:
    stem, _, ext = name.partition(".")
    return ext == "json" and stem.isdigit()


def _txn_in_commit(text: str, app_id: str) -> Optional[int]:
    """The version a commit's ``txn`` action records for ``app_id``, if any."""
    import json

    for line in text.splitlines():
        if '"txn"' not in line:
            continue
        txn = json.loads(line).get("txn")
        if txn and txn.get("appId") == app_id:
            return int(txn["version"])
    return None
