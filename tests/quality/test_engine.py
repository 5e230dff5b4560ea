"""Deequ's DQDL engine on small data: each rule family against hand-computed outcomes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession

from featurekit.errors import QualityEngineError
from featurekit.quality import engine
from featurekit.quality.engine import evaluate

needs_deequ = pytest.mark.skipif(
    not engine.available(), reason="Deequ has no build for this Spark line"
)


def people(spark: SparkSession) -> DataFrame:
    """id 2 twice, one null name, one null amount; amounts 10, 20, 30 (mean 20, sum 60)."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = [
        (1, "a", 10.0, now - dt.timedelta(hours=1)),
        (2, None, 20.0, now - dt.timedelta(hours=2)),
        (2, "c", None, now - dt.timedelta(hours=3)),
        (3, "dd", 30.0, now - dt.timedelta(days=5)),
    ]
    return spark.createDataFrame(rows, "id int, name string, amount double, ts timestamp")


# (rule, outcome, metric name, metric value) computed by hand from people()
CASES = [
    ('IsComplete "name"', "Failed", "Column.name.Completeness", 0.75),
    ('Completeness "name" >= 0.75', "Passed", "Column.name.Completeness", 0.75),
    ('IsUnique "id"', "Failed", "Column.id.Uniqueness", 0.5),
    ('Uniqueness "id" > 0.4', "Passed", "Column.id.Uniqueness", 0.5),
    ('IsPrimaryKey "id"', "Failed", None, None),
    ('ColumnValues "id" in [1,2,3]', "Passed", None, None),
    ('ColumnValues "id" <= 2', "Failed", None, None),
    ("RowCount = 4", "Passed", "Dataset.*.RowCount", 4.0),
    ("RowCount > 10", "Failed", "Dataset.*.RowCount", 4.0),
    ('Mean "amount" = 20', "Passed", "Column.amount.Mean", 20.0),
    ('Sum "amount" = 60', "Passed", "Column.amount.Sum", 60.0),
    ('StandardDeviation "amount" between 8.1 and 8.2', "Passed", None, None),
    ('CustomSql "select count(*) from primary where amount > 15" = 2', "Passed", None, None),
    ('ColumnLength "name" <= 1', "Failed", None, None),
    ('DataFreshness "ts" <= 1 days', "Failed", None, None),  # 3 of 4 rows are that fresh
    ('DataFreshness "ts" <= 10 days', "Passed", None, None),
]


@needs_deequ
def test_each_rule_family_matches_hand_computed_outcomes(spark: SparkSession) -> None:
    rules = ", ".join(rule for rule, *_ in CASES)
    # the outcomes only (row-level outcomes: tests/quality/test_glue.py): Deequ's passes
    result = evaluate(people(spark), f"Rules = [ {rules} ]", row_level=False)
    got = {row["Rule"]: row for row in result.rule_outcomes.collect()}
    for rule, outcome, metric, value in CASES:
        assert got[rule]["Outcome"] == outcome, (rule, got[rule]["FailureReason"])
        if metric is not None:
            assert got[rule]["EvaluatedMetrics"][metric] == pytest.approx(value), rule


@pytest.mark.skipif(engine.available(), reason="Deequ has a build for this Spark line")
def test_rulesets_on_a_line_without_deequ_fail_naming_it(spark: SparkSession) -> None:
    line = ".".join(spark.version.split(".")[:2])
    with pytest.raises(QualityEngineError, match=f"no build for Spark {line}"):
        evaluate(people(spark), "Rules = [ RowCount > 0 ]")


def test_a_spark_line_without_a_deequ_build_is_named() -> None:
    with pytest.raises(QualityEngineError, match=r"no build for Spark 4\.1"):
        engine.coordinates("4.1")
    assert engine.spark_packages("3.5") == (
        "com.amazon.deequ:deequ:2.1.0-spark-3.5,software.amazon.glue:dqdl:1.0.0"
    )


@needs_deequ
def test_a_bad_ruleset_is_a_featurekit_error(spark: SparkSession) -> None:
    with pytest.raises(QualityEngineError, match="could not evaluate"):
        evaluate(people(spark), "Rules = [ NoSuchRule ]")


ANTLR_LINES = (
    "ANTLR Tool version 4.7 used for code generation does not match the current runtime "
    "version 4.9.3",
    "ANTLR Runtime version 4.7 used for parser compilation does not match the current "
    "runtime version 4.9.3",
)


def test_only_the_antlr_version_lines_are_filtered_from_the_jvms_stderr(
    spark: SparkSession,
) -> None:
    from featurekit.quality.engine import without_antlr_warnings

    jvm = spark.sparkContext._jvm
    assert jvm is not None
    real = jvm.System.err
    outer = jvm.java.io.ByteArrayOutputStream()
    jvm.System.setErr(jvm.java.io.PrintStream(outer, True, "UTF-8"))
    try:

        def noisy() -> None:
            jvm.System.err.println(ANTLR_LINES[0])
            jvm.System.err.println("ERROR something else went wrong")
            jvm.System.err.println(ANTLR_LINES[1])

        without_antlr_warnings(jvm, noisy)
    finally:
        jvm.System.setErr(real)
    assert outer.toString("UTF-8").splitlines() == ["ERROR something else went wrong"]


@needs_deequ
@pytest.mark.slow
def test_a_fresh_jvm_evaluates_rulesets_without_antlr_warnings(tmp_path: Path) -> None:
    script = (
        "from featurekit.runtime.local import LocalConfig, LocalRuntime\n"
        "from featurekit.quality.engine import evaluate\n"
        f"rt = LocalRuntime(LocalConfig(warehouse={str(tmp_path)!r}, quiet=True, quality=True))\n"
        "df = rt.spark.createDataFrame([(1,), (2,)], 'x int')\n"
        "rows = evaluate(df, 'Rules = [ RowCount = 2 ]').rule_outcomes.collect()\n"
        "print(rows[0]['Outcome'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Passed"
    assert "ANTLR" not in done.stderr
