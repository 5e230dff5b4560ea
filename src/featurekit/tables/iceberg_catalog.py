"""Iceberg tables kept in an Iceberg catalog of the Spark session (the Glue Data Catalog).

On S3 an Iceberg commit must swap the table's metadata pointer atomically, which a bare
S3 path cannot do. With the Glue Data Catalog, the local runtime registers Iceberg's
``GlueCatalog`` in the session as the Spark catalog ``featurekit_iceberg``
(:func:`glue_catalog_confs`; on Glue and EMR the plans of ``featurekit plan|deploy`` set
the same confs, featurekit.deploy.common.iceberg_confs), and the Iceberg engine
addresses each table by its name there (``featurekit_iceberg.db.table``) instead of its
folder: Iceberg's GlueCatalog creates the Glue entry (``table_type=ICEBERG``,
``metadata_location``) and moves its ``metadata_location`` on every commit, checking
Glue's table ``VersionId`` (an optimistic lock). Where the Glue API does not enforce that
check (moto's emulation), a DynamoDB commit coordinator also configures Iceberg's
``DynamoDbLockManager`` on a table of its own (``<TABLE>_iceberg_locks``).

Example::

    confs = glue_catalog_confs(warehouse="s3://bucket/wh", region="us-east-1",
                               coordinator=CommitCoordinator.parse("dynamodb:commits"))
    # -> spark.sql.catalog.featurekit_iceberg=org.apache.iceberg.spark.SparkCatalog, ...
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.errors import TableNotFoundError
from featurekit.tables.iceberg_java import iceberg_schema, jvm, new_table_properties

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

    from featurekit.tables.commits import CommitCoordinator

CATALOG = "featurekit_iceberg"
CATALOG_CONF = f"spark.sql.catalog.{CATALOG}"
GLUE_CATALOG_IMPL = "org.apache.iceberg.aws.glue.GlueCatalog"
LOCK_MANAGER = "org.apache.iceberg.aws.dynamodb.DynamoDbLockManager"
LOCK_TABLE_SUFFIX = "_iceberg_locks"


def glue_catalog_confs(
    *,
    warehouse: Optional[str] = None,
    region: Optional[str] = None,
    endpoint_url: Optional[str] = None,
    catalog_id: Optional[str] = None,
    dynamodb_endpoint: Optional[str] = None,
    coordinator: Optional[CommitCoordinator] = None,
) -> dict[str, str]:
    """The Spark confs registering Iceberg's GlueCatalog as ``featurekit_iceberg``.

    Files go through Hadoop's file system (S3A locally, EMRFS on EMR, Glue's on Glue), so
    one S3 setting serves Delta and Iceberg. ``coordinator`` ``dynamodb:TABLE`` adds
    Iceberg's DynamoDB lock manager on ``TABLE_iceberg_locks`` (created by Iceberg when
    missing: its key schema differs from Delta's LogStore table). Without ``warehouse``
    the catalog has no default location; featurekit's tables give theirs when created."""
    confs = {
        CATALOG_CONF: "org.apache.iceberg.spark.SparkCatalog",
        f"{CATALOG_CONF}.catalog-impl": GLUE_CATALOG_IMPL,
        f"{CATALOG_CONF}.io-impl": "org.apache.iceberg.hadoop.HadoopFileIO",
        # no cached tables: each commit starts from the catalog's current metadata
        f"{CATALOG_CONF}.cache-enabled": "false",
    }
    if warehouse:
        confs[f"{CATALOG_CONF}.warehouse"] = warehouse.rstrip("/")
    if region:
        confs[f"{CATALOG_CONF}.client.region"] = region
    if endpoint_url:
        confs[f"{CATALOG_CONF}.glue.endpoint"] = endpoint_url
    if catalog_id:
        confs[f"{CATALOG_CONF}.glue.id"] = catalog_id
    if coordinator is not None and coordinator.kind == "dynamodb":
        confs[f"{CATALOG_CONF}.lock-impl"] = LOCK_MANAGER
        confs[f"{CATALOG_CONF}.lock.table"] = f"{coordinator.table}{LOCK_TABLE_SUFFIX}"
        if dynamodb_endpoint:
            confs[f"{CATALOG_CONF}.dynamodb.endpoint"] = dynamodb_endpoint
    return confs


def session_catalog(spark: SparkSession) -> Optional[str]:
    """``featurekit_iceberg`` when the session has it registered, else None."""
    try:
        configured = spark.conf.get(CATALOG_CONF, None)
    except Exception:  # a session without the key on some Spark lines raises
        return None
    return CATALOG if configured else None


def _load_catalog(spark: SparkSession, java: Any, attempts: int = 4) -> Any:
    """The session's ``featurekit_iceberg`` catalog. Its DynamoDB lock manager creates
    the lock table on first use; two processes starting at once both try, and the
    second's create fails (the table is being created): loading again finds it."""
    spark_util = java.org.apache.iceberg.spark.Spark3Util
    for attempt in range(attempts):
        try:
            return spark_util.loadIcebergCatalog(spark._jsparkSession, CATALOG)
        except Exception as exc:  # py4j's error carries the Java stack
            if attempt == attempts - 1 or "DynamoDbLockManager" not in str(exc):
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")  # the loop returns or raises


class CatalogTables:
    """Iceberg tables by name in the session's ``featurekit_iceberg`` catalog; ``name_at``
    says which table (``db.table``) lives at a location."""

    def __init__(self, spark: SparkSession, name_at: Callable[[str], str]) -> None:
        self.spark = spark
        self.jvm = jvm(spark)
        self.name_at = name_at
        self.catalog = _load_catalog(spark, self.jvm)

    def _identifier(self, path: str) -> Any:
        # parse, not the varargs TableIdentifier.of, which py4j cannot call with strings
        return self.jvm.org.apache.iceberg.catalog.TableIdentifier.parse(self.name_at(path))

    def source(self, path: str) -> str:
        """What Spark's Iceberg source loads for the table at ``path``."""
        return f"{CATALOG}.{self.name_at(path)}"

    def exists(self, path: str) -> bool:
        return bool(self.catalog.tableExists(self._identifier(path)))

    def load(self, path: str) -> Any:
        if not self.exists(path):
            raise TableNotFoundError(f"No Iceberg table {self.source(path)} (at {path}).")
        return self.catalog.loadTable(self._identifier(path))

    def create(self, path: str, schema: StructType, partition_by: Sequence[str]) -> Any:
        """A new table named for ``path``, its files at ``path`` (its database created
        when missing)."""
        ident = self._identifier(path)
        namespace = ident.namespace()
        if not self.catalog.namespaceExists(namespace):
            self.catalog.createNamespace(namespace, self.jvm.java.util.HashMap())
        ischema = iceberg_schema(self.spark, schema)
        spec = self.jvm.org.apache.iceberg.PartitionSpec.builderFor(ischema)
        for column in partition_by:
            spec = spec.identity(column)
        builder = self.catalog.buildTable(ident, ischema).withPartitionSpec(spec.build())
        builder = builder.withLocation(path.rstrip("/"))
        return builder.withProperties(_java_map(self.jvm, new_table_properties())).create()

    def drop(self, path: str) -> None:
        self.catalog.dropTable(self._identifier(path), True)


def _java_map(gateway: Any, values: Mapping[str, str]) -> Any:
    result = gateway.java.util.HashMap()
    for key, value in values.items():
        result.put(key, value)
    return result
