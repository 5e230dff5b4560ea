"""The Glue runtime: real getResolvedOptions, Job.init/commit around the lifecycle, bookmarks."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pytest
from awsglue.utils import GlueArgumentError, getResolvedOptions
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit import FeatureJob, FeatureTable, FilesInput, JobContext, Param
from featurekit.cli.glue import run_script
from featurekit.demo import DemoSpec, events
from featurekit.demo_run import write_source_table
from featurekit.errors import ConfigError, InputError
from featurekit.examples.user_activity_daily import UserActivityDaily
from featurekit.glue_local import GlueContext
from featurekit.glue_local.bookmarks import BookmarkStore
from featurekit.runtime.glue import GlueArgs, GlueConfig, GlueRuntime, build_runtime, resolve_args
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.warehouse import Warehouse

ENTRY = Path(__file__).resolve().parents[2] / "entrypoints" / "glue_job.py"
ARGV = ["script.py", "--JOB_NAME", "nightly", "--featurekit_job", "user_activity_daily"]


# -- getResolvedOptions, through the real AWSGlueDataplanePython package ---------------------
def test_missing_required_argument_is_a_glue_argument_error() -> None:
    with pytest.raises(GlueArgumentError, match="required: --featurekit_job"):
        getResolvedOptions(["s.py", "--JOB_NAME", "x"], ["JOB_NAME", "featurekit_job"])
    with pytest.raises(ConfigError, match="required: --featurekit_job"):
        resolve_args(["s.py", "--JOB_NAME", "x"])


def test_key_equals_value_and_values_with_equals_signs() -> None:
    args = resolve_args([*ARGV, "--featurekit_params=min_events=2,note=a=b"])
    assert args.params == {"min_events": "2", "note": "a=b"}
    assert args.job_name == "nightly"


def test_reserved_names_cannot_be_requested() -> None:
    with pytest.raises(RuntimeError, match="Using reserved arguments job-bookmark-option"):
        getResolvedOptions(ARGV, ["JOB_NAME", "job-bookmark-option"])
    with pytest.raises(RuntimeError, match="Using reserved arguments --job-bookmark-from"):
        getResolvedOptions(ARGV, ["JOB_NAME", "job-bookmark-from"])
    # The id names are checked in their "--" form; a bare JOB_ID collides in argparse instead.
    with pytest.raises(RuntimeError, match="Using reserved arguments --JOB_ID"):
        getResolvedOptions(ARGV, ["JOB_NAME", "--JOB_ID"])
    with pytest.raises(argparse.ArgumentError, match="conflicting option string: --JOB_ID"):
        getResolvedOptions(ARGV, ["JOB_NAME", "JOB_ID"])


def test_bookmark_option_defaults_to_disable_and_ids_are_none() -> None:
    args = resolve_args(ARGV)
    assert args.resolved["job_bookmark_option"] == "job-bookmark-disable"
    assert args.resolved["JOB_RUN_ID"] is None
    assert args.run_id is None


def test_optional_featurekit_arguments_only_when_given() -> None:
    args = resolve_args(ARGV)
    assert (args.start, args.end, args.params, args.warehouse) == (None, None, {}, None)
    full = resolve_args(
        [*ARGV, "--featurekit_start", "2026-01-02", "--featurekit_end=2026-01-05",
         "--featurekit_params", '{"min_events": 3}', "--JOB_RUN_ID", "jr_1"]
    )  # fmt: skip
    assert (full.start, full.end) == (dt.date(2026, 1, 2), dt.date(2026, 1, 5))
    assert full.params == {"min_events": "3"}
    assert full.run_id == "jr_1"
    with pytest.raises(ConfigError, match="featurekit_start expects a date"):
        resolve_args([*ARGV, "--featurekit_start", "yesterday"])


def test_commit_attempts_argument() -> None:
    assert resolve_args(ARGV).commit_attempts == 5
    assert resolve_args([*ARGV, "--featurekit_commit_attempts", "2"]).commit_attempts == 2
    with pytest.raises(ConfigError, match="whole number"):
        resolve_args([*ARGV, "--featurekit_commit_attempts", "many"])
    with pytest.raises(ConfigError, match="at least 1"):
        resolve_args([*ARGV, "--featurekit_commit_attempts", "0"])


def test_real_glue_without_warehouse_is_a_config_error() -> None:
    class RealLooking:
        spark_session = None

    with pytest.raises(ConfigError, match="--featurekit_warehouse"):
        build_runtime(GlueArgs("j", "x"), RealLooking())
    on_s3 = build_runtime(GlueArgs("j", "x", warehouse="s3://b/wh/"), RealLooking())
    assert (on_s3.storage.warehouse.remote, on_s3.storage.warehouse.uri) == (True, "s3://b/wh")
    assert on_s3.config.engine == "delta-spark"
    assert on_s3.storage.warehouse.table_location("features.t") == "s3://b/wh/features/t"


# -- the runtime on the emulated GlueContext --------------------------------------------------
class GlueOrders(FeatureJob):
    name = "glue_orders"
    inputs = {
        "orders": FilesInput(
            "s3://bucket/orders/",
            format="csv",
            options={"header": "true"},
            schema="order_id string, amount double, order_date date",
            incremental=True,
        )
    }
    output = FeatureTable(
        "features.glue_orders",
        keys=("order_id",),
        date_column="order_date",
        columns={"order_id": "string", "amount": "double", "order_date": "date"},
    )
    params = {"fail": Param(bool, default=False)}

    def transform(self, ctx: JobContext, orders: DataFrame) -> DataFrame:
        if ctx.params["fail"]:
            raise RuntimeError("transform failed")
        return orders


def put(warehouse: Path, name: str, rows: list[str]) -> None:
    path = warehouse / "_s3" / "bucket" / "orders" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("order_id,amount,order_date\n" + "\n".join(rows) + "\n")


@pytest.fixture
def runtime(spark: SparkSession, warehouse: Path) -> GlueRuntime:
    config = GlueConfig(
        warehouse=str(warehouse),
        quiet=True,
        job_name="orders_job",
        args={"job_bookmark_option": "job-bookmark-enable"},
    )
    return GlueRuntime(GlueContext(spark, warehouse=str(warehouse)), config)


def test_the_runtime_shares_the_emulated_glue_context_storage(
    spark: SparkSession, warehouse: Path
) -> None:
    context = GlueContext(spark, warehouse=str(warehouse))
    shared = build_runtime(GlueArgs("j", "x"), context)
    assert shared.storage is context.storage  # one warehouse, catalog and engine
    assert shared.storage.location("features.t") == str(warehouse / "features" / "t")
    other = str(warehouse / "other")
    own = build_runtime(GlueArgs("j", "x", warehouse=other), context)
    assert own.storage is not context.storage
    assert own.storage.warehouse.uri == other


def table(spark: SparkSession, runtime: GlueRuntime) -> DataFrame:
    return runtime.storage.engine.read(spark, runtime.storage.location("features.glue_orders"))


@pytest.mark.slow
def test_incremental_input_reads_only_new_files_and_commits_after_success(
    spark: SparkSession, runtime: GlueRuntime, warehouse: Path
) -> None:
    day1, day2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
    put(warehouse, "a.csv", ["o1,1.5,2026-01-01"])
    with pytest.raises(ConfigError, match="needs --featurekit_start/--featurekit_end"):
        GlueOrders().run(runtime)
    first = GlueOrders().run(runtime, start=day1, end=day1)
    assert first.inputs[0].rows == 1
    store = BookmarkStore(Warehouse(warehouse))
    assert [r["run_id"] for r in store.show("orders_job")["runs"]] == [first.run_id]

    put(warehouse, "b.csv", ["o2,2.0,2026-01-02", "o3,3.0,2026-01-02"])
    second = GlueOrders().run(runtime, start=day2, end=day2)
    assert second.inputs[0].rows == 2
    expected = spark.createDataFrame(
        [("o1", 1.5, day1), ("o2", 2.0, day2), ("o3", 3.0, day2)],
        "order_id string, amount double, order_date date",
    )
    assert_df_equality(table(spark, runtime), expected, ignore_row_order=True, ignore_nullable=True)

    with pytest.raises(InputError, match="no new data since the last committed job bookmark"):
        GlueOrders().run(runtime, start=day2, end=day2)


@pytest.mark.slow
def test_a_failed_run_does_not_commit_the_bookmark(
    spark: SparkSession, runtime: GlueRuntime, warehouse: Path
) -> None:
    put(warehouse, "a.csv", ["o1,1.5,2026-01-01"])
    day = dt.date(2026, 1, 1)
    with pytest.raises(RuntimeError, match="transform failed"):
        GlueOrders().run(runtime, params={"fail": True}, start=day, end=day)
    assert BookmarkStore(Warehouse(warehouse)).show("orders_job")["version"] == 0
    assert GlueOrders().run(runtime, start=day, end=day).inputs[0].rows == 1


@pytest.mark.slow
def test_entry_script_takes_params_and_dates_like_the_cli(
    spark: SparkSession, local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    spec = DemoSpec(users=20, days=5)
    other = LocalRuntime(LocalConfig(warehouse=str(tmp_path / "cli"), quiet=True), spark=spark)
    for rt in (local_runtime, other):
        write_source_table(rt, "raw.events", events(spark, spec), "events")
    start, end = dt.date(2026, 1, 2), dt.date(2026, 1, 3)
    args = ["--JOB_NAME", "demo", "--featurekit_job", "user_activity_daily",
            "--featurekit_params", "min_events=2", "--featurekit_start", "2026-01-02",
            "--featurekit_end=2026-01-03"]  # fmt: skip
    assert run_script(str(ENTRY), args, local_runtime) == 0
    UserActivityDaily().run(other, params={"min_events": 2}, start=start, end=end)
    name = "features.user_activity_daily"
    glue_table = local_runtime.storage.engine.read(spark, local_runtime.storage.location(name))
    assert glue_table.count() > 0
    assert_df_equality(
        glue_table,
        other.storage.engine.read(spark, other.storage.location(name)),
        ignore_row_order=True,
    )
    assert run_script(str(ENTRY), ["--JOB_NAME", "demo"], local_runtime) == 2
