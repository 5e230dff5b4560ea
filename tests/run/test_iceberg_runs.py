"""The run above the engine on an Iceberg output: a windowed incremental job and a
quarantine ruleset give what they give on Delta (tests/run/test_incremental.py and
test_quality.py are the Delta versions)."""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.features import point_in_time_join
from featurekit.quality import Ruleset
from featurekit.quality.engine import available
from featurekit.quality.quarantine import quarantine_name, read_quarantine
from featurekit.run.backfill import backfill
from featurekit.runtime.local import LocalRuntime
from featurekit.state.session import app_id
from featurekit.storage import is_iceberg_table

sys.path.insert(0, str(Path(__file__).parent.parent / "state"))
from sample_jobs import EVENTS_PATH, EVENTS_SCHEMA, WindowSums, events


class IcebergWindowSums(WindowSums):
    name = "iceberg_window_sums"
    output = replace(WindowSums.output, name="features.iceberg_window_sums", format="iceberg")


def add_files(runtime: LocalRuntime, rows: list[tuple]) -> None:
    df = runtime.spark.createDataFrame(rows, EVENTS_SCHEMA).coalesce(1)
    df.write.mode("append").parquet(runtime.storage.warehouse.resolve(EVENTS_PATH))


def output(runtime: LocalRuntime, job: type[FeatureJob]) -> DataFrame:
    location = runtime.storage.output_location(job.output)
    engine = runtime.storage.engine_at(location)
    cols = ["user_id", "feature_date", "events_3d", "amount_3d"]
    return engine.read(runtime.spark, location).select(*cols)


@pytest.mark.slow  # two jobs, each run twice on Spark
def test_a_windowed_incremental_job_writes_the_same_iceberg_table_as_delta(
    local_runtime: LocalRuntime,
) -> None:
    add_files(local_runtime, [r for d in range(1, 5) for r in events(d)])
    for job in (WindowSums, IcebergWindowSums):
        job().run(local_runtime)
    # a new day and a late event for day 2: the window's dates are replaced, once
    add_files(local_runtime, [*events(5), *events(2, users=1, per_user=1, amount=50.0)])
    records = [job().run(local_runtime) for job in (WindowSums, IcebergWindowSums)]

    delta, iceberg = records
    assert iceberg.output is not None
    assert iceberg.output.engine == "iceberg"
    assert iceberg.counters["new_units.events"] == delta.counters["new_units.events"] == 1
    assert iceberg.counters["affected_dates"] == delta.counters["affected_dates"]
    location = local_runtime.storage.output_location(IcebergWindowSums.output)
    assert is_iceberg_table(location)
    assert_approx_df_equality(
        output(local_runtime, IcebergWindowSums),
        output(local_runtime, WindowSums),
        1e-9,
        ignore_row_order=True,
        ignore_nullable=True,
    )
    engine = local_runtime.storage.engine_at(location)
    latest = engine.history(location, limit=1)[0]
    assert latest.operation == "overwrite"  # the window's dates replaced in one snapshot
    assert engine.txn_version(location, app_id("iceberg_window_sums")) is not None


D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)


def day(n: int) -> dt.date:
    return dt.date(2024, 1, n)


RULE = 'ColumnValues "spend" >= 0'


class QuarantinesNegative(FeatureJob):
    name = "iceberg_quarantines"
    output = FeatureTable(
        "features.iceberg_spend",
        keys=("user_id",),
        date_column="feature_date",
        columns={"user_id": "string", "feature_date": "date", "spend": "double"},
        quality=(
            Ruleset(
                f"Rules = [ {RULE} ]",
                on_failing_rows="quarantine",
                severity="warn",
                name="positive",
            ),
        ),
        format="iceberg",
    )

    def transform(self, ctx: JobContext) -> DataFrame:
        spark = SparkSession.getActiveSession()
        assert spark is not None
        rows = [("u1", D1, 5.0), ("u2", D1, -3.0), ("u3", D2, -1.0)]
        return spark.createDataFrame(rows, "user_id string, feature_date date, spend double")


