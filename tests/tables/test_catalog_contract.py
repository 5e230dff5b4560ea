"""One contract for both catalogs: the local one in the warehouse, and the Glue Data
Catalog through boto3 against moto's server on 127.0.0.1."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

from featurekit.errors import TableNotFoundError
from featurekit.tables.catalog import LocalCatalog
from featurekit.tables.glue_catalog import GlueCatalog, GlueCatalogConfig
from featurekit.testing.plugin import boto_client
from featurekit.warehouse import Warehouse

SCHEMA = {
    "type": "struct",
    "fields": [
        {"name": "user_id", "type": "string", "nullable": True, "metadata": {}},
        {"name": "feature_date", "type": "date", "nullable": True, "metadata": {}},
        {"name": "events", "type": "long", "nullable": True, "metadata": {}},
        {"name": "spend", "type": "decimal(12,2)", "nullable": True, "metadata": {}},
        {
            "name": "items",
            "type": {"type": "array", "elementType": "string", "containsNull": True},
            "nullable": True,
            "metadata": {},
        },
    ],
}


def _local(tmp_path: Path, _: str) -> Any:
    return LocalCatalog(Warehouse(tmp_path / "warehouse"))


def _glue(_: Path, endpoint: str) -> Any:
    client = boto_client(endpoint, "glue")
    return GlueCatalog(GlueCatalogConfig(region="us-east-1", endpoint_url=endpoint), client)


@pytest.fixture(params=["local", "glue"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    make: Callable[[Path, str], Any] = {"local": _local, "glue": _glue}[request.param]
    endpoint = request.getfixturevalue("moto_endpoint") if request.param == "glue" else ""
    return make(tmp_path, endpoint)


@pytest.fixture
def db() -> str:
    """A database name of its own per test (moto's server is shared by the session)."""
    return f"db_{uuid.uuid4().hex[:8]}"


def test_a_registered_table_reads_back_as_registered(catalog: Any, db: str) -> None:
    catalog.register(
        f"{db}.user_daily", "s3://bucket/wh/features/user_daily", schema=SCHEMA,
        partition_columns=("feature_date",), description="Per user and day.",
        keys=("user_id",), date_column="feature_date",
    )  # fmt: skip
    entry = catalog.get(f"{db}.user_daily")
    assert entry.name == f"{db}.user_daily"
    assert entry.location == "s3://bucket/wh/features/user_daily"
    assert (entry.format, entry.schema, entry.description) == ("delta", SCHEMA, "Per user and day.")
    assert (entry.partition_columns, entry.keys, entry.date_column) == (
        ("feature_date",), ("user_id",), "feature_date"
    )  # fmt: skip
    assert catalog.exists(f"{db}.user_daily")


def test_registering_again_updates_the_table(catalog: Any, db: str) -> None:
    catalog.register(f"{db}.t", "s3://b/t", schema={"type": "struct", "fields": []})
    catalog.register(f"{db}.t", "s3://b/t2", schema=SCHEMA, description="v2")
    entry = catalog.get(f"{db}.t")
    assert (entry.location, entry.schema, entry.description) == ("s3://b/t2", SCHEMA, "v2")
    assert [e.name for e in catalog.list() if e.name.startswith(db)] == [f"{db}.t"]


def test_a_missing_table_is_none_or_a_clear_error(catalog: Any, db: str) -> None:
    catalog.register(f"{db}.there", "s3://b/there", schema=SCHEMA)
    assert catalog.find(f"{db}.absent") is None
    assert not catalog.exists(f"{db}.absent")
    with pytest.raises(TableNotFoundError, match=rf"Known tables: .*{db}\.there"):
        catalog.get(f"{db}.absent")


def test_list_holds_every_database_sorted(catalog: Any, db: str) -> None:
    for name in (f"{db}_b.z", f"{db}_a.y", f"{db}_a.x"):
        catalog.register(name, f"s3://b/{name}", schema=SCHEMA)
    listed = [e.name for e in catalog.list() if e.name.startswith(db)]
    assert listed == [f"{db}_a.x", f"{db}_a.y", f"{db}_b.z"]


def test_a_files_table_keeps_its_format_and_reader_options(catalog: Any, db: str) -> None:
    schema = {"type": "struct", "fields": SCHEMA["fields"][:3]}
    catalog.register(
        f"{db}.orders_csv", "s3://landing/orders/", schema=schema, format="csv",
        partition_columns=("feature_date",), options={"header": "true", "sep": ";"},
    )  # fmt: skip
    entry = catalog.get(f"{db}.orders_csv")
    assert (entry.format, entry.options) == ("csv", {"header": "true", "sep": ";"})
    assert entry.partition_columns == ("feature_date",)
    assert {f["name"] for f in entry.schema["fields"]} == {"user_id", "feature_date", "events"}


# -- the Glue Data Catalog's own form ------------------------------------------------


def test_glue_stores_delta_tables_in_the_form_athena_and_spark_read(
    moto_endpoint: str, db: str
) -> None:
    catalog = _glue(Path(), moto_endpoint)
    catalog.register(f"{db}.user_daily", "s3://b/wh/user_daily", schema=SCHEMA, keys=("user_id",))
    table = boto_client(moto_endpoint, "glue").get_table(DatabaseName=db, Name="user_daily")
    table = table["Table"]
    params = table["Parameters"]
    assert params["table_type"] == "DELTA"  # Athena
    assert params["spark.sql.sources.provider"] == "delta"  # Spark with the Glue metastore
    assert params["featurekit.keys"] == "user_id"
    sd = table["StorageDescriptor"]
    assert sd["SerdeInfo"]["Parameters"]["path"] == "s3://b/wh/user_daily"
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [
        ("user_id", "string"), ("feature_date", "date"), ("events", "bigint"),
        ("spend", "decimal(12,2)"), ("items", "array<string>"),
    ]  # fmt: skip
    assert table["PartitionKeys"] == []


def test_glue_names_follow_glue_rules(moto_endpoint: str, db: str) -> None:
    catalog = _glue(Path(), moto_endpoint)
    catalog.register(f"Crime-{db}.04", "s3://b/crime/04", schema=SCHEMA)
    assert catalog.get(f"crime-{db}.04").name == f"crime-{db}.04"


def test_glue_reads_a_table_a_crawler_made(moto_endpoint: str, db: str) -> None:
    glue = boto_client(moto_endpoint, "glue")
    glue.create_database(DatabaseInput={"Name": db})
    glue.create_table(
        DatabaseName=db,
        TableInput={
            "Name": "orders",
            "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "StorageDescriptor": {
                "Location": "s3://landing/orders/",
                "Columns": [
                    {"Name": "order_id", "Type": "string"},
                    {"Name": "amount", "Type": "double"},
                    {"Name": "tags", "Type": "map<string,array<int>>"},
                ],
                "SerdeInfo": {"Parameters": {"field.delim": "|"}},
            },
        },
    )
    entry = _glue(Path(), moto_endpoint).get(f"{db}.orders")
    assert (entry.format, entry.location, entry.partition_columns) == (
        "csv", "s3://landing/orders/", ("dt",)
    )  # fmt: skip
    assert entry.options == {"sep": "|", "header": "true"}
    types = {f["name"]: f["type"] for f in entry.schema["fields"]}
    assert types["amount"] == "double"
    assert types["tags"] == {
        "type": "map", "keyType": "string", "valueContainsNull": True,
        "valueType": {"type": "array", "elementType": "integer", "containsNull": True},
    }  # fmt: skip
    assert list(types) == ["order_id", "amount", "tags", "dt"]
