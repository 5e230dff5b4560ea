"""The point-in-time strategies that broadcast the spine: ``range`` and ``bucket``.

Both leave the feature rows where they are (no shuffle, no sort of the history); see
``featurekit.features.pit`` for what each computes and when ``auto`` picks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

from featurekit.features._checks import col, sql_name, sql_names

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


def spine_times(spine: DataFrame, keys: Sequence[str], spine_time: str) -> DataFrame:
    """(keys, __t) of the spine rows that can match: no null key or time."""
    usable = " AND ".join(f"{sql_name(c)} IS NOT NULL" for c in (*keys, spine_time))
    return spine.where(usable).selectExpr(*map(sql_name, keys), f"{sql_name(spine_time)} AS __t")


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
    """One Spark job over the spine's keys and times: rows, keys, rows of crowded keys.

    Each key is counted by a 64-bit hash of it: a collision would merge two keys' counts,
    which can move the choice of a strategy, never a result."""
    hashed = f"xxhash64({sql_names(keys)}) AS __h"
    hashes = spine_times(spine, keys, spine_time).selectExpr(hashed)
    return _count_on_driver(hashes) or _count_in_spark(hashes)


def _count_on_driver(hashes: DataFrame) -> Optional[SpineStats]:
    """The hashes collected as Arrow and counted by the driver: one scan, no shuffle (the
    10M-row benchmark's spine of 500k rows: 0.52 s against 0.97 s for ``_count_in_spark``,
    medians of 9 side by side). ``range`` broadcasts these rows' keys and times anyway, so
    their hashes fit on the driver. The count is numpy's sort (``np.unique``): 0.05 s for
    those 500k hashes, where pyarrow's hash-based ``value_counts`` took 0.09-0.16 s. None
    without pyarrow and numpy or Arrow collection (a Spark Connect session of pyspark 3.5)."""
    try:
        import numpy as np
        import pyarrow as pa
    except ImportError:
        return None
    collect = getattr(hashes, "toArrow", None) or getattr(hashes, "_collect_as_arrow", None)
    if collect is None:
        return None
    got = collect()  # pyspark 4: a Table; 3.5: a list of record batches
    if isinstance(got, list):
        if not got:
            return SpineStats(rows=0, keys=0, crowded_rows=0)
        got = pa.Table.from_batches(got)
    _, counts = np.unique(got.column(0).to_numpy(), return_counts=True)
    crowded = int(counts[counts > RANGE_MAX_SPINE_TIMES].sum())
    return SpineStats(rows=got.num_rows, keys=len(counts), crowded_rows=crowded)


def _count_in_spark(hashes: DataFrame) -> SpineStats:
    """The counts by a Spark aggregation (a shuffle of the hashes)."""
    from pyspark.sql import functions as F

    counts = _per_key(hashes, ["__h"])
    crowded_n = F.when(_crowded(), F.col("__n"))
    row = counts.agg(F.sum("__n"), F.count(F.lit(1)), F.sum(crowded_n)).first()
    rows, n_keys, crowded = (row[0], row[1], row[2]) if row else (0, 0, 0)
    return SpineStats(rows=rows or 0, keys=n_keys or 0, crowded_rows=crowded or 0)


def _per_key(times: DataFrame, keys: Sequence[str]) -> DataFrame:
    """(keys, __n): each key's spine rows, repeats included."""
    from pyspark.sql import functions as F

    return times.groupBy(*map(sql_name, keys)).agg(F.count(F.lit(1)).alias("__n"))


def _crowded() -> Column:
    """A key of ``_per_key`` with more spine rows than range pairs a feature row with."""
    from pyspark.sql import functions as F

    return F.col("__n") > RANGE_MAX_SPINE_TIMES


def _hashable(data_type: DataType) -> bool:
    """Equal values of ``data_type`` under ``=`` always hash alike (not so for floats, where
    -0.0 = 0.0, nor for strings under a collation other than the default)."""
    from pyspark.sql import types as T

    exact = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.DecimalType, T.BooleanType)
    moments = (T.DateType, T.TimestampType, T.TimestampNTZType)
    return isinstance(data_type, (*exact, *moments)) or data_type == T.StringType()


def _one_long(types: Sequence[DataType]) -> bool:
    """Integral keys that fit in 64 bits together: Spark packs them into one long key of
    its own (``HashJoin.rewriteKeyExpr``), so a hash would only add work."""
    from pyspark.sql import types as T

    size: dict[type[DataType], int] = {
        T.ByteType: 1,
        T.ShortType: 2,
        T.IntegerType: 4,
        T.LongType: 8,
    }
    widths = [size.get(type(t), 9) for t in types]  # 9: not integral, never packed
    return sum(widths) <= 8


