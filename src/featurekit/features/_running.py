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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, WindowSpec

DAY = "__d"
# Per-row flags of a double's running count, packed in one long: the non-null values,
# NaNs, +inf and -inf, each below 2**15 in any window (one daily row per day).
_FIELD = 1 << 15
MAX_DAYS = _FIELD - 1


class RunningSums:
    """Collects the sums a combine asks for (:meth:`total`), then adds their columns."""

    def __init__(self, rows: DataFrame, keys: Sequence[str], wide: Sequence[str] = ()) -> None:
        """``rows``: keys, ``__d`` and states, one row per key and day; ``wide``: the
        integral ``sum`` states: their running sums are kept as ``decimal(38,0)`` (a
        running total of values could overflow a long; counts cannot) and their window
        sums are null without a value. Other integral sums (counts) are 0 then: each
        combine reads them as no rows (``coalesce``, ``n > 0``)."""
        from featurekit.features._checks import col

        self._rows = rows
        self._keys = list(keys)
        self._wide = {str(col(c)) for c in wide}
        self._exprs: dict[str, tuple[int, Column, str]] = {}
        self._lags: set[tuple[int, int]] = set()

    def _window(self) -> WindowSpec:
        from pyspark.sql import Window

        return Window.partitionBy(*self._keys).orderBy(DAY)

    def total(self, days: int, sliding: WindowSpec) -> TotalFn:
        """The ``total`` of ``Agg.combine`` for a window of ``days`` days."""

        def total(expr: Column) -> Column:
            from pyspark.sql import functions as F
            from pyspark.sql.types import DoubleType, FloatType, IntegralType

            key = str(expr)
            if key not in self._exprs:
                dtype = self._rows.select(expr).schema[0].dataType
                if isinstance(dtype, (DoubleType, FloatType)):
                    kind = "double"
                elif isinstance(dtype, IntegralType):
                    kind = "wide" if key in self._wide else "long"
                else:
                    return F.sum(expr).over(sliding)
                self._exprs[key] = (len(self._exprs), expr, kind)
            index, _, kind = self._exprs[key]
            self._lags.add((index, days))
            return F.col(_v(index, days))

        return total

    def columns(self) -> DataFrame:
        """``rows`` with the running-sum columns the collected totals read."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        if not self._exprs:
            return self._rows
        by_key = self._window()
        run = by_key.rowsBetween(Window.unboundedPreceding, Window.currentRow)
        before = by_key.rowsBetween(Window.unboundedPreceding, -1)

        def upto(days: int) -> WindowSpec:
            return by_key.rangeBetween(Window.unboundedPreceding, -days)

        x = {i: _x(i) for i, _, _ in self._exprs.values()}
        base = self._rows.select("*", *[e.alias(x[i]) for i, e, _ in self._exprs.values()])
        first: list[Column] = []
        second: list[Column] = []
        for i, _, kind in self._exprs.values():
            lags = sorted(n for j, n in self._lags if j == i)
            value = F.col(x[i])
            if kind != "double":
                wide = value.cast("decimal(38,0)") if kind == "wide" else value
                first.append(F.sum(wide).over(run).alias(_hi(i)))
                for n in lags:
                    first.append(F.sum(wide).over(upto(n)).alias(_hi(i, n)))
                if kind == "wide":
                    first.append(F.count(value).over(run).alias(_code(i)))
                    first += [F.count(value).over(upto(n)).alias(_code(i, n)) for n in lags]
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
            first += [
                F.sum(finite).over(run).alias(_hi(i)),
                F.sum(finite).over(before).alias(_prev(i)),
                F.sum(code).over(run).alias(_code(i)),
            ]
            for n in lags:
                first.append(F.sum(finite).over(upto(n)).alias(_hi(i, n)))
                first.append(F.sum(code).over(upto(n)).alias(_code(i, n)))
            # the rounding error of hi = prev + finite, exactly (two-sum)
            a, b, s = F.coalesce(F.col(_prev(i)), F.lit(0.0)), finite, F.col(_hi(i))
            bb = s - a
            err = (a - (s - bb)) + (b - bb)
            second.append(F.sum(F.when(finite.isNotNull(), err)).over(run).alias(_lo(i)))
            for n in lags:
                second.append(F.sum(F.when(finite.isNotNull(), err)).over(upto(n)).alias(_lo(i, n)))
        staged = base.select("*", *first)
        if second:
            staged = staged.select("*", *second)
        # the window's count code and finite sum once each, then the values read them
        pairs = [
            (i, n, kind)
            for i, _, kind in self._exprs.values()
            for n in sorted(n for j, n in self._lags if j == i)
        ]
        parts = [c for i, n, kind in pairs for c in _parts(i, n, kind)]
        staged = staged.select(*_quoted(self._rows), *parts)
        values = [_value(i, n, kind).alias(_v(i, n)) for i, n, kind in pairs]
        return staged.select(*_quoted(self._rows), *values)


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
    from featurekit.features.aggs import Total as TotalFn
