"""Window sums from running sums: exact where a difference of two big totals would not be."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from featurekit.features import Agg, windowed, windowed_aggregates

T0 = dt.datetime(2026, 3, 1, 12)


@pytest.fixture(autouse=True)
def running_from_one_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every window on running sums (by default only those of 31 days or more)."""
    monkeypatch.setattr(windowed, "RUNNING_FROM_DAYS", 1)


def values_by_date(spark, amounts, column_type, aggs, windows):
    rows = [("k", T0 + dt.timedelta(days=i), a) for i, a in enumerate(amounts)]
    df = spark.createDataFrame(rows, f"k string, ts timestamp, amount {column_type}")
    out = windowed_aggregates(df, keys="k", timestamp="ts", aggregations=aggs, windows=windows)
    return {r["feature_date"].day: r.asDict() for r in out.collect()}


def test_small_window_after_a_huge_total_keeps_its_low_bits(spark):
    # running totals of 1e16 + 1 + 1 ... lose every 1: a plain difference gives 0 or 2
    amounts = [1e16, 1.0, 1.0, 1.0, 3.0]
    got = values_by_date(
        spark, amounts, "double", [Agg.sum("s", "amount"), Agg.mean("m", "amount")], ["1d", "2d"]
    )
    assert [got[d]["s_1d"] for d in (2, 3, 4, 5)] == [1.0, 1.0, 1.0, 3.0]
    assert [got[d]["s_2d"] for d in (3, 4, 5)] == [2.0, 2.0, 4.0]
    assert (got[2]["s_2d"], got[5]["m_2d"]) == (1e16 + 1.0, 2.0)


def test_nan_and_infinities_stay_in_their_windows(spark):
    amounts = [math.inf, 1.0, -math.inf, 2.0, math.nan, 5.0, None, None]
    got = values_by_date(spark, amounts, "double", [Agg.sum("s", "amount")], ["1d", "2d"])
    # as IEEE addition of the window's own values: inf + 1, -inf + 1, NaN + 5, no value
    assert [got[1]["s_1d"], got[2]["s_2d"], got[3]["s_2d"]] == [math.inf, math.inf, -math.inf]
    assert [got[2]["s_1d"], got[4]["s_1d"], got[6]["s_1d"]] == [1.0, 2.0, 5.0]
    assert [math.isnan(got[5]["s_1d"]), math.isnan(got[6]["s_2d"])] == [True, True]
    assert [got[7]["s_1d"], got[8]["s_2d"]] == [None, None]


def test_sums_of_longs_past_a_long_running_total_are_exact(spark):
    big = 4_000_000_000_000_000_000  # three of them overflow a long running total
    got = values_by_date(
        spark, [big, big, big, 7], "bigint", [Agg.sum("s", "amount"), Agg.count("n")], ["1d", "2d"]
    )
    assert [got[d]["s_1d"] for d in (1, 2, 3, 4)] == [big, big, big, 7]
    assert (got[4]["s_2d"], got[4]["n_2d"]) == (big + 7, 2)
