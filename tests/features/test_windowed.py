"""windowed_aggregates / daily_partials / combine_windows against the pandas reference."""

from __future__ import annotations

import datetime as dt
import random
import re

import pandas as pd
import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from features_reference import windowed_reference
from pyspark.sql import functions as F

from featurekit.errors import ConfigError, contract_breach
from featurekit.features import (
    Agg,
    combine_windows,
    daily_partials,
    merge_partials,
    windowed,
    windowed_aggregates,
)
from featurekit.features.windowed import FEATURE_DATE, FEW_DATES, PARTIAL_DATE
from featurekit.plans import unique_on

SCHEMA = "user_id string, ts timestamp, kind string, amount double, item string"
COLUMNS = ["user_id", "ts", "kind", "amount", "item"]
T0 = dt.datetime(2026, 1, 1)


def is_buy(row: dict) -> bool:
    return row["kind"] == "buy"


# (Agg, reference spec): each kind once, some with a where filter.
CASES = [
    (Agg.count("n"), ("count", "n", None, None)),
    (Agg.count("buys", where="kind = 'buy'"), ("count", "buys", None, is_buy)),
    (Agg.sum("spend", "amount", where="kind = 'buy'"), ("sum", "spend", "amount", is_buy)),
    (Agg.mean("avg", "amount"), ("mean", "avg", "amount", None)),
    (Agg.min("lo", "amount"), ("min", "lo", "amount", None)),
    (Agg.max("hi", "ts"), ("max", "hi", "ts", None)),
    (Agg.stddev("sd", "amount"), ("stddev", "sd", "amount", None)),
    (Agg.variance("var", "amount"), ("variance", "var", "amount", None)),
    (Agg.first("first_item", "item"), ("first", "first_item", "item", None)),
    (Agg.last("last_item", "item"), ("last", "last_item", "item", None)),
    (Agg.count_distinct("items", "item"), ("count_distinct", "items", "item", None)),
]
AGGS = [c[0] for c in CASES]
SPECS = [c[1] for c in CASES]


def random_events(seed: int, users: int = 6, days: int = 40, n: int = 300) -> list[tuple]:
    """Random events plus the edge cases: midnights, duplicates, null keys/values, a long gap."""
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        user = f"u{rnd.randrange(users)}"
        when = T0 + dt.timedelta(days=rnd.randrange(days), seconds=rnd.randrange(86400))
        if rnd.random() < 0.1:
            when = when.replace(hour=0, minute=0, second=0)  # exactly midnight
        kind = rnd.choice(["view", "view", "buy"])
        amount = None if rnd.random() < 0.2 else round(rnd.uniform(1, 100), 2)
        rows.append((user, when, kind, amount, f"i{rnd.randrange(8)}"))
    rows += rows[:15]  # duplicate events
    rows += [(None, T0, "view", 1.0, "i1"), ("u0", None, "view", 1.0, "i1")]
    # a key active at both ends with a gap longer than the longest window
    rows += [
        ("gap", T0, "buy", 5.0, "i1"),
        ("gap", T0 + dt.timedelta(days=days - 1), "buy", 7.0, "i2"),
    ]
    return rows


def reference_df(spark, rows, windows, start=None, end=None):
    pdf = pd.DataFrame(rows, columns=COLUMNS)
    pdf["ts"] = pdf["ts"].astype(object).where(pdf["ts"].notna(), None)
    ref = windowed_reference(
        pdf, key="user_id", ts="ts", specs=SPECS, windows=windows, start=start, end=end
    )
    names = [f"{s[1]}_{n}d" for s in SPECS for n in windows]
    return ref, names


def assert_matches(spark, actual, ref, names):
    expected = spark.createDataFrame(ref, schema=actual.schema) if ref else None
    if expected is None:
        assert actual.count() == 0
        return
    order = ["user_id", "feature_date"]
    assert_approx_df_equality(
        actual.orderBy(order), expected.orderBy(order), 1e-9, ignore_nullable=True
    )
    assert actual.columns == ["user_id", "feature_date", *names]


