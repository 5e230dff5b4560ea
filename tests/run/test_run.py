"""The FeatureJob lifecycle on the local runtime: read, transform, check, stage, commit, record."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import DeltaInput, FeatureJob, FeatureTable, JobContext, Param, TableInput
from featurekit.errors import ConfigError, OutputContractError, TableNotFoundError
from featurekit.features import Agg, windowed_aggregates
from featurekit.runtime.local import LocalRuntime

EVENTS = "user_id string, event_time timestamp, amount double"


def events(spark: SparkSession, *items: tuple[str, str, float]) -> DataFrame:
    return spark.createDataFrame(
        [(u, dt.datetime.fromisoformat(t), a) for u, t, a in items], EVENTS
    )


def seed_events(runtime: LocalRuntime, df: DataFrame) -> None:
    location = runtime.storage.location("raw.events")
    runtime.storage.engine.write(df, location, mode="overwrite")
    schema = runtime.storage.engine.schema(location)
    assert schema is not None
    runtime.storage.catalog.register("raw.events", location, schema=schema.jsonValue())


class DailySpend(FeatureJob):
    name = "daily_spend"
    inputs = {"events": TableInput("raw.events", time_column="event_time")}
    output = FeatureTable(
        "features.daily_spend",
        keys=("user_id",),
        date_column="feature_date",
        columns={"user_id": "string", "feature_date": "date", "spend": "double"},
    )
    params = {"scale": Param(float, default=1.0)}

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        return events.groupBy("user_id", F.to_date("event_time").alias("feature_date")).agg(
            (F.sum("amount") * ctx.params["scale"]).alias("spend")
        )


class DuplicateKeys(DailySpend):
    name = "duplicate_keys"

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        return events.select(
            "user_id", F.to_date("event_time").alias("feature_date"), F.col("amount").alias("spend")
        )


class NullKeys(DailySpend):
    name = "null_keys"

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        out = DailySpend.transform(self, ctx, events)
        return out.withColumn("user_id", F.when(F.col("user_id") != "u1", F.col("user_id")))


class ShiftedDates(DailySpend):
    name = "shifted_dates"

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        out = DailySpend.transform(self, ctx, events)
        return out.withColumn("feature_date", F.date_add("feature_date", 1))


class NoRows(DailySpend):
    name = "no_rows"

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        return DailySpend.transform(self, ctx, events).limit(0)


class NullGroup(DailySpend):
    """A groupBy (proven unique) whose key is null for u1's rows."""

    name = "null_group"

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        user = F.when(F.col("user_id") != "u1", F.col("user_id")).alias("user_id")
        return events.groupBy(user, F.to_date("event_time").alias("feature_date")).agg(
            F.sum("amount").alias("spend")
        )


class ShiftedGroup(DailySpend):
    """A groupBy (proven unique) dated the day after its events."""

    name = "shifted_group"

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        day = F.date_add(F.to_date("event_time"), 1).alias("feature_date")
        return events.groupBy("user_id", day).agg(F.sum("amount").alias("spend"))


class UnionOfGroups(DailySpend):
    """Unique rows that no plan analysis can prove unique (a union)."""

    name = "union_of_groups"

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        out = DailySpend.transform(self, ctx, events)
        return out.where("user_id = 'u1'").unionByName(out.where("user_id != 'u1'"))


class Windowed(FeatureJob):
    name = "windowed_spend"
    inputs = DailySpend.inputs
    output = FeatureTable(
        "features.windowed_spend",
        keys=("user_id",),
        date_column="feature_date",
        columns={"user_id": "string", "feature_date": "date", "spend_2d": "double"},
    )

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        return windowed_aggregates(
            events,
            keys="user_id",
            timestamp="event_time",
            aggregations=[Agg.sum("spend", "amount")],
            windows=["2d"],
        )


class WrongType(DailySpend):
    name = "wrong_type"

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        out = super().transform(ctx, events=events)
        return out.withColumn("spend", F.col("spend").cast("string"))


@pytest.fixture
def runtime(local_runtime: LocalRuntime, spark: SparkSession) -> LocalRuntime:
    seed_events(
        local_runtime,
        events(
            spark,
            ("u1", "2024-01-01 00:00:00", 1.0),
            ("u1", "2024-01-01 23:59:59", 2.0),
            ("u2", "2024-01-02 10:00:00", 5.0),
            ("u1", "2024-01-03 08:00:00", 7.0),
        ),
    )
    return local_runtime


