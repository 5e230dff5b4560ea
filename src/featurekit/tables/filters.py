"""The partition filter type that engines and maintenance share (engine.check_partition_filters
checks them, engine.partition_predicate and maintenance.sql_predicate apply them)."""

from __future__ import annotations

from typing import Any

# A partition filter: (partition column, operator, value), ANDed together, e.g.
# ``[("feature_date", ">=", "2024-01-01"), ("feature_date", "<=", "2024-01-31")]``.
# Values are compared as the column's type; "in" / "not in" take a list of values.
PartitionFilter = tuple[str, str, Any]
FILTER_OPS = ("=", "!=", "<", "<=", ">", ">=", "in", "not in")
