"""Row checks observed on the staged write, and their fallback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from featurekit.io import FeatureTable
from featurekit.tables.engine import layout
from featurekit.validate import observe_rows, observed_problems

COLUMNS = {"user_id": "string", "feature_date": "date", "v": "bigint"}
D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)


def table(**kwargs: object) -> FeatureTable:
    return FeatureTable(
        "f.t", keys=("user_id",), date_column="feature_date", columns=COLUMNS, **kwargs
    )


def frame(spark: SparkSession, *rows: tuple[object, dt.date, int]) -> DataFrame:
    return spark.createDataFrame(list(rows), "user_id string, feature_date date, v bigint")


def observe(spark: SparkSession, tmp_path: Path, df: DataFrame) -> dict[str, object]:
    checked, observation = observe_rows(layout(df, ("feature_date",)), table())
    assert observation is not None
    checked.write.partitionBy("feature_date").parquet(str(tmp_path / "out"))
    assert sorted(checked.columns) == sorted(df.columns)
    return dict(observation.get)


def test_clean_rows_observe_no_problem(spark: SparkSession, tmp_path: Path) -> None:
    df = frame(spark, ("a", D1, 1), ("b", D1, 2), ("a", D2, 3))
    checked, observation = observe_rows(layout(df, ("feature_date",)), table())
    checked.write.partitionBy("feature_date").parquet(str(tmp_path / "out"))
    assert observation is not None
    stats = observation.get
    assert (stats["null_rows"], stats["duplicate_rows"]) == (0, 0)
    assert (stats["min_date"], stats["max_date"]) == ("2024-01-01", "2024-01-02")
    assert not observed_problems(observation, start=D1, end=D2)
    assert observed_problems(observation, start=D2, end=D2)  # 2024-01-01 is outside
    assert observed_problems(observation, start=D1, end=D1)
    assert spark.read.parquet(str(tmp_path / "out")).count() == 3


def test_duplicates_and_null_keys_are_counted(spark: SparkSession, tmp_path: Path) -> None:
    stats = observe(
        spark, tmp_path, frame(spark, ("a", D1, 1), ("a", D1, 2), ("a", D2, 3), (None, D2, 4))
    )
    assert (stats["null_rows"], stats["duplicate_rows"]) == (1, 2)


def test_empty_output_observes_nothing(spark: SparkSession, tmp_path: Path) -> None:
    stats = observe(spark, tmp_path, frame(spark))
    assert (stats["null_rows"], stats["duplicate_rows"], stats["min_date"]) == (0, 0, None)


def test_the_checks_add_no_shuffle(spark: SparkSession) -> None:
    df = frame(spark, ("a", D1, 1))
    checked, _ = observe_rows(layout(df, ("feature_date",)), table())
    plan = checked._jdf.queryExecution().executedPlan().toString()
    assert plan.count("Exchange") == 1  # the layout's own


def test_partitions_outside_keys_and_date_fall_back(spark: SparkSession) -> None:
    df = frame(spark, ("a", D1, 1))
    assert observe_rows(df, table(partition_by=()))[1] is None
    assert observe_rows(layout(df, ("v",)), table(partition_by=("v",)))[1] is None
