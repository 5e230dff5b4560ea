"""One contract for both catalogs: the local one in the warehouse, and the Glue Data
Catalog through boto3 against moto's server on 127.0.0.1."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

from featurekit.errors import ConfigError, TableNotFoundError
from featurekit.tables.catalog import LocalCatalog, Partition
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
    with pytest.raises(TableNotFoundError) as caught:
        catalog.get(f"{db}.ther")
    message = str(caught.value)
    assert f"Did you mean '{db}.there'" in message  # closest first; a shared catalog has more
    assert "featurekit demo" not in message  # the catalog has tables: no demo advice


def test_a_missing_table_in_an_empty_catalog_mentions_the_demo(tmp_path: Path) -> None:
    with pytest.raises(TableNotFoundError, match="the catalog is empty") as caught:
        _local(tmp_path, "").get("raw.events")
    assert "'featurekit demo' builds the demo's tables" in str(caught.value)
    assert "Did you mean" not in str(caught.value)


def test_a_long_catalog_is_cut_short_in_the_error() -> None:
    from featurekit.tables.catalog import LISTED_TABLES, table_not_found

    known = [f"db.t{i:03d}" for i in range(LISTED_TABLES + 5)]
    message = str(table_not_found("db.t0000", known, "the catalog", "--warehouse"))
    assert f"({LISTED_TABLES + 5} in all: 'featurekit table list')" in message
    listing = message.split("Known tables:")[1]
    assert "db.t019," in listing
    assert "db.t020" not in listing
    assert "Did you mean 'db.t000'" in message


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


def _orders(catalog: Any, name: str) -> None:
    schema = {"type": "struct", "fields": [*SCHEMA["fields"][:1], *HOUR["fields"]]}
    catalog.register(
        name, "s3://landing/orders", schema=schema, format="csv",
        partition_columns=("dt", "hour"), options={"header": "true", "sep": ","},
    )  # fmt: skip


HOUR = {
    "type": "struct",
    "fields": [
        {"name": "dt", "type": "string", "nullable": True, "metadata": {}},
        {"name": "hour", "type": "string", "nullable": True, "metadata": {}},
    ],
}


def _part(day: str, hour: str) -> Partition:
    return Partition((day, hour), f"s3://landing/orders/dt={day}/hour={hour}")


def test_partitions_are_added_once_and_read_back(catalog: Any, db: str) -> None:
    _orders(catalog, f"{db}.orders")
    assert catalog.partitions(f"{db}.orders") == []
    first = [_part("2026-03-02", "07"), _part("2026-03-01", "23")]
    assert catalog.add_partitions(f"{db}.orders", first) == sorted(first)
    assert catalog.partitions(f"{db}.orders") == sorted(first)
    again = [first[0], _part("2026-03-03", "00"), _part("2026-03-03", "00")]
    assert catalog.add_partitions(f"{db}.orders", again) == [_part("2026-03-03", "00")]
    assert catalog.add_partitions(f"{db}.orders", again) == []  # idempotent
    assert catalog.partitions(f"{db}.orders") == sorted([*first, _part("2026-03-03", "00")])
    catalog.register(f"{db}.orders", "s3://landing/orders", schema=SCHEMA, format="csv",
                     partition_columns=("dt", "hour"))  # fmt: skip
    assert len(catalog.partitions(f"{db}.orders")) == 3  # updating the table keeps them


def test_partitions_need_a_files_table_and_a_value_per_key(catalog: Any, db: str) -> None:
    _orders(catalog, f"{db}.orders")
    with pytest.raises(ConfigError, match="one value per partition key"):
        catalog.add_partitions(f"{db}.orders", [Partition(("2026-03-01",), "s3://x")])
    catalog.register(f"{db}.daily", "s3://b/daily", schema=SCHEMA, partition_columns=("dt",))
    with pytest.raises(ConfigError, match="Delta table"):
        catalog.add_partitions(f"{db}.daily", [Partition(("2026-03-01",), "s3://x")])
    with pytest.raises(TableNotFoundError):
        catalog.add_partitions(f"{db}.absent", [])


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


def test_glue_partitions_carry_the_table_serde_at_their_folder(moto_endpoint: str, db: str) -> None:
    catalog = _glue(Path(), moto_endpoint)
    _orders(catalog, f"{db}.orders")
    parts = [_part("2026-03-01", f"{h:03d}") for h in range(150)]  # two BatchCreatePartition
    assert len(catalog.add_partitions(f"{db}.orders", parts)) == 150
    glue = boto_client(moto_endpoint, "glue")
    table = glue.get_table(DatabaseName=db, Name="orders")["Table"]["StorageDescriptor"]
    values = list(parts[7].values)
    found = glue.get_partition(DatabaseName=db, TableName="orders", PartitionValues=values)
    sd = found["Partition"]["StorageDescriptor"]
    assert sd["Location"] == "s3://landing/orders/dt=2026-03-01/hour=007"
    assert (sd["SerdeInfo"], sd["InputFormat"], sd["Columns"]) == (
        table["SerdeInfo"], table["InputFormat"], table["Columns"]
    )  # fmt: skip
    assert len(catalog.partitions(f"{db}.orders")) == 150


def test_local_partitions_inside_the_warehouse_are_stored_relative(tmp_path: Path) -> None:
    catalog = _local(tmp_path, "")
    root = tmp_path / "warehouse"
    _orders(catalog, "raw.orders")
    inside = Partition(("2026-03-01", "00"), str(root / "landing" / "dt=2026-03-01" / "hour=00"))
    catalog.add_partitions("raw.orders", [inside])
    stored = catalog.warehouse.read_json("_partitions/raw.orders.json")
    assert stored == [{"values": ["2026-03-01", "00"], "location": "landing/dt=2026-03-01/hour=00"}]
    assert catalog.partitions("raw.orders") == [inside]


def test_an_iceberg_table_reads_back_with_its_metadata_location(catalog: Any, db: str) -> None:
    first = "s3://bucket/wh/features/daily/metadata/00001-a.metadata.json"
    second = "s3://bucket/wh/features/daily/metadata/00002-b.metadata.json"
    name = f"{db}.daily"
    common = {"schema": SCHEMA, "partition_columns": ("feature_date",), "format": "iceberg"}
    catalog.register(name, "s3://bucket/wh/features/daily", metadata_location=first, **common)
    catalog.register(name, "s3://bucket/wh/features/daily", metadata_location=second, **common)
    entry = catalog.get(name)
    assert (entry.format, entry.metadata_location) == ("iceberg", second)
    assert (entry.schema, entry.partition_columns) == (SCHEMA, ("feature_date",))


def test_glue_holds_an_iceberg_table_as_athena_reads_it(moto_endpoint: str, db: str) -> None:
    """table_type=ICEBERG, metadata_location and previous_metadata_location, as Iceberg's
    own GlueCatalog writes them; no serde and no Hive partition keys."""
    from featurekit.deploy.aws import validate_request
    from featurekit.tables.catalog import new_entry
    from featurekit.tables.glue_forms import table_input

    client = boto_client(moto_endpoint, "glue")
    glue = GlueCatalog(GlueCatalogConfig(region="us-east-1", endpoint_url=moto_endpoint), client)
    common = {"schema": SCHEMA, "partition_columns": ("feature_date",), "format": "iceberg"}
    where = "s3://bucket/wh/features/daily"
    glue.register(
        f"{db}.daily", where, metadata_location=f"{where}/metadata/1.metadata.json", **common
    )
    glue.register(
        f"{db}.daily", where, metadata_location=f"{where}/metadata/2.metadata.json", **common
    )
    table = client.get_table(DatabaseName=db, Name="daily")["Table"]
    params = table["Parameters"]
    assert params["table_type"] == "ICEBERG"
    assert params["metadata_location"] == f"{where}/metadata/2.metadata.json"
    assert params["previous_metadata_location"] == f"{where}/metadata/1.metadata.json"
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table.get("PartitionKeys", []) == []
    sd = table["StorageDescriptor"]
    assert sd["Location"] == where
    assert [c["Name"] for c in sd["Columns"]] == [f["name"] for f in SCHEMA["fields"]]
    assert "SerdeInfo" not in sd
    assert "InputFormat" not in sd
    entry = new_entry(f"{db}.daily", where, metadata_location="s3://m.metadata.json", **common)
    validate_request("glue", "CreateTable", {"DatabaseName": db, "TableInput": table_input(entry)})


def test_an_iceberg_entry_without_its_metadata_location_is_refused(
    moto_endpoint: str, db: str
) -> None:
    client = boto_client(moto_endpoint, "glue")
    glue = GlueCatalog(GlueCatalogConfig(region="us-east-1", endpoint_url=moto_endpoint), client)
    with pytest.raises(ConfigError, match="metadata_location"):
        glue.register(f"{db}.daily", "s3://b/wh/daily", schema=SCHEMA, format="iceberg")
