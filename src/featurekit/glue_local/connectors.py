"""Connection types besides S3: which module serves each, for sources, sinks and catalog tables.

The GlueContext's readers and writers hand every ``connection_type`` other than ``s3`` here:
the JDBC types (``postgresql``, ``mysql``, ``sqlserver``, ``oracle``, ``redshift``) to
:mod:`featurekit.glue_local.jdbc`, ``dynamodb`` to :mod:`featurekit.glue_local.dynamodb`;
any other type is refused naming these. The connections (a file of ``glue run``) come from
the emulation's settings; without them, unmapped JDBC connections use the embedded database
under the warehouse and DynamoDB has no endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import featurekit.glue_local.dynamodb as ddb
import featurekit.glue_local.jdbc as jdbc
from featurekit.errors import ConfigError
from featurekit.glue_local._support import SETTINGS, unsupported
from featurekit.glue_local.connections import JDBC_TYPES, Connections

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.tables.catalog import CatalogEntry
    from featurekit.warehouse import Warehouse

CONNECTION_TYPES = ("s3", *JDBC_TYPES, "dynamodb")
SUPPORTED = "connection_type " + ", ".join(repr(t) for t in CONNECTION_TYPES)


def connections(warehouse: Warehouse) -> Connections:
    """The run's connections; by default none mapped, embedded databases in the warehouse."""
    given: Optional[Connections] = SETTINGS.connections
    if given is not None:
        return given
    root = None if warehouse.remote else Path(warehouse.uri).expanduser().resolve() / "_jdbc"
    return Connections(jdbc_root=root)


