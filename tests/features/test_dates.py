"""with_feature_ts: the instant a daily row becomes known, whatever its columns are named."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality

from featurekit.features import with_feature_ts


def test_with_feature_ts_takes_names_with_dots_spaces_and_backticks(spark):
    # "feature.date `d`" is a column, never field date `d` of a struct feature
    df = spark.createDataFrame(
        [("u", dt.date(2026, 1, 1)), ("v", None)], "user_id string, feature_date date"
    )
    expected = with_feature_ts(df)
    odd = df.toDF("user.id", "feature.date `d`")
    actual = with_feature_ts(odd, date_column="feature.date `d`", name="feature ts.`x`")
    assert actual.columns == ["user.id", "feature.date `d`", "feature ts.`x`"]
    assert_df_equality(actual.toDF(*expected.columns), expected)
