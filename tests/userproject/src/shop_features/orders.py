"""Per customer and day: orders, revenue and the biggest order, with the customer's segment."""

from __future__ import annotations

import dataclasses

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, FilesInput, JobContext, Param, TableInput

ORDERS_SCHEMA = "order_id string, customer_id string, order_time timestamp, amount double"


def daily_orders(orders: DataFrame, *, min_amount: float) -> DataFrame:
    """Orders of at least ``min_amount`` summed per customer and UTC day."""
    kept = orders.where(F.col("amount") >= min_amount)
    return kept.groupBy("customer_id", F.to_date("order_time").alias("order_date")).agg(
        F.count(F.lit(1)).alias("orders"),
        F.round(F.sum("amount"), 2).alias("revenue"),
        F.max("amount").alias("max_amount"),
    )


class CustomerOrdersDaily(FeatureJob):
    name = "customer_orders_daily"
    description = "Orders, revenue and the biggest order per customer and day, with the segment."
    inputs = {
        # The shop's landing bucket: CSV exports (s3://... maps into the warehouse locally).
        "orders": FilesInput(
            "s3://shop-landing/orders/",
            format="csv",
            options={"header": "true"},
            schema=ORDERS_SCHEMA,
        ),
        "customers": TableInput("shop.customers"),
    }
    output = FeatureTable(
        "features.customer_orders_daily",
        keys=("customer_id",),
        date_column="order_date",
        columns={
            "customer_id": "string",
            "order_date": "date",
            "segment": "string",
            "orders": "bigint",
            "revenue": "double",
            "max_amount": "double",
        },
    )
    params = {"min_amount": Param(float, default=0.0, help="ignore smaller orders")}

    def transform(self, ctx: JobContext, orders: DataFrame, customers: DataFrame) -> DataFrame:
        daily = orders.transform(daily_orders, min_amount=ctx.params["min_amount"])
        segments = customers.select("customer_id", "segment")
        return daily.join(segments, "customer_id", "left").fillna({"segment": "unknown"})


class CustomerOrdersDailyIceberg(CustomerOrdersDaily):
    """The same features, the output declared an Apache Iceberg table."""

    name = "customer_orders_daily_iceberg"
    description = "customer_orders_daily written as an Iceberg table (its declared format)."
    output = dataclasses.replace(CustomerOrdersDaily.output, format="iceberg")
