"""The demo generator is deterministic and produces the documented shapes; the demo's
tables are the same on Spark 3.5 and Spark 4."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from featurekit.demo import DemoSpec, events, labels
from featurekit.demo_run import DEMO_JOBS, run_demo
from featurekit.errors import ConfigError
from featurekit.quality.engine import available
from featurekit.quality.quarantine import read_quarantine
from featurekit.registry import get_job
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.tables.deltars import DeltaRsEngine
from featurekit.warehouse import Warehouse


def test_events_are_deterministic_and_well_formed(spark: SparkSession) -> None:
    spec = DemoSpec(users=40, days=6, seed=3)
    first = events(spark, spec)
    assert_df_equality(first, events(spark.newSession(), spec), ignore_row_order=True)
    assert [f.simpleString() for f in first.schema.fields] == [
        "event_id:string",
        "user_id:string",
        "event_time:timestamp",
        "event_type:string",
        "item_id:string",
        "amount:double",
    ]
    stats = first.agg(
        F.count(F.lit(1)).alias("n"),
        F.countDistinct("event_id").alias("ids"),
        F.min("event_time").alias("lo"),
        F.max("event_time").alias("hi"),
        F.sum(F.when((F.col("event_type") == "purchase") != F.col("amount").isNotNull(), 1)).alias(
            "bad"
        ),
    ).first()
    assert stats is not None
    assert stats["n"] == stats["ids"] > 0
    assert stats["lo"] >= dt.datetime(2026, 1, 1)
    assert stats["hi"] < dt.datetime(2026, 1, 7)
    assert stats["bad"] is None
    assert {r[0] for r in first.select("event_type").distinct().collect()} == {
        "view",
        "cart",
        "purchase",
    }
    assert events(spark, DemoSpec(users=40, days=6, seed=4)).exceptAll(first).count() > 0


def test_labels_have_one_row_per_user(spark: SparkSession) -> None:
    got = labels(spark, DemoSpec(users=50, days=9))
    assert got.count() == got.select("user_id").distinct().count() == 50
    assert got.where("churned").count() > 0
    assert got.where("NOT churned").count() > 0


def test_bad_sizes_are_rejected() -> None:
    with pytest.raises(ConfigError, match="--users must be at least 1"):
        DemoSpec(users=0)


def test_demo_builds_every_demo_table(spark: SparkSession, local_runtime: LocalRuntime) -> None:
    from featurekit.cli.quality import render

    runtime = local_runtime
    records = run_demo(runtime, users=25, days=8, seed=1)
    assert [r.job for r in records] == list(DEMO_JOBS)
    assert all(r.status == "succeeded" for r in records)
    if available():  # the training set's rulesets ran, and the demo shows their outcomes
        training = records[-1]
        outcomes = {q["rule"]: q["outcome"] for q in training.quality}
        assert outcomes['IsPrimaryKey "user_id" "label_date"'] == "Passed"
        assert outcomes['IsUnique "user_id"'] == "Passed"
        assert training.quarantine is not None
        quarantined = read_quarantine(runtime.spark, runtime.storage, "features.training_set")
        assert quarantined.count() == training.quarantine["rows"]
        assert quarantined.where("events_30d >= 1").count() == 0
        shown = "\n".join(render(training.to_json()))  # what `featurekit demo` prints
        assert 'Passed  fail [output] IsPrimaryKey "user_id" "label_date"' in shown
    names = {e.name for e in runtime.storage.catalog.list()}
    assert {"raw.events", "raw.labels", "features.user_activity_daily"} <= names


OTHER_PYTHON = os.environ.get("FEATUREKIT_OTHER_PYTHON")


@pytest.mark.integration
@pytest.mark.skipif(
    not OTHER_PYTHON,
    reason="FEATUREKIT_OTHER_PYTHON (a venv with another pyspark) unset; make test-spark4 sets it",
)
def test_demo_tables_are_identical_on_another_spark_version(
    spark: SparkSession, tmp_path: Path
) -> None:
    assert OTHER_PYTHON
    version = subprocess.run(
        [OTHER_PYTHON, "-c", "import pyspark; print(pyspark.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version.split(".")[0] != spark.version.split(".")[0], (version, spark.version)
    here, there = tmp_path / "here", tmp_path / "there"
    config = LocalConfig(warehouse=str(here), quiet=True, check_quality=available())
    runtime = LocalRuntime(config, spark=spark)
    run_demo(runtime, users=30, days=9, seed=5)
    args = ["--users", "30", "--days", "9", "--seed", "5", "--quiet", "--warehouse", str(there)]
    done = subprocess.run(
        [OTHER_PYTHON, "-m", "featurekit", "demo", *args], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for job in DEMO_JOBS:
        name = get_job(job).output.name
        ours, theirs = (
            DeltaRsEngine().read(spark, Warehouse(root).table_location(name))
            for root in (here, there)
        )
        assert ours.count() > 0, name
        assert_df_equality(ours, theirs, ignore_row_order=True, ignore_column_order=True)
