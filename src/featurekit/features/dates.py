"""Dates for the feature primitives: parsing range bounds, UTC day numbers, ``feature_ts``."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Optional, Union

from featurekit.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

DateLike = Union[dt.date, str]
_EPOCH = dt.date(1970, 1, 1)


def as_date(value: Optional[DateLike], what: str) -> Optional[dt.date]:
    """``value`` as a date (from a date or 'YYYY-MM-DD'); None stays None."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(f"{what} {value!r} is not a date (YYYY-MM-DD).") from exc
    raise ConfigError(f"{what} must be a datetime.date or 'YYYY-MM-DD', got {value!r}.")


def unix_day(day: dt.date) -> int:
    """Days since 1970-01-01 (Spark's ``unix_date``)."""
    return (day - _EPOCH).days


def with_feature_ts(
    df: DataFrame, date_column: str = "feature_date", name: str = "feature_ts"
) -> DataFrame:
    """Add ``name``: the instant a daily feature row became known, the end of its date (UTC).

    >>> daily = with_feature_ts(daily)  # doctest: +SKIP

    A row for D summarises events up to D 23:59:59.999999, so it is usable from
    D+1 00:00 UTC: a label at 10:00 on D joins D-1's row.
    """
    from pyspark.sql import functions as F

    from featurekit.features._checks import col

    if date_column not in df.columns:
        raise ConfigError(f"with_feature_ts: no column {date_column!r}; columns: {df.columns}.")
    day = F.unix_date(col(date_column)).cast("bigint") + 1
    return df.withColumn(name, F.timestamp_seconds(day * 86_400))
