"""The delta-rs engine: Spark writes parquet, deltalake (delta-rs) commits it.

Used where the delta-spark jars are not on the classpath (a laptop offline, CI).

* ``stage``: Spark writes parquet into ``TABLE/_featurekit_staging/<id>/``; the files
  are then moved into the table's own partition folders under fresh names. Files
  not named by the Delta log are invisible, so a crash here changes nothing.
* ``commit``: one ``create_write_transaction`` adds the files (and, for overwrite
  and replace, removes the old ones) as a single atomic Delta commit, recording
  the application transaction for idempotency.
* ``read``: the snapshot's file list is resolved by deltalake and read by Spark
  with the table schema (never by listing the folder, which would include
  removed files).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import posixpath
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import quote, unquote

from featurekit.core.faults import DELTA_RS_RETRIES
from featurekit.core.names import sql_name
from featurekit.errors import (
    ConcurrentCommitError,
    MissingDependencyError,
    TableError,
    TableNotFoundError,
)
from featurekit.tables.commits import NO_GUARD, CommitGuard, Lease, on_s3
from featurekit.tables.conflicts import retry_is_safe
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
    partition_folders,
    partition_predicate,
    partition_values,
    write_stage,
)
from featurekit.tables.maintenance import (
    CheckpointResult,
    OptimizeResult,
    VacuumResult,
    check_retention,
    checkpoint_files,
    table_retention_hours,
)
from featurekit.tables.objects import S3Files, files_for

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType


def _deltalake() -> Any:
    try:
        import deltalake
    except ImportError as exc:
        raise MissingDependencyError("deltalake", "local", "The delta-rs table engine") from exc
    return deltalake


def _nullable(schema: StructType) -> StructType:
    from pyspark.sql.types import StructField, StructType

    return StructType([StructField(f.name, f.dataType, True, f.metadata) for f in schema.fields])


# Fields of Delta's commitInfo with their own types: delta-spark cannot read a log whose
# commitInfo holds one of them as a plain string (a run's "job"), so such keys go into
# userMetadata as "k=v,k=v", the way delta-spark itself records commit metadata.
COMMIT_INFO_FIELDS = frozenset(
    {"version", "timestamp", "userId", "userName", "operation", "operationParameters", "job",
     "notebook", "clusterId", "readVersion", "isolationLevel", "isBlindAppend",
     "operationMetrics", "userMetadata", "tags", "engineInfo", "txnId"}
)  # fmt: skip


def commit_info(engine: str, metadata: Optional[Mapping[str, str]]) -> dict[str, str]:
    """delta-rs's custom commit metadata for ``metadata``: plain keys, and those that are
    commitInfo fields of Delta's in ``userMetadata``."""
    info = {"engine": engine}
    info.update({k: v for k, v in (metadata or {}).items() if k not in COMMIT_INFO_FIELDS})
    clashing = [f"{k}={v}" for k, v in (metadata or {}).items() if k in COMMIT_INFO_FIELDS]
    if clashing:
        info["userMetadata"] = ",".join(clashing)
    return info


