"""The feature stores' point-in-time algorithms (benchmarks/pit_baselines.py) and every
strategy of point_in_time_join give the same rows on the edge cases.

Tiny tables, one Spark session: what makes the benchmark's race a fair one.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from chispa import assert_df_equality

from featurekit.features import point_in_time_join

T0 = dt.datetime(2026, 1, 10)
SPINE = "user_id string, label_time timestamp, label int"
FEATURES = "user_id string, feature_ts timestamp, score double, tag string"
US = dt.timedelta(microseconds=1)


def _baselines() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "pit_baselines.py"
    spec = importlib.util.spec_from_file_location("pit_baselines_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BASELINES = _baselines().BASELINES


def edge_tables(spark):
    h = dt.timedelta(hours=1)
    spine = [
        ("a", T0 - 100 * h, 0),  # before any feature of its key
        ("a", T0, 1),  # exact-time match
        ("a", T0, 1),  # duplicate spine row
        ("a", T0, 2),  # same keys and time, other label
        ("a", T0 + 30 * h, 3),  # latest row is 30 h old: outside max_age 1d
        ("b", T0 + 24 * h, 4),  # a feature exactly 1 day old (excluded at 1d) ...
        ("c", T0 + 24 * h, 5),  # ... and one 1 microsecond younger (kept)
        ("t", T0 + h, 6),  # ties at one time: greatest values win
        ("n", T0 + h, 7),  # latest feature row has null values: stays null
        ("zz", T0, 8),  # unknown key
        (None, T0, 9),  # null key
        ("a", None, 10),  # null time
    ]
    feats = [
        ("a", T0 - h, 1.0, "old"),
        ("a", T0, 2.0, "exact"),
        ("a", T0 + h, 3.0, "future"),
        ("b", T0, 4.0, "one day"),
        ("c", T0 + US, 5.0, "just inside"),
        ("t", T0, 1.0, "z"),
        ("t", T0, 2.0, "a"),
        ("t", T0, 2.0, None),
        ("n", T0 - h, 6.0, "not null"),
        ("n", T0, None, None),
        (None, T0, 9.0, "null key"),
        ("a", None, 9.0, "null time"),
    ]
    return spark.createDataFrame(spine, SPINE), spark.createDataFrame(feats, FEATURES)


def join(method: str, spine, feats, max_age):
    args = {"keys": ["user_id"], "spine_time": "label_time", "feature_time": "feature_ts"}
    if method in BASELINES:
        return BASELINES[method](spine, feats, max_age=max_age, **args)
    return point_in_time_join(spine, feats, max_age=max_age, strategy=method, **args)


def expected_tags(max_age) -> dict[int, object]:
    """label -> the tag the join must pick (the spine's edge cases, spelled out)."""
    fresh = max_age is None
    return {
        **{0: None, 1: "exact", 2: "exact", 6: "a", 7: None, 8: None, 9: None, 10: None},
        **{3: "future" if fresh else None, 4: "one day" if fresh else None, 5: "just inside"},
    }


def test_every_baseline_and_strategy_gives_the_same_rows(spark):
    from pyspark.sql import functions as F

    spine, feats = edge_tables(spark)
    # every (max_age, method) result in one union: one Spark job instead of dozens
    runs = []
    expected = []
    for max_age in (None, dt.timedelta(days=1)):
        reference = join("sort", spine, feats, max_age)
        got = {r["label"]: r["tag"] for r in reference.collect()}
        assert got == expected_tags(max_age)
        # (auto on Python rows, which have no size estimate, is the sort itself)
        strategies = ["range", *(["bucket"] if max_age else [])]
        for method in [*BASELINES, *strategies]:
            case = F.lit(f"{method} {max_age}").alias("case")
            runs.append(join(method, spine, feats, max_age).select(case, "*"))
            expected.append(reference.select(case, "*"))
    actual = functools.reduce(lambda a, b: a.unionByName(b), runs)
    wanted = functools.reduce(lambda a, b: a.unionByName(b), expected)
    assert_df_equality(actual, wanted, ignore_row_order=True, ignore_nullable=True)
