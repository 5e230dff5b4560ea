"""Stage folders of dead runs: found by run id, removed when their run is over or they are
old and unowned, never while their run lives; locally and on moto's S3."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from featurekit.runs import this_holder
from featurekit.storage.leftovers import (
    remove,
    remove_run_staging,
    staging_folders,
    stale_staging,
)
from featurekit.tables.engine import STAGING, new_stage_id
from featurekit.warehouse import S3Warehouse, Warehouse


def dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


class Table:
    """A table location with stage folders written as an engine writes them."""

    def __init__(self, warehouse: Warehouse, location: str) -> None:
        self.warehouse, self.location = warehouse, location

    def stage(self, label: Any, *, hours_old: float = 0.0) -> str:
        name = new_stage_id(label)
        if isinstance(self.warehouse, S3Warehouse):
            bucket, key = self.location[5:].split("/", 1)
            for part in ("d=2026-01-01/part-0.parquet", "_SUCCESS"):
                self.warehouse.client.put_object(
                    Bucket=bucket, Key=f"{key}/{STAGING}/{name}/{part}", Body=b"x" * 10
                )
            return name
        folder = Path(self.location) / STAGING / name / "d=2026-01-01"
        folder.mkdir(parents=True)
        for file in (folder / "part-0.parquet", folder.parent / "_SUCCESS"):
            file.write_bytes(b"x" * 10)
            stamp = time.time() - hours_old * 3600
            os.utime(file, (stamp, stamp))
        return name

    def names(self) -> list[str]:
        return [f.folder.rsplit("/", 1)[-1] for f in staging_folders(self.warehouse, self.location)]


@pytest.fixture(params=["local", "s3"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Table:
    if request.param == "local":
        return Table(Warehouse(tmp_path), str(tmp_path / "features" / "daily"))
    from featurekit.testing.plugin import boto_client

    client = boto_client(request.getfixturevalue("moto_endpoint"), "s3")
    bucket = f"left-{tmp_path.name.lower().replace('_', '-')[:40]}"
    client.create_bucket(Bucket=bucket)
    return Table(
        S3Warehouse(f"s3://{bucket}/wh", client=client), f"s3://{bucket}/wh/features/daily"
    )


def record(run_id: str, status: str, pid: int) -> dict[str, Any]:
    return {"job": "daily", "run_id": run_id, "status": status, "last_phase": "write",
            "holder": {**this_holder(), "pid": pid}, "lease_until": None,
            "started_at": "2026-01-01T00:00:00+00:00"}  # fmt: skip


def test_folders_are_listed_with_their_run_label_size_and_files(table: Table) -> None:
    name = table.stage("20260101T000000Z-abcd1234")
    [found] = staging_folders(table.warehouse, table.location)
    assert found.folder.endswith(f"/{STAGING}/{name}")
    assert found.label == "20260101T000000Z-abcd1234"
    assert (found.files, found.size_bytes) == (2, 20)
    assert found.age_hours < 1


def test_the_next_run_removes_exactly_the_dead_runs_folders(table: Table) -> None:
    dead = table.stage("run-dead")
    live = table.stage("run-live")
    assert remove_run_staging(table.warehouse, [table.location], "run-dead") == 1
    assert table.names() == [live]
    assert dead not in table.names()


def test_vacuum_keeps_live_runs_and_young_unowned_folders(table: Table) -> None:
    # an older featurekit's name, no run id (S3 sets LastModified itself: see `later`)
    local = not isinstance(table.warehouse, S3Warehouse)
    old = table.stage(None, hours_old=50) if local else None
    live, dead, failed, young = (table.stage(x) for x in ("live", "dead", "failed", None))
    records = [
        record("live", "running", os.getpid()),
        record("dead", "running", dead_pid()),
        record("failed", "failed", os.getpid()),
    ]
    stale = stale_staging(table.warehouse, table.location, records)
    by_name = {s.folder.rsplit("/", 1)[-1]: s.reason for s in stale}
    expected = {dead: "run dead of daily is abandoned", failed: "run failed of daily is failed"}
    if old is not None:
        assert by_name.pop(old).startswith("no run record names it; 5")
    assert by_name == expected
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=49)
    aged = {s.folder.rsplit("/", 1)[-1] for s in stale_staging(
        table.warehouse, table.location, records, now=later)}  # fmt: skip
    assert young in aged
    assert live not in aged  # a live run's folder is never removed, however old
    for leftover in stale:
        remove(table.warehouse, leftover)
    assert sorted(table.names()) == sorted([live, young])
