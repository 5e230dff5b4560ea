from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from featurekit.errors import ConfigError, TableNotFoundError
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.tables.catalog import LocalCatalog
from featurekit.testing.plugin import boto_client
from featurekit.warehouse import S3Warehouse, Warehouse, open_warehouse


def test_s3_paths_map_into_the_warehouse(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path)
    assert wh.resolve("s3://bucket/raw/events/") == str(tmp_path / "_s3/bucket/raw/events")
    assert wh.resolve("s3a://bucket/x") == str(tmp_path / "_s3/bucket/x")
    assert wh.resolve(str(tmp_path / "local")) == str(tmp_path / "local")
    assert wh.table_location("raw.events") == str(tmp_path / "raw/events")
    with pytest.raises(ConfigError, match="cannot map"):
        wh.resolve("gs://bucket/x")
    with pytest.raises(ConfigError, match="no bucket"):
        wh.resolve("s3://")


def test_catalog_round_trip_and_missing_tables(tmp_path: Path) -> None:
    catalog = LocalCatalog(Warehouse(tmp_path))
    schema = {
        "type": "struct",
        "fields": [{"name": "k", "type": "string", "nullable": True, "metadata": {}}],
    }
    catalog.register(
        "db.t", "/x", schema=schema, partition_columns=["k"], description="d", keys=["k"]
    )
    entry = catalog.get("db.t")
    assert (entry.location, entry.partition_columns, entry.keys) == ("/x", ("k",), ("k",))
    assert entry.column_types == {"k": "string"}
    assert [e.name for e in catalog.list()] == ["db.t"]
    assert catalog.find("db.t") == entry
    assert catalog.find("db.other") is None
    with pytest.raises(TableNotFoundError, match=r"Known tables: db\.t"):
        catalog.get("db.other")


@pytest.fixture(scope="module")
def s3_client(moto_endpoint: str) -> Any:
    """A boto3 S3 client on the moto server, with one bucket."""
    client = boto_client(moto_endpoint, "s3")
    client.create_bucket(Bucket="lake")
    return client


def test_s3_warehouse_keeps_catalog_and_records_in_s3(s3_client: Any) -> None:
    wh = open_warehouse("s3://lake/fk/", s3_client=s3_client)
    assert isinstance(wh, S3Warehouse)
    assert wh.remote
    assert wh.uri == "s3://lake/fk"
    assert wh.table_location("features.daily") == "s3://lake/fk/features/daily"
    assert wh.resolve("s3a://other/raw/") == "s3://other/raw/"
    catalog = LocalCatalog(wh)
    assert catalog.list() == []
    catalog.register("features.daily", wh.table_location("features.daily"), schema={})
    assert catalog.exists("features.daily")
    assert not catalog.exists("features.other")
    assert catalog.get("features.daily").location == "s3://lake/fk/features/daily"
    assert catalog.find("features.other") is None
    assert [e.name for e in catalog.list()] == ["features.daily"]
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket="lake")["Contents"]]
    assert keys == ["fk/_catalog/features.daily.json"]
    with pytest.raises(TableNotFoundError, match="s3://lake/fk"):
        catalog.get("features.other")


def test_warehouses_on_other_schemes_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"s3://bucket/prefix"):
        open_warehouse("gs://bucket/wh")
    assert isinstance(open_warehouse("file:///tmp/wh"), Warehouse)


def test_s3_warehouse_needs_the_delta_spark_engine(spark: SparkSession) -> None:
    runtime = LocalRuntime(
        LocalConfig(warehouse="s3://lake/fk", engine="delta-rs", quiet=True), spark=spark
    )
    with pytest.raises(ConfigError, match="delta-spark engine only"):
        _ = runtime.engine
