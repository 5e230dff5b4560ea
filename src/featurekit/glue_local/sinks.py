"""``glueContext.getSink(...)``: the DataSink Glue Studio writes with, and catalog updates.

A sink writes files to S3 (the warehouse) and, with ``enableUpdateCatalog=True`` and
``setCatalogInfo(...)``, creates or updates the catalog table (see
:meth:`featurekit.glue_local.catalog.ScriptCatalog.update_from_sink`) and, with
``partitionKeys``, registers the partitions it finds under the path that the catalog
lacks, as Glue's sink adds new partitions.

Example::

    sink = glueContext.getSink(connection_type="s3", path="s3://b/out/",
                               enableUpdateCatalog=True, partitionKeys=["day"])
    sink.setCatalogInfo(catalogDatabase="db", catalogTableName="out")
    sink.setFormat("glueparquet", compression="snappy")
    sink.writeFrame(dyf)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional

import featurekit.glue_local.sources as sources
from featurekit.glue_local._support import check_keys, flag, unsupported

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.glue_local.context_port import ContextPort
    from featurekit.glue_local.dynamicframe import DynamicFrame

SINK_OPTIONS = ("path", "partitionKeys", "enableUpdateCatalog", "updateBehavior", "compression")


def write_s3(
    ctx: ContextPort,
    df: DataFrame,
    path: str,
    fmt: str,
    *,
    partition_keys: Sequence[str] = (),
    format_options: Optional[Mapping[str, Any]] = None,
) -> bool:
    """Append ``df`` under ``path``; False (nothing written) for a frame without fields,
    as Glue writes nothing for an empty source (a bookmarked run with no new data)."""
    if not df.columns:
        return False
    local = ctx.warehouse.resolve(path)
    sources.write_files(df, local, fmt, partition_keys=partition_keys, options=format_options)
    return True


def update_catalog(
    ctx: ContextPort,
    df: DataFrame,
    catalog: tuple[str, str],
    *,
    path: str,
    fmt: str,
    partition_keys: Sequence[str],
    behavior: str,
) -> None:
    if not df.columns:
        return
    entry = ctx.glue_catalog.update_from_sink(
        *catalog, df, location=path, format=fmt, partition_keys=partition_keys, behavior=behavior
    )
    if entry.partition_columns and entry.format != "delta":
        from featurekit.storage.crawl import scan_dataset

        found = scan_dataset(ctx.spark_session, ctx.warehouse, entry.location)
        if found.partitions == list(entry.partition_columns):
            ctx.storage.catalog.add_partitions(entry.name, found.partition_list())


class DataSink:
    """What ``GlueContext.getSink`` returns (connection_type ``s3``)."""

    def __init__(self, ctx: ContextPort, options: Mapping[str, Any]) -> None:
        check_keys("getSink option", options, SINK_OPTIONS)
        self._ctx = ctx
        self._options = dict(options)
        self._format = "json"
        self._format_options: dict[str, Any] = {}
        self._catalog: Optional[tuple[str, str]] = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        unsupported(
            f"DataSink.{name}", "setFormat, setCatalogInfo, writeFrame, writeDataFrame, write"
        )

    def setFormat(self, format: str, **options: Any) -> None:
        self._format = format
        self._format_options = options

    def setCatalogInfo(
        self, catalogDatabase: str, catalogTableName: str, catalogId: str = ""
    ) -> None:
        if catalogId:
            unsupported("setCatalogInfo(catalogId=...)", "the local catalog (no catalogId)")
        self._catalog = (catalogDatabase, catalogTableName)

    def setAccumulableSize(self, size: int) -> None:
        """Accepted: the accumulator size tunes Glue's metrics, never the data written."""

    def writeFrame(self, dynamic_frame: DynamicFrame, info: str = "") -> DynamicFrame:
        self._write(dynamic_frame._writable(self._format))
        return dynamic_frame

    def writeDataFrame(self, data_frame: DataFrame, glue_context: Any, info: str = "") -> DataFrame:
        self._write(data_frame)
        return data_frame

    def write(self, dynamic_frame_or_dfc: Any, info: str = "") -> Any:
        return self.writeFrame(dynamic_frame_or_dfc, info)

    def _write(self, df: DataFrame) -> None:
        options = self._options
        if "path" not in options:
            raise ValueError("getSink(connection_type='s3') needs path='s3://...'.")
        keys = list(options.get("partitionKeys") or [])
        fmt_options = {k: v for k, v in self._format_options.items()}
        if "compression" in options:
            fmt_options.setdefault("compression", options["compression"])
        write_s3(
            self._ctx,
            df,
            options["path"],
            self._format,
            partition_keys=keys,
            format_options=fmt_options,
        )
        if not flag(options.get("enableUpdateCatalog", False)):
            return
        if self._catalog is None:
            raise ValueError(
                "getSink(enableUpdateCatalog=True) needs sink.setCatalogInfo(catalogDatabase=..., "
                "catalogTableName=...) before writeFrame."
            )
        update_catalog(
            self._ctx,
            df,
            self._catalog,
            path=options["path"],
            fmt=self._format,
            partition_keys=keys,
            behavior=str(options.get("updateBehavior", "UPDATE_IN_DATABASE")),
        )
