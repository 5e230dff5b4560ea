"""Storage: the one seam for everything a run stores or reads.

Five parts behind one object: the **warehouse** (where things live), the **catalog**
(which tables exist: the warehouse's own, or the Glue Data Catalog), the **table engine**
(how Delta is read and committed: delta-spark or delta-rs, chosen when first used), the
**state store** (featurekit's incremental bookmarks and locks) and the **run records**.
Quality, quarantine, maintenance, incremental state and backfills take a ``Storage`` (and
a Spark session where they need one), never a runtime. Adapters (the local, Glue and EMR
runtimes, the Glue emulation's GlueContext) only choose these through :func:`open_storage`,
or share one already open; none rebuilds them.

Example::

    storage = open_storage(spark, warehouse="/tmp/wh", catalog="local")
    storage.location("features.daily")     # '/tmp/wh/features/daily' until registered
    storage.save_record(record)            # WAREHOUSE/_runs/<job>/<run id>.json
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.errors import ConfigError
from featurekit.storage.s3_state import S3StateStore
from featurekit.storage.state_store import LocalStateStore, StateStore
from featurekit.warehouse import Warehouse, open_warehouse

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from featurekit.io import FeatureTable
    from featurekit.runs import RunRecord
    from featurekit.tables import TableEngine
    from featurekit.tables.catalogs import Catalog
    from featurekit.tables.glue_catalog import GlueCatalogConfig


class Storage:
    """The warehouse, the catalog, the table engine (made by ``engine`` on first use), the
    state store (``state``: None = ``WAREHOUSE/_state``, or ``s3://bucket/prefix``) and the
    run records (``WAREHOUSE/_runs``)."""

    def __init__(
        self,
        warehouse: Warehouse,
        catalog: Catalog,
        engine: Callable[[], TableEngine],
        *,
        state: Optional[str] = None,
        s3_client: Any = None,
        table_format: str = "delta",
        iceberg: Optional[Callable[[], TableEngine]] = None,
    ) -> None:
        from featurekit.tables import FORMATS

        if table_format not in FORMATS:
            raise ConfigError(
                f"Unknown table format {table_format!r}; use one of {', '.join(FORMATS)}."
            )
        self.table_format = table_format
        self._make_iceberg = iceberg
        self._iceberg: Optional[TableEngine] = None
        self.warehouse = warehouse
        self.catalog = catalog
        self._make_engine = engine
        self._engine: Optional[TableEngine] = None
        self._state_location = state
        self._s3_client = s3_client
        self._state_store: Optional[StateStore] = None

    def __repr__(self) -> str:
        return f"Storage({self.warehouse.uri}, {type(self.catalog).__name__})"

    @property
    def engine(self) -> TableEngine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def format_of(self, table: FeatureTable) -> str:
        """The format ``table`` is written in: its own, else the storage's default."""
        return table.format or self.table_format

    def engine_for(self, table: FeatureTable) -> TableEngine:
        """The engine of ``table``'s format (Delta: ``engine``; Iceberg: Iceberg's)."""
        return self.engine_of(self.format_of(table))

    def engine_at(self, location: str) -> TableEngine:
        """The engine of the table at ``location``: Iceberg when an Iceberg table is there,
        else the Delta engine."""
        return self.engine_of("iceberg" if is_iceberg_table(location) else "delta")

    def engine_of(self, table_format: str) -> TableEngine:
        """The engine of a table format (``delta``: ``engine``; ``iceberg``: Iceberg's)."""
        if table_format != "iceberg":
            return self.engine
        if self._iceberg is None:
            if self._make_iceberg is None:
                raise ConfigError("This storage was opened without an Iceberg engine.")
            self._iceberg = self._make_iceberg()
        return self._iceberg

    def location(self, name: str) -> str:
        """Where table ``db.table`` is: its catalog entry, else the warehouse's default."""
        entry = self.catalog.find(name)
        if entry is not None:
            return self.warehouse.resolve(entry.location)
        return self.warehouse.table_location(name)

    def output_location(self, table: FeatureTable) -> str:
        """Where ``table`` is written: its declared path, else its catalog location."""
        if table.path:
            return self.warehouse.resolve(table.path)
        return self.location(table.name)

    def register_output(self, table: FeatureTable, location: str) -> None:
        """Register (or update) ``table`` at ``location`` in the catalog, with its schema."""
        table_format = self.format_of(table)
        schema = self.engine_of(table_format).schema(location)
        self.catalog.register(
            table.name,
            location,
            schema=schema.jsonValue() if schema is not None else {},
            partition_columns=table.partitions,
            description=table.description,
            keys=table.keys,
            date_column=table.date_column,
            format=table_format,
            metadata_location=self.metadata_location(table_format, location),
        )

    def metadata_location(self, table_format: str, location: str) -> Optional[str]:
        """An Iceberg table's current metadata file (None for Delta): the catalog entry
        names it, as Athena and Iceberg's GlueCatalog expect."""
        if table_format != "iceberg":
            return None
        from featurekit.tables.iceberg import IcebergEngine

        engine = self.engine_of("iceberg")
        return engine.metadata_location(location) if isinstance(engine, IcebergEngine) else None

    @property
    def state_store(self) -> StateStore:
        """The incremental state store (opened on first use)."""
        if self._state_store is None:
            self._state_store = open_state_store(
                self._state_location, self.warehouse, s3_client=self._s3_client
            )
        return self._state_store

    @state_store.setter
    def state_store(self, store: StateStore) -> None:
        self._state_store = store

    def save_record(self, record: RunRecord) -> str:
        """Store a run record as ``_runs/<job>/<run id>.json``; returns where."""
        path = self.warehouse.write_json(
            f"_runs/{record.job}/{record.run_id}.json", record.to_json()
        )
        return str(path)

    def run_records(self, job: str) -> list[dict[str, Any]]:
        """Every stored run record of ``job``, as stored (unordered)."""
        return [self.warehouse.read_json(n) for n in self.warehouse.list_json(f"_runs/{job}")]


def open_storage(
    spark: SparkSession,
    *,
    warehouse: str,
    catalog: str = "local",
    glue_catalog: Optional[GlueCatalogConfig] = None,
    engine: str = "auto",
    s3_client: Any = None,
    state: Optional[str] = None,
    table_format: str = "delta",
) -> Storage:
    """The storage of a warehouse folder or ``s3://`` prefix, the catalog ``catalog`` names
    (``local`` or ``glue``) and the table engine ``engine`` names (``auto``: by the classpath)."""
    from featurekit.tables.catalogs import open_catalog

    where = open_warehouse(warehouse, s3_client=s3_client)
    return Storage(
        where,
        open_catalog(catalog, where, glue_catalog),
        lambda: table_engine(spark, engine, where),
        state=state,
        s3_client=s3_client,
        table_format=table_format,
        iceberg=lambda: iceberg_engine(spark),
    )


def is_iceberg_table(location: str) -> bool:
    """True when ``location`` (a local folder) holds an Iceberg table and no Delta log."""
    from pathlib import Path

    if location.startswith(("s3://", "s3a://", "s3n://")):
        return False  # Iceberg tables on S3 live in the Glue Data Catalog, not at bare paths
    root = Path(location)
    metadata = root / "metadata"
    return (
        not (root / "_delta_log").is_dir()
        and metadata.is_dir()
        and any(metadata.glob("*.metadata.json"))
    )


def iceberg_engine(spark: SparkSession) -> TableEngine:
    from featurekit.tables import iceberg_engine as make

    return make(spark)


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


def open_state_store(
    location: Optional[str], warehouse: Warehouse, *, s3_client: Any = None
) -> StateStore:
    """The store at ``location``: None (the warehouse's ``_state``), ``s3://...`` or a folder.

    An S3 store uses ``s3_client``, else the S3 warehouse's client, else boto3's default.
    """
    if location is None and warehouse.remote:
        location = f"{warehouse.uri}/_state"
    if location is None:
        return LocalStateStore(warehouse.root / "_state")
    if location.startswith("s3://"):
        from featurekit.warehouse import S3Warehouse

        if s3_client is None and isinstance(warehouse, S3Warehouse):
            s3_client = warehouse.client
        if s3_client is not None:
            return S3StateStore(s3_client, location)
        return S3StateStore.from_uri(location)
    return LocalStateStore(warehouse.resolve(location))
