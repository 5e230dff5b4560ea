"""The stored daily partial aggregates of an IncrementalFeatureJob, and the dates they affect.

The partials table (``<output name>__partials``, a Delta table partitioned by the
output's date column) holds one mergeable row per key and day. A batch merges
the partials of its new rows into the stored ones for the days they touch and
recomputes only the feature dates whose windows contain those days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Optional

from featurekit.core.names import sql_name
from featurekit.errors import OutputContractError
from featurekit.io import FeatureTable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from featurekit.job import IncrementalFeatureJob
    from featurekit.storage import Storage
    from featurekit.tables.engine import PartitionFilter


def affected_dates(
    new_dates: Iterable[dt.date],
    window_days: int,
    old_horizon: Optional[dt.date],
    new_horizon: dt.date,
) -> list[dt.date]:
    """Feature dates to recompute when partials of ``new_dates`` change.

    Each changed day ``d`` affects ``d .. d + window_days - 1``; dates past the old
    horizon (the latest day seen before) are new feature dates; nothing goes past
    ``new_horizon``. Without an old horizon (a rebuild) every date from the first
    changed day to the new horizon is affected.

    >>> affected_dates([dt.date(2024, 1, 3)], 3, dt.date(2024, 1, 9), dt.date(2024, 1, 9))
    [datetime.date(2024, 1, 3), datetime.date(2024, 1, 4), datetime.date(2024, 1, 5)]
    """
    days = sorted(set(new_dates))
    if not days:
        return []
    first = days[0] if old_horizon is None else old_horizon + dt.timedelta(days=1)
    out = {first + dt.timedelta(days=i) for i in range(max((new_horizon - first).days + 1, 0))}
    for day in days:
        out.update(day + dt.timedelta(days=i) for i in range(window_days))
    return sorted(d for d in out if d <= new_horizon)


def partials_name(job: IncrementalFeatureJob) -> str:
    return f"{job.output.name}__partials"


def partials_location(storage: Storage, job: IncrementalFeatureJob) -> str:
    """Next to the output: ``<output path>__partials`` or the catalog/warehouse default."""
    if job.output.path:
        return storage.warehouse.resolve(job.output.path.rstrip("/") + "__partials")
    return storage.location(partials_name(job))


def shape_partials(parts: DataFrame, job: IncrementalFeatureJob) -> DataFrame:
    """Keys and date first, then the partial columns; the date column must be a date."""
    table = job.output
    group = [*table.keys, table.date_column]
    missing = [c for c in group if c not in parts.columns]
    if missing:
        raise OutputContractError(
            f"partials() of {job.name} must return the key and date columns; missing {missing}."
        )
    if parts.schema[table.date_column].dataType.simpleString() != "date":
        raise OutputContractError(
            f"partials() of {job.name}: column {table.date_column!r} must be a date "
            "(use F.to_date)."
        )
    # quoted: select parses a string, "user.id" would be field id of a struct user
    ordered = [*group, *[c for c in parts.columns if c not in group]]
    return parts.select(*map(sql_name, ordered))


def partials_table(job: IncrementalFeatureJob, schema: StructType) -> FeatureTable:
    """The FeatureTable declaration of the partials table, from the partials' schema."""
    out = job.output
    return FeatureTable(
        partials_name(job),
        keys=out.keys,
        date_column=out.date_column,
        columns={f.name: f.dataType.simpleString() for f in schema.fields},
        description=f"Daily partial aggregates behind {out.name} (featurekit incremental).",
        path=out.path.rstrip("/") + "__partials" if out.path else None,
        strict_columns=False,
    )


def stored_partials(
    spark: SparkSession,
    storage: Storage,
    job: IncrementalFeatureJob,
    first: dt.date,
    last: dt.date,
    like: Optional[DataFrame] = None,
) -> DataFrame:
    """Stored partial rows dated ``first..last`` (empty, shaped ``like``, before the first run).

    The read is pruned to those days' files by the engine, so its cost follows the
    window, not the length of the history.
    """
    return stored_partials_where(
        spark,
        storage,
        job,
        [(job.output.date_column, ">=", first), (job.output.date_column, "<=", last)],
        like,
    )


def stored_partials_where(
    spark: SparkSession,
    storage: Storage,
    job: IncrementalFeatureJob,
    partitions: Sequence[PartitionFilter],
    like: Optional[DataFrame] = None,
) -> DataFrame:
    """Stored partial rows of the partitions ``partitions`` keeps (see ``stored_partials``)."""
    location = partials_location(storage, job)
    if not storage.engine.exists(location):
        if like is None:
            raise OutputContractError(f"No partials table for {job.name} at {location}.")
        return like.limit(0)
    return storage.engine.read(spark, location, partitions=partitions)


def as_day(text: str) -> dt.date:
    """``as_day("2026-01-31")`` -> ``datetime.date(2026, 1, 31)``."""
    return dt.date.fromisoformat(text)
