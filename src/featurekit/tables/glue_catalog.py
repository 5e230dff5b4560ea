"""The Glue Data Catalog as featurekit's catalog: the metadata Glue, EMR and Athena share.

Same interface as :class:`featurekit.tables.catalog.LocalCatalog` (``register``, ``find``,
``get``, ``exists``, ``list``, ``partitions``, ``add_partitions``), through boto3's
``glue`` client. boto3 is imported here only (featurekit's ``aws`` extra).

What a table and its partitions look like there: :mod:`featurekit.tables.glue_forms`.

Names follow Glue's rules: database and table names are lower-cased, hyphens and a
leading digit are allowed (``crime-database.04``).

Example::

    catalog = GlueCatalog(GlueCatalogConfig(region="us-east-1"))
    catalog.register("features.user_daily", "s3://bucket/wh/features/user_daily", schema=...)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from featurekit.errors import CatalogError, ConfigError, MissingDependencyError, TableNotFoundError
from featurekit.tables.catalog import (
    CatalogEntry,
    Partition,
    check_partition_values,
    new_entry,
    new_partitions,
    table_not_found,
)
from featurekit.tables.glue_forms import (
    FORMATS,
    entry_of,
    partition_input,
    split_name,
    table_input,
)

__all__ = ["GlueCatalog", "GlueCatalogConfig", "entry_of", "split_name", "table_input"]


@dataclass(frozen=True)
class GlueCatalogConfig:
    """Where the Glue Data Catalog is: region, endpoint (moto, LocalStack), catalog id."""

    region: Optional[str] = None
    endpoint_url: Optional[str] = None
    catalog_id: Optional[str] = None  # the account id; None: the caller's own catalog


class GlueCatalog:
    """Tables in the Glue Data Catalog (the same calls on Glue, EMR and locally)."""

    def __init__(self, config: GlueCatalogConfig, client: Any = None) -> None:
        self.config = config
        self._client = client

    @property
    def uri(self) -> str:
        where = self.config.endpoint_url or self.config.region or "the default region"
        return f"the Glue Data Catalog ({where})"

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import boto3
            except ImportError as exc:
                raise MissingDependencyError("boto3", "aws", "The Glue Data Catalog") from exc
            self._client = boto3.client(
                "glue", region_name=self.config.region, endpoint_url=self.config.endpoint_url
            )
        return self._client

    def _ids(self) -> dict[str, str]:
        return {"CatalogId": self.config.catalog_id} if self.config.catalog_id else {}

    def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(**self._ids(), **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "EntityNotFoundException":
                raise TableNotFoundError(f"{what}: not found in {self.uri}.") from exc
            raise CatalogError(f"{what} failed in {self.uri}: {exc}") from exc
        except BotoCoreError as exc:
            raise CatalogError(f"{what} failed in {self.uri}: {exc}") from exc

    def ensure_database(self, db: str) -> None:
        try:
            self._call(f"Database {db}", "get_database", Name=db)
        except TableNotFoundError:
            self._call(f"Creating database {db}", "create_database", DatabaseInput={"Name": db})

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
    ) -> CatalogEntry:
        """Create or update the table ``name`` (and its database)."""
        if format not in FORMATS:
            raise ConfigError(f"Format {format!r} is not one of {', '.join(FORMATS)}.")
        db, table = split_name(name)
        entry = new_entry(
            f"{db}.{table}", location, schema=schema, partition_columns=partition_columns,
            description=description, keys=keys, date_column=date_column, format=format,
            options=options, metadata_location=metadata_location,
        )  # fmt: skip
        self.ensure_database(db)
        existing = self.find(name)
        if existing is not None:
            request = table_input(entry, previous=existing.metadata_location)
            self._call(f"Updating {name}", "update_table", DatabaseName=db, TableInput=request)
        else:
            request = table_input(entry)
            self._call(f"Creating {name}", "create_table", DatabaseName=db, TableInput=request)
        return entry

    def find(self, name: str) -> Optional[CatalogEntry]:
        db, table = split_name(name)
        try:
            found = self._call(f"Table {name}", "get_table", DatabaseName=db, Name=table)
        except TableNotFoundError:
            return None
        return entry_of(db, found["Table"])

    def get(self, name: str) -> CatalogEntry:
        entry = self.find(name)
        if entry is None:
            raise table_not_found(
                name,
                [e.name for e in self.list()],
                self.uri,
                "--catalog-region, --catalog-endpoint and --catalog-id",
            )
        return entry

    def exists(self, name: str) -> bool:
        return self.find(name) is not None

    def partitions(self, name: str) -> list[Partition]:
        """The table's partitions (``GetPartitions``, every page), sorted by values."""
        db, table = split_name(name)
        found = self._pages("get_partitions", "Partitions", DatabaseName=db, TableName=table)
        return sorted(
            Partition(tuple(p["Values"]), p.get("StorageDescriptor", {}).get("Location", ""))
            for p in found
        )

    def add_partitions(self, name: str, partitions: Sequence[Partition]) -> list[Partition]:
        """``BatchCreatePartition`` (100 a call) for those of ``partitions`` not yet
        present, each with the table's storage descriptor at its own folder."""
        db, table = split_name(name)
        found = self._call(f"Table {name}", "get_table", DatabaseName=db, Name=table)["Table"]
        check_partition_values(entry_of(db, found), partitions)
        added = new_partitions(self.partitions(name), partitions)
        sd = found.get("StorageDescriptor", {})
        for start in range(0, len(added), 100):
            inputs = [partition_input(sd, p) for p in added[start : start + 100]]
            result = self._call(
                f"Adding partitions to {name}", "batch_create_partition",
                DatabaseName=db, TableName=table, PartitionInputList=inputs,
            )  # fmt: skip
            failed = [  # one registered meanwhile by someone else is fine
                e for e in result.get("Errors", [])
                if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"
            ]  # fmt: skip
            if failed:
                raise CatalogError(f"Adding partitions to {name} in {self.uri} failed: {failed}")
        return added

    def _pages(self, method: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        token: Optional[str] = None
        while True:
            page = self._call(
                f"Listing {key}", method, **kwargs, **({"NextToken": token} if token else {})
            )
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return

    def list(self) -> list[CatalogEntry]:
        entries = []
        for database in self._pages("get_databases", "DatabaseList"):
            db = database["Name"]
            entries += [
                entry_of(db, t) for t in self._pages("get_tables", "TableList", DatabaseName=db)
            ]
        return sorted(entries, key=lambda e: e.name)
