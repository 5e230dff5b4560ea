"""Schema-on-read: csv and json columns holding several types are Glue choice types, and
resolveChoice resolves them as AWSGlueDataplanePython documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.cli.glue import run_script
from featurekit.errors import UnsupportedError
from featurekit.glue_local import GlueContext
from featurekit.glue_local.catalog import ScriptCatalog
from featurekit.glue_local.choices import ChoiceType
from featurekit.glue_local.dynamicframe import ResolveOption
from featurekit.runtime.local import LocalRuntime

SCRIPT = Path(__file__).parent / "scripts" / "medicare_job.py"
HEADER = (
    "DRG Definition,Provider Id,Provider Name,Provider Zip Code,Average Covered Charges,"
    "Average Total Payments\n"
)
ROWS = (
    "039 - EXTRACRANIAL,10001,SOUTHEAST ALABAMA,36301,$32963.07,$5777.24\n"
    "039 - EXTRACRANIAL,10005,MARSHALL MEDICAL,35957,$15131.85,$5787.57\n"
    "948 - SIGNS,INC,MAUSTON,53948,$11961.41,$4619.00\n"
    '948 - SIGNS,"INC- ST JOSEPH",MILWAUKEE,53210,$10514.28,$5562.50\n'
)
# the crawler saw only numbers in the provider id (it samples a prefix of the file)
CATALOG = (
    "`drg definition` string, `provider id` bigint, `provider name` string, "
    "`provider zip code` bigint, `average covered charges` string, "
    "`average total payments` string"
)


def put(root: Path, key: str, text: str) -> None:
    path = root / "_s3" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def check(actual: DataFrame, expected: DataFrame) -> None:
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


@pytest.fixture
def glue(spark: SparkSession, warehouse: Path) -> GlueContext:
    return GlueContext(spark, warehouse=str(warehouse))


def register_medicare(spark: SparkSession, catalog: ScriptCatalog, root: Path) -> None:
    put(root, "bucket/medicare/part-0.csv", HEADER + ROWS)
    schema = spark.createDataFrame([], CATALOG).schema
    catalog.register("payments", "medicare", location="s3://bucket/medicare/", format="csv",
                     schema=schema)  # fmt: skip


@pytest.mark.slow  # a whole script: five parquet writes
def test_medicare_script_writes_what_glue_writes_for_each_resolution(
    spark: SparkSession,
    local_runtime: LocalRuntime,
    warehouse: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    register_medicare(spark, ScriptCatalog(local_runtime.storage.catalog), warehouse)
    args = ["--JOB_NAME", "medicare", "--output_path", "s3://bucket/out/"]
    assert run_script(str(SCRIPT), args, local_runtime) == 0
    printed = capsys.readouterr().out
    assert "|-- provider id: choice\n|    |-- long\n|    |-- string\n" in printed
    assert "|-- provider zip code: long\n" in printed

    def out(name: str) -> DataFrame:
        return spark.read.parquet(str(warehouse / "_s3" / "bucket" / "out" / name))

    ids = [(10001,), (10005,), (None,), (None,)]
    for name in ("cast_long", "project_long"):
        check(out(name).select("provider id"), spark.createDataFrame(ids, "`provider id` bigint"))
    cols = out("make_cols")
    assert cols.columns[1] == "provider id_long"
    assert cols.columns[-1] == "provider id_string"
    both = [(10001, None), (10005, None), (None, "INC"), (None, "INC- ST JOSEPH")]
    check(
        cols.select("provider id_long", "provider id_string"),
        spark.createDataFrame(both, "`provider id_long` bigint, `provider id_string` string"),
    )
    struct = out("make_struct").select("provider id")
    struct_type = "`provider id` struct<long:bigint,string:string>"
    check(struct, spark.createDataFrame([(r,) for r in both], struct_type))
    expected = spark.createDataFrame(
        [
            ("039 - EXTRACRANIAL", (10001, "SOUTHEAST ALABAMA", 36301), (32963.07, 5777.24)),
            ("039 - EXTRACRANIAL", (10005, "MARSHALL MEDICAL", 35957), (15131.85, 5787.57)),
        ],
        "drg string, provider struct<id:bigint,name:string,zip:bigint>, "
        "charges struct<covered:double,total_pay:double>",
    )
    check(out("nested"), expected)


def test_json_source_choices_make_cols_to_df_options_and_writes(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    docs = [{"id": 10001, "n": "a"}, {"id": "ABC", "n": "b"}, {"id": "7", "n": 1.5}]
    put(warehouse, "b/js/1.json", "".join(json.dumps(d) + "\n" for d in docs))
    dyf = glue.create_dynamic_frame.from_options("s3", {"paths": ["s3://b/js/"]}, "json")
    assert dyf.schema().simpleString() == "struct<id:choice<long,string>,n:choice<double,string>>"
    assert isinstance(dyf.schema()["id"].dataType, ChoiceType)
    cols = dyf.resolveChoice(choice="make_cols").toDF()
    expected = spark.createDataFrame(
        [(10001, None, None, "a"), (None, None, "ABC", "b"), (None, 1.5, "7", None)],
        "id_long bigint, n_double double, id_string string, n_string string",
    )
    check(cols, expected)
    cast = dyf.toDF([ResolveOption("id", "cast:long"), ResolveOption("n", "project:string")])
    rows = [(10001, "a"), (None, "b"), (7, "1.5")]
    check(cast, spark.createDataFrame(rows, "id bigint, n string"))
    # a DataFrame reader types columns as Spark does: no choices
    plain = glue.create_data_frame.from_options("s3", {"paths": ["s3://b/js/"]}, "json")
    assert plain.schema.simpleString() == "struct<id:string,n:string>"
    # csv writes each value's text; parquet needs the choice resolved first
    glue.write_dynamic_frame.from_options(dyf, "s3", {"path": "s3://b/csv/"}, "csv")
    written = spark.read.option("header", True).csv(str(warehouse / "_s3" / "b" / "csv"))
    text = [("10001", "a"), ("ABC", "b"), ("7", "1.5")]
    check(written, spark.createDataFrame(text, "id string, n string"))
    with pytest.raises(UnsupportedError, match=r"unresolved choice field 'id'.*resolveChoice"):
        glue.write_dynamic_frame.from_options(dyf, "s3", {"path": "s3://b/pq/"}, "parquet")


def test_match_catalog_resolves_a_choice_to_the_catalog_type_and_clean_tables_keep_theirs(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    register_medicare(spark, glue.glue_catalog, warehouse)
    dyf = glue.create_dynamic_frame.from_catalog(database="payments", table_name="medicare")
    out = dyf.resolveChoice(choice="match_catalog", database="payments", table_name="medicare")
    assert out.schema()["provider id"].dataType.simpleString() == "bigint"
    assert [r[0] for r in out.toDF().select("provider id").collect()] == [10001, 10005, None, None]
    put(warehouse, "bucket/clean/part-0.csv", "id,amount\n1,2.5\n2,3\n")
    schema = spark.createDataFrame([], "id bigint, amount double").schema
    glue.glue_catalog.register("payments", "clean", location="s3://bucket/clean/",
                               format="csv", schema=schema)  # fmt: skip
    clean = glue.create_dynamic_frame.from_catalog(database="payments", table_name="clean")
    assert clean.schema() == schema  # one type per column: the catalog-typed read
