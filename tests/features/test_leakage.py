"""The leakage audit finds each kind of leak and passes clean training sets."""

from __future__ import annotations

import datetime as dt

import pytest

from featurekit.errors import LeakageError
from featurekit.features import assert_no_leakage, audit_leakage

SCHEMA = "label_time timestamp, feature_date date, feature_ts timestamp, last_seen timestamp"
D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
MIDNIGHT_D2 = dt.datetime(2026, 1, 2)
OPTIONS = {
    "spine_time": "label_time",
    "feature_time": "feature_ts",
    "data_time_columns": ["last_seen"],
    "feature_date": "feature_date",
}
CLEAN = (dt.datetime(2026, 1, 2, 10), D1, MIDNIGHT_D2, dt.datetime(2026, 1, 1, 22))
NO_MATCH = (dt.datetime(2026, 1, 2, 10), None, None, None)


def test_clean_rows_pass(spark):
    report = assert_no_leakage(spark.createDataFrame([CLEAN, NO_MATCH], SCHEMA), **OPTIONS)
    assert (report.rows, report.joined, report.ok) == (2, 1, True)


@pytest.mark.parametrize(
    ("row", "check"),
    [
        # the feature became known after the label
        (
            (dt.datetime(2026, 1, 1, 10), D1, MIDNIGHT_D2, dt.datetime(2026, 1, 1, 9)),
            "feature_after_spine",
        ),
        # the feature used an event after the label
        (
            (dt.datetime(2026, 1, 2, 10), D1, MIDNIGHT_D2, dt.datetime(2026, 1, 2, 11)),
            "data_after_spine",
        ),
        # the feature claims to be known before its own data
        (
            (dt.datetime(2026, 1, 3), D1, MIDNIGHT_D2, dt.datetime(2026, 1, 2, 1)),
            "data_after_feature_time",
        ),
        # a daily row published at the start of its own day
        (
            (dt.datetime(2026, 1, 2, 10), D2, MIDNIGHT_D2, dt.datetime(2026, 1, 1, 22)),
            "published_before_date_end",
        ),
    ],
)
def test_each_leak_is_found(spark, row, check):
    df = spark.createDataFrame([CLEAN, row], SCHEMA)
    report = audit_leakage(df, **OPTIONS)
    assert report.violations[check] == 1
    assert len(report.examples) == 1
    assert report.examples[0]["feature_date"] == row[1]
    with pytest.raises(LeakageError, match=check):
        assert_no_leakage(df, **OPTIONS)
