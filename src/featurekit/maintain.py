"""The maintenance a FeatureTable declares, run on the output after a committed run.

Runs only after the output commit, in this order: compact the written dates,
vacuum, checkpoint (last, so it covers the compaction's commit). A step that
fails is recorded as a warning in the run record and the next step still runs:
the committed output is never touched by a maintenance failure.

Example::

    output = FeatureTable(
        "features.daily_clicks", keys=("user_id",), date_column="feature_date",
        columns={...}, maintenance=Maintenance(checkpoint_every=10, compact_written_dates=True),
    )
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, TypeVar

from featurekit.runs import MaintenanceRecord

if TYPE_CHECKING:
    from featurekit.io import FeatureTable, Maintenance
    from featurekit.job import JobContext
    from featurekit.runs import RunRecord
    from featurekit.storage import Storage
    from featurekit.tables.engine import PartitionFilter, TableEngine

T = TypeVar("T")


def written_partitions(table: FeatureTable, ctx: JobContext) -> list[PartitionFilter]:
    """The partitions a run replaced: its dates, or every partition after a full run."""
    if ctx.start is None or table.date_column not in table.partitions:
        return []
    return [(table.date_column, "in", [d.isoformat() for d in ctx.dates()])]


def checkpoint_due(engine: TableEngine, location: str, every: int) -> bool:
    """True when ``every`` or more versions were committed since the last checkpoint."""
    version = engine.version(location)
    last = engine.last_checkpoint(location)
    since = (version or 0) - (-1 if last is None else last)
    return since >= every


def maintain_output(
    table: FeatureTable,
    storage: Storage,
    ctx: JobContext,
    record: RunRecord,
    report: Optional[Callable[[str], None]] = None,
) -> None:
    """Run ``table.maintenance`` on the committed output; failures become warnings."""
    plan = table.maintenance
    out = record.output
    if plan is None or not plan.enabled or out is None or out.skipped or out.version is None:
        return
    record.maintenance = MaintenanceRecord()
    with record.phase("maintenance", report):
        engine = storage.engine_at(out.location)
        _run_steps(plan, engine, out.location, written_partitions(table, ctx), record)
        if storage.format_of(table) == "iceberg":
            # maintenance commits new Iceberg metadata: the catalog entry (Athena's
            # metadata_location) follows it
            try:
                storage.register_output(table, out.location)
            except Exception as exc:  # recorded, never raised: the output is committed
                record.warnings.append(
                    f"re-registering {table.name} after maintenance failed "
                    f"({type(exc).__name__}: {exc}); the next run registers it again."
                )


def _run_steps(
    plan: Maintenance,
    engine: TableEngine,
    location: str,
    partitions: list[PartitionFilter],
    record: RunRecord,
) -> None:
    done = record.maintenance = record.maintenance or MaintenanceRecord()

    def step(name: str, fn: Callable[[], T]) -> Optional[T]:
        try:
            return fn()
        except Exception as exc:  # recorded, never raised: the output is committed
            record.warnings.append(
                f"maintenance step {name!r} of {location} failed ({type(exc).__name__}: {exc}); "
                "the run's output is committed. Run 'featurekit table ...' to retry it."
            )
            return None

    done.files_before = step("count files", lambda: engine.live_files(location))
    if plan.compact_written_dates:
        compacted = step("optimize", lambda: engine.optimize(location, partitions=partitions))
        if compacted is not None:
            done.compaction = {
                "files_removed": compacted.files_removed,
                "files_added": compacted.files_added,
                "version": compacted.version,
                "partitions": [list(p) for p in partitions],
            }
    if plan.vacuum:
        hours = plan.vacuum_retain_hours
        vacuumed = step("vacuum", lambda: engine.vacuum(location, retention_hours=hours))
        if vacuumed is not None:
            done.vacuum = {
                "files_deleted": len(vacuumed.files),
                "retention_hours": vacuumed.retention_hours,
            }
    every = plan.checkpoint_every
    if every is not None and step("checkpoint", lambda: checkpoint_due(engine, location, every)):
        written = step("checkpoint", lambda: engine.checkpoint(location))
        done.checkpoint_version = None if written is None else written.version
    done.files_after = step("count files", lambda: engine.live_files(location))
    done.last_checkpoint = step("checkpoint", lambda: engine.last_checkpoint(location))
