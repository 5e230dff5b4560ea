"""The reshaping and record transforms real Glue scripts use, against chispa-checked frames."""

from __future__ import annotations

from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.errors import InputError
from featurekit.glue_local import DynamicFrame, GlueContext
from featurekit.glue_local import transforms as T
from featurekit.glue_local.collection import DynamicFrameCollection

NESTED = "id long, name struct<first:string,last:string>, tags array<string>, " \
    "links array<struct<kind:string,url:string>>"  # fmt: skip


@pytest.fixture
def glue(spark: SparkSession, warehouse: Path) -> GlueContext:
    return GlueContext(spark, warehouse=str(warehouse))


def frame(
    glue: GlueContext, rows: list[tuple[object, ...]], schema: str, name: str = "f"
) -> DynamicFrame:
    return DynamicFrame.fromDF(glue.spark_session.createDataFrame(rows, schema), glue, name)


def check(actual: DataFrame, expected: DataFrame) -> None:
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_relationalize_flattens_structs_and_pivots_arrays_into_joinable_frames(
    spark: SparkSession, glue: GlueContext
) -> None:
    people = frame(
        glue,
        [(1, ("ann", "lee"), ["a", "b"], [("web", "u1")]), (2, ("bob", None), [], None)],
        NESTED,
    )
    dfc = T.Relationalize.apply(frame=people, staging_path="s3://b/tmp/", name="hist_root")
    assert sorted(dfc.keys()) == ["hist_root", "hist_root_links", "hist_root_tags"]
    root = dfc.select("hist_root").toDF()
    assert root.columns == ["id", "name.first", "name.last", "tags", "links"]
    tags = dfc.select("hist_root_tags").toDF()
    links = dfc.select("hist_root_links").toDF()
    assert links.columns == ["id", "index", "links.val.kind", "links.val.url"]
    joined = root.join(tags, root["tags"] == tags["id"]).select(
        root["id"].alias("person"), tags["index"], tags["`tags.val`"].alias("tag")
    )
    check(
        joined,
        spark.createDataFrame([(1, 0, "a"), (1, 1, "b")], "person long, index int, tag string"),
    )
    assert root.where("id = 2").select("links").first() == (None,)
    assert dfc.select("missing").count() == 0


def test_unnest_and_nested_apply_mapping_build_and_flatten_structs(
    spark: SparkSession, glue: GlueContext
) -> None:
    flat = frame(glue, [("7", "acme", "3")], "provider_id string, provider_name string, n string")
    nested = flat.apply_mapping(
        [
            ("provider_id", "string", "provider.id", "long"),
            ("provider_name", "string", "provider.name", "string"),
            ("n", "string", "n", "int"),
        ]
    )
    expected = spark.createDataFrame(
        [((7, "acme"), 3)], "provider struct<id:long,name:string>, n int"
    )
    check(nested.toDF(), expected)
    unnested = T.UnnestFrame.apply(frame=nested).toDF()
    assert unnested.columns == ["provider.id", "provider.name", "n"]
    assert nested.select_fields(["provider.name"]).toDF().schema.simpleString() == (
        "struct<provider:struct<name:string>>"
    )
    assert nested.rename_field("provider.name", "provider.title").toDF().first() == ((7, "acme"), 3)


def test_map_turns_failures_into_error_records_and_thresholds_stop_the_job(
    spark: SparkSession, glue: GlueContext
) -> None:
    items = frame(glue, [("a", 1), ("b", 0), ("c", 4)], "k string, n long", "items")

    def invert(rec: dict[str, object]) -> dict[str, object]:
        rec["inv"] = 4 / int(str(rec["n"]))
        return rec

    out = T.Map.apply(frame=items, f=invert, transformation_ctx="invert")
    check(
        out.toDF(),
        spark.createDataFrame([("a", 1, 4.0), ("c", 4, 1.0)], "k string, n long, inv double"),
    )
    assert out.stageErrorsCount() == 1
    assert out.select_fields(["k"]).errorsCount() == 1  # errors carry on; the stage's do not
    error = out.errorsAsDynamicFrame().toDF().first()
    assert error is not None
    assert error["transformation_ctx"] == "invert"
    assert "ZeroDivisionError" in error["error_message"]
    assert '"k": "b"' in error["record"]
    with pytest.raises(InputError, match="3 error records exceed stageThreshold=2"):
        items.filter(lambda r: 1 / 0, stageThreshold=2)


def test_split_union_repartition_and_collection_transforms(
    spark: SparkSession, glue: GlueContext, warehouse: Path
) -> None:
    people = frame(
        glue, [(1, "ann", 34), (2, "bob", 15), (3, "cy", 70)], "id long, name string, age long", "p"
    )
    rows = T.SplitRows.apply(people, {"age": {">": 18, "<": 65}}, "adults", "others")
    assert [r.id for r in rows["adults"].toDF().collect()] == [1]
    assert sorted(r.id for r in rows.select("others").toDF().collect()) == [2, 3]
    fields = T.SplitFields.apply(people, ["name"], "names", "rest")
    assert fields["names"].toDF().columns == ["name"]
    assert fields["rest"].toDF().columns == [
        "id",
        "age",
    ]
    both = T.Union.apply(rows["adults"], rows["others"].drop_fields(["name"]))
    assert both.count() == 3
    assert both.toDF().where("name is null").count() == 2
    assert T.Repartition.apply(people, 3).getNumPartitions() == 3
    assert T.Coalesce.apply(people, 1).getNumPartitions() == 1
    mapped = T.MapToCollection.apply(fields, lambda f, ctx: f.drop_fields(["age"]))
    assert mapped["rest"].toDF().columns == ["id"]
    dropped = T.FlatMap.apply(rows, T.DropFields, "frame", paths=["age"])
    assert isinstance(dropped, DynamicFrameCollection)
    assert T.SelectFromCollection.apply(dropped, "others").toDF().columns == ["id", "name"]
    T.Spigot.apply(people, "s3://b/spigot/", {"topk": 2})
    assert spark.read.json(str(warehouse / "_s3" / "b" / "spigot")).count() == 2


def test_resolve_choice_match_catalog_casts_to_the_catalog_types(
    spark: SparkSession, glue: GlueContext
) -> None:
    schema = spark.createDataFrame([], "id long, price double").schema
    glue.glue_catalog.register(
        "Crime-Database", "04", location="s3://b/t/", format="csv", schema=schema
    )
    assert glue.glue_catalog.table("crime-database", "04").name == "crime-database.04"
    raw = frame(glue, [("1", "2.5", "x")], "id string, price string, extra string")
    out = T.ResolveChoice.apply(
        frame=raw, choice="match_catalog", database="crime-database", table_name="04"
    )
    check(out.toDF(), spark.createDataFrame([(1, 2.5, "x")], "id long, price double, extra string"))
    with pytest.raises(ValueError, match="database and table_name"):
        raw.resolveChoice(specs=[("id", "match_catalog")])
