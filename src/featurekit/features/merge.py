"""Merging partial states of the same key and day (e.g. two incremental batches of one day).

``daily_partials`` run on two sets of events of one day gives two rows for that key and
day; :func:`merge_partials` folds them into the row ``daily_partials`` would give on all
the events together, for every aggregation kind:

* count, sum, mean (n, sum): sums; min / max: min / max;
* variance / stddev (n, sum, m2): the rows folded pairwise by the parallel-variance
  update ``m2 = m2_a + m2_b + (mean_b - mean_a)^2 * n_a * n_b / (n_a + n_b)``, which
  adds deviations, never squares of values (so a mean large against the spread loses
  nothing), in an order fixed by the rows' values;
* first / last: the earliest / latest (time, value) pair;
* count_distinct: the union of the value sets; approx_count_distinct: ``hll_union_agg``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from featurekit.features._checks import as_tuple, col, require_columns, sql_name
from featurekit.features.aggs import STATES, Agg, _hll

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def merge_exprs(agg: Agg) -> list[Column]:
    """Aggregate expressions merging ``agg``'s partial-state columns, aliased to their names."""
    from pyspark.sql import functions as F

    cols = {s: f"{agg.name}__{s}" for s in STATES[agg.kind]}
    simple = {"count": F.sum, "sum": F.sum, "n": F.sum, "min": F.min, "max": F.max}
    simple.update({"first": F.min, "last": F.max})
    out = []
    for state, name in cols.items():
        if state == "m2":
            expr = _merged_m2(col(cols["n"]), col(cols["sum"]), col(name))
        elif state == "set":
            expr = F.array_distinct(F.flatten(F.collect_list(col(name))))
        elif state == "hll":
            expr = _hll("hll_union_agg")(col(name))
        else:
            expr = simple[state](col(name))
        out.append(expr.alias(name))
    return out


def _merged_m2(n: Column, total: Column, m2: Column) -> Column:
    """The merged rows' m2: the rows with values, sorted (a fixed order whatever the
    input's), folded by the parallel-variance update."""
    from pyspark.sql import functions as F

    rows = F.array_sort(
        F.collect_list(F.when(n > 0, F.struct(n.alias("n"), total.alias("s"), m2.alias("m"))))
    )
    start = F.struct(
        F.lit(0).cast("bigint").alias("n"), F.lit(0.0).alias("s"), F.lit(0.0).alias("m")
    )

    def merge(acc: Column, row: Column) -> Column:
        na, nb = acc["n"], row["n"]
        delta = row["s"] / nb - acc["s"] / na
        m = F.when(na == 0, row["m"]).otherwise(
            acc["m"] + row["m"] + delta * delta * na * nb / (na + nb)
        )
        return F.struct((na + nb).alias("n"), (acc["s"] + row["s"]).alias("s"), m.alias("m"))

    return F.when(F.size(rows) > 0, F.aggregate(rows, start, merge)["m"])


def merge_partials(
    partials: DataFrame,
    *,
    keys: str | Sequence[str],
    aggregations: Sequence[Agg],
    date_column: str = "event_date",
) -> DataFrame:
    """One row per key and day: partial rows of the same key and day merged (one groupBy).

    >>> merged = merge_partials(stored.unionByName(new_batch), keys="user_id",
    ...                         aggregations=AGGS)  # doctest: +SKIP
    """
    keys = as_tuple(keys, "merge_partials")
    states = [c for a in aggregations for c in a.state_columns()]
    require_columns(partials, [*keys, date_column, *states], "merge_partials")
    exprs = [e for a in aggregations for e in merge_exprs(a)]
    # names quoted: a string given to groupBy is parsed ("user.id" as a struct's field)
    return partials.groupBy(*map(sql_name, [*keys, date_column])).agg(*exprs)
