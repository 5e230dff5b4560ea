"""point_in_time_join against the brute-force pandas reference, and its edge cases."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
from chispa import assert_df_equality
from features_reference import pit_reference

from featurekit.errors import ConfigError
from featurekit.features import point_in_time_join, with_feature_ts

T0 = dt.datetime(2026, 1, 1)
SPINE = "user_id string, label_time timestamp, label int"
FEATURES = "user_id string, feature_ts timestamp, score double, tag string"


def random_tables(seed: int, users: int = 5, n_spine: int = 40, n_feat: int = 80):
    rnd = random.Random(seed)

    def when() -> dt.datetime:
        return T0 + dt.timedelta(hours=rnd.randrange(24 * 20))  # on the hour: many ties

    spine = [(f"u{rnd.randrange(users)}", when(), i) for i in range(n_spine)]
    spine += [("u0", T0 - dt.timedelta(days=5), -1)]  # a label before any feature
    spine += [(None, when(), -2), ("u1", None, -3)]  # null key, null time
    feats = [
        (f"u{rnd.randrange(users)}", when(), rnd.choice([None, rnd.random()]), rnd.choice("ab"))
        for _ in range(n_feat)
    ]
    feats += [("u2", T0, 1.0, "a"), ("u2", T0, 2.0, "a"), ("u2", T0, 2.0, "b")]  # exact ties
    feats += [(None, T0, 9.0, "z"), ("u3", None, 9.0, "z")]  # never match
    return spine, feats


def join(spine, feats, **kwargs):
    """point_in_time_join on the test tables' columns."""
    return point_in_time_join(
        spine, feats, keys="user_id", spine_time="label_time", feature_time="feature_ts", **kwargs
    )


def reference(spark, spine_rows, feat_rows, schema, max_age=None):
    spine = pd.DataFrame(spine_rows, columns=["user_id", "label_time", "label"], dtype=object)
    feats = pd.DataFrame(feat_rows, columns=["user_id", "feature_ts", "score", "tag"], dtype=object)
    rows = pit_reference(
        spine,
        feats,
        key="user_id",
        spine_time="label_time",
        feature_time="feature_ts",
        max_age=max_age,
    )
    return spark.createDataFrame(rows, schema)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("seed", "max_age", "strategy"),
    [
        (1, None, "sort"),
        (2, dt.timedelta(hours=30), "sort"),
        (2, dt.timedelta(hours=30), "bucket"),
        (3, dt.timedelta(hours=5), "bucket"),  # many labels with no feature inside max_age
        (4, "2d", "auto"),
        (7, None, "range"),
        (8, dt.timedelta(hours=30), "range"),
    ],
)
def test_random_tables_match_reference(spark, seed, max_age, strategy):
    spine_rows, feat_rows = random_tables(seed)
    spine = spark.createDataFrame(spine_rows, SPINE)
    feats = spark.createDataFrame(feat_rows, FEATURES)
    counters: dict[str, int] = {}
    actual = join(
        spine,
        feats,
        max_age=max_age,
        counters=counters,
        strategy=strategy,
    )
    age = dt.timedelta(days=2) if max_age == "2d" else max_age
    expected = reference(spark, spine_rows, feat_rows, actual.schema, age)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
    assert counters == {"null_key_feature_rows": 2}


@pytest.mark.parametrize(
    ("strategy", "max_age"),
    [("sort", None), ("bucket", "1d"), ("range", None), ("range", "1d")],
)
def test_ties_pick_the_greatest_values_every_time(spark, strategy, max_age):
    feats = spark.createDataFrame(
        [("u", T0, 1.0, "b"), ("u", T0, 2.0, "a"), ("u", T0, 2.0, None)], FEATURES
    )
    spine = spark.createDataFrame([("u", T0, 1), ("u", T0, 1)], SPINE)  # duplicate spine rows
    for parts in (1, 3):
        out = join(
            spine,
            feats.repartition(parts),
            max_age=max_age,
            strategy=strategy,
        ).collect()
        assert [(r["score"], r["tag"]) for r in out] == [(2.0, "a"), (2.0, "a")]


