"""A retry started while the first run of the same job and dates is still going (what an
orchestrator does beside a slow run) waits for it and writes nothing: one commit, no
duplicate rows. Local runtime; the S3 version is in tests/s3/test_s3_faults.py."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

import pytest

from featurekit.tables.catalog import LocalCatalog
from featurekit.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "tests" / "s3" / "project"  # the shop jobs: daily_spend has a slow mode


def seed(warehouse: Path) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    location = warehouse / "raw" / "orders"
    stamp = pa.timestamp("us", tz="UTC")
    rows = [("ann", "2026-01-01 09:00:00", 10.0), ("bob", "2026-01-02 12:00:00", 7.5)]
    data = pa.table({
        "user_id": pa.array([r[0] for r in rows], pa.string()),
        "ordered_at": pa.array([dt.datetime.fromisoformat(r[1]) for r in rows], stamp),
        "amount": pa.array([r[2] for r in rows], pa.float64()),
    })  # fmt: skip
    write_deltalake(str(location), data, mode="overwrite")
    schema = {"type": "struct", "fields": [
        {"name": "user_id", "type": "string", "nullable": True, "metadata": {}},
        {"name": "ordered_at", "type": "timestamp", "nullable": True, "metadata": {}},
        {"name": "amount", "type": "double", "nullable": True, "metadata": {}},
    ]}  # fmt: skip
    LocalCatalog(Warehouse(warehouse)).register("raw.orders", str(location), schema=schema)


SCRIPT = ROOT / "tests" / "scripts" / "phase_kill_run.py"


def start(
    args: list[str], err: Path, *, hold: Optional[tuple[Path, Path]] = None
) -> subprocess.Popen[str]:
    """``featurekit ARGS``; with ``hold`` = (marker, release): stop at the commit phase,
    touch marker, go on once release exists."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT), str(ROOT / "src")])}
    head = ["-m", "featurekit"]
    if hold:
        head = [str(SCRIPT), "commit", str(hold[0]), "--until", str(hold[1])]
    return subprocess.Popen(
        [sys.executable, *head, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=err.open("w"),
        text=True,
    )


def wait_until(what: str, done: Callable[[], bool], seconds: float = 1200) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.timeout(2400)  # three runs, one after another; minutes each on a busy machine
def test_a_retry_beside_a_running_run_commits_once(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    warehouse = tmp_path / "wh"
    seed(warehouse)
    marker, release = tmp_path / "at-commit", tmp_path / "go-on"
    args = ["run", "daily_spend", "--warehouse", str(warehouse), "--start", "2026-01-01",
            "--end", "2026-01-02", "--json"]  # fmt: skip
    first = start(args, tmp_path / "err1", hold=(marker, release))
    wait_until("the first run never reached its commit", marker.exists)
    second = start(args, tmp_path / "err2")
    wait_until(
        "the second run never waited", lambda: "waiting for run" in (tmp_path / "err2").read_text()
    )
    release.touch()  # the first commits while the second waits
    out1, _ = first.communicate(timeout=1200)
    out2, _ = second.communicate(timeout=1200)
    assert first.returncode == 0, (tmp_path / "err1").read_text()[-3000:]
    assert second.returncode == 0, (tmp_path / "err2").read_text()[-3000:]
    one, two = json.loads(out1), json.loads(out2)
    assert f"waiting for run {one['run_id']}" in (tmp_path / "err2").read_text()
    assert two["duplicate_of"] == one["run_id"]
    assert two["output"] is None
    table = DeltaTable(str(warehouse / "shop" / "daily_spend"))
    assert table.version() == 0  # exactly one commit
    rows = sorted(table.to_pyarrow_table().to_pylist(), key=lambda r: r["user_id"])
    assert [(r["user_id"], r["orders"], r["spend"]) for r in rows] == [
        ("ann", 1, 10.0),
        ("bob", 1, 7.5),
    ]
    assert not list((warehouse / "_state" / "daily_spend" / "_running").glob("*.json"))
