"""Aggregation specs for windowed features, and window strings.

An :class:`Agg` says what to aggregate (``kind``, source ``column``, optional
``where`` filter) and names the output (``<name>_<window>``). Each kind knows
its *partial states*: the per key and day columns that can be stored and merged
across days, and how to combine them over a window of days.

Example::

    from pyspark.sql import functions as F
    aggs = [
        Agg.count("purchases", where=F.col("event_type") == "purchase"),
        Agg.sum("spend", "amount"),
        Agg.count_distinct("items", "item_id"),
    ]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, Union

from featurekit.errors import ConfigError, UnsupportedError
from featurekit.features._checks import col

if TYPE_CHECKING:
    from pyspark.sql import Column, WindowSpec
    from pyspark.sql.types import DataType

# How a combine expression is evaluated: ``.over(window)``, or as a groupBy aggregate.
Over = Callable[["Column"], "Column"]
# The sum of a per-row expression over the window of daily partial rows (null when the
# window holds no non-null value): ``w(F.sum(e))``, or a difference of running sums.
Total = Callable[["Column"], "Column"]

# A filter: a Column, or a SQL expression string (usable at import time, before any session).
Where = Union["Column", str]

# kind -> the partial states it keeps (column suffixes after "<name>__").
STATES: dict[str, tuple[str, ...]] = {
    "count": ("count",),
    "sum": ("sum",),
    "mean": ("n", "sum"),
    "min": ("min",),
    "max": ("max",),
    "variance": ("n", "sum", "m2"),
    "stddev": ("n", "sum", "m2"),
    "first": ("first",),
    "last": ("last",),
    "count_distinct": ("set",),
    "approx_count_distinct": ("hll",),
}
NUMERIC_KINDS = ("sum", "mean", "variance", "stddev")
# Kinds whose window sums are taken about a point of the key's own (shift_state).
SHIFTED_KINDS = ("variance", "stddev")
_WINDOW = re.compile(r"^\s*(\d+)\s*([dwh])\s*$")
_UNIT_HOURS = {"d": 24, "w": 24 * 7, "h": 1}


def parse_window(window: str) -> int:
    """The number of whole days in a window string: ``"7d"`` -> 7, ``"2w"`` -> 14, ``"48h"`` -> 2.

    >>> parse_window("30d")
    30
    """
    match = _WINDOW.match(window) if isinstance(window, str) else None
    if not match:
        raise ConfigError(
            f"Window {window!r} is not understood; write a whole number of days like '1d', '7d', "
            "'30d' (or weeks '2w', or hours that make whole days '48h')."
        )
    hours = int(match.group(1)) * _UNIT_HOURS[match.group(2)]
    if hours == 0 or hours % 24:
        raise ConfigError(
            f"Window {window!r} is not a whole, positive number of days; windowed features are "
            "computed from daily partial aggregates, so use e.g. '1d', '7d', '30d'."
        )
    return hours // 24


def window_label(days: int) -> str:
    """The suffix of output columns for a window of ``days``: ``7`` -> ``"7d"``."""
    return f"{days}d"


@dataclass(frozen=True, eq=False)
class Agg:
    """One aggregation: ``kind`` of ``column`` (rows matching ``where``), named ``<name>_<window>``.

    Build with the class methods: ``Agg.count``, ``sum``, ``mean``, ``min``, ``max``,
    ``stddev``, ``variance``, ``first``, ``last``, ``count_distinct``,
    ``approx_count_distinct``. ``where`` is a Column or a SQL string such as
    ``"event_type = 'purchase'"`` (strings need no SparkSession, so module-level
    specs can use them). ``first``/``last`` take the value at the earliest/latest
    event time (nulls skipped; on equal times the smallest/largest value).
    Names are column names taken as they are, dots, spaces and backticks included.
    """

    kind: str
    name: str
    column: Optional[str] = None
    where: Optional[Where] = None

    def __post_init__(self) -> None:
        if self.kind not in STATES:
            raise UnsupportedError(
                f"Aggregation kind {self.kind!r} is not supported; use one of {sorted(STATES)}."
            )
        # any column name will do (``user.id``, ``spend 7d``): it is never parsed
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"Aggregation name {self.name!r} must be a non-empty string.")
        if self.column is None and self.kind != "count":
            raise ConfigError(f"Agg.{self.kind}({self.name!r}) needs a source column.")

    @classmethod
    def count(
        cls, name: str, column: Optional[str] = None, *, where: Optional[Where] = None
    ) -> Agg:
        """Rows (or non-null values of ``column``) matching ``where``."""
        return cls("count", name, column, where)

    @classmethod
    def sum(cls, name: str, column: str, *, where: Optional[Where] = None) -> Agg:
        """Sum of ``column``; null when the window has no value."""
        return cls("sum", name, column, where)

    @classmethod
    def mean(cls, name: str, column: str, *, where: Optional[Where] = None) -> Agg:
        return cls("mean", name, column, where)

    @classmethod
    def min(cls, name: str, column: str, *, where: Optional[Where] = None) -> Agg:
        return cls("min", name, column, where)

    @classmethod
    def max(cls, name: str, column: str, *, where: Optional[Where] = None) -> Agg:
        return cls("max", name, column, where)

    @classmethod
    def stddev(cls, name: str, column: str, *, where: Optional[Where] = None) -> Agg:
        """Sample standard deviation (null for fewer than two values)."""
        return cls("stddev", name, column, where)

    @classmethod
    def variance(cls, name: str, column: str, *, where: Optional[Where] = None) -> Agg:
        """Sample variance (null for fewer than two values)."""
        return cls("variance", name, column, where)

    @classmethod
    def first(cls, name: str, column: str, *, where: Optional[Where] = None) -> Agg:
        return cls("first", name, column, where)

    @classmethod
    def last(cls, name: str, column: str, *, where: Optional[Where] = None) -> Agg:
        return cls("last", name, column, where)

    @classmethod
    def count_distinct(cls, name: str, column: str, *, where: Optional[Where] = None) -> Agg:
        """Exact number of distinct non-null values (keeps the daily sets)."""
        return cls("count_distinct", name, column, where)

    @classmethod
    def approx_count_distinct(cls, name: str, column: str, *, where: Optional[Where] = None) -> Agg:
        """Approximate distinct count from mergeable HLL sketches (Spark 3.5+)."""
        return cls("approx_count_distinct", name, column, where)

    def state_columns(self) -> list[str]:
        """Names of this aggregation's partial-state columns."""
        return [f"{self.name}__{s}" for s in STATES[self.kind]]

    # -- stage 1: per key and day ------------------------------------------------------
    def partials(self, timestamp: str, dtype: Optional[DataType] = None) -> list[Column]:
        """Aggregate expressions of the partial states, aliased to ``state_columns()``.
        ``dtype``: the column's type, when known (a float set normalises ``-0.0``)."""
        from pyspark.sql import functions as F

        value = col(self.column) if self.column else F.lit(1)
        if self.where is not None:
            cond = F.expr(self.where) if isinstance(self.where, str) else self.where
            value = F.when(cond, value)
        exprs = _partial_exprs(self.kind, value, col(timestamp), dtype)
        return [e.alias(n) for e, n in zip(exprs, self.state_columns())]

    # -- stage 2: over a window of days --------------------------------------------------
    def combine(
        self,
        window: Optional[WindowSpec],
        states: Optional[dict[str, str]] = None,
        total: Optional[Total] = None,
        over: Optional[Over] = None,
    ) -> Column:
        """The feature value over ``window`` (a frame of daily partial rows), or, with
        ``window=None``, as a groupBy aggregate; ``states`` renames the state columns.
        ``total`` (additive kinds only: see :data:`ADDITIVE`) replaces the windowed
        ``sum`` of an expression, e.g. by a difference of running sums; ``over``
        replaces ``.over(window)`` of the other kinds' aggregates (e.g. by a column
        computed beside the running sums)."""
        from pyspark.sql import functions as F

        names = states or {s: f"{self.name}__{s}" for s in STATES[self.kind]}
        if over is None:
            over = (lambda c: c.over(window)) if window is not None else (lambda c: c)
        if total is None:
            total = lambda e: over(F.sum(e))  # noqa: E731
        if self.kind in ADDITIVE:
            return _ADDITIVE_COMBINE[self.kind](names, total)
        return _COMBINE[self.kind](names, over)


