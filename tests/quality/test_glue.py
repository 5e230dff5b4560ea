"""evaluate_data_quality: Glue's EvaluateDataQuality.process_rows on Deequ's engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from featurekit.errors import ConfigError, UnsupportedError
from featurekit.quality.engine import available
from featurekit.quality.glue import evaluate_data_quality

pytestmark = pytest.mark.skipif(
    not available(), reason="Deequ has no build for this Spark line (tests/quality/test_engine)"
)

RULESET = 'Rules = [ IsComplete "name", ColumnValues "age" > 17, RowCount = 3 ]'


def test_process_rows_returns_glues_two_collections(spark: SparkSession, tmp_path: Path) -> None:
    df = spark.createDataFrame([("ann", 30), (None, 40), ("bob", 12)], "name string, age int")
    options = {"dataQualityEvaluationContext": "people", "resultsS3Prefix": str(tmp_path / "dq")}
    results = evaluate_data_quality(df, RULESET, options)
    assert set(results) == {"ruleOutcomes", "rowLevelOutcomes"}
    outcomes = results["ruleOutcomes"]
    assert outcomes.columns[:4] == ["Rule", "Outcome", "FailureReason", "EvaluatedMetrics"]
    assert {r["Rule"]: r["Outcome"] for r in outcomes.collect()} == {
        'IsComplete "name"': "Failed",
        'ColumnValues "age" > 17': "Failed",
        "RowCount = 3": "Passed",
    }
    rows = results["rowLevelOutcomes"]
    assert rows.columns == [
        "name",
        "age",
        "DataQualityRulesPass",
        "DataQualityRulesFail",
        "DataQualityRulesSkip",
        "DataQualityEvaluationResult",
    ]
    collected = rows.collect()
    by_age = {
        r["age"]: (r["DataQualityRulesFail"], r["DataQualityEvaluationResult"]) for r in collected
    }
    assert by_age == {
        30: ([], "Passed"),
        40: (['IsComplete "name"'], "Failed"),
        12: (['ColumnValues "age" > 17'], "Failed"),
    }
    # a dataset-level rule has no row-level outcome: skipped on every row, failing none
    assert all(r["DataQualityRulesSkip"] == ["RowCount = 3"] for r in collected)
    passes = {r["age"]: sorted(r["DataQualityRulesPass"]) for r in collected}
    assert passes == {
        30: ['ColumnValues "age" > 17', 'IsComplete "name"'],
        40: ['ColumnValues "age" > 17'],
        12: ['IsComplete "name"'],
    }
    assert spark.read.json(str(tmp_path / "dq" / "people")).count() == 3


def test_publishing_options_glue_does_not_know_or_we_cannot_reach_are_errors(
    spark: SparkSession,
) -> None:
    df = spark.createDataFrame([(1,)], "id int")
    with pytest.raises(ConfigError, match="resultsS3Prefix"):
        evaluate_data_quality(df, "Rules = [ RowCount = 1 ]", {"resultsPrefix": "x"})
    with pytest.raises(UnsupportedError, match="CloudWatch"):
        evaluate_data_quality(
            df, "Rules = [ RowCount = 1 ]", {"enableDataQualityCloudWatchMetrics": True}
        )