def assert_range_matches(spark, rows, windows, start, end, keys="user_id"):
    """windowed_aggregates over [start, end] equals the pandas reference on ``rows``."""
    actual = windowed_aggregates(
        spark.createDataFrame(rows, SCHEMA),
        keys=keys,
        timestamp="ts",
        aggregations=AGGS,
        windows=[f"{n}d" for n in windows],
        start=start,
        end=end,
    )
    ref, names = reference_df(spark, rows, windows, start=start, end=end)
    assert_matches(spark, actual, ref, names)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "running_from"), [(1, 31), (2, 1)])
def test_random_events_match_reference(spark, seed, running_from, monkeypatch):
    # seed 2: every window on running sums (by default only windows of 31 days or more)
    monkeypatch.setattr(windowed, "RUNNING_FROM_DAYS", running_from)
    rows = random_events(seed)
    df = spark.createDataFrame(rows, SCHEMA)
    counters: dict[str, int] = {}
    actual = windowed_aggregates(
        df,
        keys="user_id",
        timestamp="ts",
        aggregations=AGGS,
        windows=["1d", "3d", "30d"],
        counters=counters,
    )
    ref, names = reference_df(spark, rows, [1, 3, 30])
    assert_matches(spark, actual, ref, names)
    assert counters == {"null_key_rows": 1, "null_time_rows": 1}


@pytest.mark.parametrize(
    ("windows", "sliding"), [(["1d", "7d", "30d"], True), (["7d", "31d"], False)]
)
def test_short_double_windows_read_the_running_sums_of_a_long_one(spark, windows, sliding):
    # without a window of 31 days or more a 7-day double sum keeps its sliding frame (the
    # same bits as before); with one, it reads that window's running sums N rows back
    df = spark.createDataFrame(random_events(1), SCHEMA)
    out = windowed_aggregates(
        df, keys="user_id", timestamp="ts", aggregations=[Agg.sum("s", "amount")], windows=windows
    )
    plan = out._jdf.queryExecution().analyzed().toString()
    assert ("RowFrame, -6, currentrow$()" in plan) == sliding
    assert ("RowFrame, -7, -7" in plan) != sliding  # lag 7


@pytest.mark.slow
def test_date_range_matches_reference_and_reads_lookback(spark):
    start, end = dt.date(2026, 1, 8), dt.date(2026, 1, 25)  # end past the last event
    # 31d: running sums (and a lookback of 30 days before the first event)
    assert_range_matches(spark, random_events(3, days=20), [2, 7, 31], start, end, keys=["user_id"])


