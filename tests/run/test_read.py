"""The read step: inputs counted in the background, awaited at the end of the next phase."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.plans import count_rows
from featurekit.runtime.local import LocalRuntime
from featurekit.testing import write_table

WAIT_S = 60


@pytest.fixture
def runtime(local_runtime: LocalRuntime, spark: SparkSession) -> LocalRuntime:
    rows = [("u1", dt.datetime(2024, 1, 1, 8), 1.0), ("u2", dt.datetime(2024, 1, 2, 9), 2.0)]
    df = spark.createDataFrame(rows, "user_id string, event_time timestamp, amount double")
    write_table(local_runtime, "raw.events", df)
    return local_runtime


TRANSFORMING = threading.Event()


class Spend(FeatureJob):
    name = "spend_read"
    inputs = {"events": TableInput("raw.events", time_column="event_time")}
    output = FeatureTable(
        "features.spend_read",
        keys=("user_id",),
        date_column="feature_date",
        columns={"user_id": "string", "feature_date": "date", "spend": "double"},
    )

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        TRANSFORMING.set()
        return events.groupBy("user_id", F.to_date("event_time").alias("feature_date")).agg(
            F.sum("amount").alias("spend")
        )


class Broken(Spend):
    name = "spend_read_broken"

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        TRANSFORMING.set()
        raise ValueError("the transform's own error")


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each count's thread, job group and outcome; a count first waits for the transform
    to begin (so a count awaited before the transform would time out)."""
    TRANSFORMING.clear()
    seen: list[dict[str, Any]] = []

    def waiting_count(df: DataFrame) -> int:
        group = df.sparkSession.sparkContext.getLocalProperty("spark.jobGroup.id")
        entry = {"thread": threading.current_thread(), "group": group}
        seen.append(entry)
        if not TRANSFORMING.wait(WAIT_S):
            raise TimeoutError("the count was awaited before the transform began")
        entry["rows"] = count_rows(df)
        return int(entry["rows"])

    monkeypatch.setattr("featurekit.run.read.count_rows", waiting_count)
    return seen


def test_inputs_are_counted_while_the_transform_builds_its_plan(
    runtime: LocalRuntime, counts: list[dict[str, Any]]
) -> None:
    record = Spend().run(runtime)
    assert record.status == "succeeded"
    assert [(i.name, i.rows) for i in record.inputs] == [("events", 2)]
    assert [c["rows"] for c in counts] == [2]
    assert counts[0]["thread"] is not threading.current_thread()
    assert not counts[0]["thread"].is_alive()


def test_the_count_runs_in_the_runs_job_group(
    runtime: LocalRuntime, spark: SparkSession, counts: list[dict[str, Any]]
) -> None:
    context = spark.sparkContext
    context.setJobGroup("featurekit-read-test", "a caller's job group")
    try:
        Spend().run(runtime)
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    assert [c["group"] for c in counts] == ["featurekit-read-test"]


def test_a_failed_count_fails_the_run_before_anything_is_written(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(df: DataFrame) -> int:
        raise OSError("cannot read s3://bucket/events/part-0.parquet")

    monkeypatch.setattr("featurekit.run.read.count_rows", failing)
    with pytest.raises(OSError, match="cannot read"):
        Spend().run(runtime)
    assert not runtime.storage.engine.exists(runtime.storage.location("features.spend_read"))
    (doc,) = runtime.storage.run_records("spend_read")
    assert (doc["status"], doc["error_type"]) == ("failed", "OSError")
    assert doc["phases"].keys() == {"read", "transform"}  # no write phase began


def test_the_transforms_error_wins_and_no_count_outlives_the_run(
    runtime: LocalRuntime, counts: list[dict[str, Any]]
) -> None:
    with pytest.raises(ValueError, match="the transform's own error"):
        Broken().run(runtime)
    assert len(counts) == 1
    assert not counts[0]["thread"].is_alive()
    assert counts[0]["rows"] == 2
