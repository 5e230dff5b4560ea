"""Incremental runs: only new units are read, results equal a full run, late data is exact."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest
from chispa import assert_approx_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureTable, JobContext
from featurekit.errors import LockedError, OutputContractError
from featurekit.features import Agg, combine_windows, daily_partials, merge_partials
from featurekit.features.windowed import windowed_aggregates
from featurekit.io import FilesInput
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.state.partials import partials_location
from featurekit.storage.leftovers import staging_folders
from featurekit.tables.engine import staging_label

sys.path.insert(0, str(Path(__file__).parent.parent / "state"))
from sample_jobs import (
    DELTA_PATH,
    EVENTS_PATH,
    EVENTS_SCHEMA,
    WINDOW,
    DeltaWindowSums,
    EventCopies,
    WindowSums,
    events,
)
from windowed_api_job import WindowedApiJob

# Each test runs the job two or three times on Spark (several seconds each).
pytestmark = pytest.mark.slow


def add_files(runtime: LocalRuntime, rows: list[tuple]) -> None:
    df = runtime.spark.createDataFrame(rows, EVENTS_SCHEMA).coalesce(1)
    df.write.mode("append").parquet(runtime.storage.warehouse.resolve(EVENTS_PATH))


def add_delta(runtime: LocalRuntime, rows: list[tuple]) -> None:
    df = runtime.spark.createDataFrame(rows, EVENTS_SCHEMA)
    runtime.storage.engine.write(df, runtime.storage.warehouse.resolve(DELTA_PATH), mode="append")


def reference(spark: SparkSession, rows: list[tuple]) -> DataFrame:
    """Window sums computed directly from every event, for every date up to the last one."""
    ev = spark.createDataFrame(rows, EVENTS_SCHEMA).withColumn("day", F.to_date("ts"))
    bounds = ev.agg(F.min("day").alias("lo"), F.max("day").alias("hi"))
    dates = bounds.select(F.explode(F.sequence("lo", "hi")).alias("feature_date"))
    joined = dates.join(
        ev,
        (ev.day <= dates.feature_date) & (ev.day > F.date_sub(dates.feature_date, WINDOW)),
    )
    return joined.groupBy("user_id", "feature_date").agg(
        F.count(F.lit(1)).alias("events_3d"), F.sum("amount").alias("amount_3d")
    )


def table(runtime: LocalRuntime, job: type) -> DataFrame:
    return runtime.storage.engine.read(runtime.spark, runtime.storage.output_location(job.output))


# Incremental and range results equal a full recompute exactly for counts and other
# integers; a double sum may differ in its last bits (partials add in another order), so
# doubles are compared within this (absolute) tolerance, everything else exactly.
DOUBLE_TOLERANCE = 1e-9


def assert_same(actual: DataFrame, expected: DataFrame) -> None:
    cols = ["user_id", "feature_date", "events_3d", "amount_3d"]
    assert_approx_df_equality(
        actual.select(*cols),
        expected.select(*cols),
        DOUBLE_TOLERANCE,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def last_commit_dates(location: str) -> set[str]:
    """Partition dates added or removed by the table's latest Delta commit."""
    log = sorted(Path(location, "_delta_log").glob("*.json"))[-1]
    touched = set()
    for line in log.read_text().splitlines():
        action = json.loads(line)
        for kind in ("add", "remove"):
            if kind in action:
                touched.add(action[kind]["partitionValues"]["feature_date"])
    return touched


