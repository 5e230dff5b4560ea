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


def interval_index(rows: DataFrame, feature_time: str) -> DataFrame:
    """``rows`` (with ``__ts``, a sorted array of spine times, and its size ``__n``) plus
    ``__i``: how many of those times are earlier than ``feature_time``, by binary search.

    One expression folding over the bits of ``__n``, highest first: as many steps as a
    key's array needs, and a constant-size plan (a projection per step would make
    Spark analyse the plan once per step)."""
    from pyspark.sql import functions as F

    ft = F.col(feature_time)
    bits = F.sequence(F.floor(F.log2(F.col("__n"))).cast("int"), F.lit(0), F.lit(-1))

    def step(i: Column, bit: Column) -> Column:
        probe = i + F.pow(F.lit(2), bit).cast("int")
        earlier = (probe <= F.col("__n")) & (F.element_at("__ts", probe) < ft)
        return F.when(earlier, probe).otherwise(i)

    return rows.withColumn("__i", F.aggregate(bits, F.lit(0), step))


def interval_latest(
    spine: DataFrame,
    features: DataFrame,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
) -> DataFrame:
    """The feature rows some spine row may pick: each interval's latest (ties included).

    A key's sorted spine times cut its history into intervals (previous time, time];
    only an interval's latest rows can ever be picked. Each key's times are broadcast
    as one sorted array; each feature row finds its interval by binary search (no
    shuffle of the feature rows, no work per spine row); a hash aggregate keeps each
    interval's latest time and a broadcast semi-join the rows at it: at most as many
    rows as the spine has, plus ties. Same columns as ``features``."""
    from pyspark.sql import functions as F

    per_key = (
        spine_times(spine, keys, spine_time)
        .groupBy(*keys)
        .agg(F.array_sort(F.collect_set("__t")).alias("__ts"))
        .select(*keys, "__ts", F.size("__ts").alias("__n"))
    )
    last = F.element_at("__ts", -1)
    candidates = (
        features.select(*keys, feature_time)
        .join(F.broadcast(per_key), list(keys))
        .where(F.col(feature_time) <= last)
    )
    latest = (
        interval_index(candidates, feature_time)
        .groupBy(*keys, "__i")
        .agg(F.max(feature_time).alias(feature_time))
        .drop("__i")
    )
    return features.join(F.broadcast(latest), [*keys, feature_time], "left_semi")
