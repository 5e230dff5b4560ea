"""Window sums as differences of running sums: one sorted pass per key for every window.

A window of N days on date D sums the daily rows of D - N < day <= D, which is the
running sum up to D minus the running sum up to D - N. Spark computes both with
growing frames (``UNBOUNDED PRECEDING`` to the current row, or to N days before it),
each adding a row once, so the cost does not depend on N, while a sliding frame
re-adds the whole window on every row (cost grows with N).

Exactness:

* integral expressions (counts, ``n`` states): long running sums, exact;
  a long ``sum`` state is summed as ``decimal(38,0)``, so no running total can
  overflow where the window's own sum would not;
* doubles: a difference of two large running sums would lose the low bits of a small
  window (cancellation), so each running sum carries its rounding error exactly
  (Knuth's two-sum, from the previous row's running sum), and the window is
  ``(hi(D) - hi(D-N)) + (lo(D) - lo(D-N))``: within an ulp or two of the exact sum,
  at least as close as the sliding frame's left-to-right sum, but not always the same
  last bit. NaN and infinities are counted apart (as IEEE addition would give them), so
  one infinite value does not spoil every later window;
* any other type (decimal states): the sliding frame, as before.

On a *dense* grid (a row for every day of a key from its first row on, save the days
after a gap longer than the longest window, over which no state changes) the running
sum N days back is the one N rows back: a ``lag``, which copies one value per row, in
the second Window operator over the same sort (the one adding the doubles' rounding
errors). Otherwise (days left out before a date range's start) it is a growing frame
bounded N days back by range, which compares day numbers on every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, WindowSpec

DAY = "__d"
# Per-row flags of a double's running count, packed in one long: the non-null values,
# NaNs, +inf and -inf, each below 2**15 in any window (one daily row per day).
_FIELD = 1 << 15
MAX_DAYS = _FIELD - 1


class RunningSums:
    """Collects every window column a combine asks for (:meth:`total`, :meth:`over`),
    then adds them all in one Window operator over one sort per key (:meth:`columns`)."""

    def __init__(
        self,
        rows: DataFrame,
        keys: Sequence[str],
        wide: Sequence[str] = (),
        *,
        doubles_from: int | None = None,
        dense: bool = False,
    ) -> None:
        """``rows``: keys, ``__d`` and states, one row per key and day; ``wide``: the
        integral ``sum`` states: their running sums are kept as ``decimal(38,0)`` (a
        running total of values could overflow a long; counts cannot) and their window
        sums are null without a value. Other integral sums (counts) are 0 then: each
        combine reads them as no rows (``coalesce``, ``n > 0``). Integral sums take
        running sums over any window (exact); double sums only over windows of
        ``doubles_from`` days or more (None: never), and up to ``MAX_DAYS``; the others
        a sliding frame. ``dense``: ``rows`` is a dense grid (module docstring), so a sum
        N days back is read N rows back."""
        from featurekit.features._checks import col

        self._rows = rows
        self._keys = list(keys)
        self._wide = {str(col(c)) for c in wide}
        self._doubles_from = doubles_from
        self._dense = dense
        self._kinds: dict[str, str] = {}
        self._exprs: dict[str, tuple[int, Column, str]] = {}
        self._lags: set[tuple[int, int]] = set()
        self._framed: dict[tuple[str, int], tuple[str, Column]] = {}

    def _window(self) -> WindowSpec:
        from pyspark.sql import Window

        return Window.partitionBy(*self._keys).orderBy(DAY)

    def _kind(self, expr: Column) -> str:
        from pyspark.sql.types import DoubleType, FloatType, IntegralType

        key = str(expr)
        if key not in self._kinds:
            dtype = self._rows.select(expr).schema[0].dataType
            if isinstance(dtype, (DoubleType, FloatType)):
                self._kinds[key] = "double"
            elif isinstance(dtype, IntegralType):
                self._kinds[key] = "wide" if key in self._wide else "long"
            else:
                self._kinds[key] = "other"
        return self._kinds[key]

    def _running(self, kind: str, days: int) -> bool:
        if kind in ("long", "wide"):
            return True
        doubles_from = self._doubles_from
        return kind == "double" and doubles_from is not None and doubles_from <= days <= MAX_DAYS

    def _frame(self, windowed: Column, key: str, days: int) -> Column:
        """``windowed`` (an aggregate over a sliding frame) as a column of :meth:`columns`."""
        from pyspark.sql import functions as F

        if (key, days) not in self._framed:
            name = f"__f{len(self._framed)}"
            self._framed[(key, days)] = (name, windowed.alias(name))
        return F.col(self._framed[(key, days)][0])

    def over(self, days: int, sliding: WindowSpec) -> Over:
        """The ``over`` of ``Agg.combine`` (non-additive kinds) for a window of ``days``."""
        return lambda agg: self._frame(agg.over(sliding), str(agg), days)

    def total(self, days: int, sliding: WindowSpec) -> TotalFn:
        """The ``total`` of ``Agg.combine`` for a window of ``days`` days."""

        def total(expr: Column) -> Column:
            from pyspark.sql import functions as F

            key, kind = str(expr), self._kind(expr)
            if days == 1 and kind != "other":
                return _own(expr, kind)
            if not self._running(kind, days):
                return self._frame(F.sum(expr).over(sliding), f"sum({key})", days)
            if key not in self._exprs:
                self._exprs[key] = (len(self._exprs), expr, kind)
            index = self._exprs[key][0]
            self._lags.add((index, days))
            return F.col(_v(index, days))

        return total

    def columns(self) -> DataFrame:
        """``rows`` with the window columns the collected totals and frames read."""
        framed = [c for _, c in self._framed.values()]
        names = [n for n, _ in self._framed.values()]
        x = {i: _x(i) for i, _, _ in self._exprs.values()}
        base = self._rows.select("*", *[e.alias(x[i]) for i, e, _ in self._exprs.values()])
        first, second = self._running_columns()
        staged = base.select("*", *first, *framed)
        if second:  # rounding errors, lags: a second pass, over the same sort
            staged = staged.select("*", *second)
        kept = [*_quoted(self._rows), *names]
        # the window's count code and finite sum once each, then the values read them
        pairs = [
            (i, n, kind)
            for i, _, kind in self._exprs.values()
            for n in sorted(n for j, n in self._lags if j == i)
        ]
        parts = [c for i, n, kind in pairs for c in _parts(i, n, kind)]
        staged = staged.select(*kept, *parts)
        values = [_value(i, n, kind).alias(_v(i, n)) for i, n, kind in pairs]
        return staged.select(*kept, *values)

    def _running_columns(self) -> tuple[list[Column], list[Column]]:
        """The running sums (one pass), then the doubles' running rounding errors and, on
        a dense grid, the sums N days back as ``lag`` (a second pass, over the same sort)."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        by_key = self._window()
        # one row per key and day (the grid's), so a rows frame ends on the day itself
        rows_run = by_key.rowsBetween(Window.unboundedPreceding, Window.currentRow)
        before = by_key.rowsBetween(Window.unboundedPreceding, -1)

        def upto(days: int) -> WindowSpec:
            if self._dense:  # N days back is N rows back
                return by_key.rowsBetween(Window.unboundedPreceding, -days)
            return by_key.rangeBetween(Window.unboundedPreceding, -days)

        first: list[Column] = []
        second: list[Column] = []

        def running(total: Column, name: str, then: Callable[[int], str], lags: list[int]) -> None:
            """``total`` over the running frame as ``name``, and its values N days back."""
            first.append(total.over(rows_run).alias(name))
            if self._dense:
                second.extend(F.lag(F.col(name), n).over(by_key).alias(then(n)) for n in lags)
            else:
                first.extend(total.over(upto(n)).alias(then(n)) for n in lags)

        for i, _, kind in self._exprs.values():
            lags = sorted(n for j, n in self._lags if j == i)
            value = F.col(_x(i))
            if kind != "double":
                wide = value.cast("decimal(38,0)") if kind == "wide" else value
                running(F.sum(wide), _hi(i), partial(_hi, i), lags)
                if kind == "wide":
                    running(F.count(value), _code(i), partial(_code, i), lags)
                continue
            finite = F.when(value - value == 0, value.cast("double"))
            nan, inf = F.isnan(value), value.isNotNull() & (value - value != 0)
            code = (
                F.when(value.isNull(), F.lit(0))
                .when(nan, F.lit(1 + _FIELD))
                .when(inf & (value > 0), F.lit(1 + _FIELD**2))
                .when(inf, F.lit(1 + _FIELD**3))
                .otherwise(F.lit(1))
                .cast("bigint")
            )
            running(F.sum(finite), _hi(i), partial(_hi, i), lags)
            running(F.sum(code), _code(i), partial(_code, i), lags)
            first.append(F.sum(finite).over(before).alias(_prev(i)))
            # the rounding error of hi = prev + finite, exactly (two-sum)
            a, b, s = F.coalesce(F.col(_prev(i)), F.lit(0.0)), finite, F.col(_hi(i))
            bb = s - a
            err = F.when(finite.isNotNull(), (a - (s - bb)) + (b - bb))
            second.append(F.sum(err).over(rows_run).alias(_lo(i)))
            second += [F.sum(err).over(upto(n)).alias(_lo(i, n)) for n in lags]
        return first, second


