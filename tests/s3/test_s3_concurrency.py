"""N writer processes x M commits to one Delta table on moto's S3 (127.0.0.1): delta-rs,
delta-spark and both at once, through benchmarks/commit_race.py (which starts its own moto
server with DynamoDB). No commit may be lost or duplicated, every writer's rows must be
there, and the versions must be contiguous. The 10 x 200 run is `make bench-commits`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def race(tmp_path: Path, *args: str, timeout: float = 1700) -> dict[str, Any]:
    results = tmp_path / "race.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.commit_race", *args, "--results", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert results.exists(), done.stderr[-3000:]
    figures: dict[str, Any] = json.loads(results.read_text())[-1]
    print(json.dumps(figures))
    return figures


def assert_nothing_lost(figures: dict[str, Any]) -> None:
    expected = figures["writers"] * figures["commits_each"]
    assert figures["failed_writers"] == []
    assert (figures["lost"], figures["duplicated"], figures["unexpected"]) == (0, 0, 0)
    assert figures["rows"] == expected
    assert figures["versions"] == expected
    assert figures["contiguous"]


@pytest.mark.parametrize("coordinator", ["s3-conditional", "dynamodb:featurekit_commits"])
def test_delta_rs_writers(tmp_path: Path, coordinator: str) -> None:
    figures = race(
        tmp_path, "--writers", "3", "--commits", "5", "--engine", "delta-rs",
        "--coordinator", coordinator,
    )  # fmt: skip
    assert_nothing_lost(figures)


@pytest.mark.timeout(1800)  # one Spark application per writer: minutes on a busy machine
def test_delta_spark_writers(tmp_path: Path) -> None:
    figures = race(
        tmp_path, "--writers", "2", "--commits", "3", "--engine", "delta-spark",
        "--coordinator", "dynamodb:featurekit_commits",
    )  # fmt: skip
    assert_nothing_lost(figures)


@pytest.mark.timeout(1800)
def test_delta_spark_and_delta_rs_share_a_table(tmp_path: Path) -> None:
    figures = race(
        tmp_path, "--writers", "2", "--commits", "3", "--engine", "mixed",
        "--coordinator", "s3-conditional",
    )  # fmt: skip
    assert_nothing_lost(figures)


def test_without_a_coordinator_a_second_writer_is_refused_not_lost(tmp_path: Path) -> None:
    """Writers that overlap are refused (ConcurrentWriterError); what was committed is whole."""
    figures = race(
        tmp_path, "--writers", "3", "--commits", "5", "--engine", "delta-rs",
        "--coordinator", "none",
    )  # fmt: skip
    failed = figures["failed_writers"]
    refused = [lines for lines in failed if "ConcurrentWriterError" in str(lines)]
    assert refused, "three writers at once: at least one should meet another's lease"
    assert len(refused) == len(figures["failed_writers"])  # refused, never another failure
    assert figures["duplicated"] == 0
    assert figures["unexpected"] == 0
    assert figures["versions"] == figures["rows"]
    assert figures["contiguous"]
