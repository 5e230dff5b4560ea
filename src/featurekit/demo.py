"""A deterministic generator of e-commerce events for the demo and the tests.

Every value is a hash of (seed, user, day, slot), so the same arguments give the
same rows on any Spark version, partitioning or machine.

* ``raw.events``: event_id, user_id, event_time (UTC), event_type (view, cart,
  purchase), item_id, amount (null unless purchase).
* ``raw.labels``: user_id, label_time, churned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from featurekit.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

DEMO_START = dt.date(2026, 1, 1)
MAX_EVENTS_PER_DAY = 8


@dataclass(frozen=True)
class DemoSpec:
    users: int = 2000
    days: int = 60
    seed: int = 7
    start: dt.date = DEMO_START

    def __post_init__(self) -> None:
        for name in ("users", "days"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name} must be at least 1, got {getattr(self, name)}.")

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)


def _h(seed: int, *cols: Column | str, salt: str) -> Column:
    """A non-negative deterministic hash of the columns, salted per use."""
    from pyspark.sql import functions as F

    return F.abs(F.xxhash64(F.lit(seed), F.lit(salt), *cols))


def events(spark: SparkSession, spec: DemoSpec) -> DataFrame:
    """The demo's events: 0..7 per active user-day, mostly views, some carts and purchases."""
    from pyspark.sql import functions as F

    m = MAX_EVENTS_PER_DAY
    seed = spec.seed
    grid = spark.range(spec.users * spec.days * m).select(
        F.floor(F.col("id") / (spec.days * m)).alias("u"),
        (F.floor(F.col("id") / m) % spec.days).alias("d"),
        (F.col("id") % m).alias("slot"),
        F.col("id").alias("n"),
    )
    activity = _h(seed, "u", salt="activity") % 5  # 0 (rarely active) .. 4 (daily)
    active_today = (_h(seed, "u", "d", salt="active") % 5) < (activity + 1)
    per_day = _h(seed, "u", "d", salt="count") % m
    kept = grid.where(active_today & (F.col("slot") < per_day))
    roll = _h(seed, "n", salt="type") % 100
    kind = F.when(roll < 75, "view").when(roll < 93, "cart").otherwise("purchase")
    seconds = _h(seed, "n", salt="second") % 86400
    day_start = F.unix_timestamp(
        F.date_add(F.lit(spec.start), F.col("d").cast("int")).cast("timestamp")
    )
    return kept.select(
        F.format_string("e%012d", F.col("n")).alias("event_id"),
        F.format_string("u%06d", F.col("u")).alias("user_id"),
        F.timestamp_seconds(day_start + seconds).alias("event_time"),
        kind.alias("event_type"),
        F.format_string("i%04d", _h(seed, "n", salt="item") % 500).alias("item_id"),
        F.when(kind == "purchase", F.round((_h(seed, "n", salt="amount") % 20000) / 100 + 1, 2))
        .cast("double")
        .alias("amount"),
    )


def labels(spark: SparkSession, spec: DemoSpec) -> DataFrame:
    """One churn label per user, dated in the last third of the period; rarer for busy users."""
    from pyspark.sql import functions as F

    seed = spec.seed
    users = spark.range(spec.users).withColumnRenamed("id", "u")
    offset_days = spec.days - 1 - (_h(seed, "u", salt="label_day") % max(1, spec.days // 3))
    seconds = _h(seed, "u", salt="label_second") % 86400
    base = F.unix_timestamp(F.lit(spec.start).cast("timestamp"))
    activity = _h(seed, "u", salt="activity") % 5
    churned = (activity + _h(seed, "u", salt="churn") % 3) < 2
    return users.select(
        F.format_string("u%06d", F.col("u")).alias("user_id"),
        F.timestamp_seconds(base + offset_days * 86400 + seconds).alias("label_time"),
        churned.alias("churned"),
    )