def test_bucket_edges_follow_max_age_exactly(spark):
    # max_age 1d: a feature exactly 1 day old is too old; 1 microsecond younger is kept,
    # also across a bucket boundary (buckets are whole days from the epoch)
    spine = spark.createDataFrame(
        [("u", T0 + dt.timedelta(days=3), 0), ("v", T0 + dt.timedelta(days=3, hours=1), 1)],
        SPINE,
    )
    feats = spark.createDataFrame(
        [
            ("u", T0 + dt.timedelta(days=2), 1.0, "too old"),
            ("v", T0 + dt.timedelta(days=2, hours=1, microseconds=1), 2.0, "kept"),
            ("v", T0 + dt.timedelta(days=3, hours=1, microseconds=1), 3.0, "future"),
        ],
        FEATURES,
    )
    for strategy in ("sort", "bucket", "range"):
        out = join(
            spine,
            feats,
            max_age="1d",
            strategy=strategy,
        )
        assert {r["label"]: r["tag"] for r in out.collect()} == {0: None, 1: "kept"}, strategy


@pytest.mark.parametrize("max_age", ["7d", None])
def test_auto_broadcasts_small_spines_and_sorts_large_ones(spark, monkeypatch, tmp_path, max_age):
    import featurekit.features.pit as pit

    # tiny features are sorted without max_age (not with: bucket wins there too)
    monkeypatch.setattr(pit, "SORT_BELOW_FEATURE_BYTES", 0 if max_age is None else 2**62)
    monkeypatch.setattr(pit, "SORT_ABOVE_SPINE_SHARE", float("inf"))  # the spine is bigger
    # a table has a size estimate (a DataFrame made from Python rows has none: sort)
    spark.createDataFrame([("u", T0, 1)], SPINE).write.parquet(str(tmp_path / "spine"))
    spine = spark.read.parquet(str(tmp_path / "spine"))
    spark.createDataFrame([("u", T0, 1.0, "a")], FEATURES).write.parquet(str(tmp_path / "f"))
    feats = spark.read.parquet(str(tmp_path / "f"))

    def plan() -> str:
        out = join(spine, feats, max_age=max_age)
        assert [r["tag"] for r in out.collect()] == ["a"]
        return str(out._jdf.queryExecution().executedPlan().toString())

    names = {"keys": "user_id", "spine_time": "label_time", "feature_time": "feature_ts"}
    chosen = "bucket" if max_age else "range"
    assert pit.choose_strategy(spine, feats, max_age=max_age, **names) == chosen
    assert "BroadcastHashJoin" in plan()  # the spine's times, broadcast
    monkeypatch.setattr(pit, "SORT_ABOVE_SPINE_SHARE", 0.25)  # a spine big next to features
    assert pit.choose_strategy(spine, feats, max_age=max_age, **names) == "sort"
    monkeypatch.setattr(pit, "SORT_ABOVE_SPINE_SHARE", float("inf"))
    # bucket broadcasts two rows per spine time: a limit of one spine's size is too small
    size = pit._estimate(spine.select("user_id", "label_time"))
    monkeypatch.setattr(pit, "BROADCAST_SPINE_BYTES", size)
    chosen = "sort" if max_age else "range"
    assert pit.choose_strategy(spine, feats, max_age=max_age, **names) == chosen
    monkeypatch.setattr(pit, "BROADCAST_SPINE_BYTES", 0)
    assert pit.choose_strategy(spine, feats, max_age=max_age, **names) == "sort"
    assert "Join" not in plan()
    if max_age is None:  # the small-features rule
        monkeypatch.setattr(pit, "BROADCAST_SPINE_BYTES", 2**62)
        monkeypatch.setattr(pit, "SORT_BELOW_FEATURE_BYTES", 2**62)
        assert pit.choose_strategy(spine, feats, max_age=max_age, **names) == "sort"


def test_auto_sorts_a_dense_spine(spark, monkeypatch, tmp_path):
    import featurekit.features.pit as pit

    monkeypatch.setattr(pit, "SORT_BELOW_FEATURE_BYTES", 0)
    monkeypatch.setattr(pit, "SORT_ABOVE_SPINE_SHARE", float("inf"))
    feats = spark.createDataFrame([("u", T0, 1.0, "a"), ("v", T0, 2.0, "b")], FEATURES)
    names = {"keys": "user_id", "spine_time": "label_time", "feature_time": "feature_ts"}

    def spine(u_rows: int):  # u_rows labels of u, one of v
        rows = [("u", T0 + dt.timedelta(hours=h), h) for h in range(u_rows)] + [("v", T0, 9)]
        path = str(tmp_path / f"spine{u_rows}")
        spark.createDataFrame(rows, SPINE).write.parquet(path)
        return spark.read.parquet(path)

    # 4 rows over 2 keys: 2 per key, not dense; 5 rows: 2.5 per key, sorted
    assert pit.choose_strategy(spine(3), feats, **names) == "range"
    dense = spine(4)
    assert pit.choose_strategy(dense, feats, **names) == "sort"
    assert pit.choose_strategy(dense, feats, max_age="7d", **names) == "bucket"  # no count
    out = join(dense, feats)
    assert "Join" not in str(out._jdf.queryExecution().executedPlan().toString())
    assert sorted((r["label"], r["tag"]) for r in out.collect()) == [
        (0, "a"),
        (1, "a"),
        (2, "a"),
        (3, "a"),
        (9, "b"),
    ]


