"""Table maintenance shared by both engines: results, retention safety, helpers.

Three operations keep a Delta table cheap to read and store:

* ``optimize``   compacts each partition's small files into fewer large ones (one
  commit that removes the small files from the snapshot and adds the new ones;
  the data is unchanged, the removed files stay on disk for time travel);
* ``vacuum``     deletes files no snapshot younger than the retention period
  needs: removed files (after optimize, overwrite, replace) and stray files;
* ``checkpoint`` writes the snapshot's state as one parquet file in
  ``_delta_log``, so a reader replays the log from there, not from version 0.

Retention safety: vacuum never goes under the table's retention period
(``delta.deletedFileRetentionDuration``, 7 days by default) unless forced,
because a shorter one deletes files that readers of older versions, and
writers still running, may need.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from featurekit.core.names import sql_name
from featurekit.errors import ConfigError, RetentionError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

    from featurekit.tables.filters import PartitionFilter

RETENTION_KEY = "delta.deletedFileRetentionDuration"
DEFAULT_RETENTION_HOURS = 7 * 24.0

_UNIT_HOURS = {
    "nanosecond": 1 / 3.6e12,
    "microsecond": 1 / 3.6e9,
    "millisecond": 1 / 3.6e6,
    "second": 1 / 3600,
    "minute": 1 / 60,
    "hour": 1.0,
    "day": 24.0,
    "week": 168.0,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+?)s?\b")


@dataclass(frozen=True)
class OptimizeResult:
    """What a compaction did: files removed from / added to the snapshot."""

    version: Optional[int]  # table version after; unchanged when nothing was compacted
    files_removed: int
    files_added: int
    files_before: int  # live files in the snapshot before
    files_after: int


@dataclass(frozen=True)
class VacuumResult:
    """Files a vacuum deleted (or, in a dry run, would delete)."""

    files: tuple[str, ...]
    retention_hours: float  # the retention used
    dry_run: bool
    forced: bool


@dataclass(frozen=True)
class CheckpointResult:
    """The checkpoint written: its table version and file."""

    version: int
    file: str


def parse_interval_hours(text: str) -> float:
    """Hours in a Delta interval property, e.g. ``interval 7 days``.

    >>> parse_interval_hours("interval 1 week 12 hours")
    180.0
    """
    clean = text.strip().lower()
    clean = clean[len("interval") :] if clean.startswith("interval") else clean
    parts = _PART.findall(clean)
    if not parts or _PART.sub("", clean).strip():
        raise ConfigError(
            f"Cannot read the retention period {text!r}; {RETENTION_KEY} takes an interval "
            "such as 'interval 7 days'."
        )
    hours = 0.0
    for number, unit in parts:
        if unit not in _UNIT_HOURS:
            raise ConfigError(f"Unknown time unit {unit!r} in the retention period {text!r}.")
        hours += float(number) * _UNIT_HOURS[unit]
    return hours


def table_retention_hours(properties: Mapping[str, str]) -> float:
    """The table's deleted-file retention in hours (7 days when not set)."""
    value = properties.get(RETENTION_KEY)
    return DEFAULT_RETENTION_HOURS if value is None else parse_interval_hours(value)


def check_retention(
    path: str,
    requested: Optional[float],
    table_hours: float,
    *,
    force: bool,
    setting: str = RETENTION_KEY,
) -> float:
    """The retention a vacuum uses; RetentionError when under the table's and not forced.
    ``setting`` names the table property the table's retention comes from."""
    if requested is None:
        return table_hours
    if requested < 0:
        raise ConfigError(f"Retention hours must be >= 0, got {requested}.")
    if requested < table_hours and not force:
        raise RetentionError(
            f"Refusing to vacuum {path} with {requested:g} hours of retention: the table keeps "
            f"removed files for {table_hours:g} hours ({setting}). A shorter one deletes "
            "files that time travel to older versions, and writers still running, need. Keep "
            "the default, or force it (--force) when no reader or writer needs older versions."
        )
    return requested


def sql_predicate(filters: Sequence[PartitionFilter], schema: StructType) -> str:
    """Checked partition filters as a Spark SQL predicate (values cast to each column's type)."""

    def typed(column: str, value: str) -> str:
        quoted = "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
        return f"CAST({quoted} AS {schema[column].dataType.simpleString()})"

    clauses = []
    for column, op, value in filters:
        name = sql_name(column)
        if op in ("in", "not in"):
            listed = ", ".join(typed(column, v) for v in value) or "NULL"
            clauses.append(f"{name} {op.upper()} ({listed})")
        else:
            clauses.append(f"{name} {op} {typed(column, value)}")
    return " AND ".join(clauses) or "true"


def data_files_on_disk(path: str) -> list[str]:
    """Parquet files under a local table folder, outside ``_delta_log`` and ``_``/``.`` folders."""
    root = Path(path)
    found = []
    for file in root.rglob("*.parquet"):
        parts = file.relative_to(root).parts
        if not any(p.startswith(("_", ".")) for p in parts):
            found.append(str(file))
    return sorted(found)


def checkpoint_files(path: str, version: int) -> list[str]:
    """The checkpoint files of ``version`` in a local table's ``_delta_log``."""
    return sorted(str(p) for p in Path(path, "_delta_log").glob(f"{version:020d}.checkpoint*"))


_CONF_LOCK = threading.Lock()
_CONF_HELD: dict[tuple[int, str], list[Any]] = {}  # (session, key) -> [holders, old value]


@contextmanager
def scoped_conf(spark: SparkSession, key: str, value: str) -> Iterator[None]:
    """Set a SQL conf for one operation and put the caller's value back afterwards.

    Threads of one session (a parallel backfill) may overlap: the caller's value comes back
    when the last of them is done, never while another still relies on ``value``.
    """
    slot = (id(spark), key)
    with _CONF_LOCK:
        held = _CONF_HELD.setdefault(slot, [0, spark.conf.get(key, None)])
        held[0] += 1
        spark.conf.set(key, value)
    try:
        yield
    finally:
        with _CONF_LOCK:
            held[0] -= 1
            if held[0] == 0:
                del _CONF_HELD[slot]
                if held[1] is None:
                    spark.conf.unset(key)
                else:
                    spark.conf.set(key, held[1])
