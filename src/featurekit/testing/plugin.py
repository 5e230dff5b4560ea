"""pytest plugin: one SparkSession per test process, a fresh local runtime per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from featurekit.runtime.local import LocalConfig, LocalRuntime, build_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Test-only speedups measured in shared/reference/local-stack.md (never for benchmarks).
TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.rdd.compress": "false",
    "spark.shuffle.compress": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC -XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """The session-wide SparkSession (local[2], UTC, small shuffles)."""
    base = tmp_path_factory.mktemp("spark")
    conf = {**TEST_CONF, "spark.sql.warehouse.dir": str(base / "spark-warehouse")}
    session = build_session(LocalConfig(app_name="featurekit-tests", spark_conf=conf))
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
    """A quiet local runtime on the shared session and this test's warehouse."""
    return LocalRuntime(LocalConfig(warehouse=str(warehouse), quiet=True), spark=spark)


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
