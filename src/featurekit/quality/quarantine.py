"""The quarantine table ``<table>__quarantine``: rows that failed row-level rules.

Each row is the output row as the job produced it, with the names of the rules it
failed (``quarantine_rules``), the run id (``quarantine_run_id``) and the run's date
(``quarantine_date``). It is partitioned like the output, and written with the same
mode: a run with a date range replaces those dates, a run without one replaces the table,
so re-running a range writes nothing twice.

Commit order: the quarantine is committed first, then the output, whose commit metadata
names the quarantine version committed with it (``quarantine_version``). The output
commit is the run's commit point: :func:`read_quarantine` reads the quarantine at the
version the output's latest commit names. A crash between the two commits leaves a
quarantine version no output commit names, which no reader sees; the next run commits
past it. So a reader never sees quarantine rows without their run, nor a committed output
without its quarantine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from featurekit.errors import TableNotFoundError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.io import FeatureTable
    from featurekit.storage import Storage
    from featurekit.tables.engine import TableEngine

SUFFIX = "__quarantine"
# Key of the output commit's metadata naming the quarantine version committed with it.
VERSION_KEY = "quarantine_version"


def quarantine_name(table_name: str) -> str:
    """``features.x`` -> ``features.x__quarantine``."""
    return f"{table_name}{SUFFIX}"


def register(storage: Storage, table: FeatureTable, location: str) -> None:
    """Put the quarantine table in the catalog next to its output."""
    table_format = storage.format_of(table)
    schema = storage.engine_for(table).schema(location)
    storage.catalog.register(
        quarantine_name(table.name),
        location,
        schema=schema.jsonValue() if schema is not None else {},
        partition_columns=table.partitions,
        description=f"Rows of {table.name} that failed row-level data quality rules.",
        format=table_format,
        metadata_location=storage.metadata_location(table_format, location),
    )


def commit_metadata(metadata: Mapping[str, Any]) -> dict[str, str]:
    """A commit's featurekit metadata (delta-spark keeps it as one "k=v,k=v" string)."""
    found = {str(k): str(v) for k, v in metadata.items() if k != "userMetadata"}
    for pair in str(metadata.get("userMetadata", "")).split(","):
        key, sep, value = pair.partition("=")
        if sep:
            found.setdefault(key, value)
    return found


def paired_version(engine: TableEngine, output_location: str) -> Optional[int]:
    """The quarantine version committed with the output's latest version (None: none)."""
    if not engine.exists(output_location):
        return None
    latest = engine.history(output_location, limit=1)
    if not latest:
        return None
    version = commit_metadata(latest[0].metadata).get(VERSION_KEY)
    return int(version) if version else None


def read_quarantine(spark: SparkSession, storage: Storage, table_name: str) -> DataFrame:
    """The quarantine rows that go with the output's current version.

    Read at the quarantine version named in the output's latest commit: rows committed by
    a run whose output commit never happened are not part of it.
    """
    location = storage.location(quarantine_name(table_name))
    output = storage.location(table_name)
    version = paired_version(storage.engine_at(output), output)
    if version is None:
        raise TableNotFoundError(
            f"{table_name} has no committed quarantine: no run of its job has quarantined "
            "rows yet (rulesets with on_failing_rows='quarantine' or 'drop' write it)."
        )
    return storage.engine_at(location).read(spark, location, version=version)
