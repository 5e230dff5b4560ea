"""Test-only jobs: windowed sums kept from daily partial sums, and a row-level job.

Imported by the tests and by the driver scripts the SIGKILL tests start.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext
from featurekit.io import DeltaInput, FilesInput
from featurekit.job import IncrementalFeatureJob

EVENTS_SCHEMA = "user_id string, ts timestamp, amount double"
EVENTS_PATH = "s3://lake/events"
DELTA_PATH = "s3://lake/events_delta"
WINDOW = 3

SUMS_TABLE = {
    "user_id": "string",
    "feature_date": "date",
    "events_3d": "bigint",
    "amount_3d": "double",
}


def daily_sums(events: DataFrame) -> DataFrame:
    return events.groupBy("user_id", F.to_date("ts").alias("feature_date")).agg(
        F.count(F.lit(1)).alias("n"), F.sum("amount").alias("amount")
    )


def window_sums(ctx: JobContext, partials: DataFrame) -> DataFrame:
    """Each day's partial counts toward that day and the WINDOW - 1 days after it."""
    offsets = F.explode(F.sequence(F.lit(0), F.lit(WINDOW - 1))).alias("offset")
    spread = partials.select("*", offsets).withColumn(
        "feature_date", F.date_add("feature_date", F.col("offset"))
    )
    if ctx.start is not None and ctx.end is not None:
        spread = spread.where(F.col("feature_date").between(F.lit(ctx.start), F.lit(ctx.end)))
    return spread.groupBy("user_id", "feature_date").agg(
        F.sum("n").cast("bigint").alias("events_3d"), F.sum("amount").alias("amount_3d")
    )


class WindowSums(IncrementalFeatureJob):
    name = "window_sums"
    window_days = WINDOW
    inputs = {
        "events": FilesInput(EVENTS_PATH, schema=EVENTS_SCHEMA, time_column="ts", incremental=True)
    }
    output = FeatureTable(
        "features.window_sums", keys=("user_id",), date_column="feature_date", columns=SUMS_TABLE
    )

    def partials(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        return daily_sums(events)

    def combine(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        return window_sums(ctx, partials)


class DeltaWindowSums(IncrementalFeatureJob):
    name = "delta_window_sums"
    window_days = WINDOW
    inputs = {"events": DeltaInput(DELTA_PATH, time_column="ts", incremental=True)}
    output = FeatureTable(
        "features.delta_window_sums",
        keys=("user_id",),
        date_column="feature_date",
        columns=SUMS_TABLE,
    )

    def partials(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        return daily_sums(events)

    def combine(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        return window_sums(ctx, partials)


class EventCopies(FeatureJob):
    """Row-level features: each event once, appended as new files arrive."""

    name = "event_copies"
    inputs = {
        "events": FilesInput(EVENTS_PATH, schema=EVENTS_SCHEMA, time_column="ts", incremental=True)
    }
    output = FeatureTable(
        "features.event_copies",
        keys=("user_id", "ts"),
        date_column="event_date",
        columns={"user_id": "string", "ts": "timestamp", "event_date": "date", "twice": "double"},
    )

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        return events.select(
            "user_id",
            "ts",
            F.to_date("ts").alias("event_date"),
            (F.col("amount") * 2).alias("twice"),
        )


def events(day: int, users: int = 3, per_user: int = 2, amount: float = 1.0) -> list[tuple]:
    """Rows for 2024-01-<day>: ``per_user`` events for each of ``users`` users."""
    base = dt.datetime(2024, 1, day)
    return [
        (f"u{u}", base + dt.timedelta(hours=u, minutes=k), amount * (u + 1) + k)
        for u in range(users)
        for k in range(per_user)
    ]
