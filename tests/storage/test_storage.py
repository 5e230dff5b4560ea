"""Storage: the warehouse, the catalog and the table engine a runtime holds as one."""

from __future__ import annotations

from pathlib import Path

from featurekit.storage import Storage
from featurekit.tables.catalog import LocalCatalog
from featurekit.warehouse import Warehouse


def test_storage_places_tables_by_its_catalog_and_makes_its_engine_once(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    made: list[object] = []

    def engine() -> object:
        made.append(object())
        return made[-1]

    storage = Storage(warehouse, LocalCatalog(warehouse), engine)  # type: ignore[arg-type]
    assert made == []  # chosen on first use only
    assert storage.location("features.t") == str(tmp_path / "features" / "t")
    storage.catalog.register("features.t", "/elsewhere/t", schema={})
    assert storage.location("features.t") == "/elsewhere/t"
    assert storage.engine is storage.engine is made[0]
    assert len(made) == 1
