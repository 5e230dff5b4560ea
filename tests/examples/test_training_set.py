"""The demo jobs: user_activity_daily (windowed_aggregates), training_set (point-in-time)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from featurekit.demo import DemoSpec, events, labels
from featurekit.demo_run import DEMO_JOBS, write_source_table
from featurekit.errors import LeakageError
from featurekit.examples.training_set import TrainingSet
from featurekit.examples.user_activity_daily import UserActivityDaily
from featurekit.features import audit_leakage
from featurekit.io import TableInput

SPEC = DemoSpec(users=20, days=35)


@pytest.fixture
def demo_tables(local_runtime):
    write_source_table(local_runtime, "raw.events", events(local_runtime.spark, SPEC), "events")
    write_source_table(local_runtime, "raw.labels", labels(local_runtime.spark, SPEC), "labels")
    return local_runtime


def read(runtime, name):
    return runtime.storage.engine.read(runtime.spark, runtime.storage.location(name))


def test_demo_runs_training_set_after_its_features():
    assert DEMO_JOBS.index("training_set") > DEMO_JOBS.index("user_activity_daily")


@pytest.mark.slow
def test_training_set_is_point_in_time_and_audited(demo_tables):
    runtime = demo_tables
    activity = UserActivityDaily()
    record = activity.run(runtime)
    assert record.status == "succeeded"
    assert record.counters == {"null_key_rows": 0, "null_time_rows": 0}
    stored = runtime.storage.warehouse.read_json(f"_runs/user_activity_daily/{record.run_id}.json")
    assert stored["counters"] == record.counters
    TrainingSet().run(runtime)
    training = read(runtime, "features.training_set")
    assert training.count() == SPEC.users
    report = audit_leakage(
        training,
        spine_time="label_time",
        feature_time="feature_ts",
        data_time_columns=["last_event_at_30d"],
        feature_date="feature_date",
    )
    assert report.ok
    assert report.joined > 0
    # every joined row is the feature row of the day before the label, values unchanged
    joined = training.where(F.col("feature_date").isNotNull())
    assert joined.where(F.col("feature_date") != F.date_sub("label_date", 1)).count() == 0
    daily = read(runtime, "features.user_activity_daily")
    columns = ["user_id", "feature_date", "views_7d", "spend_30d", "items_30d"]
    assert_df_equality(
        joined.select(*columns),
        daily.join(joined.select("user_id", "feature_date"), ["user_id", "feature_date"]).select(
            *columns
        ),
        ignore_row_order=True,
        ignore_nullable=True,
    )


@pytest.mark.slow
def test_training_set_run_fails_on_leaky_features(demo_tables):
    runtime = demo_tables
    UserActivityDaily().run(runtime)
    daily = read(runtime, "features.user_activity_daily")
    # publish each row at the START of its date: labels then see same-day data
    leaky = daily.withColumn("feature_ts", F.col("feature_date").cast("timestamp"))
    write_source_table(runtime, "features.leaky_activity", leaky, "leaky on purpose")

    class LeakyTrainingSet(TrainingSet):
        name = "leaky_training_set"
        inputs = {**TrainingSet.inputs, "activity": TableInput("features.leaky_activity")}
        output = dataclasses.replace(TrainingSet.output, name="features.leaky_training_set")

    with pytest.raises(LeakageError, match="published_before_date_end"):
        LeakyTrainingSet().run(runtime)
    assert not runtime.storage.catalog.exists("features.leaky_training_set")


@pytest.mark.slow
def test_date_range_run_sees_the_lookback(demo_tables):
    runtime = demo_tables
    day = SPEC.start + dt.timedelta(days=33)
    UserActivityDaily().run(runtime, start=day, end=day)
    ranged = read(runtime, "features.user_activity_daily")
    UserActivityDaily().run(runtime)
    full = read(runtime, "features.user_activity_daily").where(F.col("feature_date") == day)
    assert_df_equality(
        ranged, full.select(*ranged.columns), ignore_row_order=True, ignore_nullable=True
    )


@pytest.mark.slow
def test_min_events_drops_quiet_user_days(demo_tables):
    runtime = demo_tables
    UserActivityDaily().run(runtime)
    every = read(runtime, "features.user_activity_daily").count()
    UserActivityDaily().run(runtime, params={"min_events": 20})
    busy = read(runtime, "features.user_activity_daily")
    assert busy.agg(F.min("events_30d")).first()[0] >= 20
    assert 0 < busy.count() < every
