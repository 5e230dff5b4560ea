"""The demo generator is deterministic and produces the documented shapes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from featurekit.demo import DemoSpec, events, labels
from featurekit.demo_run import DEMO_JOBS, run_demo
from featurekit.errors import ConfigError
from featurekit.runtime.local import LocalConfig, LocalRuntime


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


def test_demo_builds_every_demo_table(spark: SparkSession, warehouse: Path) -> None:
    runtime = LocalRuntime(LocalConfig(warehouse=str(warehouse), quiet=True), spark=spark)
    records = run_demo(runtime, users=25, days=8, seed=1)
    assert [r.job for r in records] == list(DEMO_JOBS)
    assert all(r.status == "succeeded" for r in records)
    names = {e.name for e in runtime.catalog.list()}
    assert {"raw.events", "raw.labels", "features.user_activity_daily"} <= names
