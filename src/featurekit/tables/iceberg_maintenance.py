"""Maintenance of Iceberg tables, mapped onto Iceberg's own Spark actions.

* ``optimize``   -> ``rewrite_data_files`` (bin-pack; any partition with 2+ files);
* ``vacuum``     -> ``expire_snapshots`` older than the retention (the latest always kept),
  then ``remove_orphan_files`` older than it (files no snapshot lists, e.g. a crashed
  run's staging);
* ``checkpoint`` -> ``rewrite_manifests``: Iceberg has no log to replay, its read cost
  grows with the manifests a snapshot lists; the rewrite's snapshot is marked
  ``featurekit.checkpoint`` so ``last_checkpoint`` finds it.

Retention: Iceberg's ``history.expire.max-snapshot-age-ms`` (5 days unless set) plays the
part of Delta's ``delta.deletedFileRetentionDuration``; under it a vacuum needs ``force``.
A dry run lists what the two actions would delete without running them: the data files
on disk that no kept snapshot (newer than the cutoff, or the latest) lists, and that an
expired snapshot lists or that are older than the cutoff.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

from featurekit.errors import ConcurrentCommitError, TableError
from featurekit.tables.engine import PartitionFilter, check_partition_filters
from featurekit.tables.iceberg_java import (
    filter_expression,
    java_list,
    jvm,
    main_lineage,
    partition_columns,
    pick_snapshot,
)
from featurekit.tables.maintenance import (
    CheckpointResult,
    OptimizeResult,
    VacuumResult,
    check_retention,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from featurekit.tables.commits import CommitGuard

MAX_AGE_KEY = "history.expire.max-snapshot-age-ms"
DEFAULT_MAX_AGE_MS = 5 * 24 * 3600 * 1000  # Iceberg's own default
CHECKPOINT_KEY = "featurekit.checkpoint"


class IcebergMaintenance:
    """The maintenance half of the Iceberg engine (it supplies ``spark`` and ``_load``)."""

    spark: SparkSession
    guard: CommitGuard  # maintenance commits hold the table's commit lease on S3, too

    def _load(self, path: str) -> Any:
        raise NotImplementedError

    def _actions(self) -> Any:
        return jvm(self.spark).org.apache.iceberg.spark.actions.SparkActions.get(
            self.spark._jsparkSession
        )

    def live_files(self, path: str) -> int:
        snapshot = self._load(path).currentSnapshot()
        if snapshot is None:
            return 0
        return int(dict(snapshot.summary()).get("total-data-files", 0))

    def optimize(self, path: str, *, partitions: Sequence[PartitionFilter] = ()) -> OptimizeResult:
        table = self._load(path)
        filters = check_partition_filters(partitions, partition_columns(table), table=path)
        before = self.live_files(path)
        action = self._actions().rewriteDataFiles(table).option("min-input-files", "2")
        if filters:
            action = action.filter(filter_expression(self.spark, table, filters))
        try:
            with self.guard.hold(path) as lease:
                lease.check()
                result = action.execute()
        except TableError:
            raise
        except Exception as exc:
            raise _maintenance_error("Compaction", path, exc) from exc
        lineage = main_lineage(self._load(path))
        return OptimizeResult(
            version=lineage[-1].version if lineage else None,
            files_removed=int(result.rewrittenDataFilesCount()),
            files_added=int(result.addedDataFilesCount()),
            files_before=before,
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
        table = self._load(path)
        table_ms = int(dict(table.properties()).get(MAX_AGE_KEY, DEFAULT_MAX_AGE_MS))
        hours = check_retention(
            path, retention_hours, table_ms / 3_600_000, force=force, setting=MAX_AGE_KEY
        )
        cutoff = int(time.time() * 1000 - hours * 3_600_000)
        before = self._files_on_disk(path)
        if dry_run:
            doomed = self._would_delete(table, path, before, cutoff)
            return VacuumResult(tuple(sorted(doomed)), hours, dry_run=True, forced=force)
        try:
            with self.guard.hold(path) as lease:
                lease.check()
                expire = self._actions().expireSnapshots(table).expireOlderThan(cutoff)
                expire.retainLast(1).execute()
                self._actions().deleteOrphanFiles(table).olderThan(cutoff).execute()
        except TableError:
            raise
        except Exception as exc:
            raise _maintenance_error("Vacuum", path, exc) from exc
        gone = set(before) - set(self._files_on_disk(path))
        return VacuumResult(tuple(sorted(gone)), hours, dry_run=False, forced=force)

    def _would_delete(
        self, table: Any, path: str, on_disk: dict[str, int], cutoff: int
    ) -> set[str]:
        """What expire_snapshots + remove_orphan_files at ``cutoff`` would delete."""
        current = table.currentSnapshot()
        latest = None if current is None else int(current.snapshotId())
        snapshots = {int(s.snapshotId()): s for s in java_list(table.snapshots())}
        kept = {i for i, s in snapshots.items() if s.timestampMillis() >= cutoff or i == latest}
        live = self._listed(table, path, kept)
        dropped = self._listed(table, path, set(snapshots) - kept)
        return {
            name
            for name, modified in on_disk.items()
            if name not in live and (name in dropped or modified < cutoff)
        }

    def _listed(self, table: Any, path: str, snapshot_ids: set[int]) -> set[str]:
        """The data files the snapshots ``snapshot_ids`` list, relative to the table folder."""
        find_in = getattr(jvm(self.spark).org.apache.iceberg.FindFiles, "in")
        fs, root = self._fs_root(path)
        names = set()
        for snapshot_id in snapshot_ids:
            for file in java_list(find_in(table).inSnapshot(snapshot_id).collect()):
                qualified = str(fs.makeQualified(self._hpath(str(file.path()))).toString())
                names.add(qualified[len(root) :] if qualified.startswith(root) else qualified)
        return names

    def _hpath(self, path: str) -> Any:
        return jvm(self.spark).org.apache.hadoop.fs.Path(path)

    def _fs_root(self, path: str) -> tuple[Any, str]:
        hpath = self._hpath(path)
        fs = hpath.getFileSystem(self.spark._jsc.hadoopConfiguration())
        return fs, str(fs.makeQualified(hpath).toString()).rstrip("/") + "/"

    def _files_on_disk(self, path: str) -> dict[str, int]:
        """Files under the table folder outside ``metadata`` and ``_``/``.`` folders, with
        their modification times (epoch milliseconds)."""
        fs, root = self._fs_root(path)
        found, listing = {}, fs.listFiles(self._hpath(path), True)
        while listing.hasNext():
            status = listing.next()
            name = str(status.getPath().toString())
            relative = name[len(root) :] if name.startswith(root) else name
            parts = relative.split("/")
            if parts[0] != "metadata" and not any(p.startswith(("_", ".")) for p in parts):
                found[relative] = int(status.getModificationTime())
        return found

    def checkpoint(self, path: str) -> CheckpointResult:
        table = self._load(path)
        try:
            with self.guard.hold(path) as lease:
                lease.check()
                rewrite = self._actions().rewriteManifests(table)
                rewrite.snapshotProperty(CHECKPOINT_KEY, "true").execute()
        except TableError:
            raise
        except Exception as exc:
            raise _maintenance_error("Manifest rewrite", path, exc) from exc
        table = self._load(path)
        snapshot = pick_snapshot(main_lineage(table), path)
        manifest_list = table.snapshot(snapshot.snapshot_id).manifestListLocation()
        return CheckpointResult(version=snapshot.version, file=str(manifest_list))

    def last_checkpoint(self, path: str) -> Optional[int]:
        for snapshot in reversed(main_lineage(self._load(path))):
            if snapshot.summary.get(CHECKPOINT_KEY) == "true":
                return snapshot.version
        return None


def _maintenance_error(what: str, path: str, exc: Exception) -> TableError:
    if "CommitFailedException" in str(exc) or "ValidationException" in str(exc):
        return ConcurrentCommitError(
            f"{what} of {path} lost a race with another writer. Run it again."
        )
    return TableError(f"{what} of {path} failed: {exc}")
