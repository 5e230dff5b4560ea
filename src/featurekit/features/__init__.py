"""Feature primitives: windowed aggregates from daily partials, point-in-time joins, leakage audit.

Example::

    from featurekit.features import Agg, windowed_aggregates, point_in_time_join

    daily = windowed_aggregates(
        events, keys="user_id", timestamp="event_time", windows=["1d", "7d", "30d"],
        aggregations=[Agg.count("purchases", where=F.col("event_type") == "purchase")],
    )
"""

from featurekit.features.aggs import Agg, parse_window
from featurekit.features.dates import with_feature_ts
from featurekit.features.leakage import LeakageReport, assert_no_leakage, audit_leakage
from featurekit.features.merge import merge_partials
from featurekit.features.pit import point_in_time_join
from featurekit.features.windowed import (
    FEATURE_DATE,
    PARTIAL_DATE,
    combine_windows,
    daily_partials,
    windowed_aggregates,
)

__all__ = [
    "FEATURE_DATE",
    "PARTIAL_DATE",
    "Agg",
    "LeakageReport",
    "assert_no_leakage",
    "audit_leakage",
    "combine_windows",
    "daily_partials",
    "merge_partials",
    "parse_window",
    "point_in_time_join",
    "windowed_aggregates",
    "with_feature_ts",
]