def spend_table(spark: SparkSession, *items: tuple[str, str, float]) -> DataFrame:
    return spark.createDataFrame(
        [(u, dt.date.fromisoformat(d), s) for u, d, s in items],
        "user_id string, feature_date date, spend double",
    )


def read_output(runtime: LocalRuntime, name: str = "features.daily_spend") -> DataFrame:
    return runtime.storage.engine.read(runtime.spark, runtime.storage.location(name))


def test_run_builds_the_declared_table(runtime: LocalRuntime, spark: SparkSession) -> None:
    record = DailySpend().run(runtime)
    assert record.status == "succeeded"
    assert record.output is not None
    assert (record.output.rows_written, record.output.version) == (3, 0)
    assert [(i.name, i.rows, i.version) for i in record.inputs] == [("events", 4, 0)]
    expected = spend_table(
        spark, ("u1", "2024-01-01", 3.0), ("u2", "2024-01-02", 5.0), ("u1", "2024-01-03", 7.0)
    )
    assert_df_equality(read_output(runtime), expected, ignore_row_order=True, ignore_nullable=True)
    entry = runtime.storage.catalog.get("features.daily_spend")
    assert (entry.keys, entry.date_column, entry.partition_columns) == (
        ("user_id",),
        "feature_date",
        ("feature_date",),
    )


def test_parameters_are_typed(runtime: LocalRuntime) -> None:
    record = DailySpend().run(runtime, params={"scale": "10"})
    assert record.params == {"scale": "10.0"}
    assert {r.spend for r in read_output(runtime).collect()} == {30.0, 50.0, 70.0}


def test_same_dates_twice_leave_identical_contents(runtime: LocalRuntime) -> None:
    start, end = dt.date(2024, 1, 1), dt.date(2024, 1, 2)
    DailySpend().run(runtime)
    DailySpend().run(runtime, start=start, end=end)
    once = read_output(runtime).collect()
    DailySpend().run(runtime, start=start, end=end)
    twice = read_output(runtime)
    assert twice.count() == 3
    assert sorted(twice.collect()) == sorted(once)


def test_date_range_replaces_only_its_dates(runtime: LocalRuntime, spark: SparkSession) -> None:
    DailySpend().run(runtime)
    seed_events(runtime, events(spark, ("u3", "2024-01-02 09:00:00", 4.0)))
    DailySpend().run(runtime, start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 2))
    expected = spend_table(
        spark, ("u1", "2024-01-01", 3.0), ("u3", "2024-01-02", 4.0), ("u1", "2024-01-03", 7.0)
    )
    assert_df_equality(read_output(runtime), expected, ignore_row_order=True, ignore_nullable=True)


def test_duplicate_keys_fail_and_commit_nothing(runtime: LocalRuntime) -> None:
    DailySpend().run(runtime)
    DuplicateKeys.output = DailySpend.output
    with pytest.raises(OutputContractError, match="more than once"):
        DuplicateKeys().run(runtime)
    assert runtime.storage.engine.version(runtime.storage.location("features.daily_spend")) == 0
    staging = Path(runtime.storage.location("features.daily_spend")) / "_featurekit_staging"
    assert not any(staging.rglob("*.parquet"))


# each check once read back (a plan that proves nothing) and once observed during the
# write (a groupBy, proven unique), where the failure then reads back to name it
@pytest.mark.parametrize("job", [NullKeys, NullGroup], ids=["read_back", "observed"])
def test_null_keys_fail_and_commit_nothing(runtime: LocalRuntime, job: type[FeatureJob]) -> None:
    with pytest.raises(
        OutputContractError, match=r"2 rows have a null in \['user_id', 'feature_date'\]"
    ):
        job().run(runtime)
    assert not runtime.storage.engine.exists(runtime.storage.location("features.daily_spend"))


@pytest.mark.parametrize("job", [ShiftedDates, ShiftedGroup], ids=["read_back", "observed"])
def test_dates_outside_the_range_fail(runtime: LocalRuntime, job: type[FeatureJob]) -> None:
    DailySpend().run(runtime)
    day = dt.date(2024, 1, 2)
    with pytest.raises(OutputContractError, match=r"spans 2024-01-03\.\.2024-01-03, outside"):
        job().run(runtime, start=day, end=day)
    assert runtime.storage.engine.version(runtime.storage.location("features.daily_spend")) == 0


