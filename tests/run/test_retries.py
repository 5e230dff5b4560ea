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


def start(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT), str(ROOT / "src")])}
    return subprocess.Popen(
        [sys.executable, "-m", "featurekit", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_a_retry_beside_a_running_run_commits_once(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    warehouse = tmp_path / "wh"
    seed(warehouse)
    marker = tmp_path / "writing"
    args = ["run", "daily_spend", "--warehouse", str(warehouse), "--start", "2026-01-01",
            "--end", "2026-01-02", "--json"]  # fmt: skip
    first = start([*args, "--param", f"pause_marker={marker}"])
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.2)
    second = start(args)
    out1, err1 = first.communicate(timeout=600)
    out2, err2 = second.communicate(timeout=600)
    assert first.returncode == 0, err1[-3000:]
    assert second.returncode == 0, err2[-3000:]
    one, two = json.loads(out1), json.loads(out2)
    assert "waiting for run " + one["run_id"] in err2
    assert two["duplicate_of"] == one["run_id"]
    assert two["output"] is None
    table = DeltaTable(str(warehouse / "shop" / "daily_spend"))
    assert table.version() == 0  # exactly one commit
    rows = sorted(table.to_pyarrow_table().to_pylist(), key=lambda r: r["user_id"])
    assert [(r["user_id"], r["orders"], r["spend"]) for r in rows] == [
        ("ann", 1, 10.0),
        ("bob", 1, 7.5),
    ]
    # a run that starts after the first ended is an ordinary (idempotent) re-run
    third = start(args)
    out3, err3 = third.communicate(timeout=600)
    assert third.returncode == 0, err3[-3000:]
    assert json.loads(out3)["duplicate_of"] is None
