"""The catalog port: which catalog a runtime uses, local or the Glue Data Catalog.

Both implement the same calls (``register``, ``find``, ``get``, ``exists``, ``list``,
``partitions``, ``add_partitions``;
``tests/tables/test_catalog_contract.py`` holds them to one contract)::

    catalog = open_catalog("glue", warehouse, GlueCatalogConfig(region="eu-west-1"))

``local`` keeps one JSON file per table in the warehouse; ``glue`` is the account's Glue
Data Catalog, shared with Glue jobs, EMR (with its Glue catalog integration) and Athena.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional, Protocol

from featurekit.errors import ConfigError
from featurekit.tables.catalog import CatalogEntry, LocalCatalog, Partition
from featurekit.tables.glue_catalog import GlueCatalog, GlueCatalogConfig
from featurekit.warehouse import Warehouse

CATALOGS = ("local", "glue")
# The Hive metastore client EMR and Glue use when the Glue Data Catalog is the metastore.
GLUE_METASTORE = "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"


class Catalog(Protocol):
    """What featurekit needs of a catalog."""

    def register(
        self,
        name: str,
        location: str,
        *,
        schema: dict[str, Any],
        partition_columns: Sequence[str] = (),
        description: str = "",
        keys: Sequence[str] = (),
        date_column: Optional[str] = None,
        format: str = "delta",
        options: Optional[dict[str, str]] = None,
        metadata_location: Optional[str] = None,
    ) -> CatalogEntry: ...

    def find(self, name: str) -> Optional[CatalogEntry]: ...

    def get(self, name: str) -> CatalogEntry: ...

    def exists(self, name: str) -> bool: ...

    def partitions(self, name: str) -> list[Partition]:
        """The registered partitions of a files table, sorted by values."""
        ...

    def add_partitions(self, name: str, partitions: Sequence[Partition]) -> list[Partition]:
        """Register the partitions not yet present (by values); returns those added."""
        ...

    def list(self) -> list[CatalogEntry]: ...


def open_catalog(
    kind: str, warehouse: Warehouse, glue: Optional[GlueCatalogConfig] = None
) -> Catalog:
    """The catalog ``kind`` names: ``local`` (in ``warehouse``) or ``glue``."""
    if kind == "local":
        return LocalCatalog(warehouse)
    if kind == "glue":
        return GlueCatalog(glue or GlueCatalogConfig())
    raise ConfigError(f"--catalog must be one of {', '.join(CATALOGS)}, got {kind!r}.")


def glue_metastore_enabled(spark_conf: dict[str, str]) -> bool:
    """True when Spark's Hive metastore is the Glue Data Catalog (EMR's integration)."""
    key = "spark.hadoop.hive.metastore.client.factory.class"
    return spark_conf.get(key, "") == GLUE_METASTORE