@pytest.mark.parametrize(
    ("crowded", "max_age"), [("all", None), ("one", None), ("one", "1d"), ("all", "1d")]
)
def test_range_sorts_keys_with_many_spine_times(spark, monkeypatch, crowded, max_age):
    import collections

    import featurekit.features._pit_broadcast as broadcast

    spine_rows, feat_rows = random_tables(9, users=6, n_spine=30)
    per_key = collections.Counter(r[0] for r in spine_rows if r[0] and r[1])
    most = max(per_key.values())
    # all: every key is crowded, the whole join is sorted; one: the busiest key(s) are
    # sorted, the rest paired (they hold most spine rows, so the split is exercised)
    limit = 0 if crowded == "all" else most - 1
    if crowded == "one":
        assert 2 * sum(n for n in per_key.values() if n > limit) < sum(per_key.values())
    monkeypatch.setattr(broadcast, "RANGE_MAX_SPINE_TIMES", limit)
    spine = spark.createDataFrame(spine_rows, SPINE)
    feats = spark.createDataFrame(feat_rows, FEATURES)
    actual = join(spine, feats, strategy="range", max_age=max_age)
    plan = str(actual._jdf.queryExecution().executedPlan().toString())
    assert "last(" in plan  # the sort carries the last feature row forward
    age = dt.timedelta(days=1) if max_age else None
    expected = reference(spark, spine_rows, feat_rows, actual.schema, age)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


@pytest.mark.parametrize(
    ("strategy", "max_age"),
    [("sort", None), ("range", None), ("range", "1d"), ("bucket", "1d"), ("auto", None)],
)
def test_names_with_dots_spaces_and_backticks(spark, monkeypatch, strategy, max_age):
    # the strategies write their projections as SQL: every user name must be quoted there,
    # and a dot must not be read as a struct field anywhere (range's crowded split too)
    import collections

    import featurekit.features._pit_broadcast as broadcast

    spine_rows, feat_rows = random_tables(9, users=6, n_spine=30)
    per_key = collections.Counter(r[0] for r in spine_rows if r[0] and r[1])
    monkeypatch.setattr(broadcast, "RANGE_MAX_SPINE_TIMES", max(per_key.values()) - 1)
    spine = spark.createDataFrame(spine_rows, SPINE).toDF("user.id", "label `t`", "label")
    feats = spark.createDataFrame(feat_rows, FEATURES).toDF(
        "user.id", "feature ts", "score.x", "tag"
    )
    actual = point_in_time_join(
        spine,
        feats,
        keys="user.id",
        spine_time="label `t`",
        feature_time="feature ts",
        max_age=max_age,
        strategy=strategy,
    )
    assert actual.columns == ["user.id", "label `t`", "label", "feature ts", "score.x", "tag"]
    plain = actual.toDF("user_id", "label_time", "label", "feature_ts", "score", "tag")
    age = dt.timedelta(days=1) if max_age else None
    expected = reference(spark, spine_rows, feat_rows, plain.schema, age)
    assert_df_equality(plain, expected, ignore_row_order=True, ignore_nullable=True)