def dense_grids(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The ``dense`` flag of every combine from now on (lag vs range-bounded frames)."""
    seen: list[bool] = []
    window_values = windowed._window_values

    def spy(*args, dense=False, **kwargs):
        seen.append(dense)
        return window_values(*args, dense=dense, **kwargs)

    monkeypatch.setattr(windowed, "_window_values", spy)
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("running_from", [31, 1])
def test_date_range_on_a_dense_grid_matches_reference(spark, running_from, monkeypatch):
    # 35 dates, longest 31d: the 30 lookback days before start are kept as rows, so the
    # sums N days back are read N rows back; "gap" has an event 59 days before its last
    # (a gap longer than the longest window), u* keys have events before start
    monkeypatch.setattr(windowed, "RUNNING_FROM_DAYS", running_from)
    dense = dense_grids(monkeypatch)
    start, end = dt.date(2026, 1, 26), dt.date(2026, 3, 1)
    assert_range_matches(spark, random_events(6, days=60, n=400), [1, 7, 31], start, end)
    assert dense == [True]


@pytest.mark.slow
def test_short_range_of_long_windows_keeps_lookback_sparse(spark, monkeypatch):
    # 6 dates, longest 31d: the lookback would outnumber the dates more than
    # DENSE_LOOKBACK times, so only its event days are rows and the sums N days back take
    # range-bounded frames; every window on running sums, so the doubles' rounding errors
    # are read N days back too
    monkeypatch.setattr(windowed, "RUNNING_FROM_DAYS", 1)
    dense = dense_grids(monkeypatch)
    start, end = dt.date(2026, 2, 10), dt.date(2026, 2, 15)
    assert_range_matches(spark, random_events(7, days=60, n=400), [1, 7, 31], start, end)
    assert dense == [False]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (dt.date(2026, 1, 12), dt.date(2026, 1, 12)),  # one date: the nightly incremental case
        (dt.date(2026, 1, 1), dt.date(2026, 1, 4)),  # FEW_DATES dates from the first event day
        (dt.date(2026, 1, 19), dt.date(2026, 1, 22)),  # past the last event
    ],
)
def test_few_dates_grouped_path_matches_reference(spark, start, end):
    assert (end - start).days < FEW_DATES  # combined by one groupBy, not the window spec
    assert_range_matches(spark, random_events(4, days=20, n=200), [1, 3, 7], start, end)


def test_few_dates_are_proven_one_row_per_key_and_date_even_from_unproven_partials(spark):
    """Stored partials read back prove nothing; the grouped path's rows are unique by its
    groupBy, so a run checks them during the write instead of reading them back."""
    events = spark.createDataFrame(random_events(4, days=20, n=200), SCHEMA)
    parts = daily_partials(events, keys="user_id", timestamp="ts", aggregations=AGGS)
    unproven = spark.createDataFrame(parts.collect(), parts.schema)
    assert not unique_on(unproven, ["user_id", PARTIAL_DATE])
    day = dt.date(2026, 1, 12)
    out = combine_windows(
        unproven, keys="user_id", aggregations=AGGS, windows=["1d", "7d"], start=day, end=day
    )
    assert unique_on(out.where(F.col(FEATURE_DATE) == F.lit(day)), ["user_id", FEATURE_DATE])
    assert out.groupBy("user_id", FEATURE_DATE).count().where("count > 1").count() == 0
    spread = combine_windows(
        unproven,
        keys="user_id",
        aggregations=AGGS,
        windows=["1d", "7d"],
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 1, 20),
    )
    # the window spec's grid: one row per key and date by construction (it refuses
    # duplicate partials: below)
    assert unique_on(spread, ["user_id", FEATURE_DATE])
    assert spread.groupBy("user_id", FEATURE_DATE).count().where("count > 1").count() == 0


def test_the_grid_refuses_two_partial_rows_of_one_key_and_day(spark):
    events = spark.createDataFrame(random_events(4, days=20, n=200), SCHEMA)
    parts = daily_partials(events, keys="user_id", timestamp="ts", aggregations=AGGS)
    day = parts.where(F.col("user_id") == "u1").agg(F.min(PARTIAL_DATE)).first()[0]
    twice = parts.unionByName(
        parts.where((F.col("user_id") == "u1") & (F.col(PARTIAL_DATE) == F.lit(day)))
    )
    out = combine_windows(twice, keys="user_id", aggregations=AGGS, windows=["1d", "7d"])
    with pytest.raises(Exception, match="featurekit output contract") as failed:
        out.collect()
    assert contract_breach(failed.value) == (
        "the partials hold more than one row for one key and day, e.g. user_id=u1, "
        f"event_date={day.isoformat()}; merge them into one (merge_partials) before the windows"
    )
    assert combine_windows(parts, keys="user_id", aggregations=AGGS, windows=["7d"]).count() > 0


def test_one_date_groups_by_the_keys_alone(spark):
    """The nightly case: the date is added after the grouping, so the partial aggregation
    (its generated code) is the same from one night to the next, and its key is the keys
    alone."""
    events = spark.createDataFrame(random_events(4, days=20, n=200), SCHEMA)
    parts = daily_partials(events, keys="user_id", timestamp="ts", aggregations=AGGS)

    def partial_aggregation(day: dt.date) -> str:
        out = combine_windows(
            parts, keys="user_id", aggregations=AGGS, windows=["7d"], start=day, end=day
        )
        plan = out._jdf.queryExecution().executedPlan().toString()
        lines = [line for line in plan.splitlines() if "partial_sum(n__count__7" in line]
        assert len(lines) == 1, plan
        return re.sub(r"#\d+L?", "", lines[0])

    first, second = (
        partial_aggregation(dt.date(2026, 1, 12)),
        partial_aggregation(dt.date(2026, 1, 13)),
    )
    assert first == second
    assert re.search(r"keys=\[user_id\]", first), first


def test_midnight_belongs_to_its_own_day(spark):
    rows = [
        ("a", dt.datetime(2026, 1, 2, 0, 0, 0), "buy", 1.0, "x"),
        ("a", dt.datetime(2026, 1, 1, 23, 59, 59, 999999), "buy", 2.0, "y"),
    ]
    df = spark.createDataFrame(rows, SCHEMA)
    out = windowed_aggregates(
        df,
        keys="user_id",
        timestamp="ts",
        windows=["1d"],
        aggregations=[Agg.sum("s", "amount"), Agg.count("x", where=F.col("item") == "x")],
    )
    expected = spark.createDataFrame(
        [("a", dt.date(2026, 1, 1), 2.0, 0), ("a", dt.date(2026, 1, 2), 1.0, 1)],
        "user_id string, feature_date date, s_1d double, x_1d bigint",
    )
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


@pytest.mark.parametrize(("start", "end"), [(None, None), ("2026-01-02", "2026-01-06")])
def test_means_of_big_longs_under_ansi_mode(spark, start, end):
    """A key's running total of longs passes a long's range; its windows do not. Under
    ANSI mode (Spark 4's default) a long running sum would fail the job."""
    big = 2 * 10**18
    rows = [("a", dt.datetime(2026, 1, d, 12), big) for d in range(1, 7)]
    rows.append(("a", dt.datetime(2026, 1, 4, 13), None))  # a day with a null value too
    df = spark.createDataFrame(rows, "user_id string, ts timestamp, v bigint")
    aggs = [Agg.mean("m", "v"), Agg.sum("s", "v"), Agg.variance("var", "v")]
    ansi = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", "true")
    try:
        out = windowed_aggregates(
            df, keys="user_id", timestamp="ts", windows=["3d"], aggregations=aggs,
            start=start, end=end,
        ).collect()  # fmt: skip
    finally:
        spark.conf.set("spark.sql.ansi.enabled", ansi)
    assert len(out) == (6 if start is None else 5)
    for row in out:
        days = min(row.feature_date.day, 3)
        variance = None if days == 1 else 0.0  # one value: no sample variance
        assert (row.m_3d, row.s_3d, row.var_3d) == (float(big), days * big, variance)


def test_empty_input_gives_empty_output_with_schema(spark):
    df = spark.createDataFrame([], SCHEMA)
    out = windowed_aggregates(
        df, keys="user_id", timestamp="ts", aggregations=AGGS, windows=["1d", "7d"]
    )
    assert out.count() == 0
    assert out.columns[:3] == ["user_id", "feature_date", "n_1d"]


def test_approx_distinct_close_to_exact(spark):
    rows = [("a", T0 + dt.timedelta(hours=i % 48), "view", 1.0, f"i{i % 300}") for i in range(900)]
    df = spark.createDataFrame(rows, SCHEMA)
    out = windowed_aggregates(
        df,
        keys="user_id",
        timestamp="ts",
        windows=["1d", "2d"],
        aggregations=[Agg.approx_count_distinct("a", "item"), Agg.count_distinct("e", "item")],
    ).collect()
    for row in out:
        for w in ("1d", "2d"):
            assert abs(row[f"a_{w}"] - row[f"e_{w}"]) <= 0.05 * row[f"e_{w}"]


@pytest.mark.slow
def test_two_stages_equal_one_call_and_recombine_after_union(spark):
    rows = random_events(4, days=15)
    df = spark.createDataFrame(rows, SCHEMA)
    kwargs = {"keys": "user_id", "aggregations": AGGS}
    whole = windowed_aggregates(df, timestamp="ts", windows=["1d", "5d"], **kwargs)
    # partials of two separate date ranges, stored and unioned, recombine to the same rows
    early = daily_partials(df, timestamp="ts", end="2026-01-07", **kwargs)
    late = daily_partials(df, timestamp="ts", start="2026-01-08", **kwargs)
    again = combine_windows(early.unionByName(late), windows=["1d", "5d"], **kwargs)
    order = ["user_id", "feature_date"]
    assert_approx_df_equality(whole.orderBy(order), again.orderBy(order), 1e-9)


@pytest.mark.slow
def test_partials_of_two_batches_merge_to_the_partials_of_all(spark):
    rows = random_events(5, days=6)
    df = spark.createDataFrame(rows, SCHEMA)
    aggs = [*AGGS, Agg.approx_count_distinct("approx", "item")]
    kwargs = {"keys": "user_id", "aggregations": aggs}
    whole = windowed_aggregates(df, timestamp="ts", windows=["1d", "3d"], **kwargs)
    # two batches holding different events of the same days
    odd = F.xxhash64("user_id", "ts", "kind", "amount", "item") % 2 == 0
    batches = [daily_partials(df.where(c), timestamp="ts", **kwargs) for c in (odd, ~odd)]
    merged = merge_partials(batches[0].unionByName(batches[1]), **kwargs)
    again = combine_windows(merged, windows=["1d", "3d"], **kwargs)
    order = ["user_id", "feature_date"]
    assert_approx_df_equality(whole.orderBy(order), again.orderBy(order), 1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"windows": ["12h"]}, "not a whole"),
        ({"windows": ["1.5d"]}, "not understood"),
        ({"windows": ["1d", "24h"]}, "duplicate output"),
        ({"aggregations": [Agg.count("n"), Agg.sum("n", "amount")]}, "duplicate output"),
        ({"keys": "nobody"}, "unknown column"),
        ({"timestamp": "kind"}, "not timestamp"),
        ({"aggregations": [Agg.sum("s", "kind")]}, "numeric"),
        ({"aggregations": [Agg.count("c", where="nope > 1")]}, "does not fit"),
    ],
)
def test_bad_arguments_fail_before_any_spark_job(spark, kwargs, message):
    df = spark.createDataFrame([], SCHEMA)
    args = {
        "keys": "user_id",
        "timestamp": "ts",
        "aggregations": [Agg.count("n")],
        "windows": ["1d"],
        **kwargs,
    }
    jobs_before = spark.sparkContext.statusTracker().getJobIdsForGroup()
    with pytest.raises(ConfigError, match=message):
        windowed_aggregates(df, **args)
    assert spark.sparkContext.statusTracker().getJobIdsForGroup() == jobs_before