def dynamodb_client(conns: Connections) -> Any:
    """A boto3 DynamoDB client on the run's local endpoint (dummy credentials)."""
    if conns.dynamodb_endpoint is None:
        raise ConfigError(
            "connection_type='dynamodb' needs a local DynamoDB endpoint: featurekit glue run "
            "starts one (moto's server), or set [dynamodb] endpoint_url in the connections file."
        )
    try:
        import boto3
    except ImportError as exc:
        from featurekit.errors import MissingDependencyError

        raise MissingDependencyError("boto3", "aws", "DynamoDB connections") from exc
    return boto3.client(
        "dynamodb",
        endpoint_url=conns.dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _check_type(connection_type: str) -> str:
    kind = connection_type.lower()
    if kind not in CONNECTION_TYPES:
        unsupported(f"connection_type={connection_type!r}", SUPPORTED)
    return kind


def read(
    spark: SparkSession, warehouse: Warehouse, connection_type: str, options: Mapping[str, Any]
) -> DataFrame:
    """A source of a connection type other than s3."""
    kind = _check_type(connection_type)
    conns = connections(warehouse)
    if kind == "dynamodb":
        return ddb.read_table(spark, dynamodb_client(conns), options)
    target = jdbc.options_target(conns, kind, options)
    return jdbc.read_table(spark, target, options.get("dbtable"), options)


def write(
    spark: SparkSession,
    warehouse: Warehouse,
    df: DataFrame,
    connection_type: str,
    options: Mapping[str, Any],
) -> None:
    """A sink of a connection type other than s3."""
    kind = _check_type(connection_type)
    conns = connections(warehouse)
    if kind == "dynamodb":
        ddb.write_table(dynamodb_client(conns), df, options)
        return
    target = jdbc.options_target(conns, kind, options)
    jdbc.write_table(spark, df, target, dbtable(options), options)


def dbtable(options: Mapping[str, Any]) -> str:
    """``connection_options['dbtable']`` of a JDBC sink (a ConfigError when missing)."""
    table = options.get("dbtable")
    if not table:
        raise ConfigError("A JDBC sink needs connection_options['dbtable'].")
    return str(table)


def write_jdbc_conf(
    spark: SparkSession,
    warehouse: Warehouse,
    frames: Mapping[str, DataFrame],
    connection: str,
    options: Mapping[str, Any],
    redshift_tmp_dir: str,
) -> None:
    """``from_jdbc_conf``: ``frames`` (table name -> rows) on Glue connection ``connection``.
    A connection the file does not map is the embedded database in PostgreSQL's dialect
    (Redshift's, when a ``redshift_tmp_dir`` says the target is Redshift)."""
    conns = connections(warehouse)
    vendor = "redshift" if redshift_tmp_dir or options.get("redshiftTmpDir") else None
    target = jdbc.connection_target(
        conns, connection, vendor=vendor, database=options.get("database")
    )
    for table, df in frames.items():
        jdbc.write_table(spark, df, target, table, options)


def extract_jdbc_conf(spark: SparkSession, warehouse: Warehouse, connection: str) -> dict[str, str]:
    """``glueContext.extract_jdbc_conf(name)``; the driver is made loadable for the script's
    own ``spark.read.jdbc`` (pass ``driver`` as Glue's docs do: ``conf['driver']`` is set)."""
    target = jdbc.connection_target(connections(warehouse), connection)
    jdbc.ensure_driver(spark, target)
    return {**jdbc.jdbc_conf(target), "driver": target.driver}


def is_connection_table(entry: CatalogEntry) -> bool:
    """A catalog table Glue reads through a connection (classification postgresql, ...)."""
    return entry.format in JDBC_TYPES or entry.format == "dynamodb"


def read_catalog_table(spark: SparkSession, warehouse: Warehouse, entry: CatalogEntry) -> DataFrame:
    """A JDBC-backed (or DynamoDB) catalog table: its connection, database and table."""
    conns = connections(warehouse)
    if entry.format == "dynamodb":
        options = {"dynamodb.input.tableName": _dynamodb_table(entry)}
        return ddb.read_table(spark, dynamodb_client(conns), options)
    target, dbtable = _jdbc_target(conns, entry)
    return jdbc.read_table(spark, target, dbtable, {})


def write_catalog_table(
    spark: SparkSession, warehouse: Warehouse, entry: CatalogEntry, df: DataFrame
) -> None:
    """``write_dynamic_frame.from_catalog`` to a JDBC-backed (or DynamoDB) catalog table."""
    conns = connections(warehouse)
    if entry.format == "dynamodb":
        options = {"dynamodb.output.tableName": _dynamodb_table(entry)}
        ddb.write_table(dynamodb_client(conns), df, options)
        return
    target, dbtable = _jdbc_target(conns, entry)
    jdbc.write_table(spark, df, target, dbtable, {})


def _dynamodb_table(entry: CatalogEntry) -> str:
    """A DynamoDB catalog table's DynamoDB table: its ``tableName``, else its location's name."""
    return str(entry.options.get("tableName") or Path(entry.location).name)


def _jdbc_target(conns: Connections, entry: CatalogEntry) -> tuple[jdbc.JdbcTarget, str]:
    """A JDBC catalog table's connection target (its Glue connection, mapped) and table."""
    name = entry.options.get("connectionName")
    if not name:
        raise ConfigError(
            f"Catalog table {entry.name} (classification {entry.format}) names no "
            "connectionName: register it with its Glue connection."
        )
    database, dbtable = _jdbc_location(entry)
    return jdbc.connection_target(conns, name, vendor=entry.format, database=database), dbtable


def _jdbc_location(entry: CatalogEntry) -> tuple[Optional[str], str]:
    """(database, table) of a JDBC table: ``db.schema.table`` (``db.table`` for MySQL)."""
    if entry.options.get("dbtable"):
        return entry.options.get("database") or None, entry.options["dbtable"]
    # the local catalog may have made the stored location a path: its last part is Glue's
    parts = Path(entry.location).name.split(".")
    if len(parts) >= 3 or (len(parts) == 2 and entry.format == "mysql"):
        return parts[0], ".".join(parts[1:])
    return None, ".".join(parts)
