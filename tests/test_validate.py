"""Row checks counted during a write (observe_rows), and when they hand over to check_rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit.errors import OutputContractError
from featurekit.io import FeatureTable
from featurekit.validate import check_rows, observe_rows, observed_problems

COLUMNS = {"user_id": "string", "feature_date": "date", "v": "bigint"}
TABLE = FeatureTable("f.t", keys=("user_id",), date_column="feature_date", columns=COLUMNS)
D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)


def frame(spark: SparkSession, *rows: tuple[object, object, int]) -> DataFrame:
    return spark.createDataFrame(list(rows), "user_id string, feature_date date, v bigint")


def write(df: DataFrame, tmp_path: Path) -> None:
    df.repartition("feature_date").write.partitionBy("feature_date").parquet(str(tmp_path / "o"))


def test_a_clean_write_observes_no_problem(spark: SparkSession, tmp_path: Path) -> None:
    observed, observation = observe_rows(frame(spark, ("a", D1, 1), ("a", D2, 2)), TABLE)
    write(observed, tmp_path)
    assert observation.get == {"null_rows": 0, "min_date": "2024-01-01", "max_date": "2024-01-02"}
    assert not observed_problems(observation, start=D1, end=D2)
    assert not observed_problems(observation)  # no range: any date
    assert observed_problems(observation, start=D2, end=D2)  # 2024-01-01 is before the range
    assert observed_problems(observation, start=D1, end=D1)  # 2024-01-02 is after it
    assert spark.read.parquet(str(tmp_path / "o")).count() == 2


def test_null_keys_and_dates_are_counted(spark: SparkSession, tmp_path: Path) -> None:
    rows = frame(spark, ("a", D1, 1), (None, D1, 2), ("b", None, 3))
    observed, observation = observe_rows(rows, TABLE)
    write(observed, tmp_path)
    assert observation.get["null_rows"] == 2
    assert observed_problems(observation)


def test_an_output_spark_proves_empty_is_clean_or_hands_over(
    spark: SparkSession, tmp_path: Path
) -> None:
    observed, observation = observe_rows(frame(spark, ("a", D1, 1)).where(F.lit(False)), TABLE)
    write(observed, tmp_path)
    if spark.version.startswith("3."):
        # Spark 3.5 runs no query for it, so nothing is observed: check_rows decides
        assert observed_problems(observation, timeout=5)
    else:
        # Spark 4 reports the empty write's metrics: no null, no date, nothing to check
        assert observation.get == {"null_rows": 0, "min_date": None, "max_date": None}
        assert not observed_problems(observation, timeout=5)


def test_metrics_that_never_arrive_hand_over(spark: SparkSession) -> None:
    _, observation = observe_rows(frame(spark, ("a", D1, 1)), TABLE)  # no action runs it
    assert observed_problems(observation, timeout=0.2)


def test_names_with_dots_spaces_and_backticks(spark: SparkSession, tmp_path: Path) -> None:
    # a declared key "user.id `x`" is a column: never parsed as field id `x` of a struct user
    odd = {"user.id `x`": "string", "feature date": "date", "v": "bigint"}
    table = FeatureTable("f.t", keys=("user.id `x`",), date_column="feature date", columns=odd)
    rows = frame(spark, ("a", D1, 1), (None, D1, 2), ("b", D2, 3), ("b", D2, 4)).toDF(*odd)
    observed, observation = observe_rows(rows, table)
    write(observed.toDF(*COLUMNS), tmp_path)
    assert observation.get == {"null_rows": 1, "min_date": "2024-01-01", "max_date": "2024-01-02"}
    with pytest.raises(OutputContractError) as found:
        check_rows(rows, table, start=D2, end=D2)
    assert "1 rows have a null in ['user.id `x`', 'feature date']" in str(found.value)
    assert "e.g. user.id `x`=b, feature date=2024-01-02;" in str(found.value)
    assert "feature date spans 2024-01-01..2024-01-02" in str(found.value)


def test_repeated_keys_are_named_as_their_values(spark: SparkSession) -> None:
    rows = frame(spark, ("a", D1, 1), ("a", D1, 2), ("b", D2, 3))
    with pytest.raises(OutputContractError) as broken:
        check_rows(rows, TABLE)
    assert str(broken.value) == (
        "Output of f.t breaks its declaration: 1 key/date combinations appear more than once, "
        "e.g. user_id=a, feature_date=2024-01-01. Nothing was committed."
    )