# User names with a dot, a space and a backtick (flattened JSON): each primitive must take
# them as column names, never parse them ("user_id.x" is not field x of a struct user_id).
ODD = ".x `y`"
ODD_ROWS = [
    ("a", T0 + dt.timedelta(hours=1), "buy", 3.0, "i1"),
    ("a", T0 + dt.timedelta(hours=5), "view", None, "i2"),
    ("a", T0 + dt.timedelta(days=1, hours=2), "buy", 5.0, "i1"),
    ("b", T0 + dt.timedelta(days=2), "view", 1.5, "i3"),
    ("b", T0 + dt.timedelta(days=2, hours=3), "view", 2.5, "i3"),
    (None, T0, "view", 1.0, "i1"),
]


def odd(name: str) -> str:
    return name + ODD


def same(name: str) -> str:
    return name


def plain(df):
    """``df`` with the odd names renamed back to the plain ones."""
    return df.toDF(*[c.replace(ODD, "") for c in df.columns])


def kinds(name):
    """An aggregation of each kind, every user name (column, aggregation) through ``name``."""
    from featurekit.features._checks import sql_name

    buy = f"{sql_name(name('kind'))} = 'buy'"
    amount, item = name("amount"), name("item")
    return [
        Agg.count(name("n")),
        Agg.count(name("buys"), where=buy),
        Agg.sum(name("spend"), amount, where=buy),
        Agg.mean(name("avg"), amount),
        Agg.min(name("lo"), amount),
        Agg.max(name("hi"), name("ts")),
        Agg.stddev(name("sd"), amount),
        Agg.first(name("first"), item),
        Agg.last(name("last"), item),
        Agg.count_distinct(name("items"), item),
        Agg.approx_count_distinct(name("approx"), item),
    ]


