"""`backfill --parallel N`: chunks at once in one Spark application, the same table as a
serial backfill."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.errors import ConfigError, UnsupportedError
from featurekit.run.backfill import backfill
from featurekit.runtime.local import LocalConfig, LocalRuntime

sys.path.insert(0, str(Path(__file__).parent.parent / "state"))
sys.path.insert(0, str(Path(__file__).parent))
from sample_jobs import WindowSums
from test_run import DailySpend, events, seed_events

ROWS = [
    (user, f"2024-01-{d:02d}T{h:02d}:00:00", float(d * 10 + h))
    for d in range(1, 9)
    for user, h in (("u1", 3), ("u2", 7), ("u1", 20))
]


def runtime_at(spark: SparkSession, warehouse: Path) -> LocalRuntime:
    runtime = LocalRuntime(LocalConfig(warehouse=str(warehouse), quiet=True), spark=spark)
    seed_events(runtime, events(runtime.spark, *ROWS))
    return runtime


@pytest.mark.slow
def test_parallel_backfill_equals_serial(local_runtime: LocalRuntime, tmp_path: Path) -> None:
    serial = runtime_at(local_runtime.spark, tmp_path / "serial")
    parallel = runtime_at(local_runtime.spark, tmp_path / "parallel")
    span: dict[str, Any] = {
        "start": dt.date(2024, 1, 1),
        "end": dt.date(2024, 1, 8),
        "chunk_days": 2,
    }
    backfill(DailySpend(), serial, progress=None, **span)
    result = backfill(DailySpend(), parallel, progress=None, parallel=3, **span)

    assert result.ran == [(dt.date(2024, 1, d), dt.date(2024, 1, d + 1)) for d in (1, 3, 5, 7)]
    assert len({r.run_id for r in result.records}) == 4

    def table(runtime: LocalRuntime) -> DataFrame:
        storage = runtime.storage
        location = storage.output_location(DailySpend.output)
        return storage.engine.read(runtime.spark, location).orderBy("feature_date", "user_id")

    expected, got = table(serial), table(parallel)
    assert expected.count() == 16
    assert_df_equality(got, expected, ignore_nullable=True)
    location = parallel.storage.output_location(DailySpend.output)
    history = parallel.storage.engine.history(location)
    assert sorted(h.version for h in history) == list(range(len(history)))  # one per commit

    again = backfill(DailySpend(), parallel, progress=None, parallel=3, **span)
    assert again.ran == []  # resumable as a serial one
    assert len(again.skipped) == 4


def test_parallel_needs_a_count(local_runtime: LocalRuntime) -> None:
    with pytest.raises(ConfigError, match="--parallel"):
        backfill(
            DailySpend(), local_runtime, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2),
            parallel=0,
        )  # fmt: skip


def test_incremental_jobs_backfill_one_chunk_at_a_time(local_runtime: LocalRuntime) -> None:
    with pytest.raises(UnsupportedError, match="incremental inputs"):
        backfill(
            WindowSums(), local_runtime, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2),
            parallel=2,
        )  # fmt: skip
