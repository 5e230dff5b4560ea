"""Checks of a job's output against its FeatureTable declaration.

``check_columns`` needs only the schema (no Spark job); ``check_rows`` runs one
aggregation over the staged rows: null keys, duplicate keys per date, and dates
outside the run's range.
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from typing import TYPE_CHECKING, Optional

from featurekit.errors import OutputContractError
from featurekit.io import FeatureTable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType


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
