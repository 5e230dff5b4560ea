"""The ``create_dynamic_frame`` / ``create_data_frame`` / ``write_dynamic_frame`` objects.

Their ``from_options`` / ``from_catalog`` methods have awsglue 5.1's signatures and
hand the work to the GlueContext (reading, bookmarks) and to ``sources`` (writing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

import featurekit.glue_local.connectors as connectors
from featurekit.glue_local._support import check_keys, flag, unsupported
from featurekit.glue_local.dynamicframe import DynamicFrame, DynamicFrameCollection
from featurekit.glue_local.sinks import update_catalog, write_s3

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.glue_local.choices import Choices
    from featurekit.glue_local.context_port import ContextPort


def _database(call: str, database: Optional[str], kwargs: dict[str, Any]) -> str:
    if database is not None and "name_space" in kwargs:
        raise ValueError(f"{call}: give database or name_space, not both.")
    db = kwargs.pop("name_space", database)
    if db is None:
        raise ValueError(f"{call}: parameter database (or name_space) is missing.")
    if kwargs:
        unsupported(
            f"{call} argument {sorted(kwargs)[0]!r}", "database/name_space, table_name, ..."
        )
    return str(db)


CATALOG_WRITE = ("enableUpdateCatalog", "updateBehavior", "partitionKeys")


class Reader:
    def __init__(self, ctx: ContextPort, dynamic: bool) -> None:
        self._ctx, self._dynamic = ctx, dynamic

    def _out(self, read: tuple[DataFrame, Choices], name: str) -> Any:
        df, kinds = read
        return DynamicFrame(df, self._ctx, name, choices=kinds) if self._dynamic else df

    def from_options(
        self,
        connection_type: str,
        connection_options: Optional[Mapping[str, Any]] = None,
        format: Optional[str] = None,
        format_options: Optional[Mapping[str, Any]] = None,
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        **kwargs: Any,
    ) -> Any:
        read = self._ctx._read_options(
            connection_type, connection_options or {}, format, format_options or {},
            transformation_ctx, push_down_predicate, kwargs, dynamic=self._dynamic,
        )  # fmt: skip
        return self._out(read, transformation_ctx)

    def from_catalog(
        self,
        database: Optional[str] = None,
        table_name: Optional[str] = None,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        additional_options: Optional[Mapping[str, Any]] = None,
        catalog_id: Optional[str] = None,
        **kwargs: Any,
    ) -> Any:
        db = _database("from_catalog", database, dict(kwargs))
        if table_name is None:
            raise ValueError("from_catalog: parameter table_name is missing.")
        if catalog_id is not None:
            unsupported("from_catalog(catalog_id=...)", "the local catalog (catalog_id=None)")
        read = self._ctx._read_catalog(
            db, table_name, transformation_ctx, push_down_predicate, additional_options or {},
            dynamic=self._dynamic,
        )  # fmt: skip
        return self._out(read, f"{db}.{table_name}")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        unsupported(f"create_dynamic_frame.{name}", "from_options, from_catalog")


class Writer:
    def __init__(self, ctx: ContextPort) -> None:
        self._ctx = ctx

    def from_options(
        self,
        frame: DynamicFrame,
        connection_type: str,
        connection_options: Optional[Mapping[str, Any]] = None,
        format: Optional[str] = None,
        format_options: Optional[Mapping[str, Any]] = None,
        transformation_ctx: str = "",
    ) -> DynamicFrame:
        options = dict(connection_options or {})
        if connection_type != "s3":
            connectors.write(
                self._ctx.spark_session, self._ctx.warehouse, frame.toDF(), connection_type, options
            )
            return frame
        check_keys("write connection_options", options, ("path", "partitionKeys", "compression"))
        if "path" not in options:
            raise ValueError("write_dynamic_frame.from_options needs connection_options['path'].")
        fmt_options = dict(format_options or {})
        if "compression" in options:
            fmt_options.setdefault("compression", options["compression"])
        write_s3(
            self._ctx, frame._writable(format or "json"), options["path"], format or "json",
            partition_keys=options.get("partitionKeys") or (), format_options=fmt_options,
        )  # fmt: skip
        return frame

    def from_catalog(
        self,
        frame: DynamicFrame,
        database: Optional[str] = None,
        table_name: Optional[str] = None,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        additional_options: Optional[Mapping[str, Any]] = None,
        catalog_id: Optional[str] = None,
        **kwargs: Any,
    ) -> DynamicFrame:
        db = _database("write_dynamic_frame.from_catalog", database, dict(kwargs))
        if table_name is None:
            raise ValueError("write_dynamic_frame.from_catalog: parameter table_name is missing.")
        options = dict(additional_options or {})
        check_keys("write_dynamic_frame.from_catalog additional_options", options, CATALOG_WRITE)
        if catalog_id is not None:
            unsupported("write_dynamic_frame.from_catalog(catalog_id=...)", "the local catalog")
        entry = self._ctx.glue_catalog.table(db, table_name)
        if connectors.is_connection_table(entry):
            check_keys("from_catalog (a connection's table) additional_options", options, ())
            spark, warehouse = self._ctx.spark_session, self._ctx.warehouse
            connectors.write_catalog_table(spark, warehouse, entry, frame._writable("jdbc"))
            return frame
        df = frame._writable(entry.format)
        keys = list(options.get("partitionKeys") or entry.partition_columns)
        if entry.format in ("delta", "iceberg"):
            if df.columns:
                location = self._ctx.warehouse.resolve(entry.location)
                engine = self._ctx.storage.engine_at(location)
                # an Iceberg commit checks the write's partitioning against the table's
                parts = entry.partition_columns if entry.format == "iceberg" else ()
                engine.write(df, location, mode="append", partition_by=parts)
            return frame
        write_s3(self._ctx, df, entry.location, entry.format, partition_keys=keys)
        if flag(options.get("enableUpdateCatalog", False)):
            behavior = str(options.get("updateBehavior", "UPDATE_IN_DATABASE"))
            update_catalog(self._ctx, df, (db, table_name), path=entry.location,
                           fmt=entry.format, partition_keys=keys, behavior=behavior)  # fmt: skip
        return frame

    def from_jdbc_conf(
        self,
        frame: Any,
        catalog_connection: str,
        connection_options: Optional[Mapping[str, Any]] = None,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        catalog_id: Optional[str] = None,
    ) -> Any:
        """Append ``frame`` to ``connection_options['dbtable']`` on the Glue connection (a
        DynamicFrameCollection: each frame to the table of its name, as Glue's useFrameName)."""
        if catalog_id is not None:
            unsupported("from_jdbc_conf(catalog_id=...)", "the run's connections")
        options = dict(connection_options or {})
        if isinstance(frame, DynamicFrameCollection):
            frames = {name: frame.select(name).toDF() for name in frame.keys()}  # noqa: SIM118
        elif isinstance(frame, DynamicFrame):
            frames = {connectors.dbtable(options): frame.toDF()}
        else:
            raise TypeError(
                f"frame must be a DynamicFrame or DynamicFrameCollection, got {type(frame)}."
            )
        connectors.write_jdbc_conf(
            self._ctx.spark_session, self._ctx.warehouse, frames, catalog_connection,
            options, redshift_tmp_dir,
        )  # fmt: skip
        return frame

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        unsupported(f"write_dynamic_frame.{name}", "from_options, from_catalog, from_jdbc_conf")
