"""featurekit's own test settings, on top of its pytest plugin."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

pytest_plugins = ["featurekit.testing.plugin"]

# Every JVM a test starts in a subprocess (featurekit runs, spark-submit, the standalone
# cluster) compiles with C1 only, as the in-process test session does (TEST_CONF): these
# JVMs live for a minute on tiny data, where C2's compiler threads only compete for the
# two cores. One S3 run measured 140 s -> 54 s at load 10-15. Tests only, never benchmarks.
_TEST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def pytest_configure() -> None:
    current = os.environ.get("JAVA_TOOL_OPTIONS", "")
    if "TieredStopAtLevel" not in current:
        os.environ["JAVA_TOOL_OPTIONS"] = f"{current} {_TEST_JVM}".strip()


@pytest.fixture
def no_spark(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if anything builds a SparkSession (checks that must run before Spark
    starts): getOrCreate raises, and the test fails even if that error was caught."""
    from pyspark.sql import SparkSession

    built: list[str] = []

    def refuse(self: object) -> None:
        built.append("getOrCreate")
        raise AssertionError("a SparkSession was built")

    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", refuse)
    yield
    assert not built, "a SparkSession was built"
