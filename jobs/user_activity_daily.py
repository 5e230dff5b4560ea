"""Per user and day: how many views, carts and purchases, and how much was spent."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, Param, TableInput


class UserActivityDaily(FeatureJob):
    name = "user_activity_daily"
    description = "Daily counts of views, carts and purchases and the purchase amount per user."
    inputs = {"events": TableInput("raw.events", time_column="event_time")}
    output = FeatureTable(
        "features.user_activity_daily",
        keys=("user_id",),
        date_column="feature_date",
        columns={
            "user_id": "string",
            "feature_date": "date",
            "events": "bigint",
            "views": "bigint",
            "carts": "bigint",
            "purchases": "bigint",
            "purchase_amount": "double",
        },
        description="One row per user and day with at least min_events events.",
    )
    params = {"min_events": Param(int, default=1, help="drop user-days with fewer events")}

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        def count_of(kind: str) -> F.Column:
            return F.count(F.when(F.col("event_type") == kind, True)).alias(f"{kind}s")

        daily = (
            events.withColumn("feature_date", F.to_date("event_time"))
            .groupBy("user_id", "feature_date")
            .agg(
                F.count(F.lit(1)).alias("events"),
                count_of("view"),
                count_of("cart"),
                count_of("purchase"),
                F.coalesce(F.sum("amount"), F.lit(0.0)).alias("purchase_amount"),
            )
        )
        return daily.where(F.col("events") >= ctx.params["min_events"])