def test_empty_output_passes_the_row_checks(runtime: LocalRuntime) -> None:
    record = NoRows().run(runtime)
    assert record.output is not None
    assert record.output.rows_written == 0
    assert read_output(runtime).count() == 0


def forbid_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import featurekit.run.write as lifecycle

    def read_back(*args: object, **kwargs: object) -> None:
        raise AssertionError("the staged rows were read back")

    monkeypatch.setattr(lifecycle, "check_rows", read_back)


@pytest.mark.parametrize("job", [DailySpend, Windowed])
def test_outputs_proven_unique_are_checked_during_the_write(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, job: type[FeatureJob]
) -> None:
    forbid_read_back(monkeypatch)
    record = job().run(runtime, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 3))
    assert record.output is not None
    assert (record.status, record.output.row_checks) == ("succeeded", "observed")
    assert read_output(runtime, job.output.name).count() == record.output.rows_written > 0


def test_outputs_not_proven_unique_are_read_back(
    runtime: LocalRuntime, spark: SparkSession
) -> None:
    record = UnionOfGroups().run(runtime)
    assert record.output is not None
    assert record.output.row_checks == "read back"
    assert_df_equality(
        read_output(runtime),
        spend_table(
            spark, ("u1", "2024-01-01", 3.0), ("u2", "2024-01-02", 5.0), ("u1", "2024-01-03", 7.0)
        ),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_declared_types_are_enforced(runtime: LocalRuntime) -> None:
    with pytest.raises(OutputContractError, match="'spend' is string, declared double"):
        WrongType().run(runtime)
    assert not runtime.storage.engine.exists(runtime.storage.location("features.daily_spend"))


def test_missing_input_table_is_named(local_runtime: LocalRuntime) -> None:
    with pytest.raises(TableNotFoundError, match=r"raw\.events.*featurekit demo"):
        DailySpend().run(local_runtime)


def test_run_record_is_stored_for_failures_too(runtime: LocalRuntime) -> None:
    ok = DailySpend().run(runtime)
    with pytest.raises(OutputContractError):
        WrongType().run(runtime, run_id="bad-run")
    stored = json.loads(
        (runtime.storage.warehouse.root / f"_runs/daily_spend/{ok.run_id}.json").read_text()
    )
    assert stored["status"] == "succeeded"
    assert set(stored["phases"]) == {"read", "transform", "write", "validate", "commit"}
    failed = json.loads(
        (runtime.storage.warehouse.root / "_runs/wrong_type/bad-run.json").read_text()
    )
    assert (failed["status"], failed["error_type"]) == ("failed", "OutputContractError")


def test_a_record_that_cannot_be_stored_never_masks_the_runs_own_error(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored: list[dict[str, object]] = []
    store = runtime.storage.store_record

    def store_until_finished(doc: dict[str, object]) -> str:
        if doc["status"] != "running":
            raise OSError("No space left on device")
        stored.append(doc)
        return store(doc)

    monkeypatch.setattr(runtime.storage, "store_record", store_until_finished)
    lines: list[str] = []
    monkeypatch.setattr(runtime, "report", lines.append)
    with pytest.raises(OutputContractError):
        WrongType().run(runtime, run_id="bad-run")
    # stored at the start and at each phase begun, as "running", with the last phase
    assert [d["last_phase"] for d in stored][:3] == [None, "read", "transform"]
    assert stored[-1]["status"] == "running"
    assert "warning: the failed run's record was not stored (No space left on device)" in lines


def test_start_without_end_is_rejected(runtime: LocalRuntime) -> None:
    with pytest.raises(ConfigError, match="both --start and --end"):
        DailySpend().run(runtime, start=dt.date(2024, 1, 1))


def test_unknown_parameter_is_rejected_before_spark(runtime: LocalRuntime) -> None:
    with pytest.raises(ConfigError, match=r"no parameter 'scal'.*Did you mean 'scale'"):
        DailySpend().run(runtime, params={"scal": "2"})


def test_delta_inputs_list_only_the_run_dates_partitions(
    local_runtime: LocalRuntime, spark: SparkSession
) -> None:
    days = [dt.date(2024, 1, d) for d in range(1, 8)]
    daily = spark.createDataFrame(
        [(f"u{d.day}", d, dt.datetime.combine(d, dt.time(12)), float(d.day)) for d in days],
        "user_id string, feature_date date, ts timestamp, spend double",
    )
    location = local_runtime.storage.warehouse.resolve("s3://lake/daily")
    local_runtime.storage.engine.write(daily, location, partition_by=["feature_date"])
    ctx = JobContext(job="j", run_id="r", runtime="local", start=days[3], end=days[4], params={})

    def read(inp: DeltaInput) -> tuple[DataFrame, set[str]]:
        df, record = local_runtime.read_input("daily", inp, ctx)
        assert (record.kind, record.version) == ("delta", 0)
        return df, {f.split("feature_date=")[1][:10] for f in df.inputFiles()}

    df, listed = read(DeltaInput("s3://lake/daily", time_column="feature_date", lookback_days=1))
    assert listed == {"2024-01-03", "2024-01-04", "2024-01-05"}  # lookback, start, end
    assert sorted(r["spend"] for r in df.collect()) == [3.0, 4.0, 5.0]
    # a time_column that is not a partition column: every file listed, rows still pruned
    df, listed = read(DeltaInput("s3://lake/daily", time_column="ts"))
    assert len(listed) == 7
    assert sorted(r["spend"] for r in df.collect()) == [4.0, 5.0]


def test_run_record_carries_measured_spark_usage(runtime: LocalRuntime) -> None:
    first = DailySpend().run(runtime)
    second = DailySpend().run(runtime)
    usage = second.usage
    assert usage is not None, second.usage_missing
    assert second.usage_missing is None
    assert usage.jobs >= 1
    assert usage.stages >= 1
    assert usage.tasks >= usage.stages
    assert 0 < usage.executor_cpu_seconds <= usage.executor_run_seconds + 0.5
    assert usage.input_bytes > 0
    assert usage.output_bytes > 0
    assert usage.shuffle_write_bytes > 0  # the groupBy
    assert (usage.cores, usage.executors) == (2, 1)  # local[2]: the driver runs the tasks
    assert usage.memory_bytes > 0
    assert usage.peak_execution_memory_bytes > 0
    assert usage.spark_seconds <= sum(second.phases.values()) + 1.0
    # scoped to its own Spark jobs: the second run does not count the first run's
    assert first.usage is not None
    assert usage.stages <= 1.5 * first.usage.stages
    stored = runtime.storage.warehouse.read_json(f"_runs/daily_spend/{second.run_id}.json")
    assert stored["usage"]["tasks"] == usage.tasks


def test_the_write_phase_reports_what_it_stages(runtime: LocalRuntime) -> None:
    lines: list[str] = []
    runtime.report = lines.append
    try:
        DailySpend().run(runtime, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2))
    finally:
        runtime.report = lambda _message: None
    location = runtime.storage.output_location(DailySpend.output)
    staging = (
        "write: staging features.daily_spend (partitioned by feature_date; replacing 2 "
        f"date(s)) at {location}"
    )
    assert staging in lines
    staged = [line for line in lines if line.startswith("write: staged ")]
    assert len(staged) == 1
    assert staged[0].startswith("write: staged 2 rows in ")
    assert staged[0].endswith(", 2 partitions")
    assert lines.index("write ...") < lines.index(staging) < lines.index(staged[0])


def test_a_one_date_replace_is_written_by_the_task_that_groups_it(
    runtime: LocalRuntime, spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One date's rows go to one file whatever the layout: they are written by the task
    that finishes their grouping, with no shuffle of the output rows, unless larger than
    ONE_VALUE_BYTES (then shuffled by date first, as any output)."""
    import featurekit.tables.engine as table_engine

    monkeypatch.setattr(table_engine, "ONE_TASK_BYTES", 0)  # not the small-output path
    day = dt.date(2024, 1, 1)
    usage = {}
    for limit in (0, table_engine.ONE_VALUE_BYTES):
        monkeypatch.setattr(table_engine, "ONE_VALUE_BYTES", limit)
        record = DailySpend().run(runtime, start=day, end=day)
        assert record.usage is not None, record.usage_missing
        usage[limit] = record.usage
        assert_df_equality(
            read_output(runtime), spend_table(spark, ("u1", "2024-01-01", 3.0)),
            ignore_nullable=True,
        )  # fmt: skip
    shuffled, one_task = usage[0], usage[table_engine.ONE_VALUE_BYTES]
    assert one_task.stages < shuffled.stages
    assert one_task.shuffle_write_bytes < shuffled.shuffle_write_bytes
