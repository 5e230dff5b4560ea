"""unique_on: what a plan proves about duplicate keys, and what it must never claim;
count_rows: the same number as count, in one Spark job."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit.errors import CONTRACT_MARK, contract_breach
from featurekit.features import (
    Agg,
    combine_windows,
    daily_partials,
    merge_partials,
    windowed_aggregates,
)
from featurekit.plans import coalesced_to_one, count_rows, estimated_bytes, mark_unique, unique_on

KEYS = ["user_id", "feature_date"]


@pytest.fixture
def events(spark: SparkSession) -> DataFrame:
    rows = [
        ("u1", dt.datetime(2024, 1, 1, 9), 1.0),
        ("u1", dt.datetime(2024, 1, 1, 10), 2.0),
        ("u2", dt.datetime(2024, 1, 3, 9), 3.0),
    ]
    return spark.createDataFrame(rows, "user_id string, ts timestamp, amount double")


def grouped(events: DataFrame) -> DataFrame:
    return events.groupBy("user_id", F.to_date("ts").alias("feature_date")).agg(
        F.sum("amount").alias("spend")
    )


def windowed(events: DataFrame) -> DataFrame:
    return windowed_aggregates(
        events, keys="user_id", timestamp="ts", aggregations=[Agg.count("n")], windows=["1d", "3d"]
    )


def test_spark_proves_a_group_by_and_what_keeps_its_keys(events: DataFrame) -> None:
    out = grouped(events)
    assert unique_on(out, KEYS)
    renamed = out.where("spend > 1").withColumnRenamed("user_id", "u")
    assert unique_on(renamed, ["u", "feature_date"])
    assert unique_on(out, [*KEYS, "spend"])  # a superset of unique columns
    assert not unique_on(out, ["user_id"])  # one row per user and date, not per user


def test_raw_rows_and_row_adding_plans_are_not_proven(events: DataFrame) -> None:
    out = grouped(events)
    assert not unique_on(events, ["user_id", "ts"])
    assert not unique_on(out.unionByName(out), KEYS)
    assert not unique_on(out.withColumn("x", F.explode(F.array(F.lit(1), F.lit(2)))), KEYS)
    joined = out.join(events.select("user_id"), "user_id")  # one row per matching event
    assert not unique_on(joined, KEYS)
    # the key rebuilt from an expression is no longer the grouped column
    assert not unique_on(out.withColumn("user_id", F.lit("same")), KEYS)


def test_windowed_aggregates_are_marked_unique(events: DataFrame) -> None:
    out = windowed(events)
    assert out.groupBy(*KEYS).count().where("count > 1").count() == 0
    assert unique_on(out, KEYS)
    assert unique_on(out.where("n_1d > 0").select("feature_date", "user_id", "n_3d"), KEYS)
    assert not unique_on(out, ["user_id"])
    assert not unique_on(out.unionByName(out), KEYS)


def test_combine_windows_marks_its_rows_unique_and_refuses_repeated_partials(
    events: DataFrame,
) -> None:
    kwargs = {"keys": "user_id", "aggregations": [Agg.count("n")]}
    partials = daily_partials(events, timestamp="ts", **kwargs)
    assert unique_on(combine_windows(partials, windows=["1d", "3d"], **kwargs), KEYS)
    # stored partials unioned across runs can repeat a (key, day): the grid refuses them,
    # so its rows are still one per key and date (or there are none)
    twice = partials.unionByName(partials)
    out = combine_windows(twice, windows=["1d", "3d"], **kwargs)
    assert unique_on(out, KEYS)
    with pytest.raises(Exception, match=CONTRACT_MARK) as failed:
        out.count()
    assert "more than one row for one key and day" in (contract_breach(failed.value) or "")
    # merged again, one row per key and day: proven
    merged = merge_partials(twice, **kwargs)
    assert unique_on(combine_windows(merged, windows=["1d", "3d"], **kwargs), KEYS)


def test_a_mark_holds_for_its_own_plan_only(spark: SparkSession) -> None:
    df = spark.createDataFrame([("a", 1), ("b", 2)], "k string, v int")
    marked = mark_unique(df.select("k", "v"), ["k"])
    assert unique_on(marked, ["k"])
    assert unique_on(marked.where("v > 0"), ["k", "v"])
    # a union reuses the first side's attributes: same ids, more rows
    assert not unique_on(marked.unionByName(marked).select("k", "v"), ["k"])
    assert not unique_on(df, ["k"])  # the marked plan's input is not the marked plan
    assert not unique_on(df.select("k", "v", F.lit(1).alias("x")), ["k"])


def test_marking_an_unknown_column_claims_nothing(spark: SparkSession) -> None:
    df = spark.createDataFrame([("a", 1)], "k string, v int").select("k", "v")
    assert not unique_on(mark_unique(df, ["k", "nope"]), ["k"])


def test_a_dataframe_without_a_jvm_plan_is_not_proven() -> None:
    class Remote:  # what a Spark Connect DataFrame looks like here: no _jdf
        pass

    assert not unique_on(Remote(), ["k"])  # type: ignore[arg-type]


def test_coalesced_to_one_is_a_coalesce_into_one_task_at_the_root(spark: SparkSession) -> None:
    df = spark.range(8, numPartitions=4)
    assert coalesced_to_one(df.coalesce(1))
    assert not coalesced_to_one(df)
    assert not coalesced_to_one(df.coalesce(2))
    assert not coalesced_to_one(df.repartition(1))  # a shuffle
    assert not coalesced_to_one(df.coalesce(1).select("id"))  # not at the root

    class Remote:  # no JVM plan (Spark Connect)
        pass

    assert not coalesced_to_one(Remote())  # type: ignore[arg-type]


def _jobs_of(spark: SparkSession, fn: object) -> int:
    """Spark jobs started by ``fn()`` (run in a job group of its own)."""
    context = spark.sparkContext
    group = f"count-rows-{id(fn)}"
    context.setJobGroup(group, "count_rows test")
    try:
        fn()  # type: ignore[operator]
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
    return len(context.statusTracker().getJobIdsForGroup(group))


def test_count_rows_counts_as_count_does_in_one_job(
    spark: SparkSession, events: DataFrame, tmp_path: Path
) -> None:
    path = str(tmp_path / "events")
    events.withColumn("day", F.to_date("ts")).write.partitionBy("day").parquet(path)
    files = spark.read.parquet(path)
    frames = {
        "scan": files,
        "pruned": files.where("day = '2024-01-01'"),
        "empty": files.where("amount < 0"),
        "grouped": grouped(events),  # a shuffle inside the plan
        "joined": files.join(grouped(events), "user_id"),
    }
    for name, df in frames.items():
        assert count_rows(df) == df.count(), name
    assert count_rows(frames["pruned"]) == 2
    assert _jobs_of(spark, lambda: count_rows(files)) == 1


def test_estimated_bytes_is_the_optimizers_estimate_without_a_spark_job(
    spark: SparkSession,
) -> None:
    ids = spark.range(1000)  # a range's estimate: 8 bytes a row
    assert estimated_bytes(ids) == 8000
    assert estimated_bytes(ids.where("id > 10")) == 8000  # filters are not estimated
    assert estimated_bytes(ids.crossJoin(ids)) == 8000 * 8000