@pytest.mark.parametrize(("strategy", "max_age"), [("range", None), ("bucket", "2d")])
def test_broadcast_strategies_key_by_hash_only_where_equal_keys_hash_alike(
    spark, strategy, max_age
):
    # composite keys (string, int): the broadcast is keyed by their 64-bit hash, the keys
    # themselves compared on each hash match; double keys are joined as they are, since
    # -0.0 = 0.0 and NaN = NaN in Spark SQL while their bits (and hashes) differ; one
    # bigint key too, which Spark already keys a long map by (range only: bucket adds its
    # bucket number to the keys)
    t1, t2 = T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)
    composite = (
        "region string, user int, label_time timestamp, label int",
        [("eu", 1, t2, 1), ("eu", 2, t2, 2), ("us", 1, t2, 3), ("us", 1, T0, 4)],
        "region string, user int, feature_ts timestamp, score double",
        [("eu", 1, t1, 10.0), ("eu", 2, T0, 20.0), ("eu", 2, t1, 21.0), ("us", 2, t1, 30.0)],
        ["region", "user"],
        {1: 10.0, 2: 21.0, 3: None, 4: None},
        True,
    )
    floats = (
        "k double, label_time timestamp, label int",
        [(-0.0, t2, 1), (float("nan"), t2, 2), (1.5, t2, 3)],
        "k double, feature_ts timestamp, score double",
        [(0.0, t1, 10.0), (float("nan"), t1, 20.0), (2.5, t1, 30.0)],
        ["k"],
        {1: 10.0, 2: 20.0, 3: None},
        False,
    )
    longs = (
        "k bigint, label_time timestamp, label int",
        [(7, t2, 1), (8, t2, 2)],
        "k bigint, feature_ts timestamp, score double",
        [(7, t1, 10.0), (9, t1, 30.0)],
        ["k"],
        {1: 10.0, 2: None},
        strategy == "bucket",
    )
    for spine_schema, spine_rows, feat_schema, feat_rows, keys, expected, hashed in (
        composite,
        floats,
        longs,
    ):
        out = point_in_time_join(
            spark.createDataFrame(spine_rows, spine_schema),
            spark.createDataFrame(feat_rows, feat_schema),
            keys=keys,
            spine_time="label_time",
            feature_time="feature_ts",
            max_age=max_age,
            strategy=strategy,
        )
        assert {r["label"]: r["score"] for r in out.collect()} == expected, keys
        plan = str(out._jdf.queryExecution().executedPlan().toString())
        assert "BroadcastHashJoin" in plan
        assert ("xxhash64(" in plan) == hashed, (keys, plan)
        # the picks leave their shuffle partitioned by the keys and time, and the join
        # back takes them as they are (renamed keys must not make it shuffle them again)
        assert "hashpartitioning(__k0" not in plan, plan


def test_label_at_ten_sees_previous_day_features(spark):
    daily = spark.createDataFrame(
        [("u", dt.date(2026, 1, 1), 1), ("u", dt.date(2026, 1, 2), 2)],
        "user_id string, feature_date date, clicks int",
    ).transform(with_feature_ts)
    spine = spark.createDataFrame(
        [
            ("u", dt.datetime(2026, 1, 2, 10), 0),
            ("u", dt.datetime(2026, 1, 3, 0), 1),
            ("u", dt.datetime(2026, 1, 1, 23, 59), 2),
        ],
        SPINE,
    )
    out = join(
        spine,
        daily,
        prefix="f_",
    )
    got = {r["label"]: r["f_clicks"] for r in out.collect()}
    assert got == {0: 1, 1: 2, 2: None}
    assert out.columns == [
        "user_id",
        "label_time",
        "label",
        "f_feature_date",
        "f_clicks",
        "f_feature_ts",
    ]


def test_plan_is_sort_based_without_any_join(spark):
    spine = spark.createDataFrame([("u", T0, 1)], SPINE)
    feats = spark.createDataFrame([("u", T0, 1.0, "a")], FEATURES)
    out = join(spine, feats)
    plan = out._jdf.queryExecution().executedPlan().toString()
    assert "Join" not in plan
    assert "Window" in plan


@pytest.mark.parametrize(
    ("spine_schema", "kwargs", "message"),
    [
        (SPINE, {"keys": "nobody"}, "unknown column"),
        ("user_id string, label_time string, label int", {}, "not timestamp"),
        ("user_id string, label_time timestamp, tag string", {}, "duplicate output"),
        ("user_id int, label_time timestamp, label int", {}, "cast one side"),
        (SPINE, {"max_age": "6h"}, "not a whole"),
        (SPINE, {"strategy": "hash"}, "strategy must be one of"),
        (SPINE, {"strategy": "bucket"}, "needs max_age"),
    ],
)
def test_bad_arguments_raise_config_errors(spark, spine_schema, kwargs, message):
    spine = spark.createDataFrame([], spine_schema)
    feats = spark.createDataFrame([], FEATURES)
    args = {"keys": "user_id", "spine_time": "label_time", "feature_time": "feature_ts", **kwargs}
    with pytest.raises(ConfigError, match=message):
        point_in_time_join(spine, feats, **args)


def test_prefix_resolves_name_clashes(spark):
    spine = spark.createDataFrame(
        [("u", T0, "x")], "user_id string, label_time timestamp, tag string"
    )
    feats = spark.createDataFrame([("u", T0, 1.0, "a")], FEATURES)
    out = join(
        spine,
        feats,
        prefix="f_",
    )
    assert [tuple(r) for r in out.collect()] == [("u", T0, "x", T0, 1.0, "a")]
