"""GlueContext on plain pyspark: readers and writers for S3 (the warehouse) and the local catalog.

Signatures follow awsglue 5.1 (``create_dynamic_frame.from_options(connection_type,
connection_options, format, format_options, transformation_ctx, push_down_predicate)``,
``from_catalog(database, table_name, redshift_tmp_dir, transformation_ctx,
push_down_predicate, additional_options, catalog_id)``, ...). A read with a
``transformation_ctx`` after ``Job.init`` with bookmarks enabled returns only new
data (see :mod:`featurekit.glue_local.bookmarks`).

Example::

    glueContext = GlueContext(SparkContext.getOrCreate())
    dyf = glueContext.create_dynamic_frame.from_options(
        "s3", {"paths": ["s3://bucket/in/"]}, "csv", {"withHeader": True},
        transformation_ctx="in")
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import featurekit.glue_local.connectors as connectors
import featurekit.glue_local.sources as sources
from featurekit.glue_local._support import SETTINGS, GlueLogger, check_keys, flag, unsupported
from featurekit.glue_local.bookmarks import BookmarkSession, BookmarkStore
from featurekit.glue_local.catalog import ScriptCatalog
from featurekit.glue_local.dynamicframe import DynamicFrame
from featurekit.glue_local.readers import Reader, Writer
from featurekit.glue_local.sinks import DataSink
from featurekit.storage import Storage
from featurekit.tables.catalog import CatalogEntry, LocalCatalog, Partition
from featurekit.warehouse import Warehouse, open_warehouse

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.glue_local.choices import Choices

SUPPORTED = (
    "spark_session",
    "create_dynamic_frame.from_options / from_catalog",
    "create_data_frame.from_options / from_catalog",
    "write_dynamic_frame.from_options / from_catalog",
    "create_dynamic_frame_from_options / _from_catalog",
    "create_data_frame_from_options / _from_catalog",
    "write_dynamic_frame_from_options / _from_catalog",
    "write_from_options",
    "currentTimeMillis",
    "getSink",
    "get_catalog_schema_as_spark_schema",
    "purge_s3_path",
    "get_logger",
    "extract_jdbc_conf",
    "write_dynamic_frame_from_jdbc_conf / write_from_jdbc_conf",
)
# groupFiles/groupSize tell Glue how to pack small files into tasks: no row depends on
# them, and locally Spark packs files itself (spark.sql.files.maxPartitionBytes)
S3_READ_OPTIONS = ("paths", "recurse", "groupFiles", "groupSize")
GROUP_FILES = ("inPartition", "none")
CATALOG_OPTIONS = ("jobBookmarkKeys", "jobBookmarkKeysSortOrder")


def _check_grouping(options: Mapping[str, Any]) -> None:
    """A ValueError for a groupFiles or groupSize Glue would refuse (they change no row)."""
    grouping = options.get("groupFiles")
    if grouping is not None and grouping not in GROUP_FILES:
        raise ValueError(
            f"connection_options['groupFiles'] is 'inPartition' or 'none', got {grouping!r}."
        )
    size = options.get("groupSize")
    if size is not None and not (str(size).isdigit() and int(size) > 0):
        raise ValueError(
            f"connection_options['groupSize'] is a number of bytes, e.g. '1048576', got {size!r}."
        )


def _storage(spark: Any, root: Optional[str], s3_client: Any) -> Storage:
    """The scripts' storage: under ``featurekit glue run`` the runtime's warehouse and
    catalog (a ``warehouse=`` option keeps the catalog, in another warehouse), else the
    warehouse's own local catalog; the engine is chosen by the classpath, as Glue's (and
    Iceberg tables are read and written by the Iceberg engine)."""
    from featurekit.tables import iceberg_engine, select_engine

    shared = SETTINGS.storage
    where = root or SETTINGS.warehouse
    if shared is not None and where == shared.warehouse.uri:
        warehouse = shared.warehouse
    else:
        warehouse = open_warehouse(where, s3_client=s3_client)
    catalog = shared.catalog if shared is not None else LocalCatalog(warehouse)
    table_format = shared.table_format if shared is not None else "delta"
    return Storage(
        warehouse,
        catalog,
        lambda: select_engine(spark),
        table_format=table_format,
        iceberg=lambda: iceberg_engine(spark),  # Iceberg tables in the catalog
    )


class GlueContext:
    """The Glue entry object: ``GlueContext(SparkContext.getOrCreate())``."""

    featurekit_emulation = True

    def __init__(self, sparkContext: Any = None, **options: Any) -> None:
        from pyspark.sql import SparkSession

        check_keys("GlueContext", options, ("warehouse",))
        if isinstance(sparkContext, SparkSession):
            self.spark_session = sparkContext
        else:
            self.spark_session = SparkSession.builder.getOrCreate()
        self.sparkSession = self.spark_session
        self._sc = self.spark_session.sparkContext
        self.featurekit_s3 = SETTINGS.s3
        client = SETTINGS.s3.client() if SETTINGS.s3 is not None else None
        self.storage = _storage(self.spark_session, options.get("warehouse"), client)
        self.glue_catalog = ScriptCatalog(self.storage.catalog)
        self.bookmarks = BookmarkStore(self.warehouse)
        self.session: Optional[BookmarkSession] = None  # set by Job.init
        self.create_dynamic_frame = Reader(self, dynamic=True)
        self.create_data_frame = Reader(self, dynamic=False)
        self.write_dynamic_frame = Writer(self)
        self._logger = GlueLogger()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        unsupported(f"GlueContext.{name}", ", ".join(SUPPORTED))

    @property
    def warehouse(self) -> Warehouse:
        return self.storage.warehouse

    @property
    def engine(self) -> Any:
        return self.storage.engine

    # -- awsglue's flat method names --------------------------------------------------
    def create_dynamic_frame_from_options(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        frame: DynamicFrame = self.create_dynamic_frame.from_options(*args, **kwargs)
        return frame

    def create_dynamic_frame_from_catalog(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        frame: DynamicFrame = self.create_dynamic_frame.from_catalog(*args, **kwargs)
        return frame

    def write_dynamic_frame_from_options(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        return self.write_dynamic_frame.from_options(*args, **kwargs)

    def write_dynamic_frame_from_catalog(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        return self.write_dynamic_frame.from_catalog(*args, **kwargs)

    def create_data_frame_from_options(self, *args: Any, **kwargs: Any) -> DataFrame:
        frame: DataFrame = self.create_data_frame.from_options(*args, **kwargs)
        return frame

    def create_data_frame_from_catalog(self, *args: Any, **kwargs: Any) -> DataFrame:
        frame: DataFrame = self.create_data_frame.from_catalog(*args, **kwargs)
        return frame

    def write_from_options(self, frame_or_dfc: DynamicFrame, *args: Any, **kwargs: Any) -> Any:
        return self.write_dynamic_frame.from_options(frame_or_dfc, *args, **kwargs)

    def currentTimeMillis(self) -> int:
        return int(time.time() * 1000)

    def getSink(
        self,
        connection_type: str,
        format: Optional[str] = None,
        transformation_ctx: str = "",
        **options: Any,
    ) -> DataSink:
        """A sink to S3: ``getSink(connection_type="s3", path=..., enableUpdateCatalog=...)``."""
        if connection_type != "s3":
            unsupported(f"getSink(connection_type={connection_type!r})", "connection_type='s3'")
        sink = DataSink(self, options)
        if format is not None:
            sink.setFormat(format)
        return sink

    def get_catalog_schema_as_spark_schema(
        self, database: Optional[str] = None, table_name: Optional[str] = None,
        catalog_id: Optional[str] = None,
    ) -> Any:  # fmt: skip
        if not database or not table_name or catalog_id is not None:
            raise ValueError("get_catalog_schema_as_spark_schema needs database and table_name.")
        return self.glue_catalog.schema(database, table_name)

    def extract_jdbc_conf(self, connection_name: str, catalog_id: Optional[str] = None) -> Any:
        """The connection's ``url``, ``fullUrl``, ``user``, ``password``, ``vendor`` (and
        ``driver``), from the connections of ``glue run`` (unmapped: the embedded database)."""
        if catalog_id is not None:
            unsupported("extract_jdbc_conf(catalog_id=...)", "the run's connections")
        return connectors.extract_jdbc_conf(self.spark_session, self.warehouse, connection_name)

    def write_dynamic_frame_from_jdbc_conf(self, frame: Any, *args: Any, **kwargs: Any) -> Any:
        return self.write_dynamic_frame.from_jdbc_conf(frame, *args, **kwargs)

    def write_from_jdbc_conf(self, frame_or_dfc: Any, *args: Any, **kwargs: Any) -> Any:
        return self.write_dynamic_frame.from_jdbc_conf(frame_or_dfc, *args, **kwargs)

    def get_logger(self) -> GlueLogger:
        return self._logger

    def purge_s3_path(
        self,
        s3_path: str,
        options: Optional[Mapping[str, Any]] = None,
        transformation_ctx: str = "",
    ) -> None:
        """Delete objects under ``s3_path`` older than ``retentionPeriod`` hours (default 168)."""
        options = dict(options or {})
        check_keys("purge_s3_path", options, ("retentionPeriod", "excludeStorageClasses"))
        if options.get("excludeStorageClasses"):
            unsupported("purge_s3_path excludeStorageClasses", "retentionPeriod")
        cutoff = time.time() - float(options.get("retentionPeriod", 168)) * 3600
        found = sources.list_objects(self.warehouse, s3_path, recurse=True)
        for local, mtime in found.values():
            if mtime < cutoff and self.warehouse.remote:
                bucket, _, key = local[len("s3://") :].partition("/")
                self.warehouse.client.delete_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
            elif mtime < cutoff:
                Path(local).unlink()

    # -- reading ----------------------------------------------------------------------
    def _read_options(
        self,
        connection_type: str,
        options: Mapping[str, Any],
        fmt: Optional[str],
        format_options: Mapping[str, Any],
        ctx: str,
        predicate: str,
        kwargs: Mapping[str, Any],
        dynamic: bool = False,
    ) -> tuple[DataFrame, Choices]:
        """The rows of a source; a DynamicFrame's (``dynamic``) with its choices."""
        check_keys("from_options", kwargs, ())
        if connection_type != "s3":
            if ctx and self.session is not None and self.session.active:
                unsupported(
                    f"Job bookmarks on connection_type={connection_type!r} "
                    f"(transformation_ctx={ctx!r})",
                    "bookmarks on S3 sources and catalog tables with jobBookmarkKeys",
                )
            df = connectors.read(self.spark_session, self.warehouse, connection_type, options)
            return (df.where(predicate) if predicate and df.columns else df), {}
        check_keys("connection_options", options, S3_READ_OPTIONS)
        _check_grouping(options)
        paths = options.get("paths")
        if not paths or isinstance(paths, str):
            raise ValueError("connection_options['paths'] must be a non-empty list of s3:// paths.")
        found: dict[str, tuple[str, float]] = {}
        for uri in paths:
            found.update(
                sources.list_objects(
                    self.warehouse, uri, recurse=flag(options.get("recurse", False))
                )
            )
        chosen = self._new_objects(ctx, found)
        spark, fmt = self.spark_session, fmt or "json"
        if dynamic:
            df, kinds = sources.read_records(spark, chosen, fmt, format_options)
        else:
            df, kinds = sources.read_files(spark, chosen, fmt, format_options), {}
        if not found:  # the format and its options were checked: now the buckets
            for uri in paths:
                sources.check_bucket(self.warehouse, uri)
        return (df.where(predicate) if predicate and df.columns else df), kinds

    def _new_objects(self, ctx: str, found: Mapping[str, tuple[str, float]]) -> list[str]:
        mtimes = {uri: mtime for uri, (_, mtime) in found.items()}
        uris = self.session.new_files(ctx, mtimes) if self.session else sorted(mtimes)
        return [found[u][0] for u in uris]

    def _read_catalog(
        self,
        db: str,
        table: str,
        ctx: str,
        predicate: str,
        additional: Mapping[str, Any],
        dynamic: bool = False,
    ) -> tuple[DataFrame, Choices]:
        """The rows of a catalog table; a DynamicFrame's (``dynamic``) with its choices."""
        check_keys("from_catalog additional_options", additional, CATALOG_OPTIONS)
        entry = self.glue_catalog.table(db, table)
        keys = list(additional.get("jobBookmarkKeys", []))
        if keys:
            df, kinds = self._table_frame(entry, None, dynamic, predicate)
            df = df.where(predicate) if predicate else df
            order = str(additional.get("jobBookmarkKeysSortOrder", "asc"))
            return self._read_keys(df, ctx, keys, order), kinds
        df, kinds = self._table_frame(entry, ctx, dynamic, predicate)
        return (df.where(predicate) if predicate and df.columns else df), kinds

    def _table_frame(
        self, entry: CatalogEntry, ctx: Optional[str], dynamic: bool, predicate: str = ""
    ) -> tuple[DataFrame, Choices]:
        if connectors.is_connection_table(entry):
            return connectors.read_catalog_table(self.spark_session, self.warehouse, entry), {}
        location = self.warehouse.resolve(entry.location)
        if entry.format in ("delta", "iceberg"):
            bookmarked = ctx and self.session is not None and self.session.active
            kind = entry.format.capitalize()
            if bookmarked:
                unsupported(
                    f"Job bookmarks on {kind} table {entry.name} (transformation_ctx={ctx!r})",
                    "bookmarks on S3 files, and on catalog tables with additional_options="
                    "{'jobBookmarkKeys': [...]} (Glue does not bookmark Delta or Iceberg "
                    "tables)",
                )
            df: DataFrame = self.storage.engine_at(location).read(self.spark_session, location)
            return df, {}
        prune = None
        if predicate and entry.partition_columns:  # as Glue: partitions pruned before listing
            spark_ = self.spark_session

            def prune(parts: list[Partition]) -> list[Partition]:
                return sources.prune_partitions(spark_, entry, parts, predicate)

        found = sources.table_objects(self.warehouse, self.storage.catalog, entry, prune)
        chosen = self._new_objects(ctx or "", found)
        options = _reader_options(entry)
        schema = _data_schema(entry) if entry.format in ("csv", "json") else None
        base = location if entry.partition_columns else None
        spark, fmt = self.spark_session, entry.format
        if not dynamic:
            return sources.read_files(
                spark, chosen, fmt, options, schema=schema, base_path=base
            ), {}
        return sources.read_records(
            spark, chosen, fmt, options, schema=schema, base_path=base,
            partitions=entry.partition_columns,
        )  # fmt: skip

    def _read_keys(self, df: DataFrame, ctx: str, keys: list[str], order: str) -> DataFrame:
        if order not in ("asc", "desc"):
            raise ValueError(f"jobBookmarkKeysSortOrder must be 'asc' or 'desc', got {order!r}.")
        if self.session is None or not ctx:
            return df
        after, up_to = self.session.key_bounds(ctx)
        df = sources.keys_filter(df, keys, order, after, up_to)
        if self.session.option == "job-bookmark-enable":
            df = df.cache()
            self.session.record_keys(ctx, keys, order, sources.last_key(df, keys, order))
        return df


def _data_schema(entry: CatalogEntry) -> Any:
    """The registered schema of a csv/json table (None when none is registered)."""
    from pyspark.sql.types import StructType

    return StructType.fromJson(entry.schema) if entry.schema.get("fields") else None


def _reader_options(entry: CatalogEntry) -> dict[str, Any]:
    """Glue format options from a files table's registered reader options (a crawler's
    csv ``header`` / ``sep``, json ``multiLine``); csv tables have a header unless told."""
    given = entry.options
    if entry.format == "csv":
        return {"withHeader": given.get("header", "true"), "separator": given.get("sep", ",")}
    if entry.format == "json" and "multiLine" in given:
        return {"multiLine": given["multiLine"]}
    return {}
