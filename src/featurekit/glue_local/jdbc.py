"""JDBC sources and sinks of the emulated GlueContext: a mapped database, or an embedded H2.

Glue resolves a connection name to a JDBC URL and credentials (``from_jdbc_conf``,
``useConnectionProperties``, a JDBC-backed catalog table, ``extract_jdbc_conf``); here the
:class:`~featurekit.glue_local.connections.Connections` of ``glue run`` do. An unmapped
connection is an H2 database in a file under ``WAREHOUSE/_jdbc/CONNECTION/DATABASE``, in
the compatibility mode of its engine (Redshift: PostgreSQL), so scripts run end to end with
no server. H2's driver is resolved from Maven Central once (Ivy's cache) and added to the
running session when first needed; another engine's driver must be on the classpath
(``--extra-jars``), as Glue ships its own.

Example::

    target = connection_target(conns, "redshift", vendor="redshift", database="dev")
    write_table(spark, df, target, "public.orders", {})
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from featurekit.errors import ConfigError, InputError
from featurekit.glue_local._support import check_keys
from featurekit.glue_local.connections import H2_MODES, Connections

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

H2_COORDINATE = "com.h2database:h2:2.5.252"
DRIVERS = {
    "h2": "org.h2.Driver",
    "postgresql": "org.postgresql.Driver",
    "redshift": "com.amazon.redshift.jdbc42.Driver",
    "mysql": "com.mysql.cj.jdbc.Driver",
    "sqlserver": "com.microsoft.sqlserver.jdbc.SQLServerDriver",
    "oracle": "oracle.jdbc.OracleDriver",
}
# from_options(connection_type=<a JDBC type>) options the emulation honours.
READ_OPTIONS = (
    "url", "user", "password", "dbtable", "database", "useConnectionProperties",
    "connectionName", "redshiftTmpDir", "aws_iam_role", "sampleQuery", "hashfield",
    "hashexpression", "hashpartitions", "enablePartitioningForSampleQuery", "sampleSize",
)  # fmt: skip
WRITE_OPTIONS = (
    "url", "user", "password", "dbtable", "database", "useConnectionProperties",
    "connectionName", "redshiftTmpDir", "aws_iam_role", "preactions", "postactions",
    "bulkSize", "extracopyoptions", "tempformat",
)  # fmt: skip
# Accepted and without effect here: Redshift's S3 staging (COPY/UNLOAD through the temporary
# directory and its IAM role) and read parallelism (the same rows come back).
STAGING_ONLY = ("redshiftTmpDir", "aws_iam_role", "extracopyoptions", "tempformat")


@dataclass(frozen=True)
class JdbcTarget:
    """Where a JDBC read or write goes: URL, credentials, the driver class."""

    url: str
    vendor: str  # postgresql, mysql, ..., or h2 for a literal H2 URL
    user: str = ""
    password: str = field(default="", repr=False)
    embedded: bool = False  # the H2 stand-in (schemas are created on write)

    @property
    def driver(self) -> str:
        return DRIVERS["h2" if self.url.startswith("jdbc:h2:") else self.vendor]

    def properties(self) -> dict[str, str]:
        return {"user": self.user, "password": self.password, "driver": self.driver}


def url_vendor(url: str) -> str:
    """``jdbc:postgresql://h/db`` -> ``postgresql``."""
    found = re.match(r"jdbc:([a-z0-9]+):", url)
    if found is None or found.group(1) not in DRIVERS:
        raise ConfigError(
            f"JDBC URL {url!r}: featurekit knows the engines {', '.join(sorted(DRIVERS))}."
        )
    return found.group(1)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "default"


def embedded_url(conns: Connections, folder: str, vendor: str, database: Optional[str]) -> str:
    """The H2 database standing in for ``folder`` (a connection name, or a URL's host)."""
    if conns.jdbc_root is None:
        raise ConfigError(
            f"JDBC connection {folder!r} is not mapped and the warehouse is on S3, where no "
            "embedded database can live: map it to a JDBC URL in the connections file "
            "(glue run --connections FILE)."
        )
    mode = H2_MODES.get(vendor, "PostgreSQL")
    path = (conns.jdbc_root / _safe(folder) / _safe(database or "default")).as_posix()
    lower = ";DATABASE_TO_LOWER=TRUE" if mode in ("PostgreSQL", "MySQL") else ""
    order = ";DEFAULT_NULL_ORDERING=HIGH" if mode == "PostgreSQL" else ""
    return f"jdbc:h2:file:{path};MODE={mode}{lower}{order}"


