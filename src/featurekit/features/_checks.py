"""Argument checks shared by the feature primitives: they read schemas only, never run a job."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import reduce
from typing import TYPE_CHECKING

from featurekit.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def as_tuple(keys: str | Sequence[str], what: str) -> tuple[str, ...]:
    """``keys`` as a non-empty tuple of names (a single string is one key)."""
    out = (keys,) if isinstance(keys, str) else tuple(keys)
    if not out:
        raise ConfigError(f"{what} needs at least one key column.")
    return out


def sql_name(name: str) -> str:
    """``name`` quoted as an identifier of Spark SQL, for ``selectExpr`` and ``where``: a
    projection written as SQL is one call to the JVM, where each ``F.col`` costs about
    1.5 ms of py4j round trips (a point-in-time join made some 500 before)."""
    return "`" + name.replace("`", "``") + "`"


def col(name: str) -> Column:
    """The column named ``name`` as it is: ``F.col`` (like ``select``, ``groupBy``,
    ``Window.partitionBy`` given a string) parses a name, reading ``user.id`` as field
    ``id`` of a struct ``user``; quoted, a user's name is never parsed."""
    from pyspark.sql import functions as F

    return F.col(sql_name(name))


def sql_names(names: Iterable[str]) -> str:
    """``names`` quoted by ``sql_name`` and comma-separated: a SQL argument or column list."""
    return ", ".join(map(sql_name, names))


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


def any_null(columns: Iterable[str]) -> Column:
    return reduce(lambda a, b: a | b, [col(c).isNull() for c in columns])
