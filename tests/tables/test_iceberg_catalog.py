"""Iceberg's GlueCatalog as the session's catalog: the confs a runtime sets, and which
table a location names (the S3 round trips are in tests/s3/test_s3_iceberg.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from featurekit.errors import ConfigError
from featurekit.runtime.local import LocalConfig, iceberg_catalog_confs
from featurekit.storage import Storage
from featurekit.tables import iceberg_catalog
from featurekit.tables.catalog import LocalCatalog
from featurekit.tables.commits import CommitCoordinator
from featurekit.tables.glue_catalog import GlueCatalogConfig
from featurekit.tables.iceberg_catalog import CATALOG_CONF, glue_catalog_confs
from featurekit.warehouse import Warehouse


def test_glue_catalog_confs_name_the_catalog_and_the_lock_manager_for_dynamodb() -> None:
    confs = glue_catalog_confs(
        warehouse="s3://b/wh/",
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:5000",
        dynamodb_endpoint="http://127.0.0.1:5000",
        coordinator=CommitCoordinator.parse("dynamodb:commits"),
    )
    assert confs[CATALOG_CONF] == "org.apache.iceberg.spark.SparkCatalog"
    assert confs[f"{CATALOG_CONF}.catalog-impl"] == "org.apache.iceberg.aws.glue.GlueCatalog"
    assert confs[f"{CATALOG_CONF}.warehouse"] == "s3://b/wh"
    assert confs[f"{CATALOG_CONF}.client.region"] == "eu-west-1"
    assert confs[f"{CATALOG_CONF}.glue.endpoint"] == "http://127.0.0.1:5000"
    assert confs[f"{CATALOG_CONF}.lock-impl"].endswith("DynamoDbLockManager")
    assert confs[f"{CATALOG_CONF}.lock.table"] == "commits_iceberg_locks"


@pytest.mark.parametrize("coordinator", ["none", "s3-conditional"])
def test_other_coordinators_add_no_lock_manager(coordinator: str) -> None:
    confs = glue_catalog_confs(
        warehouse="s3://b/wh", coordinator=CommitCoordinator.parse(coordinator)
    )
    assert not any("lock" in key for key in confs)


def test_a_local_runtime_registers_the_glue_catalog_only_for_iceberg_on_glue() -> None:
    glue = GlueCatalogConfig(region="us-east-1", endpoint_url="http://127.0.0.1:1")
    on_glue = LocalConfig(
        warehouse="s3://b/wh", catalog="glue", glue_catalog=glue, table_format="iceberg"
    )
    assert iceberg_catalog_confs(on_glue)[f"{CATALOG_CONF}.glue.endpoint"] == glue.endpoint_url
    assert iceberg_catalog_confs(LocalConfig(warehouse="s3://b/wh", table_format="iceberg")) == {}
    delta = LocalConfig(warehouse="s3://b/wh", catalog="glue", glue_catalog=glue)
    assert iceberg_catalog_confs(delta) == {}


def test_a_location_names_its_table_by_the_warehouse_layout_or_the_catalog(
    tmp_path: Path,
) -> None:
    where = Warehouse(tmp_path)
    catalog = LocalCatalog(where)
    storage = Storage(where, catalog, lambda: None)  # type: ignore[arg-type,return-value]
    assert storage.table_name_at(str(tmp_path / "features" / "daily")) == "features.daily"
    elsewhere = str(tmp_path / "custom" / "place" / "t")
    with pytest.raises(ConfigError, match="No table is registered"):
        storage.table_name_at(elsewhere)
    catalog.register("features.custom", elsewhere, schema={"type": "struct", "fields": []})
    assert storage.table_name_at(elsewhere) == "features.custom"


class _Util:
    """Spark3Util whose first loads fail as a second process's lock-table create does."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        self.calls = 0

    def loadIcebergCatalog(self, _session: object, name: str) -> str:
        self.calls += 1
        if self.failures:
            raise RuntimeError(self.failures.pop(0))
        return f"catalog {name}"


def _java(util: _Util) -> SimpleNamespace:
    return SimpleNamespace(
        org=SimpleNamespace(
            apache=SimpleNamespace(iceberg=SimpleNamespace(spark=SimpleNamespace(Spark3Util=util)))
        )
    )


LOST_CREATE = (
    "ResourceInUseException: Table already exists: commits_iceberg_locks\n"
    "\tat org.apache.iceberg.aws.dynamodb.DynamoDbLockManager.ensureLockTableExistsOrCreate"
)


def test_a_lock_table_created_by_another_process_meanwhile_is_loaded_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(iceberg_catalog.time, "sleep", lambda _s: None)
    util = _Util([LOST_CREATE])
    spark = SimpleNamespace(_jsparkSession=object())
    assert iceberg_catalog._load_catalog(spark, _java(util)) == "catalog featurekit_iceberg"
    assert util.calls == 2


def test_other_catalog_failures_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(iceberg_catalog.time, "sleep", lambda _s: None)
    util = _Util(["AccessDeniedException: glue:GetDatabase"])
    with pytest.raises(RuntimeError, match="AccessDenied"):
        iceberg_catalog._load_catalog(SimpleNamespace(_jsparkSession=object()), _java(util))
    assert util.calls == 1
    util = _Util([LOST_CREATE] * 4)
    with pytest.raises(RuntimeError, match="ResourceInUse"):
        iceberg_catalog._load_catalog(SimpleNamespace(_jsparkSession=object()), _java(util))
    assert util.calls == 4
