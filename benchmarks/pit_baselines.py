"""Point-in-time joins as the feature stores compute them, for ``bench_pit`` to race.

Written from each project's published description (documentation and the shape of the
SQL they generate), not from their code. Every function has ``point_in_time_join``'s
signature and answer: the spine's columns, then the features' non-key columns; for
each spine row the feature row with the same keys and the greatest
``feature_time <= spine_time`` (and ``> spine_time - max_age``). The stores leave ties
(two feature rows of one key at one time) undefined, since their tables keep one row
per key and time; here each orders ties by the feature values, descending, as
featurekit does, so the answers can be compared row for row.

* ``feast``: Feast's Spark offline store. The spine's time range is read first; each
  feature view is pre-filtered to ``[min(spine) - ttl, max(spine)]``; the distinct
  (keys, time) spine rows (Feast's entity_row_unique_id) are equi-joined to it with
  the range predicate; ROW_NUMBER keeps the latest; a left join takes the result
  back to every spine row.
* ``hopsworks``: Hopsworks' query constructor. The spine left-joins the features on
  the keys and ``feature_time <= spine_time`` (with ``max_age``, a lookback bound on
  the feature date as well as the exact one); RANK over (spine keys, spine time)
  ordered by feature time keeps rank 1. RANK keeps duplicate spine rows (they share a
  partition and a rank) but also repeats a spine row for each copy of a feature row
  identical in every column, which Hopsworks' tables (one row per key and time) do
  not hold; the edge cases have none.
* ``union_sort_filter``: the tempo / Databricks Labs as-of join. Spine and feature
  rows are unioned with a record indicator, sorted by keys and time (features first
  at equal times), and the last non-null feature record is carried forward
  (``last(..., ignorenulls)`` over a running window, tempo's ``skipNulls=False``
  mode: the whole record, so a null feature value stays null); a tolerance
  (``max_age``) nulls out records that are too old; spine rows are kept.
* ``databricks_native``: Databricks Feature Engineering's point-in-time lookup.
  Each distinct spine (keys, time) gets ``max(feature_time)`` among the earlier rows
  of its keys, the feature rows are joined back on that exact time, and the result
  on every spine row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Callable, Optional

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

Baseline = Callable[..., DataFrame]


def _carried(features: DataFrame, keys: Sequence[str]) -> list[str]:
    return [c for c in features.columns if c not in keys]


def _micros(age: Optional[dt.timedelta]) -> Optional[int]:
    return None if age is None else age // dt.timedelta(microseconds=1)


def _known(feature_ts: Column, spine_ts: Column, age: Optional[dt.timedelta]) -> Column:
    """``feature_ts <= spine_ts`` (and younger than ``age``)."""
    cond = feature_ts <= spine_ts
    micros = _micros(age)
    if micros is not None:
        cond = cond & (F.unix_micros(feature_ts) > F.unix_micros(spine_ts) - F.lit(micros))
    return cond


def _renamed_keys(df: DataFrame, keys: Sequence[str]) -> DataFrame:
    """``df`` with its keys renamed ``__k0, __k1, ...`` (no ambiguity in joins)."""
    return df.select(
        *[F.col(k).alias(f"__k{i}") for i, k in enumerate(keys)],
        *[c for c in df.columns if c not in keys],
    )


def _same_keys(keys: Sequence[str]) -> Column:
    cond = F.lit(True)
    for i, k in enumerate(keys):
        cond = cond & (F.col(k) == F.col(f"__k{i}"))
    return cond


def _back_to_spine(
    spine: DataFrame, picked: DataFrame, keys: Sequence[str], spine_time: str, carried: list[str]
) -> DataFrame:
    """Left join of (keys as __k*, __t, carried...) rows back to every spine row."""
    cond = _same_keys(keys) & (F.col(spine_time) == F.col("__t"))
    return spine.join(picked, cond, "left").select(*spine.columns, *carried)


def _latest_first(feature_time: str, carried: list[str]) -> list[Column]:
    """Feature time descending, then the values: the tie rule of point_in_time_join."""
    return [F.col(feature_time).desc_nulls_last(), F.struct(*carried).desc_nulls_last()]


def feast(
    spine: DataFrame,
    features: DataFrame,
    *,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
    max_age: Optional[dt.timedelta] = None,
) -> DataFrame:
    """Feast's Spark offline store (see the module docstring)."""
    carried = _carried(features, keys)
    lo, hi = spine.agg(F.min(spine_time), F.max(spine_time)).first() or (None, None)
    feats = features
    if hi is not None:
        feats = feats.where(F.col(feature_time) <= F.lit(hi))
        if max_age is not None:
            feats = feats.where(F.col(feature_time) > F.lit(lo - max_age))
    entities = spine.select(*keys, F.col(spine_time).alias("__t")).distinct()
    cond = _same_keys(keys) & _known(F.col(feature_time), F.col("__t"), max_age)
    base = entities.join(_renamed_keys(feats, keys), cond)
    rank = Window.partitionBy(*keys, "__t").orderBy(*_latest_first(feature_time, carried))
    latest = (
        base.withColumn("__rn", F.row_number().over(rank))
        .where(F.col("__rn") == 1)
        .select(*[F.col(k).alias(f"__k{i}") for i, k in enumerate(keys)], "__t", *carried)
    )
    return _back_to_spine(spine, latest, keys, spine_time, carried)


