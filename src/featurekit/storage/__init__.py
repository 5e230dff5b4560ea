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

from featurekit.errors import ConfigError
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
        # seconds a run stays "alive" without renewing its lease (see run_lease)
        self.run_lease_seconds = LEASE_SECONDS

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

    def check_output_format(self, table: FeatureTable, location: str) -> None:
        """Refuse to write ``table`` in a format other than the one of the table already
        registered at ``location``: a write would start a second table of the other
        format in the same folder, holding only the run's rows, and the catalog entry
        would then point to it (the older table's rows out of sight)."""
        wanted = self.format_of(table)
        entry = self.catalog.find(table.name)
        if entry is None or (entry.format or "delta") == wanted:
            return
        if entry.format not in ("delta", "iceberg"):  # a files table (csv, parquet...)
            return
        if self.warehouse.resolve(entry.location).rstrip("/") != location.rstrip("/"):
            return
        if entry.format == "iceberg":  # no Iceberg runtime needed to look
            there = is_iceberg_table(location, s3_client=self._table_client())
        else:
            there = self.engine.exists(location)
        if not there:
            return
        raise ConfigError(
            f"{table.name} at {location} is a{'n' if entry.format == 'iceberg' else ''} "
            f"{entry.format.capitalize()} table, but this run writes it as {wanted} (the "
            "table's format=, else --table-format, FEATUREKIT_TABLE_FORMAT or table_format "
            "in pyproject.toml). featurekit does not convert a table: declare "
            f"FeatureTable(..., format={entry.format!r}) to keep writing it, or write the "
            f"{wanted} table under another name. Nothing was written."
        )

    def engine_at(self, location: str) -> TableEngine:
        """The engine of the table at ``location``: Iceberg when an Iceberg table is there,
        else the Delta engine."""
        found = is_iceberg_table(location, s3_client=self._table_client())
        return self.engine_of("iceberg" if found else "delta")

    def _table_client(self) -> Any:
        from featurekit.warehouse import S3Warehouse

        if isinstance(self.warehouse, S3Warehouse):
            return self.warehouse.client
        return self._s3_client

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

    def table_name_at(self, location: str) -> str:
        """The table (``db.table``) at ``location``: ``WAREHOUSE/db/table``, else the
        catalog entry there."""
        relative = self.warehouse.relative_location(location).strip("/")
        parts = relative.split("/")
        if relative != location and len(parts) == 2 and all(parts):
            return ".".join(parts)
        wanted = self.warehouse.resolve(location).rstrip("/")
        for entry in self.catalog.list():
            if self.warehouse.resolve(entry.location).rstrip("/") == wanted:
                return entry.name
        raise ConfigError(
            f"No table is registered at {location}: an Iceberg table in a catalog lives at "
            "WAREHOUSE/DATABASE/TABLE or is registered in the catalog first."
        )

    def register_output(self, table: FeatureTable, location: str) -> None:
        """Register (or update) ``table`` at ``location`` in the catalog, with its schema.
        An Iceberg table's entry names its current metadata file, so it is updated under
        the table's commit lease (no other featurekit commit moves it meanwhile)."""
        table_format = self.format_of(table)
        engine = self.engine_of(table_format)
        guard = getattr(engine, "guard", None) if table_format == "iceberg" else None
        if guard is None:
            self._register(table, location, table_format)
            return
        with guard.hold(location) as lease:
            lease.check()
            self._register(table, location, table_format)

    def _register(self, table: FeatureTable, location: str, table_format: str) -> None:
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
    table_format: str = "delta",
    commits: Optional[Commits] = None,
) -> Storage:
    """The storage of a warehouse folder or ``s3://`` prefix, the catalog ``catalog`` names
    (``local`` or ``glue``) and the table engine ``engine`` names (``auto``: by the classpath).
    ``commits`` says how writers of one table on S3 take turns (default: a second
    concurrent writer is refused; docs/s3.md)."""
    from featurekit.tables.catalogs import open_catalog

    where = open_warehouse(warehouse, s3_client=s3_client)
    settings = commits or Commits()
    made = Storage(
        where,
        open_catalog(catalog, where, glue_catalog),
        lambda: table_engine(spark, engine, where, settings),
        state=state,
        s3_client=s3_client,
        table_format=table_format,
        iceberg=lambda: iceberg_engine(spark, where, settings, name_at=made.table_name_at),
    )
    return made


def is_iceberg_table(location: str, *, s3_client: Any = None) -> bool:
    """True when ``location`` holds an Iceberg table (``metadata/*.metadata.json``) and no
    Delta log; on S3 it asks ``s3_client`` (False without one)."""
    from pathlib import Path

    if location.startswith(("s3://", "s3a://", "s3n://")):
        return s3_client is not None and _iceberg_on_s3(location, s3_client)
    root = Path(location)
    metadata = root / "metadata"
    return (
        not (root / "_delta_log").is_dir()
        and metadata.is_dir()
        and any(metadata.glob("*.metadata.json"))
    )


def _iceberg_on_s3(location: str, client: Any) -> bool:
    bucket, _, prefix = location.split("://", 1)[1].partition("/")
    prefix = prefix.strip("/")

    def keys(folder: str) -> list[str]:
        listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/{folder}/", MaxKeys=50)
        return [str(o["Key"]) for o in listed.get("Contents", [])]

    if keys("_delta_log"):
        return False
    return any(k.endswith(".metadata.json") for k in keys("metadata"))


def iceberg_engine(
    spark: SparkSession,
    warehouse: Warehouse,
    commits: Optional[Commits] = None,
    *,
    name_at: Optional[Callable[[str], str]] = None,
) -> TableEngine:
    """The Iceberg engine on ``spark``, its commits to tables on S3 under the same commit
    lease as the Delta engines' (``commits.coordinator``). When the session has Iceberg's
    GlueCatalog registered (``featurekit_iceberg``, see tables.iceberg_catalog), tables are
    addressed by name there (``name_at``: the table at a location), else by folder."""
    from featurekit.tables import iceberg_engine as make

    return make(spark, guard=commit_guard(warehouse, commits or Commits()), name_at=name_at)


def commit_guard(warehouse: Warehouse, commits: Commits) -> CommitGuard:
    """The commit lease every engine of this storage takes around a commit on S3."""
    from featurekit.warehouse import S3Warehouse

    s3_client = warehouse.client if isinstance(warehouse, S3Warehouse) else None
    return CommitGuard(
        commits.coordinator,
        s3_client=(lambda: s3_client) if s3_client is not None else None,
        dynamodb_client=commits.dynamodb_client,
        retry=commits.retry,
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
    guard = commit_guard(warehouse, commits)
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
