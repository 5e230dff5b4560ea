"""GlueContext readers and writers on the warehouse and the local catalog, with bookmarks."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.demo_run import write_source_table
from featurekit.errors import InputError, StateError, UnsupportedError
from featurekit.glue_local import GlueContext, Job
from featurekit.runtime.local import LocalRuntime
from featurekit.tables.catalog import Partition


@pytest.fixture
def glue(spark: SparkSession, warehouse: Path) -> GlueContext:
    return GlueContext(spark, warehouse=str(warehouse))


def check(actual: DataFrame, expected: DataFrame) -> None:
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def put(warehouse: Path, key: str, text: str) -> Path:
    path = warehouse / "_s3" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_csv_without_header_names_columns_like_glue_and_json_reads(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    put(warehouse, "b/plain/x.csv", "a;1\nb;2\n")
    put(warehouse, "b/plain/_SUCCESS", "")
    dyf = glue.create_dynamic_frame.from_options(
        "s3", {"paths": ["s3://b/plain/"]}, "csv", {"separator": ";"}
    )
    check(dyf.toDF(), spark.createDataFrame([("a", 1), ("b", 2)], "col0 string, col1 int"))
    put(warehouse, "b/js/1.json", '{"k": "x", "v": 1}\n')
    df = glue.create_data_frame.from_options("s3", {"paths": ["s3://b/js"]}, format="json")
    check(df, spark.createDataFrame([("x", 1)], "k string, v bigint"))


def test_file_grouping_options_of_console_scripts_read_the_same_rows(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    for i in range(3):
        put(warehouse, f"b/small/{i}.json", f'{{"k": "x{i}"}}\n')
    grouped = {"paths": ["s3://b/small/"], "groupFiles": "inPartition", "groupSize": "1048576"}
    dyf = glue.create_dynamic_frame.from_options("s3", grouped, "json")
    check(dyf.toDF(), spark.createDataFrame([("x0",), ("x1",), ("x2",)], "k string"))
    with pytest.raises(ValueError, match="'inPartition' or 'none', got 'yes'"):
        glue.create_dynamic_frame.from_options("s3", {**grouped, "groupFiles": "yes"}, "json")
    with pytest.raises(ValueError, match="a number of bytes"):
        glue.create_dynamic_frame.from_options("s3", {**grouped, "groupSize": "1MB"}, "json")
    with pytest.raises(UnsupportedError, match="'exclusions'"):  # this one changes the rows
        glue.create_dynamic_frame.from_options("s3", {**grouped, "exclusions": "[]"}, "json")


def test_csv_options_glue_documents_read_and_write_in_any_case(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    put(warehouse, "b/studio/x.csv", "h0|h1\n1|'a|b'\n")
    options = {"separator": "|", "quoteChar": "'", "skipFirst": True, "multiline": False}
    options["optimizePerformance"] = True
    source = {"paths": ["s3://b/studio/"]}
    dyf = glue.create_dynamic_frame.from_options("s3", source, "csv", options)
    check(dyf.toDF(), spark.createDataFrame([(1, "a|b")], "col0 int, col1 string"))
    sink = {"separator": ";", "writeHeader": False, "quoteChar": -1}
    glue.write_dynamic_frame.from_options(dyf, "s3", {"path": "s3://b/out/"}, "csv", sink)
    written = "".join(p.read_text() for p in (warehouse / "_s3" / "b" / "out").glob("*.csv"))
    assert written == "1;a|b\n"
    with pytest.raises(UnsupportedError, match="strictCheckForQuoting=True"):
        glue.create_dynamic_frame.from_options(
            "s3", {"paths": ["s3://b/studio/"]}, "csv", {"strictCheckForQuoting": True}
        )


@pytest.mark.slow
def test_from_catalog_reads_delta_and_bookmarks_by_job_bookmark_keys(
    spark: SparkSession, local_runtime: LocalRuntime, glue: GlueContext
) -> None:
    rows = spark.createDataFrame([(1, "a"), (2, "b")], "id bigint, v string")
    write_source_table(local_runtime, "raw.items", rows, "items")
    options = {"jobBookmarkKeys": ["id"], "jobBookmarkKeysSortOrder": "asc"}

    def read(run_id: str) -> DataFrame:
        job = Job(glue)
        job.init("items_job", {"job_bookmark_option": "job-bookmark-enable", "JOB_RUN_ID": run_id})
        df = glue.create_dynamic_frame.from_catalog(
            database="raw", table_name="items", transformation_ctx="items",
            additional_options=options,
        ).toDF()  # fmt: skip
        df.count()
        job.commit()
        return df

    check(read("r1"), rows)
    more = spark.createDataFrame([(1, "a"), (2, "b"), (3, "c")], "id bigint, v string")
    write_source_table(local_runtime, "raw.items", more, "items")
    check(read("r2"), spark.createDataFrame([(3, "c")], "id bigint, v string"))
    unbookmarked = glue.create_dynamic_frame.from_catalog(name_space="raw", table_name="items")
    check(unbookmarked.toDF(), more)


def test_catalog_table_of_files_is_bookmarked_by_file(
    spark: SparkSession, local_runtime: LocalRuntime, glue: GlueContext, warehouse: Path
) -> None:
    local_runtime.storage.catalog.register("raw.clicks", "s3://b/clicks", schema={}, format="json")
    put(warehouse, "b/clicks/1.json", '{"n": 1}\n')
    job = Job(glue)
    job.init("clicks", {"job_bookmark_option": "job-bookmark-enable", "JOB_RUN_ID": "r1"})
    first = glue.create_dynamic_frame.from_catalog(
        database="raw", table_name="clicks", transformation_ctx="clicks"
    )
    check(first.toDF(), spark.createDataFrame([(1,)], "n bigint"))
    job.commit()
    put(warehouse, "b/clicks/2.json", '{"n": 2}\n')
    job.init("clicks", {"job_bookmark_option": "job-bookmark-enable", "JOB_RUN_ID": "r2"})
    second = glue.create_dynamic_frame.from_catalog(
        database="raw", table_name="clicks", transformation_ctx="clicks"
    )
    check(second.toDF(), spark.createDataFrame([(2,)], "n bigint"))


def test_bookmarks_on_a_delta_table_without_keys_are_unsupported(
    spark: SparkSession, local_runtime: LocalRuntime, glue: GlueContext
) -> None:
    write_source_table(local_runtime, "raw.t", spark.createDataFrame([(1,)], "id bigint"), "t")
    Job(glue).init("j", {"job_bookmark_option": "job-bookmark-enable"})
    with pytest.raises(UnsupportedError, match="jobBookmarkKeys"):
        glue.create_dynamic_frame.from_catalog(
            database="raw", table_name="t", transformation_ctx="t"
        )


@pytest.mark.slow
def test_write_to_catalog_delta_table_appends(
    spark: SparkSession, local_runtime: LocalRuntime, glue: GlueContext
) -> None:
    first = spark.createDataFrame([(1,)], "id bigint")
    write_source_table(local_runtime, "raw.t", first, "t")
    frame = glue.create_dynamic_frame.from_catalog(database="raw", table_name="t")
    glue.write_dynamic_frame.from_catalog(frame=frame, database="raw", table_name="t")
    check(
        local_runtime.storage.engine.read(spark, local_runtime.storage.location("raw.t")),
        first.union(first),
    )


def test_purge_s3_path_deletes_only_objects_older_than_the_retention(
    glue: GlueContext, warehouse: Path
) -> None:
    old = put(warehouse, "b/p/old.csv", "x")
    new = put(warehouse, "b/p/sub/new.csv", "x")
    stamp = time.time() - 3 * 3600
    os.utime(old, (stamp, stamp))
    glue.purge_s3_path("s3://b/p/", {"retentionPeriod": 2})
    assert not old.exists()
    assert new.exists()


def test_unsupported_calls_raise_naming_what_is_supported(glue: GlueContext) -> None:
    with pytest.raises(UnsupportedError, match=r"connection_type='jdbc'.*'s3', 'postgresql'"):
        glue.create_dynamic_frame.from_options("jdbc", {"paths": ["x"]})
    with pytest.raises(UnsupportedError, match=r"GlueContext\.forEachBatch.*purge_s3_path"):
        glue.forEachBatch(None, None)
    with pytest.raises(UnsupportedError, match="'exclusions'"):
        glue.create_dynamic_frame.from_options(
            "s3", {"paths": ["s3://b/x"], "exclusions": '["**.tmp"]'}
        )
    with pytest.raises(UnsupportedError, match="format='ion'"):
        glue.create_dynamic_frame_from_options("s3", {"paths": ["s3://b/x"]}, format="ion")
    with pytest.raises(UnsupportedError, match=r"Job\.isBookmarked.*commit\(\)"):
        Job(glue).isBookmarked()
    with pytest.raises(StateError, match=r"before job\.init"):
        Job(glue).commit()
    glue.get_logger().info("logger works")


def partitioned_csv(
    glue: GlueContext, warehouse: Path, table: str, prefix: str, dt_type: str
) -> Any:
    """``raw.TABLE``: csv files under s3://b/TABLE/dt=1 and dt=2 (rows ``PREFIX1``,
    ``PREFIX2``), registered with no partitions yet; returns the catalog."""
    for day in ("1", "2"):
        put(warehouse, f"b/{table}/dt={day}/a.csv", f"id,amount\n{prefix}{day},{day}.5\n")
    schema = {"type": "struct", "fields": [
        {"name": n, "type": t, "nullable": True, "metadata": {}}
        for n, t in (("id", "string"), ("amount", "double"), ("dt", dt_type))
    ]}  # fmt: skip
    catalog = glue.storage.catalog
    catalog.register(f"raw.{table}", f"s3://b/{table}", schema=schema, format="csv",
                     partition_columns=("dt",), options={"header": "true"})  # fmt: skip
    return catalog


def test_a_partitioned_catalog_table_reads_its_registered_partitions_only(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    catalog = partitioned_csv(glue, warehouse, "orders", "o", "string")
    with pytest.raises(InputError, match="no partitions registered"):
        glue.create_dynamic_frame.from_catalog(database="raw", table_name="orders")
    catalog.add_partitions("raw.orders", [Partition(("1",), "s3://b/orders/dt=1")])
    dyf = glue.create_dynamic_frame.from_catalog(database="raw", table_name="orders")
    assert [(r.id, r.amount) for r in dyf.toDF().collect()] == [("o1", 1.5)]  # not dt=2
    catalog.add_partitions("raw.orders", [Partition(("3",), "s3://b/orders/dt=3")])
    with pytest.raises(InputError, match="which does not exist"):
        glue.create_dynamic_frame.from_catalog(database="raw", table_name="orders")


def test_a_push_down_predicate_keeps_left_out_partitions_out_of_the_bookmark(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    catalog = partitioned_csv(glue, warehouse, "sales", "s", "integer")
    catalog.add_partitions(
        "raw.sales", [Partition((d,), f"s3://b/sales/dt={d}") for d in ("1", "2")]
    )

    def read(run_id: str, predicate: str) -> list[str]:
        job = Job(glue)
        job.init("sales", {"job_bookmark_option": "job-bookmark-enable", "JOB_RUN_ID": run_id})
        dyf = glue.create_dynamic_frame.from_catalog(
            database="raw", table_name="sales", push_down_predicate=predicate,
            transformation_ctx="sales",
        )  # fmt: skip
        ids = sorted(r.id for r in dyf.toDF().collect()) if dyf.toDF().columns else []
        job.commit()
        return ids

    assert read("r1", "dt >= 2") == ["s2"]
    assert read("r2", "dt >= 1") == ["s1"]  # dt=1 was left out by r1's predicate, not read
    assert read("r3", "dt >= 1") == []
