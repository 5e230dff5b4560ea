"""What a DataFrame's plan proves about its rows, without running it.

``unique_on(df, columns)`` is True when no two rows of ``df`` can share the values of
``columns``, proven from the plan alone:

* by Spark's own distinct-keys analysis of the optimized plan (a ``groupBy`` on
  those columns, a ``distinct``, ... and the projections and filters above them);
* or because the plan is, under projections, filters, sorts, repartitions, limits
  and window functions (none of which adds a row), the output of a featurekit
  primitive that guarantees the uniqueness and marked it with :func:`mark_unique`
  (``windowed_aggregates``: one row per key and ``feature_date`` by construction,
  which Spark cannot see through the ``explode`` that spreads days to dates).

False means "not proven", never "has duplicates": callers then count. Any failure
to read a plan (a Spark Connect session, a Spark that names its nodes differently)
is also False, so the worst case is the check featurekit would run anyway.

``count_rows(df)`` counts the rows of ``df`` in one Spark job (``count`` takes two);
``estimated_bytes(df)`` is Spark's size estimate of ``df`` (no Spark job);
``coalesced_to_one(df)`` whether ``df`` ends in ``coalesce(1)``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# (analyzed plan, exprIds of the unique columns) of recently marked DataFrames; bounded,
# as each entry keeps a JVM plan alive
_MARKED: deque[tuple[Any, frozenset[int]]] = deque(maxlen=256)
# nodes that never add a row nor change the rows' values of the columns they pass on
_ROW_PRESERVING = frozenset(
    {
        "Project",
        "Filter",
        "Sort",
        "Repartition",
        "RepartitionByExpression",
        "RebalancePartitions",
        "SubqueryAlias",
        "ResolvedHint",
        "LocalLimit",
        "GlobalLimit",
        "Offset",
        "Window",
        "Distinct",
        "Deduplicate",
    }
)


def _exprs(seq: Any) -> list[Any]:
    """A Scala collection's elements as a Python list."""
    out = []
    it = seq.iterator()
    while it.hasNext():
        out.append(it.next())
    return out


def _kind(node: Any) -> str:
    return str(node.getClass().getSimpleName())


def _ids(plan: Any, columns: Sequence[str]) -> dict[str, int]:
    """exprIds of the output attributes named ``columns`` (those found)."""
    wanted = set(columns)
    return {
        str(a.name()): int(a.exprId().id()) for a in _exprs(plan.output()) if a.name() in wanted
    }


def mark_unique(df: DataFrame, columns: Sequence[str]) -> DataFrame:
    """Record that ``df`` has at most one row per value of ``columns``; returns ``df``.

    Only for primitives that guarantee it by construction (and test it): a wrong
    mark would let duplicates past the output checks.
    """
    try:
        plan = df._jdf.queryExecution().analyzed()
        ids = _ids(plan, columns)
    except Exception:  # no JVM plan to mark (Spark Connect): unique_on stays False
        return df
    if len(ids) == len(set(columns)):
        _MARKED.append((plan, frozenset(ids.values())))
    return df


def unique_on(df: DataFrame, columns: Sequence[str]) -> bool:
    """Whether ``df``'s plan proves at most one row per value of ``columns``."""
    try:
        qe = df._jdf.queryExecution()
        # a mark is found on the analyzed plan; Spark's proof needs an optimizer pass
        return _marked_below(qe.analyzed(), columns) or _spark_proves(qe.optimizedPlan(), columns)
    except Exception:
        return False


def _spark_proves(plan: Any, columns: Sequence[str]) -> bool:
    ids = set(_ids(plan, columns).values())
    for key_set in _exprs(plan.distinctKeys()):
        exprs = _exprs(key_set)
        if exprs and all(
            _kind(e) == "AttributeReference" and int(e.exprId().id()) in ids for e in exprs
        ):
            return True
    return False


def _marked_below(plan: Any, columns: Sequence[str]) -> bool:
    """Walk down row-preserving nodes, following the columns' attributes through
    projections, to a plan marked unique on a subset of them."""
    tracked = set(_ids(plan, columns).values())
    node = plan
    while tracked:
        for marked, ids in _MARKED:
            if ids <= tracked and node.equals(marked):
                return True
        kind = _kind(node)
        if kind not in _ROW_PRESERVING:
            return False
        if kind == "Project":
            tracked = _through_project(node, tracked)
        node = node.child()
    return False


def _through_project(project: Any, tracked: set[int]) -> set[int]:
    """The child's exprIds the tracked output columns come from, when they are the
    child's attributes unchanged (possibly renamed); other columns drop out."""
    found = set()
    for expr in _exprs(project.projectList()):
        if int(expr.exprId().id()) not in tracked:
            continue
        kind = _kind(expr)
        if kind == "AttributeReference":
            found.add(int(expr.exprId().id()))
        elif kind == "Alias" and _kind(expr.child()) == "AttributeReference":
            found.add(int(expr.child().exprId().id()))
    return found


def count_rows(df: DataFrame) -> int:
    """The number of rows of ``df``, in one Spark job where ``DataFrame.count`` takes two.

    ``count`` aggregates per partition and shuffles the partial counts to one final task;
    with adaptive execution each of the two stages is a job of its own, which is most of
    the cost on a small input. Here no column is read (the plan keeps none) and each task
    counts its own rows, summed on the driver: one job, one stage, the same number. A
    session where the plan cannot be reached (Spark Connect) counts as ``count`` does.

    >>> count_rows(spark.range(5))  # doctest: +SKIP
    5
    """
    from pyspark.sql import functions as F

    try:
        plan = df.select(F.lit(1))._jdf.queryExecution()
    except AttributeError:  # no JVM plan (Spark Connect)
        return df.count()
    return int(plan.toRdd().count())


def estimated_bytes(df: DataFrame) -> Optional[int]:
    """Spark's estimate of the size of ``df``'s rows in bytes, without a Spark job; None
    where the plan cannot be reached (Spark Connect).

    It is Spark's size statistic (what it decides broadcasts with: the input files' sizes,
    compressed on disk, carried through the plan's operators), taken on the analyzed plan:
    no optimizer pass (one on a windowed job's plan took ~50 ms), and before column
    pruning, so if anything larger. Joins tend to overestimate (a product of their sides)
    and ``explode`` to underestimate (its input's size): a hint for a layout, never a
    row count.
    """
    try:
        size = df._jdf.queryExecution().analyzed().stats().sizeInBytes()
        return int(str(size))  # a Scala BigInt, or an int when py4j converted it
    except Exception:  # no JVM plan (Spark Connect), or no statistics
        return None


def coalesced_to_one(df: DataFrame) -> bool:
    """Whether ``df``'s plan ends in ``coalesce(1)`` (one task, no shuffle); False when the
    plan cannot be read (Spark Connect)."""
    try:
        plan = df._jdf.queryExecution().analyzed()
        return (
            _kind(plan) == "Repartition"
            and int(plan.numPartitions()) == 1
            and not bool(plan.shuffle())
        )
    except Exception:
        return False
