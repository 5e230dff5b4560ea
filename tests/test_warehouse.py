from __future__ import annotations

from pathlib import Path

import pytest

from featurekit.errors import ConfigError, TableNotFoundError
from featurekit.tables.catalog import LocalCatalog
from featurekit.warehouse import Warehouse


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
    with pytest.raises(TableNotFoundError, match=r"Known tables: db\.t"):
        catalog.get("db.other")