def connection_target(
    conns: Connections, name: str, *, vendor: Optional[str] = None, database: Optional[str] = None
) -> JdbcTarget:
    """The target of Glue connection ``name`` (``database`` replaces the URL's database)."""
    conn = conns.connection(name)
    if conn.url is None:
        kind = conn.type or vendor or "postgresql"
        return JdbcTarget(embedded_url(conns, name, kind, database), kind, "sa", "", True)
    url = _with_database(conn.url, database) if database else conn.url
    return JdbcTarget(url, conn.type or url_vendor(conn.url), conn.user, conn.password)


def _with_database(url: str, database: str) -> str:
    """``jdbc:postgresql://h:5432/old?x`` with database ``new``; an H2 URL's file name."""
    if url.startswith("jdbc:h2:"):
        head, sep, settings = url.partition(";")
        return f"{head.rsplit('/', 1)[0]}/{_safe(database)}{sep}{settings}"
    found = re.match(r"(jdbc:[a-z0-9]+://[^/?;]+)(/[^?;]*)?(.*)$", url)
    if found is None:
        return url
    return f"{found.group(1)}/{database}{found.group(3)}"


def url_target(conns: Connections, vendor: str, url: str, user: str, password: str) -> JdbcTarget:
    """A script's literal URL: mapped by the file's ``[urls]``, kept when it is local or H2,
    else the embedded stand-in for its host and database."""
    if url in conns.urls:
        mapped = conns.urls[url]
        return JdbcTarget(mapped, url_vendor(mapped), user, password)
    if url.startswith("jdbc:h2:"):
        return JdbcTarget(url, "h2", user, password)
    found = re.match(r"jdbc:[a-z0-9]+://([^/:?;]+)(?::\d+)?(?:/([^?;]*))?", url)
    host = found.group(1) if found else ""
    if host in ("localhost", "127.0.0.1", "::1", "[::1]"):
        return JdbcTarget(url, vendor, user, password)
    database = (found.group(2) or None) if found else None
    return JdbcTarget(embedded_url(conns, host or vendor, vendor, database), vendor, "sa", "", True)


def options_target(
    conns: Connections, connection_type: str, options: Mapping[str, Any]
) -> JdbcTarget:
    """The target of ``from_options(connection_type=..., connection_options=...)``."""
    database = options.get("database")
    if str(options.get("useConnectionProperties", "false")).lower() == "true":
        name = options.get("connectionName")
        if not name:
            raise ConfigError("useConnectionProperties needs connection_options['connectionName'].")
        return connection_target(conns, str(name), vendor=connection_type, database=database)
    if options.get("connectionName") and not options.get("url"):
        return connection_target(
            conns, str(options["connectionName"]), vendor=connection_type, database=database
        )
    url = options.get("url")
    if not url:
        raise ConfigError(
            f"connection_type={connection_type!r} needs connection_options 'url', 'user', "
            "'password' (or useConnectionProperties with connectionName)."
        )
    given = url_target(
        conns, connection_type, str(url), str(options.get("user", "")),
        str(options.get("password", "")),
    )  # fmt: skip
    return given


def ensure_driver(spark: SparkSession, target: JdbcTarget) -> None:
    """The target's driver loadable by this thread's class loader; H2's is resolved and added
    to the session (``ADD JAR``) when it is not; another missing one is a ConfigError."""
    if _loadable(spark, target.driver):
        return
    if target.driver != DRIVERS["h2"]:
        raise ConfigError(
            f"The JDBC driver {target.driver} ({target.vendor}) is not on the session's "
            "classpath: pass its jar to glue run with --extra-jars (Glue provides it), or "
            "leave the connection unmapped to use the embedded database."
        )
    from featurekit.core import jars

    for jar in jars.resolve([H2_COORDINATE]):
        spark.sql(f"ADD JAR '{jar}'")


def _jvm(spark: SparkSession) -> Any:
    jvm = spark.sparkContext._jvm
    if jvm is None:
        raise ConfigError("The SparkSession has stopped: JDBC needs a running session.")
    return jvm


