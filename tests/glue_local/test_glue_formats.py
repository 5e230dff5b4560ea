"""Glue's format_options per format, on sources and sinks, in any case; unknown ones refused."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.errors import UnsupportedError
from featurekit.glue_local import DynamicFrame, GlueContext, formats


@pytest.fixture
def glue(spark: SparkSession, warehouse: Path) -> GlueContext:
    return GlueContext(spark, warehouse=str(warehouse))


def check(actual: DataFrame, expected: DataFrame) -> None:
    assert_df_equality(
        actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_column_order=True
    )


def put(warehouse: Path, key: str, text: str) -> Path:
    path = warehouse / "_s3" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def frame(glue: GlueContext, spark: SparkSession) -> DynamicFrame:
    df = spark.createDataFrame([(1, "a"), (2, "b")], "id long, name string")
    return DynamicFrame.fromDF(df, glue, "rows")


def test_json_sink_with_gzip_compression_in_format_options_writes_gzip_files(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    out = "s3://b/json_gz/"
    glue.write_dynamic_frame.from_options(
        frame(glue, spark), "s3", {"path": out}, "json", {"Compression": "GZIP"}
    )
    files = sorted((warehouse / "_s3" / "b" / "json_gz").glob("*.json.gz"))
    assert files
    rows = []
    for f in files:
        with gzip.open(f, "rt") as lines:
            rows += [json.loads(line) for line in lines]
    assert sorted(r["id"] for r in rows) == [1, 2]
    back = glue.create_data_frame.from_options("s3", {"paths": [out]}, "json")
    check(back, spark.createDataFrame([(1, "a"), (2, "b")], "id long, name string"))


def test_unknown_format_option_names_the_supported_ones(
    spark: SparkSession, glue: GlueContext
) -> None:
    with pytest.raises(UnsupportedError, match=r"'colour' of format 'json'.*compression"):
        glue.write_dynamic_frame.from_options(
            frame(glue, spark), "s3", {"path": "s3://b/x/"}, "json", {"colour": "red"}
        )
    with pytest.raises(UnsupportedError, match=r"'rowtag' of format 'csv'.*separator"):
        glue.create_dynamic_frame.from_options(
            "s3", {"paths": ["s3://b/none/"]}, "csv", {"rowtag": "r"}
        )
    with pytest.raises(UnsupportedError, match=r"compression 'rar'.*gzip"):
        glue.write_dynamic_frame.from_options(
            frame(glue, spark), "s3", {"path": "s3://b/x/"}, "csv", {"compression": "rar"}
        )


def test_parquet_sink_options_and_orc_round_trip(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    rows = frame(glue, spark)
    opts = {"useGlueParquetWriter": True, "compression": "gzip", "blocksize": 1 << 20}
    opts["pageSize"] = 65536
    glue.write_dynamic_frame.from_options(rows, "s3", {"path": "s3://b/pq/"}, "parquet", opts)
    assert list((warehouse / "_s3" / "b" / "pq").glob("*.gz.parquet"))
    glue.write_dynamic_frame.from_options(
        rows, "s3", {"path": "s3://b/orc/"}, "orc", {"compression": "zlib"}
    )
    expected = spark.createDataFrame([(1, "a"), (2, "b")], "id long, name string")
    for fmt, key in (("parquet", "pq"), ("orc", "orc")):
        back = glue.create_dynamic_frame.from_options("s3", {"paths": [f"s3://b/{key}/"]}, fmt)
        check(back.toDF(), expected)


def test_json_path_selects_nested_records_and_attach_filename_names_the_file(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    doc = {"meta": {"n": 2}, "items": [{"id": 1, "k": "x"}, {"id": 2, "k": "y"}]}
    put(warehouse, "b/nested/1.json", json.dumps(doc) + "\n")
    opts = {"jsonPath": "$.items[*]", "attachFilename": "source_file"}
    df = glue.create_dynamic_frame.from_options(
        "s3", {"paths": ["s3://b/nested/"]}, "json", opts
    ).toDF()
    check(df.drop("source_file"), spark.createDataFrame([(1, "x"), (2, "y")], "id long, k string"))
    assert {r.source_file.rsplit("/", 1)[-1] for r in df.collect()} == {"1.json"}


def avro_on_classpath(spark: SparkSession) -> bool:
    try:
        spark.read.format("avro").load("/nonexistent-path-for-a-probe")
    except Exception as exc:  # AnalysisException either way: its text tells
        return "DATA_SOURCE_NOT_FOUND" not in str(exc) and "Failed to find" not in str(exc)
    return True


def test_avro_without_spark_avro_names_the_package_to_add(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    put(warehouse, "b/avro/1.avro", "not really avro")
    if avro_on_classpath(spark):
        pytest.skip("spark-avro is on this session's classpath")
    with pytest.raises(UnsupportedError, match=r"spark-avro_2\.1[23]:"):
        glue.create_dynamic_frame.from_options("s3", {"paths": ["s3://b/avro/"]}, "avro")


def test_xml_reads_on_spark_4_and_names_the_fix_on_spark_3(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    put(warehouse, "b/xml/1.xml", "<rows><row><id>1</id></row><row><id>2</id></row></rows>")
    source = {"paths": ["s3://b/xml/"]}
    if spark.version.startswith("3."):
        with pytest.raises(UnsupportedError, match=r"pyspark>=4.*spark-xml"):
            glue.create_dynamic_frame.from_options("s3", source, "xml", {"RowTag": "row"})
        return
    df = glue.create_dynamic_frame.from_options("s3", source, "xml", {"RowTag": "row"}).toDF()
    check(df, spark.createDataFrame([(1,), (2,)], "id long"))


def test_every_documented_option_is_accepted_by_its_format() -> None:
    for fmt, documented in formats.DOCUMENTED.items():
        for option, direction in documented:
            for d in direction:
                given = {option.upper(): "x"}
                assert list(formats.options(fmt, d, given)) == [option]