class DeltaRsEngine(TableEngine):
    """Delta tables committed through deltalake; data read and written by Spark."""

    name = "delta-rs"

    def __init__(
        self,
        *,
        storage_options: Optional[Mapping[str, str]] = None,
        s3_files: Optional[S3Files] = None,
        guard: Optional[CommitGuard] = None,
    ) -> None:
        """``storage_options``: deltalake's S3 settings (endpoint, keys) for tables on S3,
        ``s3_files`` the boto3 side of them, ``guard`` the commit lease (docs/s3.md)."""
        self._dl = _deltalake()
        self._s3_options = dict(storage_options or {})
        self._s3_files = s3_files
        self.guard = guard or NO_GUARD
        # the log each table's last commit in this process loaded, brought up to date on the
        # next commit by reading only the newer commits (used under the commit guard only)
        self._logs: dict[str, Any] = {}

    def _options(self, path: str) -> Optional[dict[str, str]]:
        """deltalake's storage options for ``path``: on S3 every commit is a conditional
        put (``If-None-Match``), never the unsafe rename; throttling (503 SlowDown) and
        connection errors are retried with bounded backoff (``DELTA_RS_RETRIES``)."""
        if not on_s3(path):
            return None
        given = {k: v for k, v in self._s3_options.items() if k != "AWS_S3_ALLOW_UNSAFE_RENAME"}
        options = {**DELTA_RS_RETRIES, **given}  # bounded retries, unless set otherwise
        options["AWS_CONDITIONAL_PUT"] = "etag"
        return options

    def _open(self, path: str, version: Optional[int] = None) -> Any:
        return self._dl.DeltaTable(path, version=version, storage_options=self._options(path))

    # -- reading -----------------------------------------------------------------
    def _table(self, path: str, version: Optional[int] = None) -> Any:
        if not self.exists(path):
            raise TableNotFoundError(f"No Delta table at {path}.")
        try:
            return self._open(path, version)
        except Exception as exc:  # deltalake raises several types for a bad version
            raise TableError(f"Cannot load Delta table {path} at version {version}: {exc}") from exc

    def exists(self, path: str) -> bool:
        return bool(self._dl.DeltaTable.is_deltatable(path, storage_options=self._options(path)))

    def version(self, path: str) -> Optional[int]:
        return int(self._open(path).version()) if self.exists(path) else None

    def schema(self, path: str) -> Optional[StructType]:
        return _spark_schema(self._open(path)) if self.exists(path) else None

    def describe(self, path: str) -> TableInfo:
        table = self._table(path)
        return TableInfo(
            version=int(table.version()),
            schema=_spark_schema(table),
            partition_columns=tuple(table.metadata().partition_columns),
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
        table = self._table(path, version)
        if timestamp is not None:
            try:
                table.load_as_version(timestamp)
            except Exception as exc:
                raise TableError(f"Table {path} has no version at or before {timestamp}.") from exc
        schema = _spark_schema(table)
        filters = check_partition_filters(
            partitions, table.metadata().partition_columns, table=path
        )
        # The log holds URI-encoded paths; Spark wants the physical file names. The
        # log's partition values prune the list before Spark lists or opens anything.
        uris = _file_uris(table, filters)
        files = [unquote(uri) for uri in uris]
        if not files:
            return spark.createDataFrame([], schema)
        frame = spark.read.schema(schema).option("basePath", path).parquet(*files)
        frame = frame.select(*map(sql_name, schema.fieldNames()))
        # The same predicate on the rows, so both engines treat null partition values alike.
        return frame.where(partition_predicate(filters, schema)) if filters else frame

    def history(self, path: str, limit: Optional[int] = None) -> list[HistoryEntry]:
        entries = []
        for item in self._table(path).history(limit):
            millis = int(item.get("timestamp", 0))
            stamp = dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc)
            known = {"version", "timestamp", "operation", "operationParameters"}
            entries.append(
                HistoryEntry(
                    version=int(item["version"]),
                    timestamp=stamp.isoformat(timespec="milliseconds"),
                    operation=str(item.get("operation", "")),
                    parameters=dict(item.get("operationParameters") or {}),
                    metadata={k: v for k, v in item.items() if k not in known},
                )
            )
        return entries

    def txn_version(self, path: str, app_id: str) -> Optional[int]:
        if not self.exists(path):
            return None
        found = self._open(path).transaction_version(app_id)
        return None if found is None else int(found)

    # -- maintenance ---------------------------------------------------------------
    def live_files(self, path: str) -> int:
        return len(self._table(path).file_uris())

    def optimize(self, path: str, *, partitions: Sequence[PartitionFilter] = ()) -> OptimizeResult:
        table = self._table(path)
        filters = check_partition_filters(
            partitions, table.metadata().partition_columns, table=path
        )
        before = len(table.file_uris())
        props = self._dl.CommitProperties(custom_metadata={"engine": self.name})
        try:
            with self.guard.hold(path) as lease:
                lease.check()
                table.update_incremental()
                metrics = table.optimize.compact(
                    partition_filters=filters or None, commit_properties=props
                )
        except TableError:
            raise
        except Exception as exc:
            raise _maintenance_error("Compaction", path, exc) from exc
        table.update_incremental()
        return OptimizeResult(
            version=int(table.version()),
            files_removed=int(metrics.get("numFilesRemoved", 0)),
            files_added=int(metrics.get("numFilesAdded", 0)),
            files_before=before,
            files_after=len(table.file_uris()),
        )

    def vacuum(
        self,
        path: str,
        *,
        retention_hours: Optional[float] = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> VacuumResult:
        table = self._table(path)
        table_hours = table_retention_hours(table.metadata().configuration)
        hours = check_retention(path, retention_hours, table_hours, force=force)
        try:
            with self.guard.hold(path) if not dry_run else _nothing(path) as lease:
                lease.check()
                files = table.vacuum(
                    retention_hours=None if retention_hours is None else math.ceil(hours),
                    dry_run=dry_run,
                    enforce_retention_duration=not force,
                )
        except TableError:
            raise
        except Exception as exc:
            raise _maintenance_error("Vacuum", path, exc) from exc
        return VacuumResult(tuple(sorted(files)), hours, dry_run=dry_run, forced=force)

    def checkpoint(self, path: str) -> CheckpointResult:
        table = self._table(path)
        try:
            table.create_checkpoint()
        except Exception as exc:
            raise _maintenance_error("Checkpoint", path, exc) from exc
        version = int(table.version())
        if on_s3(path):
            return CheckpointResult(version=version, file=_checkpoint_name(version))
        written = checkpoint_files(path, version)
        if not written:
            raise TableError(f"Checkpoint of {path} at version {version} left no file.")
        return CheckpointResult(version=version, file=written[0])

    def last_checkpoint(self, path: str) -> Optional[int]:
        self._table(path)  # a clear error when there is no table
        files = files_for(path, self._s3_files)
        text = files.read_text(posixpath.join(path, "_delta_log", "_last_checkpoint"))
        return None if text is None else int(json.loads(text)["version"])

    # -- writing -----------------------------------------------------------------
    def stage(
        self,
        df: DataFrame,
        path: str,
        *,
        partition_by: Sequence[str] = (),
        label: Optional[str] = None,
    ) -> Staged:
        spark = df.sparkSession
        stage_id = new_stage_id(label)
        staging_dir = posixpath.join(path.rstrip("/"), STAGING, stage_id)
        write_stage(df, staging_dir, partition_by, micros=True)
        where = files_for(path, self._s3_files)
        files = where.list_parquet(staging_dir)
        file_rows = {f: where.parquet_rows(f) for f in files}  # footers, read once
        rows = sum(file_rows.values())
        return Staged(
            path=path,
            staging_dir=staging_dir,
            schema=_nullable(df.schema),
            partition_by=tuple(partition_by),
            rows=rows,
            files=files,
            spark=spark,
            details={"stage_id": stage_id, "file_rows": file_rows},
        )

    def abort(self, staged: Staged) -> None:
        files = files_for(staged.path, self._s3_files)
        files.remove_tree(staged.staging_dir)
        if staged.details.get("committed"):
            return
        for moved in staged.details.get("moved", []):
            files.remove(moved)

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
        try:
            # On S3, under the table's commit lease (featurekit.tables.commits): the log is
            # read, checked and extended by one writer at a time.
            # A conflict is retried with backoff when the commit is safe to repeat: the
            # staged files are moved into the table once, the log read afresh each time.
            result = self.guard.commit(
                staged.path,
                lambda lease: self._commit_held(staged, mode, replace, txn, metadata, lease),
                mode=mode,
                txn=txn,
            )
        except BaseException:
            self.abort(staged)
            raise
        if result.skipped:
            self.abort(staged)
        else:
            files_for(staged.path, self._s3_files).remove_tree(staged.staging_dir)
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
        # The log is loaded once here and reused for every check and for the commit.
        table = self._latest(staged.path)
        done = None if table is None or txn is None else table.transaction_version(txn.app_id)
        if txn is not None and done is not None and done >= txn.version:
            return CommitResult(version=None, skipped=True, rows=0, files=0)
        current = None if table is None else _spark_schema(table)
        if table is not None:
            _check_partitioning(staged, table)
        schema = evolve_schema(current, staged.schema, table=staged.path)
        actions = self._publish(staged)
        props = self._dl.CommitProperties(
            custom_metadata=commit_info(self.name, metadata),
            app_transactions=[self._dl.Transaction(txn.app_id, txn.version)] if txn else None,
            # What it removes (a replace) or checks (a txn) was read from this version: a
            # commit by another writer since is a conflict, retried from a fresh read
            # (tables.conflicts), never silently rebased over rows it did not see.
            max_commit_retries=0 if retry_is_safe(mode, txn) else None,
        )
        delta_schema = self._dl.Schema.from_json(schema.json())
        lease.check()
        try:
            if table is None or current is None:
                self._create(staged, delta_schema, actions, mode, props)
            else:
                self._add_columns(table, current, schema)
                table.create_write_transaction(
                    actions,
                    "append" if mode == "append" else "overwrite",
                    delta_schema,
                    partition_by=list(staged.partition_by) or None,
                    partition_filters=_filters(replace),
                    commit_properties=props,
                )
        except Exception as exc:
            if type(exc).__name__ == "CommitFailedError":
                raise ConcurrentCommitError(
                    f"Another writer committed to {staged.path} first: {exc}. Re-run the job."
                ) from exc
            raise TableError(f"Delta commit to {staged.path} failed: {exc}") from exc
        staged.details["committed"] = True  # its files are the table's now: abort keeps them
        if table is None:
            version = self.version(staged.path)
        else:
            table.update_incremental()  # reads only the commit just written
            version = int(table.version())
        return CommitResult(version=version, skipped=False, rows=staged.rows, files=len(actions))

    def _latest(self, path: str) -> Any:
        """The table's latest log (None: no table): the one this engine's previous commit
        loaded, brought up to date (only the newer commits are read), else loaded afresh."""
        known = self._logs.pop(path, None)
        if known is not None:
            try:
                known.update_incremental()
                self._logs[path] = known
                return known
            except Exception:  # recreated or vacuumed meanwhile: load it afresh
                pass
        if not self.exists(path):
            return None
        self._logs[path] = self._open(path)
        return self._logs[path]

    def _create(
        self, staged: Staged, schema: Any, actions: list[Any], mode: str, props: Any
    ) -> None:
        self._dl.transaction.create_table_with_add_actions(
            staged.path,
            schema,
            actions,
            mode="error",
            partition_by=list(staged.partition_by) or None,
            storage_options=self._options(staged.path),
            commit_properties=props,
        )

    def _add_columns(self, table: Any, current: StructType, schema: StructType) -> None:
        """Evolve the table schema: a metadata-only commit that adds nullable columns.

        delta-rs's write transaction does not change the schema itself. A crash
        between this commit and the data commit leaves only empty nullable columns.
        """
        added = schema.fields[len(current.fields) :]
        if not added:
            return
        from pyspark.sql.types import StructType

        fields = self._dl.Schema.from_json(StructType(added).json()).fields
        table.alter.add_columns(fields)  # also updates ``table`` in memory

    def _publish(self, staged: Staged) -> list[Any]:
        """Move staged files into the table's partition folders; return their AddActions."""
        if "actions" in staged.details:  # moved by an earlier attempt of this commit
            return list(staged.details["actions"])
        files = files_for(staged.path, self._s3_files)
        actions: list[Any] = []
        moved: list[str] = []
        staging = staged.staging_dir.rstrip("/")
        staged.details["moved"] = moved
        for index, source in enumerate(staged.files):
            # the table's own partition folders (a staged write may add its own above them)
            folders = partition_folders(
                posixpath.dirname(source)[len(staging) :], staged.partition_by
            )
            rel_dir = "/".join(folders)
            name = f"part-{index:05d}-{staged.details['stage_id']}.snappy.parquet"
            relative = posixpath.join(rel_dir, name) if rel_dir else name
            target = posixpath.join(staged.path.rstrip("/"), relative)
            size, mtime = files.move(source, target)
            moved.append(target)
            actions.append(
                self._dl.transaction.AddAction(
                    quote(relative, safe="/="),
                    size,
                    partition_values(folders, staged.partition_by),
                    mtime,
                    True,
                    json.dumps({"numRecords": staged.details["file_rows"][source]}),
                )
            )
        staged.details["actions"] = actions
        return actions


def _nothing(path: str) -> Any:
    """A context holding no lease (a dry run commits nothing)."""
    import contextlib

    return contextlib.nullcontext(Lease(path))


def _checkpoint_name(version: int) -> str:
    return f"_delta_log/{version:020d}.checkpoint.parquet"


def _maintenance_error(what: str, path: str, exc: Exception) -> TableError:
    if type(exc).__name__ == "CommitFailedError":
        return ConcurrentCommitError(
            f"{what} of {path} lost a race with another writer: {exc}. Run it again."
        )
    return TableError(f"{what} of {path} failed: {exc}")


def _file_uris(table: Any, filters: list[PartitionFilter]) -> list[str]:
    """Files of the snapshot kept by ``filters`` (deltalake >= 1.6 names the argument anew)."""
    if not filters:
        return list(table.file_uris())
    try:
        return list(table.file_uris(file_pruning_predicate=filters))
    except TypeError:  # deltalake < 1.6
        return list(table.file_uris(partition_filters=filters))


def _spark_schema(table: Any) -> StructType:
    """A loaded DeltaTable's schema as Spark's StructType (Delta uses Spark's JSON format)."""
    from pyspark.sql.types import StructType

    return StructType.fromJson(json.loads(table.schema().to_json()))


def _check_partitioning(staged: Staged, table: Any) -> None:
    current = tuple(table.metadata().partition_columns)
    if current != staged.partition_by:
        raise TableError(
            f"Table {staged.path} is partitioned by {list(current)}, the write by "
            f"{list(staged.partition_by)}; write with the table's partitioning."
        )


def _filters(replace: Optional[Mapping[str, Sequence[str]]]) -> Optional[list[Any]]:
    if replace is None:
        return None
    return [(column, "in", [str(v) for v in values]) for column, values in replace.items()]