def odd_partials(spark, name):
    df = spark.createDataFrame(ODD_ROWS, SCHEMA).toDF(*map(name, COLUMNS))
    counters: dict[str, int] = {}
    partials = daily_partials(
        df, keys=name("user_id"), timestamp=name("ts"), aggregations=kinds(name), counters=counters
    )
    return partials, counters


def test_daily_partials_take_names_with_dots_spaces_and_backticks(spark):
    expected, plain_counters = odd_partials(spark, same)
    actual, counters = odd_partials(spark, odd)
    assert counters == plain_counters == {"null_key_rows": 1, "null_time_rows": 0}
    assert_df_equality(plain(actual), expected, ignore_row_order=True)


@pytest.mark.parametrize(
    ("start", "end"),
    [(None, None), (dt.date(2026, 1, 2), dt.date(2026, 1, 3))],  # window spec, few dates
)
def test_combine_windows_takes_names_with_dots_spaces_and_backticks(spark, start, end):
    def combined(name):
        partials = odd_partials(spark, name)[0].withColumnRenamed(PARTIAL_DATE, name(PARTIAL_DATE))
        return combine_windows(
            partials,
            keys=[name("user_id")],
            aggregations=kinds(name),
            windows=["1d", "2d"],
            start=start,
            end=end,
            date_column=name(PARTIAL_DATE),
        )

    assert_df_equality(plain(combined(odd)), combined(same), ignore_row_order=True)


