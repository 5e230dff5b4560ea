"""Glue scripts of the shapes the console, Glue Studio and people write, run as
``featurekit glue run`` runs them (in-process on the test session; one subprocess run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.cli.glue import run_script
from featurekit.errors import ConfigError, QualityEngineError
from featurekit.glue_local.catalog import ScriptCatalog
from featurekit.quality.engine import available
from featurekit.runtime.local import LocalRuntime
from featurekit.tables.catalog import Partition

SCRIPTS = Path(__file__).parent / "scripts"


def put(warehouse: Path, key: str, text: str) -> None:
    path = warehouse / "_s3" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def lines(*docs: dict[str, object]) -> str:
    return "".join(json.dumps(d) + "\n" for d in docs)


def run(runtime: LocalRuntime, script: str, *args: str) -> None:
    assert run_script(str(SCRIPTS / script), ["--JOB_NAME", Path(script).stem, *args], runtime) == 0


def parquet(spark: SparkSession, warehouse: Path, key: str) -> DataFrame:
    return spark.read.parquet(str(warehouse / "_s3" / key))


def check(actual: DataFrame, expected: DataFrame) -> None:
    assert_df_equality(
        actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_column_order=True
    )


def register_crimes(runtime: LocalRuntime, spark: SparkSession) -> None:
    put(runtime_root(runtime), "bucket/crimes/a.csv", "id,amount,note\n1,2.50,\n2,x,\n")
    put(runtime_root(runtime), "bucket/codes/c.csv", "code,label\nA,arson\n")
    schema = spark.createDataFrame([], "id long, amount double, note string").schema
    ScriptCatalog(runtime.storage.catalog).register(
        "Crime-Database", "04", location="s3://bucket/crimes/", format="csv", schema=schema
    )


def runtime_root(runtime: LocalRuntime) -> Path:
    return Path(runtime.storage.warehouse.uri)


def test_console_boilerplate_catalog_chain_and_spark_s3_paths(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    register_crimes(local_runtime, spark)
    run(local_runtime, "console_job.py", "--output_path", "s3://bucket/out/")
    # The registered schema is used (amount "x" is null, not a string column); the
    # all-null note is dropped by DropNullFields.
    expected = spark.createDataFrame([(1, 2.5), (2, None)], "id long, amount double")
    check(parquet(spark, warehouse, "bucket/out"), expected)
    codes = parquet(spark, warehouse, "bucket/codes_parquet")
    check(codes, spark.createDataFrame([("A", "arson")], "code string, label string"))


def test_spark_s3_path_of_an_unmapped_bucket_is_a_featurekit_error(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    register_crimes(local_runtime, spark)
    (warehouse / "_s3" / "bucket" / "codes" / "c.csv").unlink()
    (warehouse / "_s3" / "bucket" / "codes").rmdir()
    script = warehouse / "elsewhere.py"
    script.write_text('from pyspark.sql import SparkSession\nSparkSession.builder.getOrCreate()'
                      '.read.csv("s3://nobucket/x/").count()\n')  # fmt: skip
    with pytest.raises(ConfigError, match=r"s3://nobucket/\.\.\. is not in the local warehouse"):
        run_script(str(script), [], local_runtime)


def test_studio_script_with_csv_options_dq_import_nested_mapping_and_catalog_sink(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    csv = 'provider_id,provider_name,state\n1,"Acme, Inc",WA\n2,Beta,OR\n'
    put(warehouse, "bucket/providers/p.csv", csv)
    if not available():  # Spark 4: Deequ has no build, the node is a clear error
        with pytest.raises(QualityEngineError, match="Deequ publishes no build"):
            run(local_runtime, "studio_job.py")
        return
    run(local_runtime, "studio_job.py")
    out = parquet(spark, warehouse, "bucket/providers_out")
    expected = spark.createDataFrame(
        [((1, "Acme, Inc"), "WA"), ((2, "Beta"), "OR")],
        "provider struct<id:long,name:string>, state string",
    )
    check(out, expected)
    entry = ScriptCatalog(local_runtime.storage.catalog).table("studio", "providers")
    assert (entry.format, entry.partition_columns) == ("parquet", ("state",))
    assert entry.location == "s3://bucket/providers_out/"
    # the data-quality node: Deequ's outcomes, as Glue Studio's node gives them
    rules = spark.read.json(str(warehouse / "_s3" / "bucket" / "dq_rules"))
    outcomes = {r.Rule: r.Outcome for r in rules.collect()}
    assert outcomes == {
        "ColumnCount > 0": "Passed",
        'IsComplete "state"': "Passed",
        'ColumnValues "state" in ["WA","CA"]': "Failed",
    }
    rows = spark.read.json(str(warehouse / "_s3" / "bucket" / "dq_rows"))
    by_state = {r.state: r.DataQualityEvaluationResult for r in rows.collect()}
    assert by_state == {"WA": "Passed", "OR": "Failed"}


def test_legislators_joins_keep_clashing_fields_and_relationalize_writes_every_frame(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    contact = [{"type": "email", "value": "a@x"}, {"type": "fax", "value": "1"}]
    put(warehouse, "legislators/persons/p.json", lines(
        {"id": "p1", "name": "Ann", "contact_details": contact, "updated_at": "2024"},
        {"id": "p2", "name": "Bob", "contact_details": [], "updated_at": "2023"},
    ))  # fmt: skip
    put(warehouse, "legislators/memberships/m.json", lines(
        {"person_id": "p1", "organization_id": "o1", "role": "member", "updated_at": "2022"},
        {"person_id": "p2", "organization_id": "o1", "role": "chair", "updated_at": "2021"},
    ))  # fmt: skip
    org = {"id": "o1", "name": "Senate", "classification": "party", "other_names": ["S"]}
    put(warehouse, "legislators/organizations/o.json", lines({**org, "identifiers": ["x"]}))
    run(local_runtime, "legislators_job.py", "--output_dir", "s3://legislators/out",
        "--temp_dir", "s3://legislators/tmp/")  # fmt: skip
    root = parquet(spark, warehouse, "legislators/out/hist_root")
    assert set(root.columns) == {
        "classification", "org_name", "contact_details", "id", "name", "updated_at",
        "organization_id", "role", ".updated_at",
    }  # fmt: skip
    contacts = parquet(spark, warehouse, "legislators/out/hist_root_contact_details")
    joined = root.join(contacts, root["contact_details"] == contacts["id"]).select(
        root["name"], contacts["index"], contacts["`contact_details.val.type`"].alias("type")
    )
    check(joined, spark.createDataFrame(
        [("Ann", 0, "email"), ("Ann", 1, "fax")], "name string, index int, type string"
    ))  # fmt: skip
    # frame2's updated_at is kept as ".updated_at" (renamed here: chispa reads names as paths)
    both = root.select("name", "updated_at", root["`.updated_at`"].alias("m_updated_at"), "role")
    check(both, spark.createDataFrame(
        [("Ann", "2024", "2022", "member"), ("Bob", "2023", "2021", "chair")],
        "name string, updated_at string, m_updated_at string, role string",
    ))  # fmt: skip


def test_catalog_sinks_create_and_update_tables(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    put(warehouse, "raw/sales/s.json", lines({"sku": "a", "qty": 2, "day": "2024-01-01"}))
    schema = spark.createDataFrame([], "sku string, qty long, day string").schema
    catalog = ScriptCatalog(local_runtime.storage.catalog)
    catalog.register("raw", "sales", location="s3://raw/sales/", format="json", schema=schema)
    run(local_runtime, "catalog_sink_job.py")
    entry = catalog.table("curated", "sales_by_day")
    assert entry.name == "curated.sales_by_day"
    assert entry.partition_columns == ("day",)
    assert [f["name"] for f in entry.schema["fields"]] == ["sku", "qty", "day"]
    assert local_runtime.storage.catalog.partitions(entry.name) == [  # the sink adds its partitions
        Partition(("2024-01-01",), "s3://lake/sales_by_day/day=2024-01-01")
    ]
    out = parquet(spark, warehouse, "lake/sales_by_day")
    expected = spark.createDataFrame(
        [("a", 2, "2024-01-01")] * 2, "sku string, qty long, day string"
    )
    check(out.select("sku", "qty", out["day"].cast("string").alias("day")), expected)


def test_bookmarked_rerun_without_new_data_writes_nothing_and_succeeds(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    put(warehouse, "bucket/events/1.json", lines({"id": 1, "kind": "click"}))
    bookmarks = ["--job-bookmark-option", "job-bookmark-enable"]
    run(local_runtime, "rerun_job.py", *bookmarks)
    run(local_runtime, "rerun_job.py", *bookmarks)  # nothing new: no write, no failure
    out = parquet(spark, warehouse, "bucket/events_out")
    check(out, spark.createDataFrame([(1, "click")], "id long, kind string"))


def test_sparkcontext_after_star_imports_is_the_running_context(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    put(warehouse, "bucket/stars/1.json", lines({"id": 1, "kind": "click"}))
    run(local_runtime, "star_import_job.py", *STARS)
    out = parquet(spark, warehouse, "bucket/stars_out")
    check(out, spark.createDataFrame([(1, "CLICK")], "id long, kind string"))


STARS = ("--input_path", "s3://bucket/stars/", "--output_path", "s3://bucket/stars_out/")


@pytest.mark.slow
def test_featurekit_glue_run_cli_runs_sparkcontext_after_star_imports(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    put(warehouse, "bucket/stars/1.json", lines({"id": 1, "kind": "click"}))
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    cmd = [sys.executable, "-m", "featurekit", "glue", "run", str(SCRIPTS / "star_import_job.py"),
           "--warehouse", str(warehouse), "--quiet", "--", *STARS]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert list((warehouse / "_s3" / "bucket" / "stars_out").glob("*.parquet"))


@pytest.mark.slow
def test_featurekit_glue_run_cli_runs_console_boilerplate(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    put(warehouse, "bucket/events/1.json", lines({"id": 1, "kind": "click"}))
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    cmd = [sys.executable, "-m", "featurekit", "glue", "run", str(SCRIPTS / "rerun_job.py"),
           "--warehouse", str(warehouse), "--quiet", "--", "--JOB_NAME", "cli"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert list((warehouse / "_s3" / "bucket" / "events_out").glob("*.parquet"))
