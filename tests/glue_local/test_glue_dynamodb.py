"""DynamoDB sources and sinks of Glue scripts, on moto's server (127.0.0.1)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from featurekit.cli.glue import run_script
from featurekit.errors import ConfigError, UnsupportedError
from featurekit.glue_local import dynamodb
from featurekit.glue_local.catalog import ScriptCatalog
from featurekit.glue_local.connections import Connections
from featurekit.glue_local.context import GlueContext
from featurekit.glue_local.dynamicframe import DynamicFrame
from featurekit.glue_local.install import installed
from featurekit.runtime.local import LocalRuntime
from featurekit.testing.plugin import boto_client

pytestmark = pytest.mark.integration
SCRIPTS = Path(__file__).parent / "scripts"


def table(client: Any, name: str) -> str:
    answer = client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return str(answer["TableDescription"]["TableArn"])


@pytest.fixture
def ddb(moto_endpoint: str) -> Any:
    return boto_client(moto_endpoint, "dynamodb")


ITEMS = [
    {"user_id": {"S": "u1"}, "visits": {"N": "3"}, "active": {"BOOL": True},
     "tags": {"SS": ["a", "b"]}, "address": {"M": {"city": {"S": "Oslo"}}}},
    {"user_id": {"S": "u2"}, "visits": {"N": "1"}, "active": {"BOOL": False},
     "score": {"N": "2.5"}},
]  # fmt: skip


def test_values_map_to_glue_types_and_back() -> None:
    assert dynamodb.plain({"N": "3"}) == 3
    assert dynamodb.plain({"N": "2.50"}) == 2.5
    assert dynamodb.plain({"M": {"a": {"L": [{"S": "x"}, {"NULL": True}]}}}) == {"a": ["x", None]}
    assert dynamodb.attribute(2.5) == {"N": "2.5"}
    assert dynamodb.attribute({"a": [1, None]}) == {"M": {"a": {"L": [{"N": "1"}, {"NULL": True}]}}}


@pytest.mark.slow
def test_script_scans_exports_and_writes_tables(
    spark: SparkSession, local_runtime: LocalRuntime, ddb: Any, moto_endpoint: str
) -> None:
    source, target = f"users-{uuid.uuid4().hex[:8]}", f"active-{uuid.uuid4().hex[:8]}"
    arn = table(ddb, source)
    table(ddb, target)
    for item in ITEMS:
        ddb.put_item(TableName=source, Item=item)
    found = Connections(dynamodb_endpoint=moto_endpoint)
    args = ["--JOB_NAME", "ddb", "--source", source, "--target", target, "--table_arn", arn]
    assert run_script(str(SCRIPTS / "dynamodb_job.py"), args, local_runtime, found) == 0
    written = ddb.scan(TableName=target)["Items"]
    assert len(written) == 1
    item = written[0]
    assert item["user_id"] == {"S": "u1"}
    assert item["visits"] == {"N": "3"}
    assert item["active"] == {"BOOL": True}
    assert item["address"] == {"M": {"city": {"S": "Oslo"}}}
    assert sorted(v["S"] for v in item["tags"]["L"]) == ["a", "b"]  # sets come back as lists
    assert "score" not in item  # a null field is left out


def test_types_inferred_and_export_keeps_dynamodb_json(
    spark: SparkSession, local_runtime: LocalRuntime, ddb: Any, moto_endpoint: str
) -> None:
    source = f"users-{uuid.uuid4().hex[:8]}"
    arn = table(ddb, source)
    for item in ITEMS:
        ddb.put_item(TableName=source, Item=item)
    with installed(storage=local_runtime.storage, connections=Connections(
        dynamodb_endpoint=moto_endpoint
    )):  # fmt: skip
        glue = GlueContext(spark)
        df = glue.create_data_frame.from_options("dynamodb", {"dynamodb.input.tableName": source})
        export = glue.create_data_frame.from_options(
            "dynamodb", {"dynamodb.export": "s3", "dynamodb.tableArn": arn,
                         "dynamodb.s3.bucket": "b", "dynamodb.s3.prefix": "p/"},
        )  # fmt: skip
        ScriptCatalog(local_runtime.storage.catalog).register_connection_table(
            "ddb", "users", classification="dynamodb", connection="", location=source,
            schema=df.schema,
        )  # fmt: skip
        from_catalog = glue.create_data_frame.from_catalog(database="ddb", table_name="users")
        with pytest.raises(ConfigError, match="create it before writing"):
            glue.write_dynamic_frame.from_options(
                frame=DynamicFrame.fromDF(df, glue, "df"), connection_type="dynamodb",
                connection_options={"dynamodb.output.tableName": "missing"},
            )  # fmt: skip
        with pytest.raises(UnsupportedError, match=r"'dynamodb\.input\.table'"):
            glue.create_data_frame.from_options("dynamodb", {"dynamodb.input.table": source})
        with pytest.raises(ConfigError, match="Glue takes 'ddb' or 's3'"):
            glue.create_data_frame.from_options(
                "dynamodb", {"dynamodb.export": "x", "dynamodb.tableArn": arn}
            )
    types = dict(df.dtypes)
    assert types["visits"] == "bigint"
    assert types["score"] == "double"
    assert types["active"] == "boolean"
    assert types["tags"] == "array<string>"
    assert types["address"] == "struct<city:string>"
    assert sorted(r.user_id for r in from_catalog.collect()) == ["u1", "u2"]
    unnested = DynamicFrame.fromDF(export, glue, "export").unnest_ddb_json().toDF()
    assert dict(unnested.dtypes) == types  # the same columns and types as the scan's
    assert unnested.where("user_id = 'u1'").first()["address"]["city"] == "Oslo"
    assert export.columns == ["Item"]
    u1 = export.where("Item.user_id.S = 'u1'").first()
    assert u1 is not None
    assert u1["Item"]["visits"]["N"] == "3"


def test_dynamodb_without_an_endpoint_is_a_clear_error(
    spark: SparkSession, local_runtime: LocalRuntime
) -> None:
    with installed(storage=local_runtime.storage):
        glue = GlueContext(spark)
        with pytest.raises(ConfigError, match="needs a local DynamoDB endpoint"):
            glue.create_data_frame.from_options("dynamodb", {"dynamodb.input.tableName": "t"})
