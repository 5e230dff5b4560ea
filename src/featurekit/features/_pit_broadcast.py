"""The point-in-time strategies that broadcast the spine: ``bucket`` and ``interval``.

Both leave the feature rows where they are (no shuffle, no sort of the history); see
``featurekit.features.pit`` for what each computes and when ``auto`` picks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from featurekit.features._checks import any_null

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

# Keys with more spine rows than this bypass the interval reduction (see interval_latest).
INTERVAL_MAX_SPINE_ROWS = 64


def spine_times(spine: DataFrame, keys: Sequence[str], spine_time: str) -> DataFrame:
    """(keys, __t) of the spine rows that can match: no null key or time."""
    from pyspark.sql import functions as F

    return spine.select(*keys, F.col(spine_time).alias("__t")).where(
        F.col("__t").isNotNull() & ~any_null(keys)
    )


def bucketed(
    spine: DataFrame,
    features: DataFrame,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
    carried: Sequence[str],
    age: int,
    prefix: str,
) -> DataFrame:
    """The as-of join for a bounded lookback ``age`` (microseconds): time is cut into
    buckets of ``age``, so a spine row's candidates lie in its own bucket or the one before."""
    from pyspark.sql import functions as F

    def bucket(col: Column) -> Column:  # floor(micros / age), exact in integers
        micros = F.unix_micros(col)
        return ((micros - F.pmod(micros, F.lit(age))) / F.lit(age)).cast("long")

    times = spine_times(spine, keys, spine_time)
    here = bucket(F.col("__t"))
    wanted = times.select(*keys, "__t", F.explode(F.array(here, here - 1)).alias("__b"))
    # ordered by feature time first, then the values: ties resolve as in the sort strategy
    value = F.struct(F.col(feature_time).alias("__ft"), F.struct(*carried).alias("__f"))
    feats = features.select(
        *keys,
        F.col(feature_time).alias("__ft"),
        bucket(F.col(feature_time)).alias("__b"),
        value.alias("__m"),
    )
    known = (F.col("__ft") <= F.col("__t")) & (
        F.unix_micros(F.col("__ft")) > F.unix_micros(F.col("__t")) - F.lit(age)
    )
    best = (
        feats.join(F.broadcast(wanted), [*keys, "__b"])
        .where(known)
        .groupBy(*keys, "__t")
        .agg(F.max("__m").alias("__m"))
        .select(*[F.col(k).alias(f"__k{i}") for i, k in enumerate(keys)], "__t", "__m")
    )
    same = [spine[k] == best[f"__k{i}"] for i, k in enumerate(keys)]
    joined = spine.join(best, [*same, spine[spine_time] == best["__t"]], "left")
    return joined.select(
        *[spine[c] for c in spine.columns],
        *[F.col("__m").getField("__f").getField(c).alias(prefix + c) for c in carried],
    )


def interval_latest(
    spine: DataFrame,
    features: DataFrame,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
) -> DataFrame:
    """The feature rows some spine row may pick: each interval's latest (ties included).

    A key's consecutive spine times cut its history into intervals (previous time,
    time]; only an interval's latest rows can ever be picked. The intervals are
    broadcast, each feature row finds its own without a shuffle, a hash aggregate keeps
    each interval's latest time and a broadcast semi-join the rows at it. Keys with more
    than ``INTERVAL_MAX_SPINE_ROWS`` spine rows skip the reduction (each feature row
    would be checked against every one of them) and keep all their rows. Same columns
    as ``features``."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    times = spine_times(spine, keys, spine_time)
    per_key = Window.partitionBy(*keys)
    # each spine time closes the interval (previous spine time of its key, __t]
    spans = times.select(
        *keys,
        "__t",
        F.lag("__t").over(per_key.orderBy("__t")).alias("__p"),
        F.count(F.lit(1)).over(per_key).alias("__n"),
    )
    crowded = F.col("__n") > INTERVAL_MAX_SPINE_ROWS
    few = spans.where(~crowded).drop("__n")
    many = spans.where(crowded).select(*keys).distinct()
    when = F.col(feature_time)
    inside = (when <= F.col("__t")) & (F.col("__p").isNull() | (when > F.col("__p")))
    latest = (
        features.select(*keys, feature_time)
        .join(F.broadcast(few), list(keys))
        .where(inside)
        .groupBy(*keys, "__t")
        .agg(F.max(feature_time).alias(feature_time))
        .drop("__t")
    )
    # every row at an interval's latest time (ties are settled by the sort), and all
    # rows of crowded keys
    picked = features.join(F.broadcast(latest), [*keys, feature_time], "left_semi")
    return picked.unionByName(features.join(F.broadcast(many), list(keys), "left_semi"))