def _probe(rows: DataFrame, table: DataFrame, on: Sequence[str]) -> DataFrame:
    """``rows`` inner-joined with the broadcast ``table`` on the columns ``on`` (in both):
    ``rows``' columns, then ``table``'s others.

    Spark builds a broadcast of several or non-integral join keys as a byte-keyed hash map;
    one long key gets a map keyed by that long, quicker to build and probe (the probe of
    the 10M-row history: 1.9-2.2 s against 2.5-3.0 s on string keys). So the table carries
    the 64-bit hash of ``on`` as its key, and the exact equality of ``on`` is checked on
    each hash match (wrapped so that Spark does not take it for a join key again)."""
    from pyspark.sql import functions as F

    types = [rows.schema[c].dataType for c in on]
    if _one_long(types) or not all(_hashable(t) for t in types):
        return rows.join(F.broadcast(table), list(on))
    alias = {c: f"__j{i}" for i, c in enumerate(on)}
    hashed = f"xxhash64({sql_names(on)})"
    keyed = table.selectExpr(
        f"{hashed} AS __h",
        *[f"{sql_name(c)} AS {alias[c]}" if c in alias else sql_name(c) for c in table.columns],
    )
    # after the renaming above every name is on one side only
    same = " AND ".join(f"{sql_name(c)} = {alias[c]}" for c in on)
    joined = rows.join(F.broadcast(keyed), F.expr(f"{hashed} = __h AND coalesce({same}, false)"))
    rest = [c for c in table.columns if c not in alias]
    return joined.selectExpr(*[sql_name(c) for c in [*rows.columns, *rest]])


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
    wanted = times.select(
        *map(sql_name, keys), "__t", F.explode(F.array(here, here - 1)).alias("__b")
    )
    feats = features.select(
        *map(sql_name, keys),
        col(feature_time).alias("__ft"),
        _bucket(col(feature_time), age).alias("__b"),
        F.expr(_latest_value(feature_time, carried)).alias("__m"),
    )
    pairs = _probe(feats, wanted, [*keys, "__b"]).where(_known(age))
    return _join_latest(spine, pairs, keys, spine_time, feature_time, carried, prefix)


def _latest_value(feature_time: str, carried: Sequence[str]) -> str:
    """What a spine time keeps the greatest of (SQL): the feature time first, then the
    values (ties resolve as in the sort strategy)."""
    rest = sql_names(c for c in carried if c != feature_time)
    return f"struct({sql_name(feature_time)} AS __ft, struct({rest}) AS __f)"


def _known(age: Optional[int]) -> str:
    """A (feature row, spine time) pair's feature row is known at the time (and fresh)."""
    known = "__ft <= __t"
    if age is None:
        return known
    return f"{known} AND unix_micros(__ft) > unix_micros(__t) - {int(age)}"


def _join_latest(
    spine: DataFrame,
    pairs: DataFrame,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
    carried: Sequence[str],
    prefix: str,
) -> DataFrame:
    """Each spine row with the greatest ``__m`` of its (keys, time)'s ``pairs``.

    The picked rows leave their shuffle partitioned by (keys, time), so a sort-merge join
    back shuffles only the spine. Broadcasting them instead made the driver collect and
    hash every picked row before the spine's scan could start: at 10M feature rows and
    500k spine rows, medians of 5, 4.69 s against 4.43 s (docs/features.md)."""
    # the first row of each spine time by a row number: Spark keeps each map partition's
    # first row before the shuffle (a window group limit), cheaper than a sort aggregate
    names = [sql_name(k) for k in keys]
    by = f"{sql_names(keys)}, __t"
    # renamed after the filter: a rename below the window would hide the picks'
    # partitioning from the join back, which would shuffle them again
    best = (
        pairs.selectExpr(
            *names,
            "__t",
            "__m",
            f"row_number() OVER (PARTITION BY {by} ORDER BY __m DESC) AS __rn",
        )
        .where("__rn = 1")
        .selectExpr(*[f"{k} AS __k{i}" for i, k in enumerate(names)], "__t", "__m")
    )
    same = [spine[sql_name(k)] == best[f"__k{i}"] for i, k in enumerate(keys)]
    joined = spine.join(best, [*same, spine[sql_name(spine_time)] == best["__t"]], "left")
    # spine columns by reference (a spine may hold a column named like one of best's),
    # then the picked fields by name, from the only struct left
    kept = joined.select(*[spine[sql_name(c)] for c in spine.columns], best["__m"].alias("__m"))
    return kept.selectExpr(
        *[sql_name(c) for c in spine.columns],
        *[f"{_field(c, feature_time)} AS {sql_name(prefix + c)}" for c in carried],
    )


def _field(name: str, feature_time: str) -> str:
    """Feature column ``name`` of the greatest ``__m`` (see _latest_value), as SQL."""
    return "__m.__ft" if name == feature_time else f"__m.__f.{sql_name(name)}"


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
    result: the sort); when they hold half the spine rows or more, the whole join does.
    ``stats``: ``spine_stats`` by keys, when the caller has it (else this runs that job).
    """
    from pyspark.sql import functions as F

    times = spine_times(spine, keys, spine_time)
    busy = None
    stats = stats or spine_stats(spine, keys, spine_time)
    in_crowded, total = stats.crowded_rows, stats.rows
    if in_crowded and 2 * in_crowded >= total:  # mostly crowded: all of it goes there
        return crowded(spine, features)
    if in_crowded:
        many = _per_key(times, keys).where(_crowded()).select(*map(sql_name, keys))
        times = times.join(F.broadcast(many), list(keys), "left_anti")
        busy = crowded(
            spine.join(F.broadcast(many), list(keys), "left_semi"),
            features.join(F.broadcast(many), list(keys), "left_semi"),
        )
        spine = spine.join(F.broadcast(many), list(keys), "left_anti")
    feats = features.selectExpr(
        *map(sql_name, keys),
        f"{sql_name(feature_time)} AS __ft",
        f"{_latest_value(feature_time, carried)} AS __m",
    )
    pairs = _probe(feats, times, keys).where(_known(age))
    joined = _join_latest(spine, pairs, keys, spine_time, feature_time, carried, prefix)
    return joined if busy is None else joined.unionByName(busy)
