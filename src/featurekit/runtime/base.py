"""The Runtime port: what a job needs from the place it runs.

A runtime owns the SparkSession and one :class:`~featurekit.storage.Storage`: the
warehouse (tables, run records, state), the catalog (local or the Glue Data Catalog) and
the table engine; ``runtime.warehouse``, ``.catalog`` and ``.engine`` are its parts, read
only. Subclasses supply the session (and may hand over a storage already open, as the
Glue runtime does with its GlueContext's) and may override three hooks:
``begin``/``finish`` (around the lifecycle; Glue's Job.init / job.commit) and
``read_input`` (Glue reads through DynamicFrames when bookmarks are on).
Everything else is shared, so adapters stay thin.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, TextIO

from featurekit.errors import InputError, TableNotFoundError
from featurekit.io import DeltaInput, FeatureTable, FilesInput, Input, TableInput
from featurekit.runs import InputRecord, RunRecord
from featurekit.runtime.s3 import S3Access
from featurekit.state import StateStore, open_state_store
from featurekit.storage import Storage, open_storage
from featurekit.tables import TableEngine
from featurekit.tables.catalog import CatalogEntry
from featurekit.tables.catalogs import Catalog
from featurekit.tables.engine import PartitionFilter, TableInfo
from featurekit.tables.files import DateWindow
from featurekit.tables.glue_catalog import GlueCatalogConfig
from featurekit.warehouse import Warehouse

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.job import FeatureJob, JobContext


@dataclass(frozen=True)
class RuntimeConfig:
    """Settings every runtime shares. Built once, at the edge (CLI, entry script)."""

    warehouse: str = "warehouse"
    engine: str = "auto"
    quiet: bool = False
    # Where incremental state lives: None = WAREHOUSE/_state; "s3://bucket/prefix" = S3.
    state: Optional[str] = None
    # How to reach S3 (endpoint, credentials), resolved at the edge for local runs with an
    # s3:// warehouse or state; None = the platform's default chain (Glue, EMR).
    s3: Optional[S3Access] = None
    # The catalog: "local" (in the warehouse) or "glue" (the Glue Data Catalog, where
    # ``glue_catalog`` says: region, endpoint, catalog id).
    catalog: str = "local"
    glue_catalog: Optional[GlueCatalogConfig] = None
    # False: declared quality rulesets are not evaluated (e.g. on a Spark line Deequ has no
    # build for); every run then records a warning naming the rulesets it did not check.
    check_quality: bool = True

    @property
    def on_s3(self) -> bool:
        """True when the warehouse or the state store is an S3 location."""
        schemes = ("s3://", "s3a://", "s3n://")
        return self.warehouse.startswith(schemes) or (self.state or "").startswith(schemes)


class Reporter:
    """Progress lines on stderr, each with the seconds since the runtime started."""

    def __init__(self, stream: Optional[TextIO] = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.began = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.perf_counter() - self.began
            print(f"[featurekit {elapsed:6.1f}s] {message}", file=self.stream, flush=True)


class Runtime:
    """Base runtime: shared reading, writing and record keeping on a given SparkSession."""

    name = "base"

    def __init__(
        self, spark: SparkSession, config: RuntimeConfig, storage: Optional[Storage] = None
    ) -> None:
        self.spark = spark
        self.config = config
        client = config.s3.client() if config.s3 is not None else None
        self._s3_client = client
        self.storage = storage or open_storage(
            spark, warehouse=config.warehouse, catalog=config.catalog,
            glue_catalog=config.glue_catalog, engine=config.engine, s3_client=client,
        )  # fmt: skip
        self.report: Callable[[str], None] = Reporter(quiet=config.quiet)
        self._state_store: Optional[StateStore] = None

    @property
    def warehouse(self) -> Warehouse:
        return self.storage.warehouse

    @property
    def catalog(self) -> Catalog:
        return self.storage.catalog

    @property
    def engine(self) -> TableEngine:
        return self.storage.engine

    @property
    def state_store(self) -> StateStore:
        """The incremental state store (``config.state``; default: ``WAREHOUSE/_state``)."""
        if self._state_store is None:
            self._state_store = open_state_store(
                self.config.state, self.warehouse, s3_client=self._s3_client
            )
        return self._state_store

    @state_store.setter
    def state_store(self, store: StateStore) -> None:
        self._state_store = store

    # -- hooks ---------------------------------------------------------------------
    def begin(self, ctx: JobContext) -> None:
        """Called before the lifecycle starts."""

    def finish(self, ctx: JobContext, succeeded: bool) -> None:
        """Called after the output commit (succeeded) or after a failure."""

    def on_phase(self, ctx: JobContext, phase: str) -> None:
        """Called at each boundary of an incremental batch: ``pending`` (state staged,
        nothing committed), ``partials_committed``, ``output_committed``,
        ``state_committed``."""

    def owns_increments(self, job: FeatureJob) -> bool:
        """True when the platform itself tracks the job's incremental inputs (Glue bookmarks).

        featurekit's own incremental state then stays out of the way, so every input
        is tracked by exactly one mechanism.
        """
        return False

    # -- inputs --------------------------------------------------------------------
    def location(self, name: str) -> str:
        """Location of table ``db.table``: its catalog entry, else the warehouse default."""
        return self.storage.location(name)

    def read_input(self, name: str, inp: Input, ctx: JobContext) -> tuple[DataFrame, InputRecord]:
        """Read one declared input (pruned to the run's dates) and describe what was read."""
        if isinstance(inp, TableInput):
            entry = self.catalog.get(inp.name)
            if entry.format != "delta":  # files a crawler or `table register` described
                df = self._read_catalog_files(name, entry, window=date_window(inp, ctx))
                record = InputRecord(name=name, source=inp.label, kind=entry.format)
                return prune_dates(df, inp, ctx), record
        if isinstance(inp, (TableInput, DeltaInput)):
            if isinstance(inp, TableInput):
                location = self.warehouse.resolve(self.catalog.get(inp.name).location)
                kind = "table"
            else:
                location = self.warehouse.resolve(inp.path)
                if not self.engine.exists(location):
                    raise TableNotFoundError(f"Input {name!r}: no Delta table at {inp.path}.")
                kind = "delta"
            # one snapshot: the version recorded is the version read
            info = self.engine.describe(location)
            df = self.engine.read(
                self.spark,
                location,
                version=info.version,
                partitions=date_partitions(inp, ctx, info),
            )
            version: Optional[int] = info.version
        else:
            df, version, kind = self._read_files(name, inp), None, inp.format
        df = prune_dates(df, inp, ctx)
        return df, InputRecord(name=name, source=inp.label, kind=kind, version=version)

    def _read_catalog_files(
        self, name: str, entry: CatalogEntry, window: Optional[DateWindow] = None
    ) -> DataFrame:
        """A csv, json or parquet table of the catalog: its folder, or its registered
        partitions, those of the run's dates only (:mod:`featurekit.tables.files`)."""
        from featurekit.tables.files import read_files_table

        return read_files_table(self.spark, self.storage, name, entry, window=window)

    def _read_files(self, name: str, inp: FilesInput) -> DataFrame:
        from pyspark.errors import AnalysisException

        if inp.format == "delta":
            return self.engine.read(self.spark, self.warehouse.resolve(inp.path))
        reader = self.spark.read.format(inp.format).options(**dict(inp.options))
        if inp.schema:
            reader = reader.schema(inp.schema)
        try:
            return reader.load(self.warehouse.resolve(inp.path))
        except AnalysisException as exc:
            raise InputError(f"Input {name!r}: cannot read {inp.path}: {exc}") from exc

    # -- output --------------------------------------------------------------------
    def output_location(self, table: FeatureTable) -> str:
        if table.path:
            return self.warehouse.resolve(table.path)
        return self.location(table.name)

    def register_output(self, table: FeatureTable, location: str) -> None:
        schema = self.engine.schema(location)
        self.catalog.register(
            table.name,
            location,
            schema=schema.jsonValue() if schema is not None else {},
            partition_columns=table.partitions,
            description=table.description,
            keys=table.keys,
            date_column=table.date_column,
        )

    def save_record(self, record: RunRecord) -> str:
        path = self.warehouse.write_json(
            f"_runs/{record.job}/{record.run_id}.json", record.to_json()
        )
        return str(path)


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
    from featurekit.core.names import col as named

    col = named(column)  # quoted: "event.time" is a column, not a struct's field
    if isinstance(df.schema[column].dataType, DateType):
        return df.where((col >= F.lit(first)) & (col <= F.lit(last)))
    lower = dt.datetime.combine(first, dt.time())
    upper = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    # Timestamps compare in the session time zone, which featurekit sessions set to UTC.
    return df.where((col >= F.lit(lower)) & (col < F.lit(upper)))