def _partial_exprs(
    kind: str, value: Column, ts: Column, dtype: Optional[DataType] = None
) -> list[Column]:
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, FloatType

    if kind in ("count", "sum", "min", "max"):
        fn: Callable[[Column], Column] = getattr(F, kind)
        return [fn(value)]
    if kind == "mean":
        return [F.count(value), F.sum(value)]
    if kind in ("variance", "stddev"):
        num = value.cast("double")
        return [F.count(num), F.sum(num), F.var_pop(num) * F.count(num)]
    if kind in ("first", "last"):
        pair = F.when(value.isNotNull(), F.struct(ts.alias("t"), value.alias("v")))
        return [F.min(pair) if kind == "first" else F.max(pair)]
    if kind == "count_distinct":
        if isinstance(dtype, (DoubleType, FloatType)):
            # -0.0 and 0.0 are one value to count(DISTINCT) (Spark normalises them), but
            # two to array_distinct, which unions the days' sets: the set keeps 0.0 only
            value = F.when(value == 0, F.lit(0).cast(dtype)).otherwise(value)
        return [F.collect_set(value)]
    return [_hll("hll_sketch_agg")(value)]


def _hll(name: str) -> Callable[..., Column]:
    from pyspark.sql import functions as F

    fn = getattr(F, name, None)
    if fn is None:
        raise UnsupportedError(
            "approx_count_distinct needs Spark 3.5+ (hll_sketch_agg / hll_union_agg); "
            "use Agg.count_distinct on older Spark."
        )
    return fn  # type: ignore[no-any-return]


