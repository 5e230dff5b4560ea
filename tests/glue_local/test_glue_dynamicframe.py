"""DynamicFrame methods and the transform classes, against plain DataFrames (chispa)."""

from __future__ import annotations

from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.errors import UnsupportedError
from featurekit.glue_local import DynamicFrame, GlueContext
from featurekit.glue_local import transforms as T


@pytest.fixture
def glue(spark: SparkSession, warehouse: Path) -> GlueContext:
    return GlueContext(spark, warehouse=str(warehouse))


@pytest.fixture
def people(spark: SparkSession, glue: GlueContext) -> DynamicFrame:
    df = spark.createDataFrame(
        [("1", "ann", "34", None), ("2", "bob", "x", None), ("3", "cy", None, None)],
        "id string, name string, age string, nothing string",
    )
    return DynamicFrame.fromDF(df, glue, "people")


def check(actual: DataFrame, expected: DataFrame) -> None:
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_apply_mapping_keeps_renames_and_casts_only_mapped_fields(
    spark: SparkSession, people: DynamicFrame
) -> None:
    out = T.ApplyMapping.apply(
        frame=people,
        mappings=[("id", "string", "person_id", "long"), ("AGE", "string", "age", "int")],
        transformation_ctx="m",
    )
    expected = spark.createDataFrame([(1, 34), (2, None), (3, None)], "person_id bigint, age int")
    check(out.toDF(), expected)
    assert people.apply_mapping([("id", "string", "id", "string")]).toDF().columns == ["id"]


def test_select_drop_rename(spark: SparkSession, people: DynamicFrame) -> None:
    assert T.SelectFields.apply(people, ["name", "missing"]).toDF().columns == ["name"]
    assert T.DropFields.apply(people, ["age", "nothing"]).toDF().columns == ["id", "name"]
    renamed = T.RenameField.apply(people, "name", "first_name")
    assert renamed.toDF().columns == ["id", "first_name", "age", "nothing"]
    assert renamed.count() == 3


def test_filter_drops_records_the_function_cannot_read(
    spark: SparkSession, people: DynamicFrame
) -> None:
    out = T.Filter.apply(frame=people, f=lambda r: int(r["age"]) > 30)
    expected = spark.createDataFrame([("1", "ann", "34", None)], people.schema())
    check(out.toDF(), expected)
    by_attribute = people.filter(lambda r: r.name.startswith("b"))
    assert [r.id for r in by_attribute.toDF().collect()] == ["2"]


def test_resolve_choice_casts_with_specs_and_leaves_single_typed_fields_to_make_cols(
    spark: SparkSession, people: DynamicFrame
) -> None:
    out = T.ResolveChoice.apply(people, specs=[("age", "cast:int"), ("id", "project:long")])
    expected = spark.createDataFrame(
        [(1, "ann", 34, None), (2, "bob", None, None), (3, "cy", None, None)],
        "id bigint, name string, age int, nothing string",
    )
    check(out.toDF(), expected)
    # Local fields never hold a choice: make_cols / make_struct leave them, as Glue does.
    check(people.resolveChoice(choice="make_cols").toDF(), people.toDF())
    check(people.resolveChoice(specs=[("age", "make_struct")]).toDF(), people.toDF())
    with pytest.raises(ValueError, match="both missing"):
        people.resolveChoice()
    with pytest.raises(UnsupportedError, match="make_cols"):
        people.resolveChoice(specs=[("age", "split")])


def test_drop_null_fields_drops_fields_null_in_every_record(people: DynamicFrame) -> None:
    assert T.DropNullFields.apply(people).toDF().columns == ["id", "name", "age"]


def test_drop_null_fields_walks_into_structs(spark: SparkSession, glue: GlueContext) -> None:
    rows = [
        ("1", ("a@x", None), (None, None), None),
        ("2", (None, None), None, None),
    ]
    schema = (
        "id string, owner struct<email:string, phone:string>, "
        "meta struct<a:string, b:string>, tag struct<c:string>"
    )
    frame = DynamicFrame.fromDF(spark.createDataFrame(rows, schema), glue, "f")
    out = T.DropNullFields.apply(frame).toDF()
    # owner.phone and the structs whose every field is null (meta) or that are null (tag)
    assert out.schema.simpleString() == "struct<id:string,owner:struct<email:string>>"
    assert [r.owner.email for r in out.orderBy("id").collect()] == ["a@x", None]


def test_join_keeps_fields_of_both_frames_and_names_frame2_clashes_with_a_dot(
    spark: SparkSession, glue: GlueContext, people: DynamicFrame
) -> None:
    orders = DynamicFrame.fromDF(
        spark.createDataFrame(
            [("o1", "1", "x"), ("o2", "1", "y"), ("o3", "9", "z")],
            "order_id string, pid string, name string",
        ),
        glue,
        "orders",
    )
    out = T.Join.apply(people.select_fields(["id", "name"]), orders, "id", "pid").toDF()
    assert out.columns == ["id", "name", "order_id", "pid", ".name"]
    expected = spark.createDataFrame(
        [("1", "ann", "o1", "1", "x"), ("1", "ann", "o2", "1", "y")],
        "id string, name string, order_id string, pid string, order_name string",
    )
    check(out.toDF(*expected.columns), expected)  # chispa cannot address a ".name" column
    same_key = people.select_fields(["id"]).join(["id"], ["id"], people.select_fields(["id"]))
    assert same_key.toDF().columns == ["id", ".id"]
    assert same_key.drop_fields(["`.id`"]).toDF().columns == ["id"]


def test_unbox_is_not_emulated_and_says_what_is(people: DynamicFrame) -> None:
    with pytest.raises(UnsupportedError, match=r"DynamicFrame\.unbox.*relationalize"):
        people.unbox("name", "json")
    with pytest.raises(UnsupportedError, match=r"transforms\.Unbox.*ApplyMapping"):
        T.Unbox.apply(frame=people, path="name", format="json")
    assert not hasattr(people, "_private")
