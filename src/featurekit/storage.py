"""Storage: the one object a runtime holds for its tables.

Three ports in one place: the **warehouse** (where things live: tables, run records,
state), the **catalog** (which tables exist: the warehouse's own, or the Glue Data
Catalog) and the **table engine** (how Delta is read and committed: delta-spark or
delta-rs, chosen when first used). Adapters (the local, Glue and EMR runtimes, the Glue
emulation's GlueContext and its catalog calls) only choose these through
:func:`open_storage`, or share one already open; none rebuilds them.

Example::

    storage = open_storage(spark, warehouse="/tmp/wh", catalog="local")
    storage.location("features.daily")     # '/tmp/wh/features/daily' until registered
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.errors import ConfigError
from featurekit.warehouse import Warehouse, open_warehouse

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from featurekit.tables import TableEngine
    from featurekit.tables.catalogs import Catalog
    from featurekit.tables.glue_catalog import GlueCatalogConfig


class Storage:
    """The warehouse, the catalog and the table engine (made by ``engine`` on first use)."""

    def __init__(
        self, warehouse: Warehouse, catalog: Catalog, engine: Callable[[], TableEngine]
    ) -> None:
        self.warehouse = warehouse
        self.catalog = catalog
        self._make_engine = engine
        self._engine: Optional[TableEngine] = None

    def __repr__(self) -> str:
        return f"Storage({self.warehouse.uri}, {type(self.catalog).__name__})"

    @property
    def engine(self) -> TableEngine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def location(self, name: str) -> str:
        """Where table ``db.table`` is: its catalog entry, else the warehouse's default."""
        entry = self.catalog.find(name)
        if entry is not None:
            return self.warehouse.resolve(entry.location)
        return self.warehouse.table_location(name)


def open_storage(
    spark: SparkSession,
    *,
    warehouse: str,
    catalog: str = "local",
    glue_catalog: Optional[GlueCatalogConfig] = None,
    engine: str = "auto",
    s3_client: Any = None,
) -> Storage:
    """The storage of a warehouse folder or ``s3://`` prefix, the catalog ``catalog`` names
    (``local`` or ``glue``) and the table engine ``engine`` names (``auto``: by the classpath)."""
    from featurekit.tables.catalogs import open_catalog

    where = open_warehouse(warehouse, s3_client=s3_client)
    return Storage(
        where,
        open_catalog(catalog, where, glue_catalog),
        lambda: table_engine(spark, engine, where),
    )


def table_engine(spark: SparkSession, name: str, warehouse: Warehouse) -> TableEngine:
    """The engine ``name`` on ``spark``; an S3 warehouse needs delta-spark."""
    from featurekit.tables import select_engine

    engine = select_engine(spark, name)
    if warehouse.remote and engine.name != "delta-spark":
        raise ConfigError(
            f"The warehouse {warehouse.uri} is on S3, which featurekit writes "
            "through the delta-spark engine only: run where the Delta jars are on the "
            "classpath (Glue --datalake-formats delta, EMR delta-defaults), or use a "
            "local warehouse folder."
        )
    return engine
