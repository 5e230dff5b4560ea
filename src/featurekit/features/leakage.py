"""Leakage audit of a point-in-time joined training set.

A row leaks when a feature it carries was not knowable at the row's spine time.
The audit checks, in one aggregation over the joined rows:

* ``feature_after_spine``: the joined ``feature_time`` is later than the spine time;
* ``data_after_spine``: a *data time* column (the latest event instant a feature
  used, e.g. ``last_event_at_30d``) is later than the spine time;
* ``data_after_feature_time``: such a data time is not before ``feature_time``
  (the feature claims to be known before its own data happened);
* ``published_before_date_end``: a daily row's ``feature_time`` is before the end of
  its feature date (it was published before its day's events were all in).

Rows without a joined feature (null ``feature_time``) cannot leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from featurekit.errors import LeakageError
from featurekit.features._checks import col, require_columns, require_timestamp

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


@dataclass(frozen=True)
class LeakageReport:
    """What :func:`audit_leakage` found: rows audited, violations per check, a few examples."""

    rows: int
    joined: int
    violations: dict[str, int]
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def violation_count(self) -> int:
        return sum(self.violations.values())

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

    def summary(self) -> str:
        if self.ok:
            return f"leakage audit passed: {self.rows} rows, {self.joined} with features, 0 leaks"
        found = ", ".join(f"{k}={v}" for k, v in self.violations.items() if v)
        return f"leakage audit FAILED: {found} (of {self.rows} rows); examples: {self.examples}"


def _checks(
    spine_time: str,
    feature_time: str,
    data_time_columns: Sequence[str],
    feature_date: Optional[str],
) -> dict[str, Column]:
    from pyspark.sql import functions as F

    spine, known = col(spine_time), col(feature_time)
    checks = {"feature_after_spine": known > spine}
    if data_time_columns:
        late = [col(c) > spine for c in data_time_columns]
        early = [col(c) >= known for c in data_time_columns]
        checks["data_after_spine"] = F.greatest(*late) if len(late) > 1 else late[0]
        checks["data_after_feature_time"] = F.greatest(*early) if len(early) > 1 else early[0]
    if feature_date:
        day_end = F.timestamp_seconds((F.unix_date(col(feature_date)).cast("bigint") + 1) * 86400)
        checks["published_before_date_end"] = known < day_end
    return checks


def audit_leakage(
    joined: DataFrame,
    *,
    spine_time: str,
    feature_time: str,
    data_time_columns: Sequence[str] = (),
    feature_date: Optional[str] = None,
    examples: int = 5,
) -> LeakageReport:
    """Audit a joined training set (one Spark job; one more to fetch examples on failure).

    >>> report = audit_leakage(training, spine_time="label_time", feature_time="feature_ts",
    ...                        data_time_columns=["last_event_at_30d"],
    ...                        feature_date="feature_date")  # doctest: +SKIP
    >>> report.ok  # doctest: +SKIP
    True
    """
    from pyspark.sql import functions as F

    what = "audit_leakage"
    require_timestamp(joined, spine_time, what)
    require_timestamp(joined, feature_time, what)
    for column in data_time_columns:
        require_timestamp(joined, column, what)
    if feature_date:
        require_columns(joined, [feature_date], what)
    checks = _checks(spine_time, feature_time, list(data_time_columns), feature_date)
    row = joined.agg(
        F.count(F.lit(1)).alias("__rows"),
        F.count(col(feature_time)).alias("__joined"),
        *[F.count(F.when(cond, 1)).alias(name) for name, cond in checks.items()],
    ).first()
    values = row.asDict() if row else {}
    violations = {name: int(values.get(name) or 0) for name in checks}
    found: list[dict[str, Any]] = []
    if any(violations.values()) and examples > 0:
        leaked = F.lit(False)
        for cond in checks.values():
            leaked = leaked | F.coalesce(cond, F.lit(False))
        found = [r.asDict() for r in joined.where(leaked).limit(examples).collect()]
    return LeakageReport(
        rows=int(values.get("__rows") or 0),
        joined=int(values.get("__joined") or 0),
        violations=violations,
        examples=found,
    )


def assert_no_leakage(joined: DataFrame, **options: Any) -> LeakageReport:
    """:func:`audit_leakage`, raising :class:`LeakageError` when any row leaks."""
    report = audit_leakage(joined, **options)
    if not report.ok:
        raise LeakageError(
            f"{report.summary()}. A feature was joined that was not known at the spine time: "
            "join with point_in_time_join on the feature's availability time (feature_ts)."
        )
    return report
