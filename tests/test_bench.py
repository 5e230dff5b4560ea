"""`make bench` at toy sizes: the benchmarks run end to end and their methods agree.

Each runs in its own process, as `make bench` does (a benchmark builds and stops
its own Spark session).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]


def only_report(out: Path, pattern: str) -> dict[str, Any]:
    """The single JSON report a run wrote to ``out``."""
    (path,) = out.glob(pattern)
    report: dict[str, Any] = json.loads(path.read_text())
    return report


def test_feature_benchmark_runs_every_comparison_and_methods_agree(tmp_path: Path) -> None:
    run(
        "-m",
        "benchmarks.bench_features",
        *("--events", "3000", "--users", "60", "--days", "8", "--repeats", "3"),
        *("--partitions", "2"),
        *("--driver-memory", "1g", "--data-dir", str(tmp_path / "data")),
        *("--out", str(tmp_path / "out")),
    )
    report = only_report(tmp_path / "out", "bench_features_*.json")
    assert report["a_windowed"]["agree"]
    assert report["c_job_overhead"]["agree"]


def test_incremental_benchmark_matches_the_full_recompute(tmp_path: Path) -> None:
    out = tmp_path / "incremental.json"
    run(
        "benchmarks/bench_incremental.py",
        *("--users", "30", "--per-day", "40", "--days", "5", "--repeats", "3", "--out", str(out)),
    )
    result = json.loads(out.read_text())
    assert result["rows_differing"] == 0
    assert result["output_rows"] > 0


def test_pit_benchmark_races_every_method_and_the_joins_agree(tmp_path: Path) -> None:
    # one tiny case with max_age, so that every strategy runs (bucket needs it)
    run(
        "-m",
        "benchmarks.bench_pit",
        *("--rows", "1200", "--labels", "0.05", "--history", "20", "--max-age", "2"),
        *("--repeats", "3", "--partitions", "2", "--driver-memory", "1g"),
        *("--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")),
    )
    (case,) = only_report(tmp_path / "out", "bench_pit_*.json")["cases"]
    assert case["agree"]
    assert case["cut"] == []
    assert {len(r) for r in case["runs"].values()} == {3}  # the warm-up pass is not timed
    assert set(case["median_s"]) == {
        *("feast", "hopsworks", "union_sort_filter", "databricks_native"),
        *("sort", "range", "bucket", "auto", "auto_clustered", "floor"),
    }
    assert case["results"]["auto"][0] == 60  # one row per label
    assert set(case["results"]) == set(case["median_s"]) - {"floor"}  # every join checked
    assert case["auto_chose"] in {"sort", "range", "bucket"}
    baselines = ("feast", "hopsworks", "union_sort_filter", "databricks_native")
    assert case["best_baseline_s"] == min(case["median_s"][m] for m in baselines)
    assert case["best_baseline"] in baselines
    joins = {m: t for m, t in case["median_s"].items() if m != "floor"}
    assert case["fastest"] == min(joins, key=joins.__getitem__)
    assert case["paired_vs_floor"]["floor"] == 1.0
    assert case["paired_vs_best_baseline"][case["best_baseline"]] == 1.0


def test_maintenance_benchmark_reads_the_same_rows_before_and_after_optimize(
    tmp_path: Path,
) -> None:
    run(
        "-m",
        "benchmarks.bench_maintenance",
        *("--days", "3", "--users", "20", "--per-user", "2", "--repeats", "3"),
        *("--partitions", "2", "--driver-memory", "1g", "--out", str(tmp_path / "out")),
    )
    result = only_report(tmp_path / "out", "bench_maintenance_*.json")["result"]
    assert result["agree"]
    assert (result["range_runs"], result["rows"]) == (3, 60)
    assert result["files"]["live_before"] == result["files"]["live_after"] == 3
    assert set(result["median_s"]) == {"before_optimize", "after_optimize"}


def test_windows_benchmark_times_the_floor_and_featurekit_matches_sliding_frames(
    tmp_path: Path,
) -> None:
    run(
        "-m",
        "benchmarks.bench_windows",
        *("--events", "2000", "--users", "40", "--days", "10", "--history", "20"),
        *("--repeats", "3", "--sets", "1d/7d/30d,1d..365d (6)", "--partitions", "2"),
        *("--driver-memory", "1g"),
        *("--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")),
    )
    report = only_report(tmp_path / "out", "bench_windows_*.json")
    for label in ("1d/7d/30d", "1d..365d (6)"):
        result = report[label]
        assert result["output_rows"] > 0
        assert result["rows_differing_from_sliding"] == 0
        assert set(result["paired_ratio_vs_floor"]) == {
            "featurekit", "floor", "scan_shuffle", "sliding"
        }  # fmt: skip


def test_split_write_benchmark_counts_the_failing_rows_files(tmp_path: Path) -> None:
    run(
        "-m",
        "benchmarks.split_write",
        *("--events", "20000", "--users", "200", "--days", "8", "--repeats", "3"),
        *("--partitions", "2", "--driver-memory", "1g"),
        *("--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")),
    )
    report = only_report(tmp_path / "out", "split_write_*.json")
    files = report["files"]
    assert files["parquet_outcomes"] == files["parquet"]  # a column more, the same files
    assert files["parquet_split"] > files["parquet"]  # the failing rows' own files
    assert files["parquet_more_files"] > files["parquet"]
    assert all(len(runs) == 3 for runs in report["runs"].values())
