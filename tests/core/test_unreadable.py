"""Data Spark cannot read: one featurekit error naming the data and the fix, exit 2.

The files are the ones a user writes with pandas (nanosecond timestamps, pyarrow's
default), registered, crawled and read by a job as featurekit users do."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, FilesInput, JobContext, TableInput
from featurekit.cli import main
from featurekit.core.unreadable import malformed_record, parquet_mismatch, unreadable
from featurekit.errors import InputError
from featurekit.runtime.local import LocalConfig, LocalRuntime

NANOS = "a parquet column of type INT64 (TIMESTAMP(NANOS,false))"


def nanosecond_events(folder: Path) -> Path:
    """Events as pandas writes them: event_time in nanoseconds."""
    folder.mkdir(parents=True)
    times = pa.array([dt.datetime(2026, 11, 1, 8), dt.datetime(2026, 11, 2, 9)], pa.timestamp("ns"))
    table = pa.table({"user_id": ["u1", "u2"], "event_time": times})
    pq.write_table(table, folder / "part-0.parquet")
    return folder


def test_the_spark_messages_become_one_error_with_the_fix() -> None:
    trace = (
        "An error occurred while calling o42.load.\n: org.apache.spark.SparkException: Job "
        "aborted\nCaused by: org.apache.spark.sql.AnalysisException: Illegal Parquet type: "
        "INT64 (TIMESTAMP(NANOS,false)).\n\tat org.apache.spark..."
    )
    error = unreadable(RuntimeError(trace), "landing/events (parquet)")
    assert isinstance(error, InputError)
    assert str(error).startswith(f"landing/events (parquet): Spark cannot read it: {NANOS}.")
    assert "coerce_timestamps='us'" in str(error)
    spark4 = (  # Spark 4 raises it as an AnalysisException, the error class first
        "[PARQUET_TYPE_ILLEGAL] Illegal Parquet type: INT64 (TIMESTAMP(NANOS,false)). "
        "SQLSTATE: 42846"
    )
    assert str(unreadable(RuntimeError(spark4), "x")).startswith(
        f"x: Spark cannot read it: {NANOS}."
    )
    other = unreadable(RuntimeError("Illegal Parquet type: FIXED_LEN_BYTE_ARRAY (UUID)"), "x")
    assert other is not None
    assert "UUID" in str(other)
    assert "coerce" not in str(other)
    assert unreadable(RuntimeError("Connection refused"), "x") is None  # not the data's fault


def test_registering_nanosecond_parquet_names_the_fix(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = nanosecond_events(tmp_path / "landing" / "events")
    args = ["table", "register", "raw.events", "--location", str(events), "--format", "parquet"]
    assert main([*args, "--warehouse", str(tmp_path / "wh"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"featurekit: error: {events} (parquet): Spark cannot read it: {NANOS}" in err
    assert "Traceback" not in err


def test_crawling_nanosecond_parquet_names_the_fix(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = tmp_path / "landing"
    nanosecond_events(landing / "events")
    args = ["crawl", str(landing), "--database", "raw", "--warehouse", str(tmp_path / "wh")]
    assert main([*args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert NANOS in err
    assert "coerce_timestamps='us'" in err
    assert "Traceback" not in err


class DailyEvents(FeatureJob):
    name = "daily_events"
    inputs = {"events": TableInput("raw.events")}
    output = FeatureTable(
        "features.daily_events",
        keys=("user_id",),
        date_column="event_date",
        columns={"user_id": "string", "event_date": "date", "events": "bigint"},
    )

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        day = F.to_date("event_time").alias("event_date")
        return events.groupBy("user_id", day).agg(F.count(F.lit(1)).alias("events"))


def test_a_job_reading_nanosecond_parquet_fails_with_the_fix_and_commits_nothing(
    spark: SparkSession, tmp_path: Path
) -> None:
    events = nanosecond_events(tmp_path / "landing" / "events")
    runtime = LocalRuntime(LocalConfig(warehouse=str(tmp_path / "wh"), quiet=True), spark=spark)
    schema = {"type": "struct", "fields": [
        {"name": "user_id", "type": "string", "nullable": True, "metadata": {}},
        {"name": "event_time", "type": "timestamp", "nullable": True, "metadata": {}},
    ]}  # fmt: skip
    runtime.storage.catalog.register("raw.events", str(events), schema=schema, format="parquet")
    with pytest.raises(InputError, match=r"Input 'events' .*: Spark cannot read it: a parquet"):
        DailyEvents().run(runtime)
    output = runtime.storage.location("features.daily_events")
    assert not runtime.storage.engine.exists(output)


def test_a_column_of_another_type_names_the_file_and_column() -> None:
    spark35 = (
        "Job aborted due to stage failure: ... org.apache.spark.SparkException: Parquet column "
        "cannot be converted in file file:///lake/events/part-0.parquet. Column: [event_time], "
        "Expected: timestamp, Found: INT64.\n\tat org.apache..."
    )
    spark4 = (
        "[FAILED_READ_FILE.PARQUET_COLUMN_DATA_TYPE_MISMATCH] Encountered error while reading "
        "file file:///lake/events/part-0.parquet. Data type mismatches when reading Parquet "
        "column [event_time]. Expected Spark type timestamp, actual Parquet type INT64. "
        "SQLSTATE: KD001"
    )
    for text in (spark35, spark4):
        error = parquet_mismatch(RuntimeError(text), "Run daily (r1)")
        assert isinstance(error, InputError)
        assert str(error).startswith(
            "Run daily (r1): Spark cannot read file:///lake/events/part-0.parquet: its parquet "
            "column 'event_time' holds INT64 where timestamp is expected. If pandas or pyarrow "
            "wrote it, its timestamps are nanoseconds."
        )
        assert "coerce_timestamps='us'" in str(error)
    other = parquet_mismatch(
        RuntimeError(spark35.replace("Expected: timestamp", "Expected: double")), "x"
    )
    assert other is not None
    assert "holds INT64 where double is expected. Declare the type the files hold" in str(other)
    assert parquet_mismatch(RuntimeError("Connection refused"), "x") is None


class NanosecondFiles(DailyEvents):
    name = "nanosecond_files"
    inputs = {
        "events": FilesInput("s3://landing/events", schema="user_id string, event_time timestamp")
    }
    output = dataclasses.replace(DailyEvents.output, name="features.nanosecond_files")


class InferredNanosecondFiles(NanosecondFiles):
    inputs = {"events": FilesInput("s3://landing/events")}


@pytest.mark.parametrize("declared", [True, False], ids=["schema declared", "schema inferred"])
def test_a_run_over_nanosecond_files_fails_with_the_fix_and_leaves_nothing(
    spark: SparkSession, tmp_path: Path, declared: bool
) -> None:
    runtime = LocalRuntime(LocalConfig(warehouse=str(tmp_path / "wh"), quiet=True), spark=spark)
    nanosecond_events(Path(runtime.storage.warehouse.resolve("s3://landing/events")))
    job = NanosecondFiles() if declared else InferredNanosecondFiles()
    with pytest.raises(InputError) as failed:
        job.run(runtime)
    message = str(failed.value)
    if declared:  # read by the run's first Spark job: the file and column are named
        assert re.match(r"Run nanosecond_files \([^)]+\): Spark cannot read ", message), message
        assert "part-0.parquet: its parquet column 'event_time' holds INT64" in message
    else:  # the schema's inference fails first
        assert message.startswith(
            f"Input 'events' (s3://landing/events): Spark cannot read it: {NANOS}"
        )
    assert "coerce_timestamps='us'" in message
    output = Path(runtime.storage.location("features.nanosecond_files"))
    assert not runtime.storage.engine.exists(str(output))
    staging = output / "_featurekit_staging"
    assert not staging.exists() or not any(staging.iterdir())


def test_a_record_a_failfast_read_cannot_parse_is_named() -> None:
    trace = (
        "An error occurred while calling o51.save.\n: org.apache.spark.SparkException: Job "
        "aborted due to stage failure: ... org.apache.spark.SparkException: "
        "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file file:///lake/a.csv.  "
        "SQLSTATE: KD001\n\tat org.apache...\nCaused by: org.apache.spark.SparkException: "
        "[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in "
        "record parsing: [u1,null]. Parse Mode: FAILFAST.\n\tat org...\nCaused by: "
        'java.lang.NumberFormatException: For input string: "abc"\n\tat java...'
    )
    error = malformed_record(RuntimeError(trace), "Run daily (r1)")
    assert str(error) == (
        "Run daily (r1): Spark cannot parse a record of file:///lake/a.csv (mode FAILFAST): "
        '[u1,null] (For input string: "abc"). Fix the record, declare the column with the '
        "type its values have, or read with mode PERMISSIVE (values that do not parse become "
        "nulls) or DROPMALFORMED (their rows are dropped)."
    )
    assert malformed_record(RuntimeError("Connection refused"), "x") is None


class FailFastCsv(DailyEvents):
    name = "failfast_csv"
    inputs = {
        "events": FilesInput(
            "s3://landing/csv",
            format="csv",
            schema="user_id string, event_time timestamp",
            options={"header": "true", "mode": "FAILFAST"},
        )
    }
    output = dataclasses.replace(DailyEvents.output, name="features.failfast_csv")


def test_a_failfast_csv_read_of_a_bad_value_ends_with_one_input_error(
    spark: SparkSession, tmp_path: Path
) -> None:
    runtime = LocalRuntime(LocalConfig(warehouse=str(tmp_path / "wh"), quiet=True), spark=spark)
    folder = Path(runtime.storage.warehouse.resolve("s3://landing/csv"))
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("user_id,event_time\nu1,2026-11-01 08:00:00\nu2,yesterday\n")
    with pytest.raises(InputError) as failed:
        FailFastCsv().run(runtime)
    message = str(failed.value)
    assert re.match(r"Run failfast_csv \([^)]+\): Spark cannot parse a record", message)
    assert "(mode FAILFAST): [u2,null] (The value 'yesterday' of the type" in message
    assert "read with mode PERMISSIVE" in message
    assert not runtime.storage.engine.exists(runtime.storage.location("features.failfast_csv"))
