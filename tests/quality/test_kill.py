"""A run killed between its quarantine commit and its output commit: readers see neither
the new output nor its quarantine rows, and the next run leaves both consistent."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from featurekit.quality.engine import available
from featurekit.quality.quarantine import read_quarantine
from featurekit.runtime.local import LocalConfig, LocalRuntime

SCRIPT = Path(__file__).parent.parent / "scripts" / "quarantine_kill_job.py"
OUTPUT = "features.numbers_dq"


def seed(runtime: LocalRuntime, spark: SparkSession, values: list[int]) -> None:
    df = spark.createDataFrame(
        [(k, dt.date(2024, 1, 1 + k % 2), v) for k, v in enumerate(values)],
        "k bigint, d date, v bigint",
    )
    location = runtime.storage.location("raw.numbers")
    runtime.storage.engine.write(df, location, mode="overwrite")
    schema = runtime.storage.engine.schema(location)
    assert schema is not None
    runtime.storage.catalog.register("raw.numbers", location, schema=schema.jsonValue())


def run(warehouse: Path, marker: Path, mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(warehouse), str(marker), mode],
        env=os.environ.copy(),
        start_new_session=True,  # its own process group: the JVM dies with it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def load_job() -> Any:
    """The script's job, run in this process before and after the killed run."""
    spec = importlib.util.spec_from_file_location("quarantine_kill_job", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Numbers()


def quarantined(runtime: LocalRuntime) -> list[tuple[int, int]]:
    rows = read_quarantine(runtime.spark, runtime.storage, OUTPUT).select("k", "v").collect()
    return sorted((r["k"], r["v"]) for r in rows)


@pytest.mark.slow
@pytest.mark.skipif(not available(), reason="Deequ has no build for this Spark line")
def test_kill_between_quarantine_and_output_commits(
    spark: SparkSession, warehouse: Path, tmp_path: Path
) -> None:
    runtime = LocalRuntime(LocalConfig(warehouse=str(warehouse), quiet=True), spark=spark)
    marker = tmp_path / "between-commits"
    job = load_job()
    seed(runtime, spark, [1, -2, 3])
    job.run(runtime)
    table = runtime.storage.location(OUTPUT)
    assert runtime.storage.engine.version(table) == 0
    assert quarantined(runtime) == [(1, -2)]

    seed(runtime, spark, [-10, 20, -30, 40])
    victim = run(warehouse, marker, "hang")
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert victim.poll() is None, victim.stderr.read() if victim.stderr else ""
        assert time.monotonic() < deadline, "the quarantine commit never happened"
        time.sleep(0.2)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)

    # the quarantine commit landed, the output commit did not: its rows stay hidden
    assert runtime.storage.engine.version(runtime.storage.location(f"{OUTPUT}__quarantine")) == 1
    assert runtime.storage.engine.version(table) == 0
    assert sorted(r["v"] for r in runtime.storage.engine.read(spark, table).collect()) == [1, 3]
    assert quarantined(runtime) == [(1, -2)]

    job.run(runtime)
    assert runtime.storage.engine.version(table) == 1
    assert sorted(r["v"] for r in runtime.storage.engine.read(spark, table).collect()) == [20, 40]
    assert quarantined(runtime) == [(0, -10), (2, -30)]
