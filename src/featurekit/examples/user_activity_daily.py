"""Per user and day: views, carts, purchases, spend and distinct items over 1, 7 and 30 days."""

from __future__ import annotations

from pyspark.sql import DataFrame

from featurekit import FeatureJob, FeatureTable, JobContext, Param, TableInput
from featurekit.features import Agg, windowed_aggregates, with_feature_ts

WINDOWS = ("1d", "7d", "30d")
AGGREGATIONS = (
    Agg.count("events"),
    Agg.count("views", where="event_type = 'view'"),
    Agg.count("carts", where="event_type = 'cart'"),
    Agg.count("purchases", where="event_type = 'purchase'"),
    Agg.sum("spend", "amount", where="event_type = 'purchase'"),
    Agg.count_distinct("items", "item_id"),
)
# The latest event each row used (for the leakage audit): only the 30d window is kept.
PROVENANCE = Agg.max("last_event_at", "event_time")
FEATURES = {
    f"{agg.name}_{w}": "double" if agg.name == "spend" else "bigint"
    for agg in AGGREGATIONS
    for w in WINDOWS
}


class UserActivityDaily(FeatureJob):
    name = "user_activity_daily"
    description = "Per user and day: activity counts, spend and distinct items over 1/7/30 days."
    # 29 days before --start are read so the first date's 30-day window is complete.
    inputs = {"events": TableInput("raw.events", time_column="event_time", lookback_days=29)}
    output = FeatureTable(
        "features.user_activity_daily",
        keys=("user_id",),
        date_column="feature_date",
        columns={
            "user_id": "string",
            "feature_date": "date",
            "feature_ts": "timestamp",
            **FEATURES,
            "last_event_at_30d": "timestamp",
        },
        description=(
            "One row per user and day with at least min_events events in the last 30 days. "
            "feature_ts is the end of feature_date (UTC), when the row became known; windows "
            "end on feature_date."
        ),
    )
    params = {
        "min_events": Param(int, default=1, help="drop user-days with fewer events in 30 days")
    }

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        # Rows with a null user_id or event_time are dropped and counted here into the run
        # record's counters (ctx.counters): null_key_rows, null_time_rows).
        daily = windowed_aggregates(
            events,
            keys="user_id",
            timestamp="event_time",
            aggregations=[*AGGREGATIONS, PROVENANCE],
            windows=WINDOWS,
            start=ctx.start,
            end=ctx.end,
            counters=ctx.counters,
        )
        daily = daily.where(daily["events_30d"] >= ctx.params["min_events"])
        return with_feature_ts(daily).drop("last_event_at_1d", "last_event_at_7d")
