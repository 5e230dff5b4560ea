"""Record-level functions (Map, Filter) and Glue's error records.

A record is handed to the user's function as a :class:`DynamicRecord` (a dict whose
keys are also attributes). As on Glue, a record the function fails on does not stop
the job: it becomes an *error record* of that stage (``stageErrorsCount``,
``errorsAsDynamicFrame``), unless the stage's ``stageThreshold`` / ``totalThreshold``
(0 = no limit) is exceeded, which fails the transform.

Example::

    out, errors = map_records(df, lambda r: {**r, "n": r["n"] + 1}, "inc")
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ERRORS_SCHEMA = "transformation_ctx string, error_message string, record string"
NONE_RETURNED = "User-specified function returned None instead of DynamicRecord"
Tagged = tuple[Optional[Any], Optional[tuple[str, str, str]]]


class DynamicRecord(dict):  # type: ignore[type-arg]
    """A record as Map/Filter functions see it: a dict whose keys are also attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def to_record(row: Any) -> DynamicRecord:
    def wrap(value: Any) -> Any:
        if isinstance(value, dict):
            return DynamicRecord({k: wrap(v) for k, v in value.items()})
        return value

    return DynamicRecord({k: wrap(v) for k, v in row.asDict(recursive=True).items()})


def _error(ctx: str, message: str, record: Any) -> tuple[str, str, str]:
    return (ctx, message, json.dumps(record, default=str, sort_keys=True))


def _map_one(f: Callable[[DynamicRecord], Any], ctx: str) -> Callable[[Any], Tagged]:
    def run(row: Any) -> Tagged:
        record = to_record(row)
        try:
            out = f(record)
        except Exception as exc:
            return None, _error(ctx, f"{type(exc).__name__}: {exc}", record)
        if not out:
            return None, _error(ctx, NONE_RETURNED, record)
        return json.dumps(dict(out), default=str), None

    return run


def _keep_one(f: Callable[[DynamicRecord], Any], ctx: str) -> Callable[[Any], Tagged]:
    def run(row: Any) -> Tagged:
        record = to_record(row)
        try:
            return (row if f(record) else None), None
        except (KeyError, ValueError, TypeError, AttributeError):
            return None, None  # as on Glue: a record the function cannot read is dropped
        except Exception as exc:
            return None, _error(ctx, f"{type(exc).__name__}: {exc}", record)

    return run


def _errors(df: DataFrame, tagged: Any) -> DataFrame:
    spark = df.sparkSession
    return spark.createDataFrame(
        tagged.filter(lambda t: t[1] is not None).map(lambda t: t[1]), ERRORS_SCHEMA
    )


def map_records(
    df: DataFrame, f: Callable[[DynamicRecord], Any], ctx: str
) -> tuple[DataFrame, DataFrame]:
    """Apply ``f`` to every record: (the new records, the error records).

    The new records' schema is inferred from what ``f`` returned (via JSON, as Glue
    infers it per record): fields of the input keep their order, new ones follow.
    """
    tagged = df.rdd.map(_map_one(f, ctx)).cache()
    good: Any = tagged.filter(lambda t: t[0] is not None).map(lambda t: t[0])
    out = df.sparkSession.read.json(good)  # no records: no fields, as Glue
    ordered = [c for c in df.columns if c in out.columns]
    out = out.select(*[f"`{c}`" for c in ordered + [c for c in out.columns if c not in ordered]])
    return out, _errors(df, tagged)


def filter_records(
    df: DataFrame, f: Callable[[DynamicRecord], Any], ctx: str
) -> tuple[DataFrame, DataFrame]:
    """Keep records for which ``f`` is true: (kept records, error records)."""
    tagged = df.rdd.map(_keep_one(f, ctx)).cache()
    kept = tagged.filter(lambda t: t[0] is not None).map(lambda t: t[0])
    return df.sparkSession.createDataFrame(kept, df.schema), _errors(df, tagged)


def empty_like(df: DataFrame) -> DataFrame:
    from pyspark.sql.types import StructType

    return df.sparkSession.createDataFrame([], StructType([]))


def check_thresholds(call: str, stage: int, total: int, stage_max: int, total_max: int) -> None:
    """Glue's error thresholds (0 = no limit): InputError when a stage produced too many."""
    if stage_max and stage > stage_max:
        raise InputError(
            f"{call}: {stage} error records exceed stageThreshold={stage_max}. Inspect them "
            "with errorsAsDynamicFrame() (e.g. on a run with a higher threshold) and fix the data."
        )
    if total_max and total > total_max:
        raise InputError(
            f"{call}: {total} error records in total exceed totalThreshold={total_max}. "
            "Inspect them with errorsAsDynamicFrame() and fix the data or the function."
        )