def test_two_file_runs_read_only_new_files_and_equal_a_full_run(
    local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    first = [r for d in range(1, 6) for r in events(d)]
    add_files(local_runtime, first)
    WindowSums().run(local_runtime)
    later = events(6)
    add_files(local_runtime, later)
    record = WindowSums().run(local_runtime)
    assert record.counters["new_units.events"] == 1
    assert record.inputs[0].rows == len(later)
    assert_same(table(local_runtime, WindowSums), reference(local_runtime.spark, first + later))

    # one full run over the same files, in a fresh warehouse
    full = LocalRuntime(
        LocalConfig(warehouse=str(tmp_path / "full"), quiet=True), spark=local_runtime.spark
    )
    add_files(full, first + later)
    WindowSums().run(full)
    assert_same(table(local_runtime, WindowSums), table(full, WindowSums))


def test_new_days_commit_their_partials_as_the_run_staged_them(
    local_runtime: LocalRuntime,
) -> None:
    add_files(local_runtime, [r for d in range(1, 6) for r in events(d)])
    WindowSums().run(local_runtime)
    add_files(local_runtime, events(6))
    record = WindowSums().run(local_runtime)

    storage = local_runtime.storage
    location = partials_location(storage, WindowSums())
    log = sorted(Path(location, "_delta_log").glob("*.json"))[-1]
    actions = [json.loads(line) for line in log.read_text().splitlines()]
    added = [a["add"] for a in actions if "add" in a]
    # the new day's partials, staged once under the run's name and committed as written
    assert [a["partitionValues"]["feature_date"] for a in added] == ["2024-01-06"]
    assert all(staging_label(record.run_id) in a["path"] for a in added)
    assert record.counters["affected_dates"] == 1
    assert staging_folders(storage.warehouse, location) == []


def test_late_event_updates_exactly_the_affected_dates(local_runtime: LocalRuntime) -> None:
    rows = [r for d in range(1, 9) for r in events(d)]
    add_files(local_runtime, rows)
    WindowSums().run(local_runtime)
    before = table(local_runtime, WindowSums).collect()
    late = events(3, users=1, per_user=1, amount=50.0)
    add_files(local_runtime, late)
    record = WindowSums().run(local_runtime)

    touched = last_commit_dates(local_runtime.storage.output_location(WindowSums.output))
    assert touched == {"2024-01-03", "2024-01-04", "2024-01-05"}
    assert record.counters["affected_dates"] == WINDOW
    after = table(local_runtime, WindowSums)
    assert_same(after, reference(local_runtime.spark, rows + late))
    unchanged = {r for r in before if r.feature_date.day not in (3, 4, 5)}
    assert unchanged <= set(after.collect())


def test_no_new_units_commits_nothing(local_runtime: LocalRuntime) -> None:
    add_files(local_runtime, events(1))
    WindowSums().run(local_runtime)
    location = local_runtime.storage.output_location(WindowSums.output)
    version = local_runtime.storage.engine.version(location)
    record = WindowSums().run(local_runtime)
    assert record.output is None
    assert local_runtime.storage.engine.version(location) == version


def test_two_delta_runs_read_only_new_versions(local_runtime: LocalRuntime) -> None:
    first = [r for d in range(1, 5) for r in events(d)]
    add_delta(local_runtime, first[:12])
    add_delta(local_runtime, first[12:])
    WindowSums_ = DeltaWindowSums()
    WindowSums_.run(local_runtime)
    later = events(5) + events(2, users=1, per_user=1, amount=9.0)
    add_delta(local_runtime, events(5))
    add_delta(local_runtime, events(2, users=1, per_user=1, amount=9.0))
    record = WindowSums_.run(local_runtime)
    assert record.counters["new_units.events"] == 2  # versions 2 and 3
    assert record.inputs[0].rows == len(later)
    assert record.inputs[0].version == 3
    assert_same(
        table(local_runtime, DeltaWindowSums), reference(local_runtime.spark, first + later)
    )


def test_row_level_job_appends_only_new_rows(local_runtime: LocalRuntime) -> None:
    add_files(local_runtime, events(1))
    EventCopies().run(local_runtime)
    add_files(local_runtime, events(2))
    record = EventCopies().run(local_runtime)
    assert record.output is not None
    assert record.output.mode == "append"
    assert record.output.rows_written == len(events(2))
    out = table(local_runtime, EventCopies)
    assert out.count() == len(events(1)) + len(events(2))


def test_second_run_while_locked_fails_and_changes_nothing(local_runtime: LocalRuntime) -> None:
    add_files(local_runtime, events(1))
    WindowSums().run(local_runtime)
    add_files(local_runtime, events(2))
    store = local_runtime.storage.state_store
    state_before = store.get("window_sums/state")
    location = local_runtime.storage.output_location(WindowSums.output)
    version = local_runtime.storage.engine.version(location)
    with (
        store.lock("window_sums", {"run_id": "other"}),
        pytest.raises(LockedError, match="already running"),
    ):
        WindowSums().run(local_runtime)
    assert store.get("window_sums/state") == state_before
    assert local_runtime.storage.engine.version(location) == version


def test_range_run_rebuilds_dates_from_processed_units(local_runtime: LocalRuntime) -> None:
    rows = [r for d in range(1, 7) for r in events(d)]
    add_files(local_runtime, rows)
    WindowSums().run(local_runtime)
    add_files(local_runtime, events(3, users=1, per_user=1, amount=70.0))  # not processed yet
    ranged = WindowSums().run(local_runtime, start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 3))
    assert ranged.inputs[0].rows == len(events(2)) + len(events(3))  # processed files only
    # the unprocessed file is not read by the range run: the table still equals the reference
    assert_same(table(local_runtime, WindowSums), reference(local_runtime.spark, rows))
    record = WindowSums().run(local_runtime)  # and the next batch picks it up exactly once
    assert record.counters["new_units.events"] == 1
    late = events(3, users=1, per_user=1, amount=70.0)
    assert_same(table(local_runtime, WindowSums), reference(local_runtime.spark, rows + late))


