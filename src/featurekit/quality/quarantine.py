"""The quarantine table ``<table>__quarantine``: rows that failed row-level rules.

Each row is the output row as the job produced it, with the names of the rules it
failed (``quarantine_rules``), the run id (``quarantine_run_id``) and the run's date
(``quarantine_date``). It is partitioned like the output, and written with the same
mode: a run with a date range replaces those dates, a run without one replaces the table,
so re-running a range writes nothing twice.

Commit order: the quarantine is committed first, then the output. The output commit is
the run's commit point (its Delta metadata names the run id): a crash between the two
leaves quarantine rows of a run whose output never landed, and :func:`read_quarantine`
shows only rows of runs whose output commit exists; the next run of those dates replaces
them. So a reader never sees quarantine rows without their run, nor a committed output
without its quarantine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from featurekit.quality.checks import RUN_COLUMN

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.io import FeatureTable
    from featurekit.runtime.base import Runtime
    from featurekit.tables.engine import TableEngine

SUFFIX = "__quarantine"


def quarantine_name(table_name: str) -> str:
    """``features.x`` -> ``features.x__quarantine``."""
    return f"{table_name}{SUFFIX}"


def register(runtime: Runtime, table: FeatureTable, location: str) -> None:
    """Put the quarantine table in the catalog next to its output."""
    schema = runtime.engine.schema(location)
    runtime.catalog.register(
        quarantine_name(table.name),
        location,
        schema=schema.jsonValue() if schema is not None else {},
        partition_columns=table.partitions,
        description=f"Rows of {table.name} that failed row-level data quality rules.",
    )


def committed_runs(engine: TableEngine, output_location: str) -> set[str]:
    """Run ids whose output commit is in the output table's history."""
    if not engine.exists(output_location):
        return set()
    runs = set()
    for entry in engine.history(output_location):
        metadata = dict(entry.metadata)
        # delta-spark keeps commit metadata as one userMetadata "k=v,k=v" string
        for pair in str(metadata.pop("userMetadata", "")).split(","):
            key, _, value = pair.partition("=")
            metadata.setdefault(key, value)
        if metadata.get("run_id"):
            runs.add(str(metadata["run_id"]))
    return runs


def read_quarantine(
    runtime: Runtime, table_name: str, *, spark: Optional[SparkSession] = None
) -> DataFrame:
    """The quarantine rows of ``table_name`` whose run committed its output."""
    from pyspark.sql import functions as F

    session = spark or runtime.spark
    location = runtime.location(quarantine_name(table_name))
    rows = runtime.engine.read(session, location)
    runs = sorted(committed_runs(runtime.engine, runtime.location(table_name)))
    return rows.where(F.col(RUN_COLUMN).isin(runs))
