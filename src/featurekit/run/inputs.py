"""Reading a declared input from storage, pruned to the run's dates.

The default way every platform reads an input (``Runtime.read_input``); Glue reads
bookmarked inputs through DynamicFrames and prunes them with :func:`prune_dates` too.
One snapshot per Delta input: the version recorded is the version read.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Optional

from featurekit.core.names import col as named
from featurekit.core.unreadable import input_unreadable
from featurekit.errors import InputError, TableNotFoundError
from featurekit.io import DeltaInput, FilesInput, Input, TableInput
from featurekit.runs import InputRecord
from featurekit.tables.files import DateWindow, read_files_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.job import JobContext
    from featurekit.storage import Storage
    from featurekit.tables.engine import PartitionFilter, TableInfo


def read_input(
    spark: SparkSession, storage: Storage, name: str, inp: Input, ctx: JobContext
) -> tuple[DataFrame, InputRecord]:
    """Read one declared input (pruned to the run's dates) and describe what was read."""
    if isinstance(inp, TableInput):
        entry = storage.catalog.get(inp.name)
        # files a crawler or `table register` described
        if entry.format not in ("delta", "iceberg"):
            df = read_files_table(
                spark, storage.warehouse, storage.catalog, name, entry,
                window=date_window(inp, ctx),
            )  # fmt: skip
            record = InputRecord(name=name, source=inp.label, kind=entry.format)
            return prune_dates(df, inp, ctx), record
    if isinstance(inp, (TableInput, DeltaInput)):
        if isinstance(inp, TableInput):
            entry = storage.catalog.get(inp.name)
            location = storage.warehouse.resolve(entry.location)
            engine, kind = storage.engine_of(entry.format), "table"
        else:
            location = storage.warehouse.resolve(inp.path)
            engine, kind = storage.engine_at(location), "delta"  # or an Iceberg table there
            if not engine.exists(location):
                raise TableNotFoundError(f"Input {name!r}: no Delta table at {inp.path}.")
        info = engine.describe(location)
        df = engine.read(
            spark, location, version=info.version, partitions=date_partitions(inp, ctx, info)
        )
        version: Optional[int] = info.version
    else:
        df, version, kind = read_files(spark, storage, name, inp), None, inp.format
    df = prune_dates(df, inp, ctx)
    return df, InputRecord(name=name, source=inp.label, kind=kind, version=version)


def read_files(spark: SparkSession, storage: Storage, name: str, inp: FilesInput) -> DataFrame:
    """A FilesInput's rows: a Delta folder through the engine, else Spark's reader."""
    if inp.format == "delta":
        return storage.engine.read(spark, storage.warehouse.resolve(inp.path))
    reader = spark.read.format(inp.format).options(**dict(inp.options))
    if inp.schema:
        reader = reader.schema(inp.schema)
    try:
        return reader.load(storage.warehouse.resolve(inp.path))
    except Exception as exc:
        error = input_unreadable(exc, name, inp.path)
        if error is None:
            raise
        raise error from exc


def date_window(inp: Input, ctx: JobContext) -> Optional[DateWindow]:
    """(time column, first date, last date) the run reads, or None without a range."""
    if ctx.start is None or ctx.end is None or inp.time_column is None:
        return None
    return inp.time_column, ctx.start - dt.timedelta(days=inp.lookback_days), ctx.end


def date_partitions(inp: Input, ctx: JobContext, info: TableInfo) -> list[PartitionFilter]:
    """Partition filters for the run's dates when the input's time_column is a date
    partition column: the engine then lists only those partitions' files."""
    from pyspark.sql.types import DateType

    window = date_window(inp, ctx)
    if window is None or window[0] not in info.partition_columns:
        return []
    column, first, last = window
    if not isinstance(info.schema[column].dataType, DateType):
        return []  # other types (e.g. yyyymmdd integers) are left to prune_dates
    return [(column, ">=", first), (column, "<=", last)]


def prune_dates(df: DataFrame, inp: Input, ctx: JobContext) -> DataFrame:
    """Keep rows dated in [start - lookback_days, end] (UTC) when the run has a range."""
    window = date_window(inp, ctx)
    if window is None:
        return df
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType

    column, first, last = window
    if column not in df.columns:
        raise InputError(
            f"Input {inp.label!r} has no time_column {column!r}; columns: {df.columns}."
        )
    col = named(column)  # quoted: "event.time" is a column, not a struct's field
    if isinstance(df.schema[column].dataType, DateType):
        return df.where((col >= F.lit(first)) & (col <= F.lit(last)))
    lower = dt.datetime.combine(first, dt.time())
    upper = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    # Timestamps compare in the session time zone, which featurekit sessions set to UTC.
    return df.where((col >= F.lit(lower)) & (col < F.lit(upper)))