def hopsworks(
    spine: DataFrame,
    features: DataFrame,
    *,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
    max_age: Optional[dt.timedelta] = None,
) -> DataFrame:
    """Hopsworks' point-in-time query (see the module docstring)."""
    carried = _carried(features, keys)
    ft, st = F.col(feature_time), F.col(spine_time)
    cond = _same_keys(keys) & _known(ft, st, max_age)
    if max_age is not None:  # the bound on the date partition, then the exact one
        cond = cond & (F.to_date(ft) >= F.date_sub(F.to_date(st), max_age.days + 1))
    joined = spine.join(_renamed_keys(features, keys), cond, "left")
    rank = Window.partitionBy(*keys, spine_time).orderBy(*_latest_first(feature_time, carried))
    return (
        joined.withColumn("__rank", F.rank().over(rank))
        .where(F.col("__rank") == 1)
        .select(*spine.columns, *carried)
    )


def union_sort_filter(
    spine: DataFrame,
    features: DataFrame,
    *,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
    max_age: Optional[dt.timedelta] = None,
) -> DataFrame:
    """tempo's as-of join (see the module docstring)."""
    carried = _carried(features, keys)
    features = features.where(F.col(feature_time).isNotNull())
    for k in keys:  # as in an equi-join, a null key matches nothing
        features = features.where(F.col(k).isNotNull())
    record = F.struct(*carried)
    record_type = features.select(record.alias("r")).schema["r"].dataType
    left = spine.select(
        *keys,
        F.col(spine_time).alias("__ts"),
        F.lit(1).alias("__rec_ind"),
        F.struct(*spine.columns).alias("__left"),
        F.lit(None).cast(record_type).alias("__right"),
    )
    right = features.select(
        *keys,
        F.col(feature_time).alias("__ts"),
        F.lit(-1).alias("__rec_ind"),
        F.lit(None).cast(left.schema["__left"].dataType).alias("__left"),
        record.alias("__right"),
    )
    running = (
        Window.partitionBy(*keys)
        .orderBy("__ts", "__rec_ind", "__right")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    carried_forward = F.last("__right", ignorenulls=True).over(running)
    rows = left.unionByName(right).select(
        "__ts", "__rec_ind", "__left", carried_forward.alias("__r")
    )
    fresh = F.col("__r").isNotNull() & _known(
        F.col("__r").getField(feature_time), F.col("__ts"), max_age
    )
    return rows.where(F.col("__rec_ind") == 1).select(
        *[F.col("__left").getField(c).alias(c) for c in spine.columns],
        *[F.when(fresh, F.col("__r").getField(c)).alias(c) for c in carried],
    )


def databricks_native(
    spine: DataFrame,
    features: DataFrame,
    *,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
    max_age: Optional[dt.timedelta] = None,
) -> DataFrame:
    """Databricks' point-in-time lookup (see the module docstring)."""
    carried = _carried(features, keys)
    renamed = _renamed_keys(features, keys)
    entities = spine.select(*keys, F.col(spine_time).alias("__t")).distinct()
    stamps = renamed.select(*[f"__k{i}" for i in range(len(keys))], feature_time)
    cond = _same_keys(keys) & _known(F.col(feature_time), F.col("__t"), max_age)
    latest = (
        entities.join(stamps, cond).groupBy(*keys, "__t").agg(F.max(feature_time).alias("__max_ts"))
    )
    exact = _same_keys(keys) & (F.col(feature_time) == F.col("__max_ts"))
    rows = (
        latest.join(renamed, exact)
        .groupBy(*keys, "__t")  # ties at the exact time: the greatest values
        .agg(F.max(F.struct(*carried)).alias("__r"))
        .select(
            *[F.col(k).alias(f"__k{i}") for i, k in enumerate(keys)],
            "__t",
            *[F.col("__r").getField(c).alias(c) for c in carried],
        )
    )
    return _back_to_spine(spine, rows, keys, spine_time, carried)


BASELINES: dict[str, Baseline] = {
    "feast": feast,
    "hopsworks": hopsworks,
    "union_sort_filter": union_sort_filter,
    "databricks_native": databricks_native,
}
