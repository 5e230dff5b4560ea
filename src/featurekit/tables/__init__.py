"""Feature tables: the engine port, its engines (two for Delta, one for Iceberg), and
the local catalog.

``select_engine(spark)`` picks delta-spark when Delta's classes are on the
session's classpath and delta-rs (deltalake) otherwise; ``engine=`` forces one.
``iceberg_engine(spark)`` is the engine of Iceberg tables (Iceberg's Spark runtime).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def select_engine(spark: SparkSession, engine: str = "auto") -> TableEngine:
    """The table engine for ``spark``: ``auto``, ``delta-spark`` or ``delta-rs``."""
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
        return DeltaSparkEngine(spark)
    from featurekit.tables.deltars import DeltaRsEngine

    return DeltaRsEngine()


def iceberg_engine(spark: SparkSession) -> TableEngine:
    """The Iceberg engine on ``spark``; a clear error when Iceberg's jar is missing."""
    from featurekit.tables.iceberg import IcebergEngine
    from featurekit.tables.iceberg_java import iceberg_available

    if not iceberg_available(spark):
        raise ConfigError(
            "Iceberg tables need Iceberg's Spark runtime on the Spark classpath (Glue: "
            "--datalake-formats iceberg; EMR: iceberg-defaults; locally: "
            "LocalConfig(iceberg=True), or `featurekit jars --iceberg`)."
        )
    return IcebergEngine(spark)