def _loadable(spark: SparkSession, cls: str) -> bool:
    jvm = _jvm(spark)
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    try:
        jvm.java.lang.Class.forName(cls, False, loader)
    except Exception as exc:  # py4j's Py4JJavaError: ClassNotFoundException
        if "ClassNotFoundException" in str(exc):
            return False
        raise
    return True


def execute(spark: SparkSession, target: JdbcTarget, statements: Sequence[str]) -> None:
    """Run SQL statements (Redshift's ``preactions`` / ``postactions``) on the target."""
    if not statements:
        return
    ensure_driver(spark, target)
    jvm, gateway = _jvm(spark), spark.sparkContext._gateway
    if gateway is None:
        raise ConfigError("The SparkSession has stopped: JDBC needs a running session.")
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    cls = jvm.java.lang.Class.forName(target.driver, True, loader)
    no_types = gateway.new_array(jvm.java.lang.Class, 0)
    driver = cls.getDeclaredConstructor(no_types).newInstance(
        gateway.new_array(jvm.java.lang.Object, 0)
    )
    props = jvm.java.util.Properties()
    props.setProperty("user", target.user)
    props.setProperty("password", target.password)
    conn = driver.connect(target.url, props)
    try:
        statement = conn.createStatement()
        for sql in statements:
            statement.execute(sql)
    finally:
        conn.close()


def _statements(value: Any) -> list[str]:
    return [s.strip() for s in str(value or "").split(";") if s.strip()]


def read_table(
    spark: SparkSession, target: JdbcTarget, dbtable: Optional[str], options: Mapping[str, Any]
) -> DataFrame:
    """The rows of ``dbtable`` (or of ``sampleQuery``) through JDBC."""
    check_keys("JDBC connection_options", options, READ_OPTIONS)
    ensure_driver(spark, target)
    reader = spark.read.format("jdbc").option("url", target.url)
    for key, value in target.properties().items():
        reader = reader.option(key, value)
    query = options.get("sampleQuery")
    if query:
        reader = reader.option("query", str(query))
    elif dbtable:
        reader = reader.option("dbtable", dbtable)
    else:
        raise ConfigError("A JDBC read needs connection_options['dbtable'] (or 'sampleQuery').")
    try:
        df: DataFrame = reader.load()
    except Exception as exc:
        raise InputError(
            f"JDBC read of {dbtable or query} at {target.url} failed: {_first_line(exc)}"
        ) from exc
    return df


def write_table(
    spark: SparkSession,
    df: DataFrame,
    target: JdbcTarget,
    dbtable: str,
    options: Mapping[str, Any],
) -> None:
    """Append ``df`` to ``dbtable`` (created when missing), between the pre- and postactions."""
    check_keys("JDBC connection_options", options, WRITE_OPTIONS)
    if not df.columns:
        return  # Glue writes nothing for a frame without fields (an empty bookmarked run)
    ensure_driver(spark, target)
    schema = dbtable.rsplit(".", 1)[0] if "." in dbtable else None
    setup = [f"CREATE SCHEMA IF NOT EXISTS {schema}"] if target.embedded and schema else []
    execute(spark, target, [*setup, *_statements(options.get("preactions"))])
    writer = df.write.format("jdbc").mode("append").option("url", target.url)
    for key, value in target.properties().items():
        writer = writer.option(key, value)
    if options.get("bulkSize"):
        writer = writer.option("batchsize", str(options["bulkSize"]))
    writer.option("dbtable", dbtable).save()
    execute(spark, target, _statements(options.get("postactions")))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        if "Exception" in line or "Error" in line:
            return line.strip()[:300]
    return text.splitlines()[0][:300] if text else type(exc).__name__


def jdbc_conf(target: JdbcTarget) -> dict[str, str]:
    """What ``glueContext.extract_jdbc_conf(name)`` returns for the target: ``url`` without
    the database (Glue's deprecated key), ``fullUrl``, ``user``, ``password``, ``vendor``."""
    if target.embedded or target.url.startswith("jdbc:h2:"):
        base = target.url
    else:
        found = re.match(r"(jdbc:[a-z0-9]+://[^/?;]+)", target.url)
        base = found.group(1) if found else target.url
    return {
        "url": base,
        "fullUrl": target.url,
        "user": target.user,
        "password": target.password,
        "vendor": target.vendor,
        "enforceSSL": "false",
        "customJDBCCert": "",
        "customJDBCCertString": "",
        "skipCustomJDBCCertValidation": "false",
    }
