"""The spine counts behind point_in_time_join's choices (featurekit.features._pit_broadcast)."""

from __future__ import annotations

import builtins
import datetime as dt

import pytest

import featurekit.features._pit_broadcast as broadcast
from featurekit.features._pit_broadcast import SpineStats, spine_stats

T0 = dt.datetime(2026, 1, 1)
SPINE = "region string, user int, label_time timestamp, label int"


@pytest.fixture(scope="module")
def spine(spark):
    # (eu, 1): 10 rows, crowded (more than 8); (eu, 2): 8 rows, not crowded; (us, 1): 2
    # rows (one repeated); rows with a null key part or a null time never count
    rows = [("eu", 1, T0 + dt.timedelta(hours=h), h) for h in range(10)]
    rows += [("eu", 2, T0 + dt.timedelta(hours=h), h) for h in range(8)]
    rows += [("us", 1, T0, 0), ("us", 1, T0, 1)]
    rows += [(None, 1, T0, 0), ("us", None, T0, 0), ("us", 1, None, 0)]
    return spark.createDataFrame(rows, SPINE)


WANTED = SpineStats(rows=20, keys=3, crowded_rows=10)


def test_spine_stats_count_rows_keys_and_crowded_rows(spine):
    assert spine_stats(spine, ["region", "user"], "label_time") == WANTED
    assert spine_stats(spine.limit(0), ["region", "user"], "label_time") == SpineStats(0, 0, 0)
    # by region alone: eu has 18 rows (crowded), us 3 (its row with a null user counts)
    assert spine_stats(spine, ["region"], "label_time") == SpineStats(21, 2, 18)


@pytest.mark.parametrize("missing", ["pyarrow", "numpy"])
def test_spine_stats_without_pyarrow_or_numpy_count_in_spark(spine, monkeypatch, missing):
    real_import = builtins.__import__
    driver_counts = []

    def without(name, globals=None, locals=None, fromlist=(), level=0):
        # only featurekit's import fails: pyspark 4 imports numpy itself in py4j's converters
        importer = (globals or {}).get("__name__")
        if name.split(".")[0] == missing and importer == broadcast.__name__:
            raise ImportError(f"No module named {name!r}")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", without)
    real_driver = broadcast._count_on_driver
    monkeypatch.setattr(
        broadcast, "_count_on_driver", lambda h: driver_counts.append(real_driver(h))
    )
    assert spine_stats(spine, ["region", "user"], "label_time") == WANTED
    assert driver_counts == [None]  # the driver's count gave up, Spark's counted


def test_driver_and_spark_counts_agree(spine):
    from pyspark.sql import functions as F

    for keys in (["region", "user"], ["region"], ["user"]):
        times = broadcast.spine_times(spine, keys, "label_time")
        hashes = times.select(F.xxhash64(*keys).alias("__h"))
        on_driver = broadcast._count_on_driver(hashes)
        assert on_driver is not None
        assert on_driver == broadcast._count_in_spark(hashes), keys