def _combine_count(s: dict[str, str], total: Total) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(total(col(s["count"])), F.lit(0)).cast("bigint")


def _combine_sum(s: dict[str, str], total: Total) -> Column:
    return total(col(s["sum"]))


def _combine_simple(fn_name: str, state: str) -> Callable[[dict[str, str], Over], Column]:
    def combine(s: dict[str, str], w: Over) -> Column:
        from pyspark.sql import functions as F

        fn: Callable[[Column], Column] = getattr(F, fn_name)
        return w(fn(col(s[state])))

    return combine


def _combine_mean(s: dict[str, str], total: Total) -> Column:
    from pyspark.sql import functions as F

    n = total(col(s["n"]))
    return F.when(n > 0, total(col(s["sum"])).cast("double") / n)


def _combine_variance(s: dict[str, str], total: Total) -> Column:
    """The sample variance from the days' (n, sum, m2): the sum of squares about a point
    ``c``, rebuilt from each day's own spread (m2) and mean, less the window mean's part.
    Its rounding error is about 2**-53 times that sum of squares, so ``c`` far from the
    values (0 for prices near 1e9 that differ by cents) leaves nothing of the spread.
    ``c`` is the ``shift`` state when given (a value of the key's own, the same on every
    row of a key: :func:`shift_state`), else 0."""
    from pyspark.sql import functions as F

    n, day_sum, m2 = col(s["n"]), col(s["sum"]), col(s["m2"])
    big_n = total(n)
    deviation = day_sum - n * col(s["shift"]) if "shift" in s else day_sum
    squares = total(F.when(n > 0, m2 + deviation * deviation / n))
    big_s = total(deviation)
    var = (squares - big_s * big_s / big_n) / (big_n - 1)
    return F.when(big_n > 1, F.greatest(var, F.lit(0.0)))


def shift_state(agg: Agg, whole: WindowSpec) -> Optional[Column]:
    """For the SHIFTED_KINDS, the point ``c`` of :func:`_combine_variance` for a key, from
    its partial rows (``whole``: all of them, ordered by day): the mean of its earliest
    day with values when its days' means, lowest to highest, span no more than
    ``min(|lowest|, |highest|)`` (then no day's mean is farther from ``c`` than from 0,
    so no window's sum of squares grows), else 0, as before shifts. None for other kinds."""
    from pyspark.sql import functions as F

    if agg.kind not in SHIFTED_KINDS:
        return None
    n, day_sum = (col(c) for c in agg.state_columns()[:2])
    mean = F.when(n > 0, day_sum / n)
    first = F.first(mean, ignorenulls=True).over(whole)
    low, high = F.min(mean).over(whole), F.max(mean).over(whole)
    banded = (high - low) <= F.least(F.abs(low), F.abs(high))
    return F.when(banded, first).otherwise(F.lit(0.0))


def _combine_stddev(s: dict[str, str], total: Total) -> Column:
    from pyspark.sql import functions as F

    return F.sqrt(_combine_variance(s, total))


def _combine_pick(fn_name: str, state: str) -> Callable[[dict[str, str], Over], Column]:
    def combine(s: dict[str, str], w: Over) -> Column:
        from pyspark.sql import functions as F

        fn: Callable[[Column], Column] = getattr(F, fn_name)
        return w(fn(col(s[state]))).getField("v")

    return combine


def _combine_distinct(s: dict[str, str], w: Over) -> Column:
    from pyspark.sql import functions as F

    sets = w(F.collect_list(col(s["set"])))
    return F.size(F.array_distinct(F.flatten(sets))).cast("bigint")


def _combine_hll(s: dict[str, str], w: Over) -> Column:
    from pyspark.sql import functions as F

    union = w(_hll("hll_union_agg")(col(s["hll"])))
    return F.coalesce(_hll("hll_sketch_estimate")(union), F.lit(0)).cast("bigint")


# Kinds whose value is a function of window sums only (of their states or expressions
# of them): combinable from running sums, in one pass whatever the window's length.
_ADDITIVE_COMBINE: dict[str, Callable[[dict[str, str], Total], Column]] = {
    "count": _combine_count,
    "sum": _combine_sum,
    "mean": _combine_mean,
    "variance": _combine_variance,
    "stddev": _combine_stddev,
}
ADDITIVE = tuple(_ADDITIVE_COMBINE)
_COMBINE: dict[str, Callable[[dict[str, str], Over], Column]] = {
    "min": _combine_simple("min", "min"),
    "max": _combine_simple("max", "max"),
    "first": _combine_pick("min", "first"),
    "last": _combine_pick("max", "last"),
    "count_distinct": _combine_distinct,
    "approx_count_distinct": _combine_hll,
}