def test_windowed_aggregates_take_names_with_dots_spaces_and_backticks(spark):
    def features(name):
        return windowed_aggregates(
            spark.createDataFrame(ODD_ROWS, SCHEMA).toDF(*map(name, COLUMNS)),
            keys=name("user_id"),
            timestamp=name("ts"),
            aggregations=kinds(name),
            windows=["1d", "3d"],
        )

    actual = features(odd)
    assert actual.columns[:3] == [odd("user_id"), FEATURE_DATE, f"{odd('n')}_1d"]
    assert_df_equality(plain(actual), features(same), ignore_row_order=True)


def test_merge_partials_takes_names_with_dots_spaces_and_backticks(spark):
    def merged(name):
        partials = odd_partials(spark, name)[0].withColumnRenamed(PARTIAL_DATE, name(PARTIAL_DATE))
        return merge_partials(
            partials.unionByName(partials),
            keys=name("user_id"),
            aggregations=kinds(name),
            date_column=name(PARTIAL_DATE),
        )

    assert_df_equality(plain(merged(odd)), merged(same), ignore_row_order=True)


@pytest.mark.parametrize("kind", ["double", "float"])
def test_count_distinct_counts_zero_and_negative_zero_as_one_value_across_days(spark, kind):
    # Spark's count(DISTINCT) holds -0.0 and 0.0 equal; the days' sets once kept both
    rows = [
        ("u", T0, 0.0),
        ("u", T0 + dt.timedelta(days=1), -0.0),
        ("v", T0, -0.0),
        ("v", T0 + dt.timedelta(hours=1), 0.0),
        ("v", T0 + dt.timedelta(days=1), float("nan")),
        ("v", T0 + dt.timedelta(days=1, hours=1), 2.5),
    ]
    df = spark.createDataFrame(rows, f"k string, t timestamp, x {kind}")
    got = windowed_aggregates(
        df, keys="k", timestamp="t", aggregations=[Agg.count_distinct("d", "x")], windows=["2d"]
    )
    day = F.to_date("t")
    expected = (
        df.alias("e")
        .join(df.select("k", day.alias("feature_date")).distinct().alias("f"), "k")
        .where((day <= F.col("feature_date")) & (day > F.date_sub("feature_date", 2)))
        .groupBy("k", "feature_date")
        .agg(F.countDistinct("x").alias("d_2d"))
    )
    order = ["k", "feature_date"]
    assert_df_equality(got.orderBy(order), expected.orderBy(order), ignore_nullable=True)
    assert {(r["k"], r["d_2d"]) for r in got.collect()} == {("u", 1), ("v", 1), ("v", 3)}


def big_mean_events(seed: int) -> list[tuple]:
    """Prices near 1e9 that differ by cents: a mean large against the spread."""
    rnd = random.Random(seed)
    rows = []
    for user in ("u0", "u1", "u2"):
        base = 1e9 + rnd.randrange(1000)
        for _ in range(40):
            when = T0 + dt.timedelta(days=rnd.randrange(12), seconds=rnd.randrange(86400))
            rows.append((user, when, "buy", base + rnd.randrange(100) / 100, "i1"))
    return rows


SPREAD_AGGS = [Agg.variance("var", "amount"), Agg.stddev("sd", "amount")]


