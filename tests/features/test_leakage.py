"""The leakage audit finds each kind of leak and passes clean training sets."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

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


def test_names_with_dots_spaces_and_backticks(spark):
    # every check reads its columns by name: "label.x `y`" is a column, not a struct's field
    odd = ".x `y`"
    rows = [
        CLEAN,
        NO_MATCH,
        (dt.datetime(2026, 1, 2, 10), D2, MIDNIGHT_D2, dt.datetime(2026, 1, 2, 11)),
    ]
    df = spark.createDataFrame(rows, SCHEMA)
    expected = audit_leakage(df, examples=5, **OPTIONS)
    renamed = {
        k: [c + odd for c in v] if isinstance(v, list) else v + odd for k, v in OPTIONS.items()
    }
    actual = audit_leakage(df.toDF(*[c + odd for c in df.columns]), examples=5, **renamed)
    examples = [{k.replace(odd, ""): v for k, v in e.items()} for e in actual.examples]
    assert replace(actual, examples=examples) == expected
    assert expected.violation_count == 3  # the third row's data is late, its row published early
