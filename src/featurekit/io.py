"""Declarations of what a job reads (inputs) and writes (one FeatureTable).

These are plain frozen values: no Spark, no I/O. Runtimes turn them into
DataFrames (``Runtime.read_input``) and Delta commits (``Runtime.write_output``).

Example::

    events = TableInput("raw.events", time_column="event_time", lookback_days=29)
    output = FeatureTable(
        "features.user_activity_daily",
        keys=("user_id",),
        date_column="feature_date",
        columns={"user_id": "string", "feature_date": "date", "views_1d": "bigint"},
    )
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Optional, Union

from featurekit.core.names import check_table_name
from featurekit.errors import ConfigError, UnsupportedError
from featurekit.rulesets import Ruleset, check_rulesets

FILE_FORMATS = ("parquet", "csv", "json", "delta")
# The formats a FeatureTable is written in (delta is the default).
TABLE_FORMATS = ("delta", "iceberg")

# Spark's simpleString() spellings, with the common aliases users write.
_TYPE_ALIASES = {
    "long": "bigint",
    "integer": "int",
    "short": "smallint",
    "byte": "tinyint",
    "bool": "boolean",
    "str": "string",
    "timestamp_ltz": "timestamp",
}


def normalize_type(type_name: str) -> str:
    """Spell a declared column type the way Spark's ``DataType.simpleString()`` does.

    >>> normalize_type("Long")
    'bigint'
    """
    clean = type_name.strip().lower().replace(" ", "")
    return _TYPE_ALIASES.get(clean, clean)


def _set_quality(obj: object, label: str, rulesets: object, *, output: bool) -> None:
    object.__setattr__(obj, "quality", check_rulesets(label, rulesets, output=output))


def _check_window(label: str, time_column: Optional[str], lookback_days: int) -> None:
    if lookback_days < 0:
        raise ConfigError(f"Input {label!r}: lookback_days must be >= 0, got {lookback_days}.")
    if lookback_days and not time_column:
        raise ConfigError(
            f"Input {label!r}: lookback_days needs time_column, the column to filter dates on."
        )


# Every input has ``time_column`` and ``lookback_days``: a run with a date range
# reads only rows dated in [start - lookback_days, end]. ``incremental`` marks
# the input whose new units (files, Delta versions) drive incremental runs.


@dataclass(frozen=True)
class TableInput:
    """A table known to the catalog by ``database.table`` (local catalog or Glue Data Catalog)."""

    name: str
    time_column: Optional[str] = None
    lookback_days: int = 0
    incremental: bool = False
    quality: tuple[Ruleset, ...] = ()

    def __post_init__(self) -> None:
        check_table_name(self.name)
        _check_window(self.name, self.time_column, self.lookback_days)
        _set_quality(self, self.name, self.quality, output=False)

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class DeltaInput:
    """A Delta table at a path (``s3://...`` paths map into the local warehouse)."""

    path: str
    time_column: Optional[str] = None
    lookback_days: int = 0
    incremental: bool = False
    quality: tuple[Ruleset, ...] = ()

    def __post_init__(self) -> None:
        _check_window(self.path, self.time_column, self.lookback_days)
        _set_quality(self, self.path, self.quality, output=False)

    @property
    def label(self) -> str:
        return self.path


@dataclass(frozen=True)
class FilesInput:
    """Files of one format under a path: parquet, csv, json (or delta)."""

    path: str
    format: str = "parquet"
    options: Mapping[str, str] = field(default_factory=dict)
    schema: Optional[str] = None  # Spark DDL, e.g. "id string, amount double"
    time_column: Optional[str] = None
    lookback_days: int = 0
    incremental: bool = False
    quality: tuple[Ruleset, ...] = ()

    def __post_init__(self) -> None:
        _check_window(self.path, self.time_column, self.lookback_days)
        _set_quality(self, self.path, self.quality, output=False)
        if self.format not in FILE_FORMATS:
            raise ConfigError(
                f"Unsupported file format {self.format!r} for {self.path!r}; "
                f"use one of {', '.join(FILE_FORMATS)}."
            )
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    @property
    def label(self) -> str:
        return self.path


Input = Union[TableInput, DeltaInput, FilesInput]


@dataclass(frozen=True)
class Maintenance:
    """Table upkeep a job runs on its output after each committed run (never before).

    * ``checkpoint_every``: write a Delta checkpoint once this many versions have been
      committed since the last one (None: leave checkpoints to the engine);
    * ``compact_written_dates``: compact the files of the dates the run replaced
      (the whole table after a run without a date range);
    * ``vacuum``: delete removed files older than ``vacuum_retain_hours`` (default:
      the table's retention period, 7 days). A job never forces a shorter retention
      than the table's: that fails and is recorded as a warning.

    A failed step never undoes the committed output: it is recorded as a warning in
    the run record, and the next steps still run.

    Example::

        output = FeatureTable(..., maintenance=Maintenance(checkpoint_every=10, vacuum=True))
    """

    checkpoint_every: Optional[int] = None
    compact_written_dates: bool = False
    vacuum: bool = False
    vacuum_retain_hours: Optional[int] = None

    def __post_init__(self) -> None:
        every = self.checkpoint_every
        if every is not None and (isinstance(every, bool) or not isinstance(every, int)):
            raise ConfigError(f"Maintenance: checkpoint_every must be an int, got {every!r}.")
        if every is not None and every < 1:
            raise ConfigError(f"Maintenance: checkpoint_every must be >= 1, got {every}.")
        hours = self.vacuum_retain_hours
        if hours is not None and not self.vacuum:
            raise ConfigError(
                f"Maintenance: vacuum_retain_hours={hours} needs vacuum=True (or drop "
                "vacuum_retain_hours)."
            )
        if hours is not None and hours < 0:
            raise ConfigError(f"Maintenance: vacuum_retain_hours must be >= 0, got {hours}.")

    @property
    def enabled(self) -> bool:
        return self.checkpoint_every is not None or self.compact_written_dates or self.vacuum


@dataclass(frozen=True)
class FeatureTable:
    """The one output of a job: a Delta table of features.

    ``keys`` with ``date_column`` identify a row (not null, unique per date).
    ``columns`` maps every declared column to its Spark type name; the output
    must have these columns with these types (it may have more only if
    ``strict_columns`` is False). The table is partitioned by ``partition_by``
    (default: the date column), which lets a run replace exactly its dates.
    ``quality`` holds DQDL rulesets (:class:`featurekit.quality.Ruleset`) checked on
    the output before its commit; failing rows can go to ``<name>__quarantine``.
    """

    name: str
    keys: tuple[str, ...]
    date_column: str
    columns: Mapping[str, str]
    partition_by: Optional[tuple[str, ...]] = None
    description: str = ""
    path: Optional[str] = None
    strict_columns: bool = True
    maintenance: Optional[Maintenance] = None
    # DQDL rulesets checked on the output before its commit (featurekit.quality)
    quality: tuple[Ruleset, ...] = ()
    # "delta" or "iceberg"; None: the project's default (RuntimeConfig.table_format)
    format: Optional[str] = None

    def __post_init__(self) -> None:
        check_table_name(self.name)
        if self.format is not None and self.format not in TABLE_FORMATS:
            raise ConfigError(
                f"FeatureTable {self.name!r}: format {self.format!r} is not one of "
                f"{', '.join(TABLE_FORMATS)}."
            )
        _set_quality(self, self.name, self.quality, output=True)
        if not self.keys:
            raise ConfigError(f"FeatureTable {self.name!r} needs at least one key column.")
        object.__setattr__(self, "keys", tuple(self.keys))
        cols = {k: normalize_type(v) for k, v in self.columns.items()}
        object.__setattr__(self, "columns", MappingProxyType(cols))
        partition_by = (
            (self.date_column,) if self.partition_by is None else tuple(self.partition_by)
        )
        object.__setattr__(self, "partition_by", partition_by)
        for col in (*self.keys, self.date_column, *partition_by):
            if col not in cols:
                raise ConfigError(
                    f"FeatureTable {self.name!r}: column {col!r} is used as a key, date or "
                    f"partition column but is not declared in columns."
                )
        if cols[self.date_column] not in ("date", "timestamp"):
            raise ConfigError(
                f"FeatureTable {self.name!r}: date_column {self.date_column!r} must be declared "
                f"'date' or 'timestamp', not {cols[self.date_column]!r}."
            )
        if self.maintenance is not None and not isinstance(self.maintenance, Maintenance):
            raise TypeError(
                f"FeatureTable {self.name!r}: maintenance must be a Maintenance(...), "
                f"got {type(self.maintenance).__name__}."
            )

    @property
    def partitions(self) -> tuple[str, ...]:
        """The partition columns, always a tuple (``partition_by`` after defaulting)."""
        return self.partition_by or ()


# How an incremental input is cut into units (featurekit.state.units reads them).
STRATEGIES = ("files", "delta", "dates")


def default_strategy(inp: Input) -> str:
    """``files`` for file inputs, ``delta`` for Delta tables (paths or catalog tables)."""
    if isinstance(inp, FilesInput) and inp.format != "delta":
        return "files"
    return "delta"


def check_strategy(name: str, inp: Input, strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise ConfigError(f"Input {name!r}: unknown increment {strategy!r}; use {STRATEGIES}.")
    is_files = isinstance(inp, FilesInput) and inp.format != "delta"
    if strategy in ("files", "dates") and not is_files:
        raise UnsupportedError(
            f"Input {name!r}: increments by {strategy!r} are supported for FilesInput "
            "(parquet, csv, json); Delta inputs are incremental by table version ('delta')."
        )
    if strategy == "delta" and is_files:
        raise ConfigError(f"Input {name!r} is not a Delta table; use 'files' or 'dates'.")
    if strategy == "dates" and not inp.time_column:
        raise ConfigError(f"Input {name!r}: increments by 'dates' need time_column.")
