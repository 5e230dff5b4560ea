"""A user's job package for the S3 tests, registered under ``featurekit.jobs`` by the
``shop_jobs-0.1.dist-info`` next to it (what ``pip install`` of a user project leaves).

* ``daily_spend``: orders per user and day from the catalog table ``raw.orders``;
  ``--param pause_marker=PATH`` makes its write slow (touches PATH, then sleeps per row),
  so a test can kill the run mid-write.
* ``checked_spend``: ``daily_spend`` with a ruleset that moves days over 10 spent to
  its quarantine table (``shop.checked_spend__quarantine``), for the kill tests.
* ``spend_totals``: the same sums kept incrementally from new JSON files under
  ``s3://shop-landing/orders/`` (featurekit's own incremental state).
"""

from __future__ import annotations

import time
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType

from featurekit import FeatureJob, FeatureTable, JobContext, Param, TableInput
from featurekit.io import FilesInput
from featurekit.job import IncrementalFeatureJob
from featurekit.quality import Ruleset

SPEND_COLUMNS = {"user_id": "string", "day": "date", "orders": "bigint", "spend": "double"}
LANDING = "s3://shop-landing/orders/"
ORDER_SCHEMA = "user_id string, ordered_at timestamp, amount double"


def spend_per_day(orders: DataFrame) -> DataFrame:
    return orders.groupBy("user_id", F.to_date("ordered_at").alias("day")).agg(
        F.count(F.lit(1)).alias("orders"), F.sum("amount").alias("spend")
    )


class DailySpend(FeatureJob):
    name = "daily_spend"
    description = "Orders and spend per user and day."
    inputs = {"orders": TableInput("raw.orders", time_column="ordered_at")}
    output = FeatureTable(
        "shop.daily_spend", keys=("user_id",), date_column="day", columns=SPEND_COLUMNS
    )
    params = {"pause_marker": Param(str, default="", help="slow write: touch this file first")}

    def transform(self, ctx: JobContext, orders: DataFrame) -> DataFrame:
        marker = str(ctx.params["pause_marker"])
        if marker:

            def slowly(amount: float) -> float:
                Path(marker).touch()
                time.sleep(2)
                return amount

            orders = orders.withColumn("amount", F.udf(slowly, DoubleType())("amount"))
        return spend_per_day(orders)


class CheckedSpend(FeatureJob):
    name = "checked_spend"
    description = "daily_spend, with days over 10 spent quarantined."
    inputs = {"orders": TableInput("raw.orders", time_column="ordered_at")}
    output = FeatureTable(
        "shop.checked_spend",
        keys=("user_id",),
        date_column="day",
        columns=SPEND_COLUMNS,
        quality=(Ruleset('Rules = [ ColumnValues "spend" <= 10 ]', on_failing_rows="drop"),),
    )

    def transform(self, ctx: JobContext, orders: DataFrame) -> DataFrame:
        return spend_per_day(orders)


class SpendTotals(IncrementalFeatureJob):
    name = "spend_totals"
    window_days = 1
    inputs = {
        "orders": FilesInput(
            LANDING, format="json", schema=ORDER_SCHEMA, time_column="ordered_at", incremental=True
        )
    }
    output = FeatureTable(
        "shop.spend_totals", keys=("user_id",), date_column="day", columns=SPEND_COLUMNS
    )

    def partials(self, ctx: JobContext, orders: DataFrame) -> DataFrame:
        return spend_per_day(orders)

    def combine(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        return partials.groupBy("user_id", "day").agg(
            F.sum("orders").cast("bigint").alias("orders"), F.sum("spend").alias("spend")
        )
