"""The point-in-time strategies that broadcast the spine: ``range`` and ``bucket``.

Both leave the feature rows where they are (no shuffle, no sort of the history); see
``featurekit.features.pit`` for what each computes and when ``auto`` picks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

from featurekit.features._checks import any_null

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import DataType

# Keys with more spine rows than this leave the range strategy (see ranged).
RANGE_MAX_SPINE_TIMES = 8
# auto sorts instead of range when the spine has more rows than this per key on average:
# each feature row would pair with that many spine times or more, and the pairs cost more
# than the sort saves (range won at 1.3 rows per key and lost 1.9x at 5, 3M feature rows;
# docs/features.md).
DENSE_SPINE_ROWS = 2
# Largest estimated (spine rows x picked row width) broadcast to the spine for the join back.
BROADCAST_PICKED_BYTES = 64 * 1024 * 1024


def spine_times(spine: DataFrame, keys: Sequence[str], spine_time: str) -> DataFrame:
    """(keys, __t) of the spine rows that can match: no null key or time."""
    from pyspark.sql import functions as F

    return spine.select(*keys, F.col(spine_time).alias("__t")).where(
        F.col("__t").isNotNull() & ~any_null(keys)
    )


@dataclass(frozen=True)
class SpineStats:
    """What one small job over the spine's keys and times tells (see spine_stats)."""

    rows: int  # spine rows that can match: no null key or time
    keys: int  # distinct keys among them
    crowded_rows: int  # rows of keys with more than RANGE_MAX_SPINE_TIMES rows

    @property
    def dense(self) -> bool:
        """More than DENSE_SPINE_ROWS rows per key on average."""
        return self.rows > DENSE_SPINE_ROWS * self.keys


def spine_stats(spine: DataFrame, keys: Sequence[str], spine_time: str) -> SpineStats:
    """One Spark job over the spine's keys and times: rows, keys, rows of crowded keys."""
    from pyspark.sql import functions as F

    counts = _per_key(spine_times(spine, keys, spine_time), keys)
    crowded_n = F.when(_crowded(), F.col("__n"))
    row = counts.agg(F.sum("__n"), F.count(F.lit(1)), F.sum(crowded_n)).first()
    rows, n_keys, crowded = (row[0], row[1], row[2]) if row else (0, 0, 0)
    return SpineStats(rows=rows or 0, keys=n_keys or 0, crowded_rows=crowded or 0)


def _per_key(times: DataFrame, keys: Sequence[str]) -> DataFrame:
    """(keys, __n): each key's spine rows, repeats included."""
    from pyspark.sql import functions as F

    return times.groupBy(*keys).agg(F.count(F.lit(1)).alias("__n"))


def _crowded() -> Column:
    """A key of ``_per_key`` with more spine rows than range pairs a feature row with."""
    from pyspark.sql import functions as F

    return F.col("__n") > RANGE_MAX_SPINE_TIMES


def _bucket(col: Column, age: int) -> Column:
    """floor(micros / age), exact in integers."""
    from pyspark.sql import functions as F

    micros = F.unix_micros(col)
    return ((micros - F.pmod(micros, F.lit(age))) / F.lit(age)).cast("long")


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

    times = spine_times(spine, keys, spine_time)
    here = _bucket(F.col("__t"), age)
    wanted = times.select(*keys, "__t", F.explode(F.array(here, here - 1)).alias("__b"))
    feats = features.select(
        *keys,
        F.col(feature_time).alias("__ft"),
        _bucket(F.col(feature_time), age).alias("__b"),
        _latest_value(feature_time, carried).alias("__m"),
    )
    pairs = feats.join(F.broadcast(wanted), [*keys, "__b"]).where(_known(age))
    return _join_latest(spine, pairs, keys, spine_time, feature_time, carried, prefix)


def _latest_value(feature_time: str, carried: Sequence[str]) -> Column:
    """What a spine time keeps the greatest of: the feature time first, then the values
    (ties resolve as in the sort strategy)."""
    from pyspark.sql import functions as F

    # ``__f`` holds the feature time first: equal times compare the other values in order
    rest = [F.col(c) for c in carried if c != feature_time]
    return F.struct(F.col(feature_time).alias("__ft"), F.struct(*rest).alias("__f"))


def _known(age: Optional[int]) -> Column:
    """A (feature row, spine time) pair's feature row is known at the time (and fresh)."""
    from pyspark.sql import functions as F

    known = F.col("__ft") <= F.col("__t")
    if age is None:
        return known
    return known & (F.unix_micros(F.col("__ft")) > F.unix_micros(F.col("__t")) - F.lit(age))


