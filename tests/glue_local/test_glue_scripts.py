"""An unmodified Glue script, run locally with bookmarks: new files only, reset, no commit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.cli.glue import run_script
from featurekit.glue_local.bookmarks import BookmarkStore
from featurekit.runtime.local import LocalRuntime

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).parent / "scripts" / "orders_job.py"
SCHEMA = "order_id string, amount double"


def write_csv(warehouse: Path, name: str, rows: list[tuple[str, float]], mtime: float = 0) -> None:
    path = warehouse / "_s3" / "bucket" / "orders" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("order_id,amount\n" + "".join(f"{o},{a}\n" for o, a in rows))
    if mtime:
        os.utime(path, (mtime, mtime))


def run(runtime: LocalRuntime, n: int, *extra: str, bookmarks: bool = True) -> None:
    args = ["--JOB_NAME", "orders", "--input_path", "s3://bucket/orders/"]
    args += ["--output_path", f"s3://bucket/out/run{n}", *extra]
    if bookmarks:
        args += ["--job-bookmark-option", "job-bookmark-enable"]
    assert run_script(str(SCRIPT), args, runtime) == 0


def output(spark: SparkSession, warehouse: Path, n: int) -> DataFrame:
    path = warehouse / "_s3" / "bucket" / "out" / f"run{n}"
    if not path.exists():
        return spark.createDataFrame([], SCHEMA)
    return spark.read.parquet(str(path))


def expect(spark: SparkSession, rows: list[tuple[str, float]]) -> DataFrame:
    return spark.createDataFrame(rows, SCHEMA)


A = [("o1", 10.0), ("o2", 2.5)]
B = [("o3", 7.0)]
C = [("o4", 1.0), ("o5", 3.0)]


def check(actual: DataFrame, expected: DataFrame) -> None:
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_second_run_processes_only_new_files_and_reset_reprocesses_all(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    write_csv(warehouse, "a.csv", A)
    write_csv(warehouse, "day=2/b.csv", B)
    run(local_runtime, 1)
    check(output(spark, warehouse, 1), expect(spark, A + B))

    write_csv(warehouse, "c.csv", C)
    run(local_runtime, 2)
    check(output(spark, warehouse, 2), expect(spark, C))

    run(local_runtime, 3)
    check(output(spark, warehouse, 3), expect(spark, []))

    BookmarkStore(local_runtime.storage.warehouse).reset("orders")
    run(local_runtime, 4)
    check(output(spark, warehouse, 4), expect(spark, A + B + C))


def test_a_run_that_never_reaches_commit_leaves_the_files_for_the_next_run(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    write_csv(warehouse, "a.csv", A)
    with pytest.raises(RuntimeError, match="simulated failure"):
        run(local_runtime, 1, "--fail_before_commit")
    check(output(spark, warehouse, 1), expect(spark, A))  # it did read them

    write_csv(warehouse, "b.csv", B)
    run(local_runtime, 2)
    check(output(spark, warehouse, 2), expect(spark, A + B))


def test_a_modified_file_is_processed_again(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    write_csv(warehouse, "a.csv", A, mtime=1_700_000_000)
    write_csv(warehouse, "b.csv", B, mtime=1_700_000_000)
    run(local_runtime, 1)
    write_csv(warehouse, "a.csv", [("o1", 11.0)], mtime=1_700_000_100)
    run(local_runtime, 2)
    check(output(spark, warehouse, 2), expect(spark, [("o1", 11.0)]))


def test_without_bookmarks_every_run_reads_everything(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    write_csv(warehouse, "a.csv", A)
    run(local_runtime, 1, bookmarks=False)
    run(local_runtime, 2, bookmarks=False)
    check(output(spark, warehouse, 2), expect(spark, A))
