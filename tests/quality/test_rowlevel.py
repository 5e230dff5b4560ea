"""Deequ's row-level outcomes attached to a plan before any metric pass over it
(featurekit.quality.rowlevel): the same outcomes as Deequ's own evaluation of the rows,
and a different signature where Deequ's row-level expression depends on the data."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit.quality import rowlevel
from featurekit.quality.engine import ROW_FAIL, ROW_PASS, available, evaluate

pytestmark = pytest.mark.skipif(not available(), reason="Deequ has no build for this Spark line")

SCHEMA = (
    "user_id string, feature_date date, spend double, visits long, tag string, "
    "scores array<double>, day string"
)
ROWS = [
    ("u1", dt.date(2024, 1, 1), 5.0, 3, "abc", [1.0], "2024-01-01"),
    ("u2", dt.date(2024, 1, 1), -3.0, 12, None, [], "2024-01-01"),
    ("u3", dt.date(2024, 1, 2), None, None, "toolong", None, "2024-01-02"),
    ("u4", dt.date(2024, 1, 2), 0.0, 4, "xy", [2.0, 3.0], "2024-01-02"),
]


def frame(spark: SparkSession) -> DataFrame:
    """The rows behind a plan of the job's shape (a filter above the data)."""
    return spark.createDataFrame(ROWS, SCHEMA).where(F.col("user_id").isNotNull())


def outcomes(df: DataFrame) -> list[tuple[str, list[str], list[str]]]:
    rows = df.select("user_id", F.array_sort(ROW_PASS), F.array_sort(ROW_FAIL)).collect()
    return sorted((r[0], list(r[1]), list(r[2])) for r in rows)


@pytest.mark.parametrize(
    "dqdl",
    [
        'Rules = [ ColumnValues "spend" >= 0, IsComplete "tag", RowCount > 2 ]',
        'Rules = [ ColumnValues "visits" between 0 and 10, Completeness "spend" > 0.5 ]',
        'Rules = [ ColumnLength "tag" <= 3, ColumnValues "tag" matches "[a-z]+" ]',
        'Rules = [ ColumnValues "visits" in [3, 4, 12], ColumnValues "spend" > 1 ]',
    ],
)
def test_attached_outcomes_are_deequs_own(spark: SparkSession, dqdl: str) -> None:
    df = frame(spark)
    rules = rowlevel.prepare(df.schema, dqdl, spark)
    assert rules is not None
    deequ = evaluate(df, dqdl, row_level=True).row_level
    assert rowlevel.signature(deequ) == rules.signature
    assert outcomes(rowlevel.attach(rules, df)) == outcomes(deequ)
    assert any(fail for _user, _passed, fail in outcomes(deequ))  # the rules do fail rows


def test_a_rule_that_compares_rows_is_not_a_projection(spark: SparkSession) -> None:
    df = frame(spark)
    assert rowlevel.prepare(df.schema, 'Rules = [ IsUnique "feature_date" ]', spark) is None


def test_a_row_outcome_that_depends_on_the_data_has_another_signature(
    spark: SparkSession,
) -> None:
    """Deequ reads an ``in`` over date-like text as dates only when the values are dates;
    the synthetic row's are not, so the written rows' evaluation differs and the run
    splits the rows again from the written files."""
    df = frame(spark)
    dqdl = 'Rules = [ ColumnValues "day" in ["2024-01-01"] ]'
    rules = rowlevel.prepare(df.schema, dqdl, spark)
    assert rules is not None
    deequ = evaluate(df, dqdl, row_level=True).row_level
    assert rowlevel.signature(deequ) != rules.signature
    assert outcomes(rowlevel.attach(rules, df)) != outcomes(deequ)


def test_the_sample_row_fills_every_type(spark: SparkSession) -> None:
    df = frame(spark).withColumn("m", F.create_map(F.lit("k"), F.col("visits")))
    df = df.withColumn("s", F.struct("spend", "feature_date")).withColumn(
        "ts", F.current_timestamp()
    )
    row = rowlevel._row(rowlevel._nullable(df.schema))
    assert None not in row
    assert spark.createDataFrame([row], rowlevel._nullable(df.schema)).count() == 1
