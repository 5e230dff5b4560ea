"""A job on featurekit.features.windowed (daily_partials / combine_windows), kept incrementally.

Imported only where featurekit.features exists (the features branch, after merge).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from sample_jobs import EVENTS_PATH, EVENTS_SCHEMA

from featurekit import FeatureTable, JobContext
from featurekit.features.aggs import Agg
from featurekit.features.windowed import PARTIAL_DATE, combine_windows, daily_partials
from featurekit.io import FilesInput
from featurekit.job import IncrementalFeatureJob

AGGS = (Agg.count("events"), Agg.sum("spend", "amount"), Agg.max("biggest", "amount"))
WINDOWS = ("1d", "3d")
# How two partial rows of one key and day merge, per aggregation kind.
MERGE = {"count": F.sum, "sum": F.sum, "max": F.max}
TYPES = {"events": "bigint", "spend": "double", "biggest": "double"}


class WindowedApiJob(IncrementalFeatureJob):
    name = "windowed_api_job"
    window_days = 3
    inputs = {
        "events": FilesInput(EVENTS_PATH, schema=EVENTS_SCHEMA, time_column="ts", incremental=True)
    }
    output = FeatureTable(
        "features.windowed_api_job",
        keys=("user_id",),
        date_column="feature_date",
        columns={
            "user_id": "string",
            "feature_date": "date",
            **{f"{a.name}_{w}": TYPES[a.name] for a in AGGS for w in WINDOWS},
        },
    )

    def partials(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        parts = daily_partials(events, keys="user_id", timestamp="ts", aggregations=AGGS)
        return parts.withColumnRenamed(PARTIAL_DATE, "feature_date")

    def merge_partials(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        merged = [MERGE[a.kind](c).alias(c) for a in AGGS for c in a.state_columns()]
        return partials.groupBy("user_id", "feature_date").agg(*merged)

    def combine(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        return combine_windows(
            partials,
            keys="user_id",
            aggregations=AGGS,
            windows=WINDOWS,
            start=ctx.start,
            end=ctx.end,
            date_column="feature_date",
        )
