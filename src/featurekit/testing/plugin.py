"""pytest plugin: one SparkSession per test process, a fresh local runtime per test, and a
Spark standalone cluster (``spark_cluster``) for tests that submit to a real cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from featurekit.runtime.local import LocalConfig, LocalRuntime, build_session
from featurekit.runtime.s3 import S3A

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from featurekit.testing.cluster import StandaloneCluster

# Test-only speedups measured in shared/reference/local-stack.md (never for benchmarks).
TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.rdd.compress": "false",
    "spark.shuffle.compress": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC -XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "featurekit_engine",
        "Delta engine the spark fixture is built for: delta-rs (no jars, the default) or "
        "delta-spark (the Delta jars from Maven Central, resolved once and cached)",
        default="delta-rs",
    )
    parser.addini(
        "featurekit_s3a",
        "true: put hadoop-aws on the spark fixture's classpath (s3a:// against a local "
        "S3 endpoint such as moto's server)",
        type="bool",
        default=False,
    )
    parser.addini(
        "featurekit_iceberg",
        "true: put Iceberg's Spark runtime on the spark fixture's classpath (the Iceberg "
        "engine; resolved once from Maven Central and cached)",
        type="bool",
        default=False,
    )
    parser.addini(
        "featurekit_quality",
        "true: put Deequ's DQDL engine on the spark fixture's classpath (jobs with "
        "quality rulesets; resolved once from Maven Central and cached)",
        type="bool",
        default=False,
    )


@pytest.fixture(scope="session")
def spark(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[SparkSession]:
    """The session-wide SparkSession (local[2], UTC, small shuffles)."""
    from featurekit.core.jars import hadoop_aws_coordinate
    from featurekit.quality import engine as quality_engine

    base = tmp_path_factory.mktemp("spark")
    conf = {**TEST_CONF, "spark.sql.warehouse.dir": str(base / "spark-warehouse")}
    packages: tuple[str, ...] = ()
    if pytestconfig.getini("featurekit_s3a"):
        packages = (hadoop_aws_coordinate(),)
        conf["spark.hadoop.fs.s3a.impl"] = S3A  # s3a:// stays S3A (a test points it at moto)
    config = LocalConfig(
        warehouse=str(base / "warehouse"),
        app_name="featurekit-tests",
        spark_conf=conf,
        engine=str(pytestconfig.getini("featurekit_engine")),
        packages=packages,
        # Deequ has builds for Spark 3.5 only: elsewhere the quality tests check the error.
        quality=bool(pytestconfig.getini("featurekit_quality")) and quality_engine.available(),
        iceberg=bool(pytestconfig.getini("featurekit_iceberg")),
    )
    session = build_session(config, report=print)
    yield session
    session.stop()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """An empty warehouse folder for one test."""
    path = tmp_path / "warehouse"
    path.mkdir()
    return path


@pytest.fixture
def local_runtime(spark: SparkSession, warehouse: Path) -> LocalRuntime:
    """A quiet local runtime on the shared session and this test's warehouse. On a Spark
    line Deequ has no build for, quality checks are off (each run records a warning)."""
    from featurekit.quality.engine import available

    config = LocalConfig(warehouse=str(warehouse), quiet=True, check_quality=available())
    return LocalRuntime(config, spark=spark)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of one moto server on 127.0.0.1 (random port) for the test session."""
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def boto_client(endpoint: str, service: str) -> Any:
    """A boto3 client on ``endpoint`` (moto) with dummy credentials, never the network."""
    boto3 = pytest.importorskip("boto3")
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    """A Spark standalone cluster on 127.0.0.1 for the test session: a master and two
    workers with one core each, every one its own JVM (see featurekit.testing.cluster).
    Submit to ``spark_cluster.master_url``; the cluster is torn down at the session's end."""
    from featurekit.testing.cluster import StandaloneCluster

    cluster = StandaloneCluster(tmp_path_factory.mktemp("spark-cluster")).start()
    try:
        yield cluster
    finally:
        cluster.stop()