def _join_latest(
    spine: DataFrame,
    pairs: DataFrame,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
    carried: Sequence[str],
    prefix: str,
    spine_rows: Optional[int] = None,
) -> DataFrame:
    """Each spine row with the greatest ``__m`` of its (keys, time)'s ``pairs``.

    With ``spine_rows`` known (an upper bound on the picked rows) and their estimated
    size under ``BROADCAST_PICKED_BYTES``, the picked rows are broadcast to the spine
    (no shuffle and sort of the spine for a sort-merge join back)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # the first row of each spine time by a row number: Spark keeps each map partition's
    # first row before the shuffle (a window group limit), cheaper than a sort aggregate
    order = Window.partitionBy(*keys, "__t").orderBy(F.col("__m").desc())
    best = (
        pairs.select(*keys, "__t", "__m")
        .withColumn("__rn", F.row_number().over(order))
        .where(F.col("__rn") == 1)
        .select(*[F.col(k).alias(f"__k{i}") for i, k in enumerate(keys)], "__t", "__m")
    )
    if spine_rows is not None and spine_rows * _width(best.schema) <= BROADCAST_PICKED_BYTES:
        best = F.broadcast(best)
    same = [spine[k] == best[f"__k{i}"] for i, k in enumerate(keys)]
    joined = spine.join(best, [*same, spine[spine_time] == best["__t"]], "left")
    return joined.select(
        *[spine[c] for c in spine.columns],
        *[_field(c, feature_time).alias(prefix + c) for c in carried],
    )


def _width(data_type: DataType) -> int:
    """Bytes a value of ``data_type`` takes, about (Spark's default sizes: strings 20)."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.StructType):
        return sum(_width(f.dataType) for f in data_type.fields)
    if isinstance(data_type, T.ArrayType):
        return _width(data_type.elementType)
    if isinstance(data_type, T.MapType):
        return _width(data_type.keyType) + _width(data_type.valueType)
    if isinstance(data_type, (T.StringType, T.BinaryType)):
        return 20
    if isinstance(data_type, (T.BooleanType, T.ByteType)):
        return 1
    if isinstance(data_type, T.ShortType):
        return 2
    if isinstance(data_type, (T.IntegerType, T.FloatType, T.DateType)):
        return 4
    if isinstance(data_type, T.DecimalType) and data_type.precision > 18:
        return 16
    return 8


def _field(name: str, feature_time: str) -> Column:
    """Feature column ``name`` of the greatest ``__m`` (see _latest_value)."""
    from pyspark.sql import functions as F

    latest = F.col("__m")
    return latest.getField("__ft") if name == feature_time else latest["__f"][name]


def ranged(
    spine: DataFrame,
    features: DataFrame,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
    carried: Sequence[str],
    age: Optional[int],
    prefix: str,
    crowded: Callable[[DataFrame, DataFrame], DataFrame],
    stats: Optional[SpineStats] = None,
) -> DataFrame:
    """The as-of join for spines with few times per key: the spine's (keys, time) are
    broadcast, each feature row pairs with its key's spine times at or after it (and
    within ``age``) in one scan, no shuffle of the history, and each spine time keeps
    its greatest pair. A feature row pairs with at most ``RANGE_MAX_SPINE_TIMES`` times:
    one small job over the spine's keys finds keys with more spine rows, and those go
    whole to ``crowded(their spine rows, their feature rows)`` (same columns as this
    result); when they hold half the spine rows or more, the whole join does. ``stats``:
    ``spine_stats`` by keys, when the caller has it (else this runs that job)."""
    from pyspark.sql import functions as F

    times = spine_times(spine, keys, spine_time)
    busy = None
    stats = stats or spine_stats(spine, keys, spine_time)
    in_crowded, total = stats.crowded_rows, stats.rows
    if in_crowded and 2 * in_crowded >= total:  # mostly crowded: all of it goes there
        return crowded(spine, features)
    if in_crowded:
        many = _per_key(times, keys).where(_crowded()).select(*keys)
        times = times.join(F.broadcast(many), list(keys), "left_anti")
        busy = crowded(
            spine.join(F.broadcast(many), list(keys), "left_semi"),
            features.join(F.broadcast(many), list(keys), "left_semi"),
        )
        spine = spine.join(F.broadcast(many), list(keys), "left_anti")
    feats = features.select(
        *keys,
        F.col(feature_time).alias("__ft"),
        _latest_value(feature_time, carried).alias("__m"),
    )
    pairs = feats.join(F.broadcast(times), list(keys)).where(_known(age))
    joined = _join_latest(
        spine, pairs, keys, spine_time, feature_time, carried, prefix, total - in_crowded
    )
    return joined if busy is None else joined.unionByName(busy)
