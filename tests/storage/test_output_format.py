"""A run never writes a table in the other format over one already at its location: the
project default turned to Iceberg (or --table-format) must not start a second table of
the run's rows only in a Delta table's folder, and the catalog must keep the Delta one."""

from __future__ import annotations

from pathlib import Path

import pytest

from featurekit import FeatureTable
from featurekit.errors import ConfigError
from featurekit.storage import Storage
from featurekit.tables.catalog import LocalCatalog
from featurekit.warehouse import Warehouse

TABLE = FeatureTable(
    "features.t", keys=("k",), date_column="d", columns={"k": "string", "d": "date"}
)


class DeltaThere:
    name = "delta-rs"

    def exists(self, path: str) -> bool:
        return True


def storage_with_a_delta_table(tmp_path: Path, table_format: str) -> tuple[Storage, str]:
    warehouse = Warehouse(tmp_path)
    storage = Storage(
        warehouse,
        LocalCatalog(warehouse),
        DeltaThere,
        table_format=table_format,  # type: ignore[arg-type]
    )
    location = storage.output_location(TABLE)
    storage.catalog.register("features.t", location, schema={}, format="delta")
    return storage, location


def test_writing_a_delta_table_as_iceberg_is_refused(tmp_path: Path) -> None:
    storage, location = storage_with_a_delta_table(tmp_path, "iceberg")
    with pytest.raises(ConfigError, match="is a Delta table, but this run writes it as iceberg"):
        storage.check_output_format(TABLE, location)


def test_the_same_format_or_a_new_table_is_written(tmp_path: Path) -> None:
    storage, location = storage_with_a_delta_table(tmp_path, "delta")
    storage.check_output_format(TABLE, location)  # the table's own format
    other = FeatureTable("features.new", keys=("k",), date_column="d",
                         columns={"k": "string", "d": "date"}, format="iceberg")  # fmt: skip
    storage.check_output_format(other, storage.output_location(other))  # nothing there yet
