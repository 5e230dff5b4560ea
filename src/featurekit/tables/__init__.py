"""Feature tables: the engine port, its engines (two for Delta, one for Iceberg), and
the local catalog.

``select_engine(spark)`` picks delta-spark when Delta's classes are on the
session's classpath and delta-rs (deltalake) otherwise; ``engine=`` forces one.
``iceberg_engine(spark)`` is the engine of Iceberg tables (Iceberg's Spark runtime).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.errors import ConfigError
from featurekit.io import TABLE_FORMATS
from featurekit.tables.catalog import CatalogEntry, LocalCatalog, Partition
from featurekit.tables.engine import (
    CommitResult,
    HistoryEntry,
    PartitionFilter,
    Staged,
    TableEngine,
    Txn,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from featurekit.tables.commits import CommitGuard

ENGINES = ("auto", "delta-spark", "delta-rs")
# Table formats a feature table is declared in; delta is the default.
FORMATS = TABLE_FORMATS

__all__ = [
    "ENGINES",
    "FORMATS",
    "CatalogEntry",
    "CommitResult",
    "HistoryEntry",
    "LocalCatalog",
    "Partition",
    "PartitionFilter",
    "Staged",
    "TableEngine",
    "Txn",
    "iceberg_engine",
    "select_engine",
]


def select_engine(
    spark: SparkSession,
    engine: str = "auto",
    *,
    guard: Optional[CommitGuard] = None,
    storage_options: Optional[Mapping[str, str]] = None,
    s3_client: Any = None,
) -> TableEngine:
    """The table engine for ``spark``: ``auto``, ``delta-spark`` or ``delta-rs``.

    ``guard`` is the commit lease every commit to a table on S3 holds
    (:mod:`featurekit.tables.commits`); ``storage_options`` and ``s3_client`` let delta-rs
    reach tables on S3 (deltalake's settings, and boto3 for the staged files).
    """
    from featurekit.tables.deltaspark import DeltaSparkEngine, delta_spark_available

    if engine not in ENGINES:
        raise ConfigError(f"Unknown table engine {engine!r}; use one of {', '.join(ENGINES)}.")
    if engine == "delta-spark" or (engine == "auto" and delta_spark_available(spark)):
        if not delta_spark_available(spark):
            raise ConfigError(
                "The delta-spark engine needs the Delta jars on the Spark classpath "
                "(Glue: --datalake-formats delta; EMR: delta-defaults; locally: "
                "FEATUREKIT_DELTA_JARS). Use engine 'delta-rs' where they are missing."
            )
        return DeltaSparkEngine(spark, guard=guard)
    from featurekit.tables.deltars import DeltaRsEngine
    from featurekit.tables.objects import S3Files

    options = dict(storage_options or {})
    files = S3Files(s3_client, options) if s3_client is not None else None
    return DeltaRsEngine(storage_options=options, s3_files=files, guard=guard)


def iceberg_engine(
    spark: SparkSession,
    *,
    guard: Optional[CommitGuard] = None,
    name_at: Optional[Callable[[str], str]] = None,
) -> TableEngine:
    """The Iceberg engine on ``spark``; a clear error when Iceberg's jar is missing. With
    Iceberg's GlueCatalog registered in the session (tables.iceberg_catalog) and
    ``name_at`` given, tables are kept there by name, else at their folder."""
    from featurekit.tables.iceberg import IcebergEngine
    from featurekit.tables.iceberg_catalog import CatalogTables, session_catalog
    from featurekit.tables.iceberg_java import iceberg_available

    if not iceberg_available(spark):
        raise ConfigError(
            "Iceberg tables need Iceberg's Spark runtime on the Spark classpath (Glue: "
            "--datalake-formats iceberg; EMR: iceberg-defaults; locally: "
            "LocalConfig(iceberg=True), or `featurekit jars --iceberg`)."
        )
    if name_at is not None and session_catalog(spark) is not None:
        return IcebergEngine(spark, guard=guard, tables=CatalogTables(spark, name_at))
    return IcebergEngine(spark, guard=guard)
