"""Checks of a job's output against its FeatureTable declaration.

``check_columns`` needs only the schema (no Spark job). The row checks are null
keys, duplicate keys per date, and dates outside the run's range:

* ``check_rows`` runs one aggregation over the staged rows (a shuffle of every row);
* when the output's plan proves the keys unique per date (``featurekit.plans``:
  a groupBy on them, or ``windowed_aggregates``), ``observe_rows`` counts the rest
  during the write itself, in the same pass, and ``check_rows`` only runs to name
  examples when an observed check fails.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import TYPE_CHECKING, Any, Optional

from featurekit.core.names import any_null, col, sql_name
from featurekit.errors import OutputContractError
from featurekit.io import FeatureTable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Observation
    from pyspark.sql.types import StructType

# Seconds to wait, after the write, for Spark to deliver the observed row checks.
OBSERVATION_TIMEOUT_S = 60.0


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
            + ". Fix transform() or the FeatureTable columns (a column of another type: "
            "F.col(name).cast('type'))."
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
    # quoted: groupBy/select/F.col parse a string ("user.id" as field id of a struct user)
    per_key = df.groupBy(*map(sql_name, group)).agg(
        F.count(F.lit(1)).alias("_n"), F.max(any_null(group)).alias("_null")
    )
    stats = per_key.agg(
        F.coalesce(F.sum(F.when(F.col("_null"), F.col("_n"))), F.lit(0)).alias("null_rows"),
        F.coalesce(F.sum(F.when(F.col("_n") > 1, 1)), F.lit(0)).alias("dup_groups"),
        F.min(F.to_date(col(table.date_column))).alias("min_date"),
        F.max(F.to_date(col(table.date_column))).alias("max_date"),
    ).first()
    if stats is None:  # an aggregate without grouping returns one row; guard for mypy
        raise OutputContractError(f"Could not check the rows of {table.name}.")
    problems = []
    if stats["null_rows"]:
        problems.append(f"{stats['null_rows']} rows have a null in {group}")
    if stats["dup_groups"]:
        examples = "; ".join(
            ", ".join(f"{c}={r[c]}" for c in group)
            for r in per_key.where(F.col("_n") > 1).select(*map(sql_name, group)).limit(3).collect()
        )
        problems.append(
            f"{stats['dup_groups']} key/date combinations appear more than once, e.g. {examples}"
        )
    if _outside(stats["min_date"], stats["max_date"], start, end):
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


def _outside(
    low: Optional[dt.date],
    high: Optional[dt.date],
    start: Optional[dt.date],
    end: Optional[dt.date],
) -> bool:
    """Whether rows dated ``low..high`` (None: no rows) reach outside [start, end]."""
    return low is not None and (
        (start is not None and low < start) or (end is not None and high is not None and high > end)
    )


def observed_metrics(
    observation: Observation, timeout: float = OBSERVATION_TIMEOUT_S
) -> dict[str, Any]:
    """The observed metrics, or {} when Spark has not delivered them within ``timeout``.

    Spark posts them from its listener bus just after the action; ``Observation.get``
    would wait forever for an action that did not report them.
    """
    got: dict[str, Any] = {}

    def wait() -> None:
        got.update(observation.get)

    waiter = threading.Thread(target=wait, name="featurekit-observation", daemon=True)
    waiter.start()
    waiter.join(timeout)
    return dict(got) if not waiter.is_alive() else {}


def observe_rows(df: DataFrame, table: FeatureTable) -> tuple[DataFrame, Observation]:
    """``df`` with its null keys and date range counted by the action that runs it
    (the staged write). Duplicates are not counted: only for outputs proven unique."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    group = [*table.keys, table.date_column]
    day = F.to_date(col(table.date_column)).cast("string")
    # a name of its own: one plan may not hold two observations of the same name
    observation = Observation(f"featurekit_row_checks_{uuid.uuid4().hex[:12]}")
    observed = df.observe(
        observation,
        F.coalesce(F.sum(F.when(any_null(group), 1)), F.lit(0)).alias("null_rows"),
        F.min(day).alias("min_date"),
        F.max(day).alias("max_date"),
    )
    return observed, observation


def observed_problems(
    observation: Observation,
    *,
    start: Optional[dt.date] = None,
    end: Optional[dt.date] = None,
    timeout: float = OBSERVATION_TIMEOUT_S,
) -> bool:
    """Whether the observed rows had a null key or date, or a date outside [start, end].

    Also True when there is nothing to read (on Spark 3.5 an output Spark proved
    empty runs no query to observe; Spark 4 reports it) or it does not arrive within
    ``timeout`` seconds of the write: then ``check_rows`` decides.
    """
    stats = observed_metrics(observation, timeout)
    if not stats:
        return True
    low, high = (
        None if stats.get(k) is None else dt.date.fromisoformat(str(stats[k]))
        for k in ("min_date", "max_date")
    )
    return bool(stats["null_rows"]) or _outside(low, high, start, end)
