"""The approaches featurekit's primitives are measured against, written the way users write them.

* windowed: one groupBy per window (Spark's sliding ``window()``), joined on keys x dates
  (Butterfree's approach); per-row ``Window.rangeBetween`` over events plus a keys x
  dates grid.
* point-in-time: equi-join on the keys + range predicate + ROW_NUMBER (Feast's Spark
  offline store).

Every function returns the same columns as the featurekit primitive it is compared with.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

KEY = "user_id"
DAY_US = 86_400_000_000


def _day(ts: str) -> Column:
    return F.floor(F.unix_micros(F.col(ts)) / DAY_US).cast("int")


def _metrics(window_days: int) -> list[tuple[str, Column]]:
    """(output name, aggregate) of the benchmark's four aggregations for one window."""
    w = f"{window_days}d"
    buy = F.col("event_type") == "purchase"
    return [
        (f"events_{w}", F.count(F.lit(1))),
        (f"purchases_{w}", F.count(F.when(buy, 1))),
        (f"spend_{w}", F.sum(F.when(buy, F.col("amount")))),
        (f"max_amount_{w}", F.max("amount")),
    ]


def per_window_groupby(
    events: DataFrame, windows: list[int], start: dt.date, end: dt.date
) -> DataFrame:
    """One sliding-window groupBy per window, outer-joined on (key, feature_date)."""
    results = []
    for n in windows:
        slid = F.window("event_time", f"{n} days", "1 day")
        agg = events.groupBy(KEY, slid.alias("w")).agg(*[a.alias(c) for c, a in _metrics(n)])
        fdate = F.date_sub(F.to_date(F.col("w.end")), 1)
        results.append(agg.withColumn("feature_date", fdate).drop("w"))
    out = results[0]
    for other in results[1:]:
        out = out.join(other, [KEY, "feature_date"], "full_outer")
    counts = [c for c in out.columns if c.startswith(("events_", "purchases_"))]
    out = out.fillna(0, subset=counts)
    return out.where(F.col("feature_date").between(F.lit(start), F.lit(end)))


def per_row_range_window(
    events: DataFrame, windows: list[int], start: dt.date, end: dt.date
) -> DataFrame:
    """Window.rangeBetween over every event row, plus grid rows for dates without events."""
    longest = max(windows)
    ev = events.withColumn("__d", _day("event_time")).withColumn("__e", F.lit(1))
    days = ev.select(KEY, "__d").distinct()
    grid = days.select(
        KEY, F.explode(F.sequence("__d", F.col("__d") + (longest - 1))).alias("__d")
    ).distinct()
    rows = ev.unionByName(grid, allowMissingColumns=True)
    cols = []
    for n in windows:
        w = Window.partitionBy(KEY).orderBy("__d").rangeBetween(-(n - 1), 0)
        buy = F.col("event_type") == "purchase"
        cols += [
            F.coalesce(F.sum("__e").over(w), F.lit(0)).cast("bigint").alias(f"events_{n}d"),
            F.count(F.when(buy, 1)).over(w).alias(f"purchases_{n}d"),
            F.sum(F.when(buy, F.col("amount"))).over(w).alias(f"spend_{n}d"),
            F.max("amount").over(w).alias(f"max_amount_{n}d"),
        ]
    out = rows.select(KEY, "__d", *cols).dropDuplicates([KEY, "__d"])
    out = out.withColumn("feature_date", F.date_from_unix_date("__d")).drop("__d")
    return out.where(F.col("feature_date").between(F.lit(start), F.lit(end)))


def join_rownumber_pit(
    spine: DataFrame, features: DataFrame, ttl: dt.timedelta | None = None
) -> DataFrame:
    """Equi-join + ``feature_ts <= label_time`` (and ``> label_time - ttl``, as Feast
    does with a feature view's TTL) + ROW_NUMBER keeping the latest match."""
    feats = features.withColumnRenamed(KEY, "__k")
    cond = (F.col(KEY) == F.col("__k")) & (F.col("feature_ts") <= F.col("label_time"))
    if ttl is not None:
        cond = cond & (
            F.col("feature_ts") > F.col("label_time") - F.expr(f"INTERVAL {ttl.days} DAYS")
        )
    spine = spine.withColumn("__row", F.monotonically_increasing_id())
    joined = spine.join(feats, cond, "left")
    rank = F.row_number().over(
        Window.partitionBy("__row").orderBy(F.col("feature_ts").desc_nulls_last())
    )
    return joined.withColumn("__rn", rank).where(F.col("__rn") == 1).drop("__rn", "__row", "__k")
