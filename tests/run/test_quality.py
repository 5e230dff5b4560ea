"""Rulesets in the run lifecycle: outcomes in the record, severities, the quarantine table."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.cli import main
from featurekit.errors import OutputContractError, QualityError
from featurekit.quality import Ruleset
from featurekit.quality.engine import available, evaluate
from featurekit.quality.quarantine import quarantine_name, read_quarantine
from featurekit.runtime.local import LocalConfig, LocalRuntime

pytestmark = pytest.mark.skipif(
    not available(), reason="Deequ has no build for this Spark line (tests/quality/test_engine)"
)

COLUMNS = {"user_id": "string", "feature_date": "date", "spend": "double"}
D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)


@pytest.fixture(scope="module")
def runtime(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> LocalRuntime:
    """One warehouse for the module, its input seeded once; each job writes its own table."""
    config = LocalConfig(warehouse=str(tmp_path_factory.mktemp("dq-run")), quiet=True)
    runtime = LocalRuntime(config, spark=spark)
    seed(runtime, spark)
    return runtime


def seed(runtime: LocalRuntime, spark: SparkSession) -> None:
    rows = [("u1", D1, 5.0), ("u2", D1, -3.0), ("u3", D2, 7.0), ("u4", D2, -1.0)]
    df = spark.createDataFrame(rows, "user_id string, day date, amount double")
    location = runtime.storage.location("raw.spend")
    runtime.storage.engine.write(df, location, mode="overwrite")
    schema = runtime.storage.engine.schema(location)
    assert schema is not None
    runtime.storage.catalog.register("raw.spend", location, schema=schema.jsonValue())


def table(name: str, *rulesets: Ruleset) -> FeatureTable:
    return FeatureTable(
        f"features.{name}",
        keys=("user_id",),
        date_column="feature_date",
        columns=COLUMNS,
        quality=rulesets,
    )


class _Spend(FeatureJob):
    abstract = True
    inputs = {"spend": TableInput("raw.spend", quality=(Ruleset("Rules = [ RowCount = 4 ]"),))}

    def transform(self, ctx: JobContext, spend: DataFrame) -> DataFrame:
        return spend.select(
            "user_id", F.col("day").alias("feature_date"), F.col("amount").alias("spend")
        )


class DropsNegative(_Spend):
    name = "dq_drops_negative"
    output = table(
        "dq_spend",
        Ruleset('Rules = [ ColumnValues "spend" >= 0 ]', on_failing_rows="drop", name="positive"),
        Ruleset('Rules = [ RowCount >= 3, Mean "spend" > 100 ]', severity="warn", name="size"),
    )


class DropsOnATypo(_Spend):
    name = "dq_drops_on_a_typo"
    output = table(
        "dq_typo",
        Ruleset(
            'Rules = [ ColumnValues "spendd" >= 0, ColumnLength "spend" > 2 ]',
            on_failing_rows="drop",
        ),
    )


class Drifting(_Spend):
    name = "dq_drifting"
    inputs = {"spend": TableInput("raw.spend")}  # only the output's dynamic rule is tested
    output = table("dq_drifting", Ruleset("Rules = [ RowCount >= max(last(3)) ]", name="drift"))


class FailsOnNegative(_Spend):
    name = "dq_fails_on_negative"
    output = table(
        "dq_failing", Ruleset('Rules = [ IsComplete "user_id", ColumnValues "spend" >= 0 ]')
    )


KEY_RULES = Ruleset(
    'Rules = [ IsComplete "spend", IsPrimaryKey "feature_date" "user_id", '
    'IsPrimaryKey "feature_date" ]',
    severity="warn",
    name="keys",
)


class KeyedByContract(_Spend):
    name = "dq_keyed_by_contract"
    inputs = {"spend": TableInput("raw.spend")}
    output = table("dq_keyed", KEY_RULES)


class DuplicatesKeys(KeyedByContract):
    name = "dq_duplicates_keys"
    output = table("dq_duplicated", KEY_RULES)

    def transform(self, ctx: JobContext, spend: DataFrame) -> DataFrame:
        once = super().transform(ctx, spend)
        return once.unionByName(once.where(F.col("user_id") == "u1"))


def test_the_row_checks_answer_is_primary_key_on_the_tables_keys(
    spark: SparkSession, runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    record = KeyedByContract().run(runtime)
    assert [q["rule"] for q in record.quality] == [
        'IsComplete "spend"',
        'IsPrimaryKey "feature_date" "user_id"',
        'IsPrimaryKey "feature_date"',
    ]
    complete, proven, other = record.quality
    assert (proven["outcome"], proven["evaluated_by"]) == ("Passed", "output contract")
    # Deequ on the committed rows says the same
    out = runtime.storage.engine.read(spark, runtime.storage.location("features.dq_keyed"))
    rule = 'IsPrimaryKey "feature_date" "user_id"'
    (deequ,) = evaluate(out, f"Rules = [ {rule} ]", row_level=False).rule_outcomes.collect()
    assert deequ["Outcome"] == "Passed"
    uniqueness = "Multicolumn.feature_date,user_id.Uniqueness"
    assert proven["metrics"][uniqueness] == deequ["EvaluatedMetrics"][uniqueness] == 1.0
    # rules over other columns are Deequ's: two rows share each date
    assert (other["outcome"], other["evaluated_by"]) == ("Failed", "deequ")
    assert (complete["outcome"], complete["evaluated_by"]) == ("Passed", "deequ")
    wh = ["--warehouse", str(runtime.storage.warehouse.root)]
    assert main(["quality", "show", record.run_id, *wh]) == 0
    assert f"Passed  warn [output] {rule} (by the output contract) [" in capsys.readouterr().out


def test_duplicate_keys_fail_the_row_checks_before_any_rule_passes(runtime: LocalRuntime) -> None:
    with pytest.raises(OutputContractError, match="appear more than once"):
        DuplicatesKeys().run(runtime)
    assert not runtime.storage.engine.exists(runtime.storage.location("features.dq_duplicated"))
    (name,) = runtime.storage.warehouse.list_json("_runs/dq_duplicates_keys")
    record = runtime.storage.warehouse.read_json(name)
    assert record["status"] == "failed"
    assert not [q for q in record["quality"] if q["outcome"] == "Passed"]


def test_a_dropping_rule_that_cannot_be_evaluated_fails_the_run_and_drops_nothing(
    runtime: LocalRuntime,
) -> None:
    """A misspelt column (or one of a type the rule does not take) fails every row in
    Deequ: without this check the run dropped all of them and succeeded."""
    with pytest.raises(QualityError) as failed:
        DropsOnATypo().run(runtime)
    assert str(failed.value) == (
        "[output#0] cannot evaluate 2 rule(s) on the output's columns: "
        'ColumnValues "spendd" >= 0: Input data does not include column spendd!; '
        'ColumnLength "spend" > 2: Expected type of column spend to be StringType, but found '
        "DoubleType instead! Every row would fail them and be dropped. Fix the rule's column "
        "name or type. Nothing was committed."
    )
    assert not runtime.storage.engine.exists(runtime.storage.location("features.dq_typo"))
    quarantine = runtime.storage.location(quarantine_name("features.dq_typo"))
    assert not runtime.storage.engine.exists(quarantine)


def test_dropped_rows_go_to_quarantine_and_outcomes_to_the_record(
    spark: SparkSession, runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    record = DropsNegative().run(runtime)
    out = runtime.storage.engine.read(spark, runtime.storage.location("features.dq_spend"))
    expected = spark.createDataFrame(
        [("u1", D1, 5.0), ("u3", D2, 7.0)], "user_id string, feature_date date, spend double"
    )
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)

    quarantined = read_quarantine(runtime.spark, runtime.storage, "features.dq_spend").select(
        "user_id", "feature_date", "spend", "quarantine_rules", "quarantine_run_id"
    )
    rule = 'ColumnValues "spend" >= 0'
    want = spark.createDataFrame(
        [("u2", D1, -3.0, [rule], record.run_id), ("u4", D2, -1.0, [rule], record.run_id)],
        "user_id string, feature_date date, spend double, quarantine_rules array<string>, "
        "quarantine_run_id string",
    )
    assert_df_equality(quarantined, want, ignore_row_order=True, ignore_nullable=True)
    assert record.quarantine is not None
    assert record.quarantine["rows"] == 2
    assert record.quarantine["table"] == quarantine_name("features.dq_spend")

    by_rule = {q["rule"]: q for q in record.quality}
    assert by_rule["RowCount = 4"]["target"] == "input spend"
    assert by_rule["RowCount = 4"]["outcome"] == "Passed"
    assert by_rule[rule]["outcome"] == "Failed"
    assert by_rule[rule]["failing_rows"] == 2
    assert by_rule[rule]["handled"]
    assert by_rule["RowCount >= 3"]["outcome"] == "Passed"  # on the 4 rows before the drop
    mean = by_rule['Mean "spend" > 100']
    assert mean["outcome"] == "Failed"
    assert record.warnings == [f"[output] {mean['rule']}: {mean['failure_reason']}"]

    # re-running replaces: the quarantine keeps one copy of each failing row
    again = DropsNegative().run(runtime)
    assert read_quarantine(runtime.spark, runtime.storage, "features.dq_spend").count() == 2
    assert again.quarantine is not None
    assert again.quarantine["version"] == 1

    # featurekit quality show: a job's latest run, or a run by id, as text or JSON
    wh = ["--warehouse", str(runtime.storage.warehouse.root)]
    assert main(["quality", "show", "dq_drops_negative", "--json", *wh]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["run_id"] == again.run_id
    assert shown["quality"] == json.loads(json.dumps(again.quality))
    assert main(["quality", "show", record.run_id, *wh]) == 0
    text = capsys.readouterr().out
    assert f"dq_drops_negative [{record.run_id}] succeeded" in text
    assert f"Failed  fail [output] {rule} (" in text
    assert "quarantine: 2 rows in features.dq_spend__quarantine" in text
    assert main(["quality", "show", "nothing_here", *wh]) != 0
    assert "No run record of a job or run named 'nothing_here'" in capsys.readouterr().err


def test_a_failed_rule_of_severity_fail_commits_nothing(
    spark: SparkSession, runtime: LocalRuntime
) -> None:
    with pytest.raises(QualityError, match=r'ColumnValues "spend" >= 0'):
        FailsOnNegative().run(runtime)
    assert not runtime.storage.engine.exists(runtime.storage.location("features.dq_failing"))
    (name,) = runtime.storage.warehouse.list_json("_runs/dq_fails_on_negative")
    record = runtime.storage.warehouse.read_json(name)
    assert record["status"] == "failed"
    assert record["error_type"] == "QualityError"
    outcomes = {q["rule"]: q["outcome"] for q in record["quality"]}
    assert outcomes == {
        "RowCount = 4": "Passed",
        'IsComplete "user_id"': "Passed",
        'ColumnValues "spend" >= 0': "Failed",
    }


def test_row_count_against_previous_runs(spark: SparkSession, runtime: LocalRuntime) -> None:
    first = Drifting().run(runtime)
    (outcome,) = first.quality
    assert outcome["outcome"] == "Skipped"
    assert outcome["metrics"] == {"Dataset.*.RowCount": 4.0}
    second = Drifting().run(runtime)
    (outcome,) = second.quality
    assert outcome["rule"] == "RowCount >= max(last(3))"
    assert outcome["evaluated_rule"] == "RowCount >= 4.0"
    assert outcome["outcome"] == "Passed"


class Reported(_Spend):
    name = "dq_reported"
    output = table(
        "dq_reported",
        Ruleset('Rules = [ ColumnValues "spend" >= 0 ]', on_failing_rows="drop", name="positive"),
        Ruleset('Rules = [ RowCount >= 3, Mean "spend" > 100 ]', severity="warn", name="size"),
    )


def test_quality_and_write_report_each_ruleset_and_what_they_stage(
    runtime: LocalRuntime,
) -> None:
    lines: list[str] = []
    runtime.report = lines.append
    try:
        Reported().run(runtime)
    finally:
        runtime.report = lambda _message: None
    expected = [
        "quality: evaluating ruleset 1/1 (1 rules) on input spend",
        "quality: evaluating ruleset 1/2 positive (1 rules) on output",
        "quality: evaluating ruleset 2/2 size (2 rules) on output",
        # counted by the write of the quarantined rows: no pass of its own
        "write: staging the quarantined rows, counting the rows failing each rule",
    ]
    assert [line for line in lines if line in expected] == expected
    assert any(line.startswith("write: staging features.dq_reported (") for line in lines)
    # the drop keeps the passing rows as the one staged write split them
    assert any(line.startswith("write: staged 4 rows in ") for line in lines)
    assert "write: keeping the 2 passing rows of 4 as staged (2 failing)" in lines


class Quarantines(_Spend):
    name = "dq_quarantines"
    output = table(
        "dq_quarantines",
        Ruleset(
            'Rules = [ ColumnValues "spend" >= 0 ]',
            severity="warn",
            on_failing_rows="quarantine",
            name="copy",
        ),
    )


class DropsNothing(_Spend):
    name = "dq_drops_nothing"
    output = table(
        "dq_drops_nothing",
        Ruleset('Rules = [ ColumnValues "spend" > -10 ]', on_failing_rows="drop", name="sane"),
    )


@pytest.mark.parametrize(
    ("job", "rows", "quarantined"), [(Quarantines, 4, 2), (DropsNothing, 4, 0), (Reported, 2, 2)]
)
def test_the_output_is_staged_once_unless_rows_are_dropped(
    runtime: LocalRuntime, job: type[FeatureJob], rows: int, quarantined: int
) -> None:
    """Rules run on the staged output, staged once: a drop keeps the passing rows the
    staged write put in a folder of their own."""
    lines: list[str] = []
    runtime.report = lines.append
    try:
        record = job().run(runtime)
    finally:
        runtime.report = lambda _message: None
    name = job.output.name
    assert (
        runtime.storage.engine.read(runtime.spark, runtime.storage.location(name)).count() == rows
    )
    assert record.quarantine is not None
    assert record.quarantine["rows"] == quarantined
    restaged = [line for line in lines if line.startswith("write: staging the kept rows")]
    assert restaged == []  # split by the write itself (tests/run/test_split.py)
    assert sum(line.startswith(f"write: staging {name} ") for line in lines) == 1
