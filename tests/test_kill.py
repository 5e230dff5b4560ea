"""A run killed with SIGKILL during its write leaves the table at its previous version."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession

from featurekit.runtime.local import LocalConfig, LocalRuntime

SCRIPT = Path(__file__).parent / "scripts" / "slow_write_job.py"


def seed(runtime: LocalRuntime, spark: SparkSession, values: list[int]) -> None:
    df = spark.createDataFrame(
        [(k, dt.date(2024, 1, 1 + k % 3), v) for k, v in enumerate(values)],
        "k bigint, d date, v bigint",
    )
    location = runtime.storage.location("raw.numbers")
    runtime.storage.engine.write(df, location, mode="overwrite")
    schema = runtime.storage.engine.schema(location)
    assert schema is not None
    runtime.storage.catalog.register("raw.numbers", location, schema=schema.jsonValue())


def run_script(warehouse: Path, marker: Path, mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(warehouse), str(marker), mode],
        env=os.environ.copy(),
        start_new_session=True,  # its own process group: the JVM and Python workers die with it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_sigkill_during_write_keeps_the_previous_version(
    spark: SparkSession, warehouse: Path, tmp_path: Path
) -> None:
    runtime = LocalRuntime(LocalConfig(warehouse=str(warehouse), quiet=True), spark=spark)
    seed(runtime, spark, [1, 2, 3])
    marker = tmp_path / "writing"
    first = run_script(warehouse, marker, "fast")
    assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    table = runtime.storage.location("features.numbers")
    before = runtime.storage.engine.read(spark, table)
    before_rows = before.collect()
    assert runtime.storage.engine.version(table) == 0

    seed(runtime, spark, [10, 20, 30, 40])
    victim = run_script(warehouse, marker, "slow")
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert victim.poll() is None, "the job ended before its write started"
        assert time.monotonic() < deadline, "the write never started"
        time.sleep(0.2)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL

    assert runtime.storage.engine.version(table) == 0
    assert sorted(runtime.storage.engine.read(spark, table).collect()) == sorted(before_rows)

    again = run_script(warehouse, marker, "fast")
    assert again.wait(timeout=300) == 0, again.stderr.read() if again.stderr else ""
    assert runtime.storage.engine.version(table) == 1
    expected = spark.createDataFrame(
        [(k, dt.date(2024, 1, 1 + k % 3), v) for k, v in enumerate([10, 20, 30, 40])],
        "k bigint, d date, v bigint",
    )
    assert_df_equality(
        runtime.storage.engine.read(spark, table),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )
