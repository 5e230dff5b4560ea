"""Argument checks shared by the feature primitives: they read schemas only, never run a job.

Column quoting lives on the ground floor (:mod:`featurekit.core.names`), re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from featurekit.core.names import any_null, col, sql_name, sql_names
from featurekit.errors import ConfigError

__all__ = [
    "any_null",
    "as_tuple",
    "col",
    "require_columns",
    "require_timestamp",
    "require_unique",
    "sql_name",
    "sql_names",
]

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def as_tuple(keys: str | Sequence[str], what: str) -> tuple[str, ...]:
    """``keys`` as a non-empty tuple of names (a single string is one key)."""
    out = (keys,) if isinstance(keys, str) else tuple(keys)
    if not out:
        raise ConfigError(f"{what} needs at least one key column.")
    return out


def require_columns(df: DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ConfigError naming every column of ``columns`` that ``df`` lacks."""
    have = set(df.columns)
    missing = [c for c in columns if c not in have]
    if missing:
        raise ConfigError(f"{what}: unknown column(s) {missing}; the DataFrame has {sorted(have)}.")


def require_timestamp(df: DataFrame, column: str, what: str) -> None:
    """Raise ConfigError unless ``column`` is a (UTC instant) TimestampType column."""
    from pyspark.sql.types import TimestampType

    require_columns(df, [column], what)
    dtype = df.schema[column].dataType
    if not isinstance(dtype, TimestampType):
        raise ConfigError(
            f"{what}: time column {column!r} is {dtype.simpleString()}, not timestamp. "
            f"Convert it first, e.g. F.to_timestamp({column!r}) or .cast('timestamp')."
        )


def require_unique(names: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    dups: set[str] = set()
    for name in names:
        (dups if name in seen else seen).add(name)
    if dups:
        raise ConfigError(
            f"{what}: duplicate output column name(s) {sorted(dups)}; give each aggregation "
            "a distinct name (or a prefix) and each window a distinct length."
        )
