"""Maintenance declared on a job's output runs after each committed run, never before."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, Maintenance, TableInput
from featurekit.errors import ConfigError, OutputContractError
from featurekit.runtime.local import LocalRuntime
from featurekit.tables.maintenance import data_files_on_disk

CLICKS = "user_id string, ts timestamp"
COLUMNS = {"user_id": "string", "feature_date": "date", "clicks": "bigint"}


def clicks(spark: SparkSession, days: int) -> DataFrame:
    """Two users: u1 clicks once a day, u2 twice a day, from 2026-03-01."""
    rows = []
    for day in range(days):
        noon = dt.datetime(2026, 3, 1 + day, 12)
        rows += [("u1", noon), ("u2", noon), ("u2", noon + dt.timedelta(hours=1))]
    return spark.createDataFrame(rows, CLICKS)


def seed(runtime: LocalRuntime, df: DataFrame) -> None:
    location = runtime.storage.location("web.clicks")
    runtime.storage.engine.write(df, location, mode="overwrite")
    schema = runtime.storage.engine.schema(location)
    assert schema is not None
    runtime.storage.catalog.register("web.clicks", location, schema=schema.jsonValue())


class DailyClicks(FeatureJob):
    name = "daily_clicks_maintained"
    inputs = {"clicks": TableInput("web.clicks", time_column="ts")}
    output = FeatureTable(
        "features.daily_clicks",
        keys=("user_id",),
        date_column="feature_date",
        columns=COLUMNS,
        maintenance=Maintenance(checkpoint_every=3, compact_written_dates=True, vacuum=True),
    )

    def transform(self, ctx: JobContext, clicks: DataFrame) -> DataFrame:
        daily = clicks.groupBy("user_id", F.to_date("ts").alias("feature_date"))
        return daily.agg(F.count(F.lit(1)).alias("clicks"))


class ShortVacuum(DailyClicks):
    """Asks for a vacuum under the table's 7-day retention: refused, a warning only."""

    name = "daily_clicks_short_vacuum"
    output = FeatureTable(
        "features.daily_clicks",
        keys=("user_id",),
        date_column="feature_date",
        columns=COLUMNS,
        maintenance=Maintenance(checkpoint_every=1, vacuum=True, vacuum_retain_hours=1),
    )


def expected(spark: SparkSession, days: int) -> DataFrame:
    rows = []
    for day in range(days):
        date = dt.date(2026, 3, 1 + day)
        rows += [("u1", date, 1), ("u2", date, 2)]
    return spark.createDataFrame(rows, "user_id string, feature_date date, clicks bigint")


def test_daily_runs_checkpoint_every_three_versions_after_the_commit(
    local_runtime: LocalRuntime, spark: SparkSession
) -> None:
    seed(local_runtime, clicks(spark, 5))
    records = []
    for day in range(1, 6):
        date = dt.date(2026, 3, day)
        records.append(DailyClicks().run(local_runtime, start=date, end=date))
    versions = [r.output.version for r in records if r.output]
    checkpoints = [r.maintenance.checkpoint_version for r in records if r.maintenance]
    assert versions == [0, 1, 2, 3, 4]
    assert checkpoints == [None, None, 2, None, None]
    last = records[-1]
    assert last.maintenance is not None
    assert (last.maintenance.files_before, last.maintenance.files_after) == (5, 5)
    assert last.maintenance.compaction == {
        "files_removed": 0,  # one run writes one file per date: nothing to compact
        "files_added": 0,
        "version": 4,
        "partitions": [["feature_date", "in", ["2026-03-05"]]],
    }
    assert last.maintenance.vacuum == {"files_deleted": 0, "retention_hours": 168.0}
    assert last.maintenance.last_checkpoint == 2
    assert (last.warnings, last.status) == ([], "succeeded")
    assert "maintenance" in last.phases
    assert "checkpoint at version" not in last.summary()
    assert "checkpoint at version 2" in records[2].summary()
    location = local_runtime.storage.output_location(DailyClicks.output)
    assert Path(location, "_delta_log", "00000000000000000002.checkpoint.parquet").is_file()
    table = local_runtime.storage.engine.read(spark, location)
    assert_df_equality(table, expected(spark, 5), ignore_row_order=True, ignore_nullable=True)


def test_a_failed_maintenance_step_is_a_warning_and_the_output_stays_committed(
    local_runtime: LocalRuntime, spark: SparkSession
) -> None:
    seed(local_runtime, clicks(spark, 2))
    date = dt.date(2026, 3, 2)
    DailyClicks().run(local_runtime, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1))
    record = ShortVacuum().run(local_runtime, start=date, end=date)
    assert record.status == "succeeded"
    assert record.output is not None
    assert record.output.version == 1
    assert record.maintenance is not None
    assert record.maintenance.vacuum is None
    assert record.maintenance.checkpoint_version == 1  # the next step still ran
    (warning,) = record.warnings
    assert "'vacuum'" in warning
    assert "RetentionError" in warning
    assert "committed" in warning
    assert "warning: maintenance step 'vacuum'" in record.summary()
    location = local_runtime.storage.output_location(ShortVacuum.output)
    assert len(data_files_on_disk(location)) == 2
    table = local_runtime.storage.engine.read(spark, location)
    assert_df_equality(table, expected(spark, 2), ignore_row_order=True, ignore_nullable=True)
    stored = local_runtime.storage.warehouse.root / "_runs" / ShortVacuum.name
    assert "RetentionError" in next(stored.glob("*.json")).read_text()


def test_a_run_that_commits_nothing_runs_no_maintenance(
    local_runtime: LocalRuntime, spark: SparkSession
) -> None:
    seed(local_runtime, clicks(spark, 1))

    class Broken(DailyClicks):
        name = "daily_clicks_broken"

        def transform(self, ctx: JobContext, clicks: DataFrame) -> DataFrame:
            return super().transform(ctx, clicks).withColumn("user_id", F.lit(None).cast("string"))

    with pytest.raises(OutputContractError, match="null"):
        Broken().run(local_runtime)
    assert not local_runtime.storage.engine.exists(
        local_runtime.storage.output_location(Broken.output)
    )
    stored = local_runtime.storage.warehouse.root / "_runs" / Broken.name
    record = json.loads(next(stored.glob("*.json")).read_text())
    assert (record["status"], record["maintenance"], record["warnings"]) == ("failed", None, [])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"checkpoint_every": 0}, "checkpoint_every must be >= 1"),
        ({"checkpoint_every": 2.5}, "checkpoint_every must be an int"),
        ({"vacuum_retain_hours": 24}, "needs vacuum=True"),
        ({"vacuum": True, "vacuum_retain_hours": -1}, ">= 0"),
    ],
)
def test_bad_maintenance_declarations_fail_at_construction(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Maintenance(**kwargs)  # type: ignore[arg-type]