def spread_reference(spark, rows, windows, start=None, end=None):
    pdf = pd.DataFrame(rows, columns=COLUMNS)
    specs = [("variance", "var", "amount", None), ("stddev", "sd", "amount", None)]
    ref = windowed_reference(
        pdf, key="user_id", ts="ts", specs=specs, windows=windows, start=start, end=end
    )
    return ref


@pytest.mark.parametrize(
    ("start", "end", "running_from"),
    [
        (None, None, 31),  # sliding frames
        (None, None, 1),  # running sums
        (dt.date(2026, 1, 5), dt.date(2026, 1, 12), 1),  # a range, on a dense grid
        (dt.date(2026, 1, 9), dt.date(2026, 1, 9), 31),  # one date: the grouped path
        (dt.date(2026, 1, 8), dt.date(2026, 1, 10), 31),  # few dates: grouped, spread
    ],
)
def test_variance_keeps_its_precision_when_the_mean_is_large(
    spark, start, end, running_from, monkeypatch
):
    # the day sums' squares (n * mean^2, ~1e19 here) once cancelled: a spread of cents
    # came out as 0 or thousands
    monkeypatch.setattr(windowed, "RUNNING_FROM_DAYS", running_from)
    rows = big_mean_events(7)
    out = windowed_aggregates(
        spark.createDataFrame(rows, SCHEMA),
        keys="user_id",
        timestamp="ts",
        aggregations=SPREAD_AGGS,
        windows=["1d", "3d", "7d"],
        start=start,
        end=end,
    )
    ref = spread_reference(spark, rows, [1, 3, 7], start=start, end=end)
    expected = spark.createDataFrame(ref, schema=out.schema)
    order = ["user_id", "feature_date"]
    assert_approx_df_equality(
        out.orderBy(order), expected.orderBy(order), 1e-7, ignore_nullable=True
    )


def test_merged_partials_keep_the_variance_when_the_mean_is_large(spark):
    rows = big_mean_events(8)
    df = spark.createDataFrame(rows, SCHEMA)
    kwargs = {"keys": "user_id", "aggregations": SPREAD_AGGS}
    whole = daily_partials(df, timestamp="ts", **kwargs)
    odd = F.xxhash64("user_id", "ts", "amount") % 2 == 0
    batches = [daily_partials(df.where(c), timestamp="ts", **kwargs) for c in (odd, ~odd)]
    merged = merge_partials(batches[0].unionByName(batches[1]), **kwargs)
    order = ["user_id", PARTIAL_DATE]
    assert_approx_df_equality(
        merged.orderBy(order), whole.orderBy(order), 1e-4, ignore_nullable=True
    )


@pytest.mark.parametrize(
    ("start", "end"), [(None, None), (dt.date(2026, 1, 6), dt.date(2026, 1, 6))]
)
def test_variance_of_a_key_whose_first_day_is_far_from_the_rest(spark, start, end):
    # the key's first day read is a glitch of 1e9 (the 7-day window reads it on every
    # path): a shift by its mean would ruin the other days' windows; they stay exact
    rows = [("u0", T0, "buy", 1e9, "i1")]
    rnd = random.Random(9)
    for day in range(3, 8):
        for _ in range(6):
            when = T0 + dt.timedelta(days=day, seconds=rnd.randrange(86400))
            rows.append(("u0", when, "buy", 1.0 + rnd.randrange(100) / 100, "i1"))
    out = windowed_aggregates(
        spark.createDataFrame(rows, SCHEMA),
        keys="user_id",
        timestamp="ts",
        aggregations=SPREAD_AGGS,
        windows=["3d", "7d"],
        start=start,
        end=end,
    )
    ref = spread_reference(spark, rows, [3, 7], start=start, end=end)
    expected = spark.createDataFrame(ref, schema=out.schema)
    picked = ["user_id", "feature_date", "var_3d", "sd_3d"]
    later = F.col("feature_date") >= dt.date(2026, 1, 4)
    assert expected.where(later).count() > 0
    assert_approx_df_equality(
        out.where(later).select(picked).orderBy(picked[:2]),
        expected.where(later).select(picked).orderBy(picked[:2]),
        1e-12,
        ignore_nullable=True,
    )
