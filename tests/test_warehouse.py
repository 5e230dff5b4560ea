from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from featurekit.cli import main
from featurekit.demo_run import write_source_table
from featurekit.errors import ConfigError, TableNotFoundError
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.tables.catalog import LocalCatalog
from featurekit.tables.deltars import DeltaRsEngine
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


def test_s3_warehouse_with_delta_rs_commits_with_conditional_puts(spark: SparkSession) -> None:
    from featurekit.runtime.s3 import S3Access
    from featurekit.tables.deltars import DeltaRsEngine

    access = S3Access(endpoint="http://127.0.0.1:9", access_key="k", secret_key="s")
    runtime = LocalRuntime(
        LocalConfig(
            warehouse="s3://lake/fk", engine="delta-rs", quiet=True, s3=access,
            commit_coordinator="dynamodb:locks",
        ),
        spark=spark,
    )  # fmt: skip
    engine = runtime.storage.engine
    assert isinstance(engine, DeltaRsEngine)
    options = engine._options("s3://lake/fk/db/t")
    assert options is not None
    assert options["AWS_CONDITIONAL_PUT"] == "etag"  # never the unsafe rename
    assert "AWS_S3_ALLOW_UNSAFE_RENAME" not in options
    assert str(engine.guard.coordinator) == "dynamodb:locks"


# -- a portable warehouse: catalog locations are relative ------------------------------
ROWS = "user_id string, n bigint"


def _write(spark: SparkSession, root: Path, n: int) -> None:
    runtime = LocalRuntime(LocalConfig(warehouse=str(root), quiet=True), spark=spark)
    df = spark.createDataFrame([("u1", n), ("u2", n)], ROWS)
    write_source_table(runtime, "raw.counts", df, "counts")


def _version(root: Path) -> int:
    return int(DeltaRsEngine().version(str(root / "raw" / "counts")))


def _make_absolute(root: Path, where: Path) -> None:
    """Rewrite the catalog as older featurekit did: absolute locations under ``where``."""
    for doc_path in (root / "_catalog").glob("*.json"):
        doc = json.loads(doc_path.read_text())
        doc["location"] = str(where / doc["location"])
        doc_path.write_text(json.dumps(doc))


def test_a_copied_warehouse_writes_into_the_copy(spark: SparkSession, tmp_path: Path) -> None:
    original, copy = tmp_path / "wh", tmp_path / "copy"
    _write(spark, original, 1)
    stored = json.loads((original / "_catalog" / "raw.counts.json").read_text())
    assert stored["location"] == "raw/counts"
    shutil.copytree(original, copy)
    _write(spark, copy, 2)
    assert (_version(original), _version(copy)) == (0, 1)
    # an older, absolute entry pointing into the original is read in the copy too (rule 1)
    _make_absolute(copy, original)
    assert LocalCatalog(Warehouse(copy)).get("raw.counts").location == str(copy / "raw/counts")


def test_a_moved_warehouse_lists_and_shows_its_tables(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old", tmp_path / "elsewhere" / "new"
    _write(spark, old, 1)
    _make_absolute(old, old)  # as older featurekit wrote it
    new.parent.mkdir()
    shutil.move(str(old), str(new))
    assert main(["table", "list", "--warehouse", str(new)]) == 0
    assert str(new / "raw" / "counts") in capsys.readouterr().out
    assert main(["table", "show", "raw.counts", "--warehouse", str(new)]) == 0
    assert "rows: 2" in capsys.readouterr().out


def test_old_absolute_entries_follow_the_documented_rules(tmp_path: Path) -> None:
    here, other, external = tmp_path / "here", tmp_path / "other", tmp_path / "ext" / "t"
    for folder in (here / "_catalog", here / "db" / "t", other / "_catalog", external):
        folder.mkdir(parents=True)
    wh = Warehouse(here)
    assert wh.absolute_location(str(other / "db" / "t")) == str(here / "db" / "t")  # rule 1
    assert wh.absolute_location(str(external)) == str(external)  # rule 2
    gone = tmp_path / "gone" / "wh" / "db" / "t"
    assert wh.absolute_location(str(gone)) == str(here / "db" / "t")  # rule 3
    assert wh.absolute_location(str(tmp_path / "gone" / "zz")) == str(tmp_path / "gone" / "zz")
    assert wh.absolute_location("db/t") == str(here / "db" / "t")
    assert wh.relative_location(str(here / "db" / "t")) == "db/t"
    assert wh.relative_location(str(external)) == str(external)


def test_s3_warehouse_stores_locations_below_its_prefix(s3_client: Any) -> None:
    wh = open_warehouse("s3://lake/rel", s3_client=s3_client)
    catalog = LocalCatalog(wh)
    catalog.register("features.daily", "s3a://lake/rel/features/daily", schema={})
    catalog.register("raw.outside", "s3://elsewhere/raw/outside", schema={})
    stored = wh.read_json("_catalog/features.daily.json")
    assert stored["location"] == "features/daily"
    assert wh.read_json("_catalog/raw.outside.json")["location"] == "s3://elsewhere/raw/outside"
    assert catalog.get("features.daily").location == "s3://lake/rel/features/daily"
    moved = LocalCatalog(open_warehouse("s3://lake/rel", s3_client=s3_client))
    assert moved.get("raw.outside").location == "s3://elsewhere/raw/outside"
    assert wh.relative_location("s3://lake/relative/x") == "s3://lake/relative/x"


def test_a_relative_local_location_is_the_callers_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    catalog = LocalCatalog(Warehouse(tmp_path / "wh"))
    catalog.register("raw.a", "data/a", schema={}, format="csv")
    catalog.register("raw.b", "wh/raw/b", schema={})
    assert catalog.get("raw.a").location == str(tmp_path / "data" / "a")
    assert Warehouse(tmp_path / "wh").read_json("_catalog/raw.b.json")["location"] == "raw/b"