def test_a_range_past_the_data_keeps_the_horizon_at_the_last_day_with_events(
    local_runtime: LocalRuntime,
) -> None:
    """A range beyond the last event day writes nothing there and leaves the horizon, so
    the next batch computes the dates a full recompute would (none past its last day)."""
    first = [r for d in (1, 2) for r in events(d)]
    add_files(local_runtime, first)
    WindowSums().run(local_runtime)
    ranged = WindowSums().run(local_runtime, start=dt.date(2024, 1, 20), end=dt.date(2024, 1, 20))
    assert ranged.output is None  # no dates to compute: nothing written
    assert_same(table(local_runtime, WindowSums), reference(local_runtime.spark, first))
    later = events(3)
    add_files(local_runtime, later)
    WindowSums().run(local_runtime)
    out = table(local_runtime, WindowSums)
    assert max(r.feature_date for r in out.collect()) == dt.date(2024, 1, 3)
    assert_same(out, reference(local_runtime.spark, first + later))


def test_windowed_features_api_incremental_equals_full_recompute(
    local_runtime: LocalRuntime,
) -> None:
    pytest.importorskip("featurekit.features.windowed")
    from windowed_api_job import AGGS, WINDOWS, WindowedApiJob

    from featurekit.features.windowed import windowed_aggregates

    rows = [r for d in range(1, 6) for r in events(d)]
    add_files(local_runtime, rows)
    WindowedApiJob().run(local_runtime)
    later = events(6) + events(2, users=1, per_user=1, amount=30.0)
    add_files(local_runtime, later)
    record = WindowedApiJob().run(local_runtime)
    assert record.inputs[0].rows == len(later)
    assert record.counters["affected_dates"] == 4  # 2, 3, 4 (late day's window) and 6 (new)

    all_events = local_runtime.spark.createDataFrame(rows + later, EVENTS_SCHEMA)
    full = windowed_aggregates(
        all_events, keys="user_id", timestamp="ts", aggregations=AGGS, windows=WINDOWS
    )
    actual = table(local_runtime, WindowedApiJob)
    assert_approx_df_equality(
        actual.select(*full.columns),
        full,
        DOUBLE_TOLERANCE,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_a_windowed_run_of_many_dates_checks_its_rows_during_the_write(
    local_runtime: LocalRuntime,
) -> None:
    """Partials read back from their table prove nothing to Spark; the window grid is one
    row per key and date by construction, so the first run's (and any rebuild's) rows
    are checked while they are written, not read back."""
    add_files(local_runtime, [r for d in range(1, 7) for r in events(d)])
    record = WindowedApiJob().run(local_runtime)
    assert record.output is not None
    assert record.counters["affected_dates"] == 6  # more than the few grouped dates
    assert (record.status, record.output.row_checks) == ("succeeded", "observed")


class DoubledPartials(WindowedApiJob):
    """A merge_partials that forgets to merge: one key's day appears twice."""

    name = "doubled_partials"
    output = dataclasses.replace(WindowedApiJob.output, name="features.doubled_partials")

    def merge_partials(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        day = (F.col("user_id") == "u1") & (F.col("feature_date") == F.lit(dt.date(2024, 1, 2)))
        return partials.unionByName(partials.where(day))


def test_duplicate_partials_fail_the_run_and_commit_no_output(
    local_runtime: LocalRuntime,
) -> None:
    add_files(local_runtime, [r for d in range(1, 7) for r in events(d)])
    with pytest.raises(OutputContractError) as failed:
        DoubledPartials().run(local_runtime)
    assert str(failed.value) == (
        "Output of features.doubled_partials breaks its declaration: the partials hold more "
        "than one row for one key and day, e.g. user_id=u1, feature_date=2024-01-02; "
        "merge them into one (merge_partials) before the windows. The output was not "
        "committed; the batch's partials were, and the next run finishes the batch from them "
        "once the job or its data is fixed."
    )
    storage = local_runtime.storage
    location = storage.output_location(DoubledPartials.output)
    assert not storage.engine.exists(location)
    # the failed write's stage folder is gone too
    staging = os.path.join(location, "_featurekit_staging")
    assert not os.path.exists(staging) or not os.listdir(staging)


class TwoInputSums(WindowSums):
    name = "two_input_sums"
    inputs = {
        "events": FilesInput(EVENTS_PATH, schema=EVENTS_SCHEMA, time_column="ts", incremental=True),
        "more": FilesInput(
            "s3://lake/more", schema=EVENTS_SCHEMA, time_column="ts", incremental=True
        ),
    }
    output = FeatureTable(
        "features.two_input_sums",
        keys=("user_id",),
        date_column="feature_date",
        columns=WindowSums.output.columns,
    )

    def partials(self, ctx: JobContext, events: DataFrame, more: DataFrame) -> DataFrame:
        return super().partials(ctx, events.unionByName(more))


def test_resetting_one_input_of_a_windowed_job_is_refused(local_runtime: LocalRuntime) -> None:
    from featurekit.errors import StateError
    from featurekit.state import StateSession

    add_files(local_runtime, events(1))
    more = local_runtime.storage.warehouse.resolve("s3://lake/more")
    local_runtime.spark.createDataFrame(events(2), EVENTS_SCHEMA).write.parquet(more)
    TwoInputSums().run(local_runtime)
    with StateSession(local_runtime.storage.state_store, "two_input_sums", run_id="t") as session:
        state = session.state
        del state.inputs["more"]
        session.save(state)
    with pytest.raises(StateError, match="count their rows twice"):
        TwoInputSums().run(local_runtime)


class DistinctAmounts(WindowedApiJob):
    """Distinct amounts over 3 days: set states, merged by featurekit's merge_partials."""

    name = "distinct_amounts"
    output = FeatureTable(
        "features.distinct_amounts",
        keys=("user_id",),
        date_column="feature_date",
        columns={"user_id": "string", "feature_date": "date", "amounts_3d": "bigint"},
    )
    AGGS = (Agg.count_distinct("amounts", "amount"),)

    def partials(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        parts = daily_partials(events, keys="user_id", timestamp="ts", aggregations=self.AGGS)
        return parts.withColumnRenamed("event_date", "feature_date")

    def merge_partials(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        return merge_partials(
            partials, keys="user_id", aggregations=self.AGGS, date_column="feature_date"
        )

    def combine(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        return combine_windows(
            partials, keys="user_id", aggregations=self.AGGS, windows=["3d"],
            start=ctx.start, end=ctx.end, date_column="feature_date",
        )  # fmt: skip


def test_a_late_event_merges_into_a_stored_day_of_set_states(
    local_runtime: LocalRuntime,
) -> None:
    """The stored partials' sets are read back as arrays whose items may be null; the
    merged day is written over the table's own arrays of items that may not."""
    rows = [r for d in range(1, 4) for r in events(d)]
    add_files(local_runtime, rows)
    DistinctAmounts().run(local_runtime)
    late = events(2, users=1, per_user=1, amount=40.0)  # a new amount on a stored day
    add_files(local_runtime, late)
    record = DistinctAmounts().run(local_runtime)
    assert record.status == "succeeded", record.error
    full = windowed_aggregates(
        local_runtime.spark.createDataFrame(rows + late, EVENTS_SCHEMA),
        keys="user_id", timestamp="ts", aggregations=DistinctAmounts.AGGS, windows=["3d"],
    )  # fmt: skip
    actual = table(local_runtime, DistinctAmounts).select(*full.columns)
    assert_approx_df_equality(actual, full, 0, ignore_row_order=True, ignore_nullable=True)
    assert actual.where("user_id = 'u0' AND feature_date = '2024-01-02'").first()[2] == 3
