"""Checks of a job's output against its FeatureTable declaration.

``check_columns`` needs only the schema (no Spark job). The row checks (null keys,
duplicate keys per date, dates outside the run's range) ride on the staged write
when the table is partitioned by some of its keys and date: ``observe_rows`` sorts
each write task's rows by (keys, date), which the partitioned write needs anyway,
and counts duplicates with a window over that order, so the checks cost no extra
shuffle. ``check_rows`` is one aggregation over the staged rows: the fallback, and
what names examples when an observed check fails.
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from typing import TYPE_CHECKING, Optional

from featurekit.errors import OutputContractError
from featurekit.io import FeatureTable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Observation
    from pyspark.sql.types import StructType

_COUNT = "__featurekit_rows_per_key"


def check_columns(schema: StructType, table: FeatureTable) -> None:
    """Every declared column present with its declared type (and no others when strict)."""
    actual = {f.name: f.dataType.simpleString() for f in schema.fields}
    problems = []
    for name, declared in table.columns.items():
        got = actual.get(name)
        if got is None:
            problems.append(f"missing column {name!r} ({declared})")
        elif got != declared:
            problems.append(f"column {name!r} is {got}, declared {declared}")
    extra = [n for n in actual if n not in table.columns]
    if extra and table.strict_columns:
        problems.append(f"undeclared columns {extra}")
    if problems:
        raise OutputContractError(
            f"Output of {table.name} does not match its declaration: "
            + "; ".join(problems)
            + ". Fix transform() or the FeatureTable columns (cast with .cast('type'))."
        )


def check_rows(
    df: DataFrame,
    table: FeatureTable,
    *,
    start: Optional[dt.date] = None,
    end: Optional[dt.date] = None,
) -> None:
    """Keys not null, unique per date; dates inside [start, end] when a range is given."""
    from pyspark.sql import functions as F

    group = [*table.keys, table.date_column]
    any_null = reduce(lambda a, b: a | b, [F.col(c).isNull() for c in group])
    per_key = df.groupBy(*group).agg(F.count(F.lit(1)).alias("_n"), F.max(any_null).alias("_null"))
    stats = per_key.agg(
        F.coalesce(F.sum(F.when(F.col("_null"), F.col("_n"))), F.lit(0)).alias("null_rows"),
        F.coalesce(F.sum(F.when(F.col("_n") > 1, 1)), F.lit(0)).alias("dup_groups"),
        F.min(F.to_date(table.date_column)).alias("min_date"),
        F.max(F.to_date(table.date_column)).alias("max_date"),
    ).first()
    if stats is None:  # an aggregate without grouping returns one row; guard for mypy
        raise OutputContractError(f"Could not check the rows of {table.name}.")
    problems = []
    if stats["null_rows"]:
        problems.append(f"{stats['null_rows']} rows have a null in {group}")
    if stats["dup_groups"]:
        examples = [
            {c: r[c] for c in group}
            for r in per_key.where(F.col("_n") > 1).select(*group).limit(3).collect()
        ]
        problems.append(
            f"{stats['dup_groups']} key/date combinations appear more than once, e.g. {examples}"
        )
    outside = stats["min_date"] is not None and (
        (start is not None and stats["min_date"] < start)
        or (end is not None and stats["max_date"] > end)
    )
    if outside:
        problems.append(
            f"{table.date_column} spans {stats['min_date']}..{stats['max_date']}, "
            f"outside the run's range {start}..{end}"
        )
    if problems:
        raise OutputContractError(
            f"Output of {table.name} breaks its declaration: "
            + "; ".join(problems)
            + ". Nothing was committed."
        )


def observe_rows(df: DataFrame, table: FeatureTable) -> tuple[DataFrame, Optional[Observation]]:
    """``df`` (hash-partitioned by ``table.partitions``) with the row checks attached as
    an Observation that the staged write fills; (df, None) when the table's partitions
    are not among its keys and date (then ``check_rows`` runs after the write)."""
    from pyspark.sql import Observation, Window
    from pyspark.sql import functions as F

    group = [*table.keys, table.date_column]
    parts = list(table.partitions)
    if not parts or not set(parts) <= set(group):
        return df, None
    order = [*parts, *[c for c in group if c not in parts]]  # the write's order, extended
    any_null = reduce(lambda a, b: a | b, [F.col(c).isNull() for c in group])
    day = F.to_date(table.date_column).cast("string")
    observation = Observation("featurekit_row_checks")
    checked = (
        df.sortWithinPartitions(*order)
        .withColumn(_COUNT, F.count(F.lit(1)).over(Window.partitionBy(*order)))
        .observe(
            observation,
            F.coalesce(F.sum(F.when(any_null, 1)), F.lit(0)).alias("null_rows"),
            F.coalesce(F.sum(F.when(F.col(_COUNT) > 1, 1)), F.lit(0)).alias("duplicate_rows"),
            F.min(day).alias("min_date"),
            F.max(day).alias("max_date"),
        )
        .drop(_COUNT)
    )
    return checked, observation


def observed_problems(
    observation: Observation, *, start: Optional[dt.date] = None, end: Optional[dt.date] = None
) -> bool:
    """Whether the observed write saw a null key, a duplicate or a date outside the range."""
    stats = observation.get
    low, high = stats.get("min_date"), stats.get("max_date")
    outside = low is not None and (
        (start is not None and dt.date.fromisoformat(str(low)) < start)
        or (end is not None and dt.date.fromisoformat(str(high)) > end)
    )
    return bool(stats["null_rows"] or stats["duplicate_rows"] or outside)
