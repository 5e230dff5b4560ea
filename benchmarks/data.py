"""Generated benchmark data: events, daily feature rows and labels (deterministic hashes)."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

START = dt.date(2026, 1, 1)


def _h(*cols: Column | str, salt: str) -> Column:
    return F.abs(F.xxhash64(F.lit(salt), *cols))


def events(spark: SparkSession, *, n: int, users: int, days: int) -> DataFrame:
    """``n`` events over ``users`` (skewed: a few busy users) and ``days`` days."""
    ids = spark.range(n)
    skew = _h("id", salt="skew") % 100
    user = F.when(skew < 20, _h("id", salt="hot") % F.lit(max(1, users // 100))).otherwise(
        _h("id", salt="user") % F.lit(users)
    )
    seconds = _h("id", salt="second") % F.lit(days * 86400)
    roll = _h("id", salt="type") % 100
    kind = F.when(roll < 75, "view").when(roll < 93, "cart").otherwise("purchase")
    base = F.unix_timestamp(F.lit(START).cast("timestamp"))
    return ids.select(
        F.format_string("u%07d", user).alias("user_id"),
        F.timestamp_seconds(base + seconds).alias("event_time"),
        kind.alias("event_type"),
        F.format_string("i%05d", _h("id", salt="item") % 20000).alias("item_id"),
        F.when(kind == "purchase", (_h("id", salt="amount") % 20000) / 100 + 1)
        .cast("double")
        .alias("amount"),
    )


def daily_features(spark: SparkSession, *, rows: int, users: int, columns: int = 5) -> DataFrame:
    """``rows`` daily feature rows: users x (rows / users) days, feature_ts = end of day,
    ``columns`` double feature columns."""
    days = max(1, rows // users)
    ids = spark.range(users * days)
    day = (F.col("id") % days).cast("int")
    base = F.unix_timestamp(F.lit(START).cast("timestamp"))
    return ids.select(
        F.format_string("u%07d", (F.col("id") / days).cast("long")).alias("user_id"),
        F.timestamp_seconds(base + (day + 1) * 86400).alias("feature_ts"),
        *[(_h("id", salt=f"f{i}") % 1000 / 10).alias(f"f{i}") for i in range(columns)],
    )


def labels(spark: SparkSession, *, n: int, users: int, days: int) -> DataFrame:
    """``n`` labels at random instants over the same users and days."""
    ids = spark.range(n)
    base = F.unix_timestamp(F.lit(START).cast("timestamp"))
    return ids.select(
        F.format_string("u%07d", _h("id", salt="lu") % F.lit(users)).alias("user_id"),
        F.timestamp_seconds(base + _h("id", salt="lt") % F.lit(days * 86400)).alias("label_time"),
        (_h("id", salt="ly") % 2 == 0).alias("label"),
    )