@pytest.mark.skipif(not available(), reason="Deequ has no build for this Spark line")
def test_a_quarantine_ruleset_on_an_iceberg_output_keeps_its_quarantine_in_iceberg(
    spark: SparkSession, local_runtime: LocalRuntime
) -> None:
    record = QuarantinesNegative().run(local_runtime)
    storage = local_runtime.storage
    name = quarantine_name("features.iceberg_spend")
    assert storage.catalog.get(name).format == "iceberg"
    assert is_iceberg_table(storage.location(name))
    assert record.quarantine is not None
    assert record.quarantine["rows"] == 2
    got = read_quarantine(spark, storage, "features.iceberg_spend").select(
        "user_id", "feature_date", "spend", "quarantine_rules"
    )
    want = spark.createDataFrame(
        [("u2", D1, -3.0, [RULE]), ("u3", D2, -1.0, [RULE])],
        "user_id string, feature_date date, spend double, quarantine_rules array<string>",
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)
    # quarantine mode keeps every row in the output, the failing ones flagged in the quarantine
    assert output_rows(local_runtime) == 3


def output_rows(runtime: LocalRuntime) -> int:
    location = runtime.storage.location("features.iceberg_spend")
    return runtime.storage.engine_at(location).read(runtime.spark, location).count()


JOINED = {
    "user_id": "string",
    "label_date": "date",
    "label_time": "timestamp",
    "feature_date": "date",
    "events_3d": "bigint",
    "amount_3d": "double",
}


class JoinsDeltaSums(FeatureJob):
    """Labels joined point-in-time to a feature table read by name from the catalog."""

    name = "joins_delta_sums"
    inputs = {"sums": TableInput(WindowSums.output.name)}
    output = FeatureTable(
        "features.joined_delta", keys=("user_id",), date_column="label_date", columns=JOINED
    )

    def transform(self, ctx: JobContext, sums: DataFrame) -> DataFrame:
        spark = SparkSession.getActiveSession()
        assert spark is not None
        labels = [  # u2's label comes before any feature day ended: no features
            ("u0", dt.date(2024, 1, 3), dt.datetime(2024, 1, 3, 12)),
            ("u1", dt.date(2024, 1, 5), dt.datetime(2024, 1, 5, 6)),
            ("u2", dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 8)),
        ]
        spine = spark.createDataFrame(
            labels, "user_id string, label_date date, label_time timestamp"
        )
        # a day's features are known when the day ends
        known = sums.withColumn("feature_ts", F.to_timestamp(F.date_add("feature_date", 1)))
        joined = point_in_time_join(
            spine, known, keys="user_id", spine_time="label_time", feature_time="feature_ts"
        )
        return joined.drop("feature_ts")


class JoinsIcebergSums(JoinsDeltaSums):
    name = "joins_iceberg_sums"
    inputs = {"sums": TableInput(IcebergWindowSums.output.name)}
    output = replace(JoinsDeltaSums.output, name="features.joined_iceberg", format="iceberg")


def table_rows(runtime: LocalRuntime, table: FeatureTable) -> DataFrame:
    location = runtime.storage.output_location(table)
    return runtime.storage.engine_at(location).read(runtime.spark, location).select(*JOINED)


@pytest.mark.slow  # two backfills and two joins on Spark
def test_backfills_and_point_in_time_joins_give_the_same_rows_on_iceberg_as_on_delta(
    local_runtime: LocalRuntime,
) -> None:
    add_files(local_runtime, [r for d in range(1, 7) for r in events(d)])
    for job in (WindowSums(), IcebergWindowSums()):
        done = backfill(job, local_runtime, start=day(1), end=day(6), chunk_days=2, progress=None)
        assert len(done.chunks) == 3
    assert_approx_df_equality(
        output(local_runtime, IcebergWindowSums),
        output(local_runtime, WindowSums),
        1e-9,
        ignore_row_order=True,
        ignore_nullable=True,
    )
    location = local_runtime.storage.output_location(IcebergWindowSums.output)
    assert len(local_runtime.storage.engine_at(location).history(location)) >= 3  # a chunk each

    delta, iceberg = (job().run(local_runtime) for job in (JoinsDeltaSums, JoinsIcebergSums))
    [read] = iceberg.inputs
    assert read.kind == "table"
    assert read.version is not None  # the snapshot it read
    assert delta.inputs[0].kind == "table"
    got = table_rows(local_runtime, JoinsIcebergSums.output)
    assert is_iceberg_table(local_runtime.storage.output_location(JoinsIcebergSums.output))
    assert_approx_df_equality(
        got,
        table_rows(local_runtime, JoinsDeltaSums.output),
        1e-9,
        ignore_row_order=True,
        ignore_nullable=True,
    )
    by_user = {r["user_id"]: r for r in got.collect()}
    assert by_user["u0"]["feature_date"] == dt.date(2024, 1, 2)  # the last day ended before
    assert by_user["u1"]["feature_date"] == dt.date(2024, 1, 4)
    assert by_user["u2"]["feature_date"] is None