def _own(expr: Column, kind: str) -> Column:
    """The sum over a window of one day: the day's own row (one row per key and day),
    as Spark's ``sum`` of that one value gives it (``0 + x``: a double -0.0 sums to 0.0)."""
    from pyspark.sql import functions as F

    if kind == "long":  # a count: 0 without rows
        return F.coalesce(expr, F.lit(0))
    if kind == "wide":
        return expr.cast("bigint")
    return F.lit(0.0) + expr.cast("double")


def _quoted(df: DataFrame) -> list[str]:
    from featurekit.features._checks import sql_name

    return [sql_name(c) for c in df.columns]


def _v(i: int, n: int) -> str:
    return f"__v{i}_{n}"


def _x(i: int) -> str:
    return f"__x{i}"


def _hi(i: int, n: int = 0) -> str:
    return f"__hi{i}_{n}"


def _lo(i: int, n: int = 0) -> str:
    return f"__lo{i}_{n}"


def _code(i: int, n: int = 0) -> str:
    return f"__c{i}_{n}"


def _prev(i: int) -> str:
    return f"__p{i}"


def _diff(name_now: str, name_then: str) -> Column:
    from pyspark.sql import functions as F

    return F.col(name_now) - F.coalesce(F.col(name_then), F.lit(0))


def _parts(index: int, days: int, kind: str) -> list[Column]:
    """Per window: the sum of the values (``__s``) and of their count codes (``__k``)."""
    from pyspark.sql import functions as F

    total = _diff(_hi(index), _hi(index, days))
    if kind == "double":
        total = F.coalesce(total, F.lit(0.0)) + F.coalesce(
            _diff(_lo(index), _lo(index, days)), F.lit(0.0)
        )
    out = [total.alias(f"__s{index}_{days}")]
    if kind != "long":
        code = F.coalesce(F.col(_code(index)), F.lit(0)) - F.coalesce(
            F.col(_code(index, days)), F.lit(0)
        )
        out.append(code.alias(f"__k{index}_{days}"))
    return out


def _value(index: int, days: int, kind: str) -> Column:
    """The sum over ``days`` days from :func:`_parts`; null without a value."""
    from pyspark.sql import functions as F

    total, code = F.col(f"__s{index}_{days}"), F.col(f"__k{index}_{days}")
    if kind == "long":  # a count: 0 without rows
        return F.coalesce(total, F.lit(0))
    if kind == "wide":  # a sum of integral values is a long, as Spark's sum gives
        return F.when(code > 0, total.cast("bigint"))

    def field(k: int) -> Column:
        return F.shiftright(code, 15 * k).bitwiseAND(_FIELD - 1)

    nans, pos, neg = field(1), field(2), field(3)
    return (
        F.when(field(0) == 0, F.lit(None).cast("double"))
        .when((nans > 0) | ((pos > 0) & (neg > 0)), F.lit(float("nan")))
        .when(pos > 0, F.lit(float("inf")))
        .when(neg > 0, F.lit(float("-inf")))
        .otherwise(total)
    )


if TYPE_CHECKING:
    from featurekit.features.aggs import Over
    from featurekit.features.aggs import Total as TotalFn
