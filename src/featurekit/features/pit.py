"""Point-in-time (as-of) join: each spine row gets the latest feature row known at its time.

Three strategies, one result:

* ``sort`` (any lookback): spine and feature rows are unioned, tagged, partitioned
  by the keys and ordered by time (features before spine rows at the same
  instant); each spine row takes the last feature row seen so far. One shuffle of
  both sides, one sort, no join of every spine row with every earlier feature row.
* ``range`` (any lookback): the spine's (keys, time) are broadcast and each feature
  row pairs, in one scan and without a shuffle of the history, with the spine times
  of its key at or after it (and within ``max_age``); each spine time keeps its
  greatest pair, which Spark finds with a per-partition first row before the
  shuffle. Keys with more than ``RANGE_MAX_SPINE_TIMES`` spine rows (one small job
  over the spine finds them) go to ``sort`` instead, so no feature row pairs with
  more than that many times; when they hold half the spine rows or more, the whole
  join is sorted.
* ``bucket`` (needs ``max_age``): time is cut into buckets of ``max_age``, so a
  spine row's candidates lie in its own bucket or the one before. The spine's
  (keys, time, bucket) rows are broadcast and the feature rows stream past them
  without being shuffled; each spine row keeps its greatest candidate. Work is
  bounded by the rows inside ``max_age``, never by the length of the history.
  The broadcast strategies live in ``featurekit.features._pit_broadcast``.

``strategy="auto"`` (``choose_strategy`` says which) sorts when Spark's size estimate
of the spine's (keys, time) columns is over ``SORT_ABOVE_SPINE_SHARE`` of the features',
or over ``BROADCAST_SPINE_BYTES`` as broadcast, and when there is no estimate. Otherwise,
with ``max_age``, ``bucket`` (it pairs a feature row with two buckets' spine times only,
however many its key has). Without, it sorts feature rows under
``SORT_BELOW_FEATURE_BYTES``, and above, one small job counts the spine's rows per key:
with more than ``DENSE_SPINE_ROWS`` on average each feature row would pair with that many
spine times, and it sorts, else ``range`` (which sorts keys with many spine rows itself,
from the same job's counts). The thresholds are the crossovers ``benchmarks/bench_pit.py``
measured.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping, Sequence
from typing import TYPE_CHECKING, Optional, Union

from featurekit.errors import ConfigError
from featurekit.features._checks import (
    any_null,
    as_tuple,
    col,
    require_columns,
    require_timestamp,
    require_unique,
    sql_name,
    sql_names,
)
from featurekit.features._pit_broadcast import SpineStats, bucketed, ranged, spine_stats
from featurekit.features.aggs import parse_window

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

NULL_FEATURE_KEY_COUNTER = "null_key_feature_rows"
MaxAge = Union[dt.timedelta, str]
STRATEGIES = ("auto", "sort", "bucket", "range")
# Largest estimated spine (keys and time only) broadcast by strategy="auto".
BROADCAST_SPINE_BYTES = 64 * 1024 * 1024
# Below this estimated size of the feature rows, auto sorts when there is no max_age: the
# spine count range needs (one small job, ~0.1 s) costs what it saves. Measured: at 300k
# rows (2 MB) the sort tied range at 10 rows per key, and the count then the sort lost
# 0.1 s at 1,000; at 1M (7 MB) range won by 20% at 10 rows per key, the count cost 7% at
# 1,000 (docs/features.md). With max_age, bucket needs no count: it tied or beat the best
# baseline from 1M rows up, no slower than the sort at 300k.
SORT_BELOW_FEATURE_BYTES = 4 * 1024 * 1024
# Above this ratio of the spine's estimated size to the features', auto sorts without
# counting the spine's rows per key first: a spine that large next to its features pairs
# each feature row with several spine times (measured on the benchmark's tables: ratios of
# 0.07-0.09 at 5% labels per feature row, where range and bucket won, 0.7-0.9 at 50%,
# where the sort won by 1.9x; docs/features.md).
SORT_ABOVE_SPINE_SHARE = 0.25


def _max_age_micros(max_age: Optional[MaxAge]) -> Optional[int]:
    if max_age is None:
        return None
    if isinstance(max_age, str):
        return parse_window(max_age) * 86_400_000_000
    if not isinstance(max_age, dt.timedelta) or max_age <= dt.timedelta(0):
        raise ConfigError(
            f"max_age must be a positive timedelta or a window like '7d', not {max_age!r}."
        )
    return max_age // dt.timedelta(microseconds=1)


def _check(
    spine: DataFrame,
    features: DataFrame,
    keys: tuple[str, ...],
    spine_time: str,
    feature_time: str,
    prefix: str,
) -> list[str]:
    """Validate (schemas only); return the feature columns carried over."""
    from pyspark.sql.types import MapType

    what = "point_in_time_join"
    require_columns(spine, keys, f"{what} (spine)")
    require_columns(features, keys, f"{what} (features)")
    require_timestamp(spine, spine_time, f"{what} (spine)")
    require_timestamp(features, feature_time, f"{what} (features)")
    for key in keys:
        left, right = spine.schema[key].dataType, features.schema[key].dataType
        if left != right:
            raise ConfigError(
                f"{what}: key {key!r} is {left.simpleString()} in the spine but "
                f"{right.simpleString()} in the features; cast one side."
            )
    carried = [c for c in features.columns if c not in keys]
    maps = [c for c in carried if isinstance(features.schema[c].dataType, MapType)]
    if maps:
        raise ConfigError(f"{what}: map columns {maps} cannot be ordered for ties; drop them.")
    require_unique([*spine.columns, *[prefix + c for c in carried]], what)
    return carried


def point_in_time_join(
    spine: DataFrame,
    features: DataFrame,
    *,
    keys: str | Sequence[str],
    spine_time: str,
    feature_time: str,
    max_age: Optional[MaxAge] = None,
    prefix: Optional[str] = None,
    counters: Optional[MutableMapping[str, int]] = None,
    strategy: str = "auto",
) -> DataFrame:
    """Every spine row, plus the feature row with the same keys and the greatest
    ``feature_time <= spine_time`` (and ``> spine_time - max_age`` when given).

    Output: the spine's columns, then the features' non-key columns (including
    ``feature_time``) renamed ``prefix + name``; nulls where no feature row qualifies.
    Ties (same keys and feature_time) resolve deterministically to the row whose
    values, compared column by column, are greatest. Feature rows with a null key
    or time never match (counted into ``counters`` when given: one extra job).
    ``strategy``: ``"sort"``, ``"range"``, ``"bucket"`` (needs ``max_age``) or
    ``"auto"``; see the module docstring. Every strategy gives the same rows.

    >>> point_in_time_join(labels, daily, keys="user_id", spine_time="label_time",
    ...                    feature_time="feature_ts", max_age="1d")  # doctest: +SKIP
    """
    keys = as_tuple(keys, "point_in_time_join")
    prefix = prefix or ""
    carried = _check(spine, features, keys, spine_time, feature_time, prefix)
    age = _max_age_micros(max_age)
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"point_in_time_join: strategy must be one of {STRATEGIES}, not {strategy!r}."
        )
    if strategy == "bucket" and age is None:
        raise ConfigError("point_in_time_join: strategy='bucket' needs max_age (its bucket width).")
    bad = any_null(keys) | col(feature_time).isNull()
    if counters is not None:
        counters[NULL_FEATURE_KEY_COUNTER] = (
            counters.get(NULL_FEATURE_KEY_COUNTER, 0) + features.where(bad).count()
        )
    usable = features.where(~bad)
    stats = None
    if strategy == "auto":
        strategy, stats = _choose(spine, features, keys, spine_time, age)
    if strategy == "bucket" and age is not None:
        return bucketed(spine, usable, keys, spine_time, feature_time, carried, age, prefix)
    names = (keys, spine_time, feature_time, carried, age, prefix)
    if strategy == "range":
        return ranged(
            spine, usable, *names, crowded=lambda s, f: _sorted(s, f, *names), stats=stats
        )
    return _sorted(spine, usable, *names)


def _sorted(
    spine: DataFrame,
    usable: DataFrame,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
    carried: Sequence[str],
    age: Optional[int],
    prefix: str,
) -> DataFrame:
    """The ``sort`` strategy."""
    picked = _latest_known(spine, usable, keys, spine_time, feature_time, carried)
    fresh = "__m IS NOT NULL"
    if age is not None:
        fresh += f" AND unix_micros(__m.{sql_name(feature_time)}) > unix_micros(__t) - {int(age)}"
    return picked.where("__tag = 1").selectExpr(
        *[f"__s.{sql_name(c)} AS {sql_name(c)}" for c in spine.columns],
        *[
            f"CASE WHEN {fresh} THEN __m.{sql_name(c)} END AS {sql_name(prefix + c)}"
            for c in carried
        ],
    )


def choose_strategy(
    spine: DataFrame,
    features: DataFrame,
    *,
    keys: str | Sequence[str],
    spine_time: str,
    feature_time: str,
    max_age: Optional[MaxAge] = None,
) -> str:
    """The strategy ``strategy="auto"`` runs for these inputs (at most one small Spark
    job, over the spine's keys and times, as ``auto`` runs it)."""
    del feature_time  # part of the call's shape; the choice does not read it
    keys = as_tuple(keys, "choose_strategy")
    return _choose(spine, features, keys, spine_time, _max_age_micros(max_age))[0]


def _choose(
    spine: DataFrame,
    features: DataFrame,
    keys: Sequence[str],
    spine_time: str,
    age: Optional[int],
) -> tuple[str, Optional[SpineStats]]:
    """``auto``'s pick (see the module docstring), with the spine's stats when it ran
    the job that counts them."""
    spine_bytes = _estimate(spine.select(*map(sql_name, (*keys, spine_time))))
    feature_bytes = _estimate(features)
    if spine_bytes is None or feature_bytes is None:
        return "sort", None
    if spine_bytes > SORT_ABOVE_SPINE_SHARE * feature_bytes:
        return "sort", None
    if age is not None:  # bucket broadcasts two rows per spine time (its two buckets)
        return ("sort" if 2 * spine_bytes > BROADCAST_SPINE_BYTES else "bucket"), None
    if spine_bytes > BROADCAST_SPINE_BYTES or feature_bytes < SORT_BELOW_FEATURE_BYTES:
        return "sort", None
    # range pairs each feature row with its key's spine times at or after it: with few per
    # key it wins (crowded keys go to the sort, from the same job's counts); a dense spine
    # makes too many pairs
    stats = spine_stats(spine, keys, spine_time)
    return ("sort", None) if stats.dense else ("range", stats)


def _latest_known(
    spine: DataFrame,
    features: DataFrame,
    keys: Sequence[str],
    spine_time: str,
    feature_time: str,
    carried: Sequence[str],
) -> DataFrame:
    """Rows (__t, __s spine struct, __tag, __m latest feature struct so far) of the union."""
    by = sql_names(keys)
    left = spine.selectExpr(
        *map(sql_name, keys),
        f"{sql_name(spine_time)} AS __t",
        "1 AS __tag",
        f"struct({sql_names(spine.columns)}) AS __s",
    )
    right = features.selectExpr(
        *map(sql_name, keys),
        f"{sql_name(feature_time)} AS __t",
        "0 AS __tag",
        f"struct({sql_names(carried)}) AS __f",
    )
    # each side gets the other's struct as a typed null; features before spine rows at
    # equal times, equal-time features ordered by value
    seen = f"PARTITION BY {by} ORDER BY __t, __tag, __f ROWS UNBOUNDED PRECEDING"
    return left.unionByName(right, allowMissingColumns=True).selectExpr(
        "__t", "__s", "__tag", f"last(__f, true) OVER ({seen}) AS __m"
    )


def _estimate(df: DataFrame) -> Optional[int]:
    """Spark's size estimate of ``df`` in bytes, or None where it has none."""
    try:
        return int(str(df._jdf.queryExecution().optimizedPlan().stats().sizeInBytes()))
    except Exception:  # no estimate (e.g. a Spark Connect session): the caller sorts
        return None
