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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.storage.run_lease import LEASE_SECONDS
from featurekit.storage.s3_state import S3StateStore
from featurekit.storage.state_store import LocalStateStore, StateStore
from featurekit.tables.commits import CommitCoordinator, CommitGuard
from featurekit.tables.conflicts import CommitRetry
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
    ) -> None:
        self.warehouse = warehouse
        self.catalog = catalog
        self._make_engine = engine
        self._engine: Optional[TableEngine] = None
        self._state_location = state
        self._s3_client = s3_client
        self._state_store: Optional[StateStore] = None
        # seconds a run stays "alive" without renewing its lease (see run_lease)
        self.run_lease_seconds = LEASE_SECONDS

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

    def output_location(self, table: FeatureTable) -> str:
        """Where ``table`` is written: its declared path, else its catalog location."""
        if table.path:
            return self.warehouse.resolve(table.path)
        return self.location(table.name)

    def register_output(self, table: FeatureTable, location: str) -> None:
        """Register (or update) ``table`` at ``location`` in the catalog, with its schema."""
        schema = self.engine.schema(location)
        self.catalog.register(
            table.name,
            location,
            schema=schema.jsonValue() if schema is not None else {},
            partition_columns=table.partitions,
            description=table.description,
            keys=table.keys,
            date_column=table.date_column,
        )

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
        return self.store_record(record.to_json())

    def store_record(self, doc: dict[str, Any]) -> str:
        """Store a run record already made a document (``job`` and ``run_id`` name it)."""
        path = self.warehouse.write_json(f"_runs/{doc['job']}/{doc['run_id']}.json", doc)
        return str(path)

    def run_record(self, job: str, run_id: str) -> Optional[dict[str, Any]]:
        """The stored record of run ``run_id`` of ``job``, or None."""
        try:
            return dict(self.warehouse.read_json(f"_runs/{job}/{run_id}.json"))
        except FileNotFoundError:
            return None

    def run_records(self, job: str) -> list[dict[str, Any]]:
        """Every stored run record of ``job``, as stored (unordered)."""
        return [self.warehouse.read_json(n) for n in self.warehouse.list_json(f"_runs/{job}")]

    def recent_records(self, job: str, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` newest records of ``job`` (by run id: ids start with their time)."""
        names = self.warehouse.list_json(f"_runs/{job}")[-limit:]
        return [dict(self.warehouse.read_json(n)) for n in names]


def open_storage(
    spark: SparkSession,
    *,
    warehouse: str,
    catalog: str = "local",
    glue_catalog: Optional[GlueCatalogConfig] = None,
    engine: str = "auto",
    s3_client: Any = None,
    state: Optional[str] = None,
    commits: Optional[Commits] = None,
) -> Storage:
    """The storage of a warehouse folder or ``s3://`` prefix, the catalog ``catalog`` names
    (``local`` or ``glue``) and the table engine ``engine`` names (``auto``: by the classpath).
    ``commits`` says how writers of one table on S3 take turns (default: a second
    concurrent writer is refused; docs/s3.md)."""
    from featurekit.tables.catalogs import open_catalog

    where = open_warehouse(warehouse, s3_client=s3_client)
    settings = commits or Commits()
    return Storage(
        where,
        open_catalog(catalog, where, glue_catalog),
        lambda: table_engine(spark, engine, where, settings),
        state=state,
        s3_client=s3_client,
    )


@dataclass(frozen=True)
class Commits:
    """How commits to tables on S3 are coordinated: the coordinator (``none``,
    ``s3-conditional``, ``dynamodb:TABLE``), deltalake's S3 settings (endpoint, keys) and
    how to make a DynamoDB client (None: boto3's default)."""

    coordinator: CommitCoordinator = field(default_factory=CommitCoordinator)
    storage_options: Mapping[str, str] = field(default_factory=dict)
    dynamodb_client: Optional[Callable[[], Any]] = None
    # how a commit that conflicted with another writer is retried (tables.conflicts)
    retry: CommitRetry = field(default_factory=CommitRetry)


def table_engine(
    spark: SparkSession, name: str, warehouse: Warehouse, commits: Optional[Commits] = None
) -> TableEngine:
    """The engine ``name`` on ``spark``, every commit to a table on S3 under the table's
    commit lease (``commits.coordinator``)."""
    from featurekit.tables import select_engine
    from featurekit.warehouse import S3Warehouse

    commits = commits or Commits()
    s3_client = warehouse.client if isinstance(warehouse, S3Warehouse) else None
    guard = CommitGuard(
        commits.coordinator,
        s3_client=(lambda: s3_client) if s3_client is not None else None,
        dynamodb_client=commits.dynamodb_client,
        retry=commits.retry,
    )
    return select_engine(
        spark, name, guard=guard, storage_options=commits.storage_options, s3_client=s3_client
    )


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
