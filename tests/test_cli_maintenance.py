"""``featurekit table optimize|vacuum|checkpoint`` on a table with small files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from featurekit.cli import main
from featurekit.runtime.local import LocalRuntime
from featurekit.tables.maintenance import data_files_on_disk

pytestmark = pytest.mark.integration


@pytest.fixture
def table(local_runtime: LocalRuntime, spark: SparkSession) -> str:
    """features.clicks: three appends over two dates (3 small files per date)."""
    location = local_runtime.storage.location("features.clicks")
    for n in range(3):
        rows = [(f"u{n}", dt.date(2026, 3, day), n) for day in (1, 2)]
        df = spark.createDataFrame(rows, "user_id string, feature_date date, clicks bigint")
        local_runtime.storage.engine.write(df, location, partition_by=["feature_date"])
    schema = local_runtime.storage.engine.schema(location)
    assert schema is not None
    local_runtime.storage.catalog.register(
        "features.clicks",
        location,
        schema=schema.jsonValue(),
        partition_columns=("feature_date",),
        date_column="feature_date",
    )
    return location


def test_optimize_vacuum_checkpoint_from_the_command_line(
    table: str, warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wh = ["features.clicks", "--warehouse", str(warehouse)]
    assert main(["table", "optimize", *wh, "--json"]) == 0
    done = capsys.readouterr()
    result = json.loads(done.out)
    assert (result["engine"], result["files_removed"], result["files_added"]) == ("delta-rs", 6, 2)
    assert "optimize features.clicks (all partitions) with delta-rs ..." in done.err

    assert main(["table", "vacuum", *wh, "--retain-hours", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one line
    assert "Refusing to vacuum" in err
    assert "--force" in err
    assert len(data_files_on_disk(table)) == 8

    assert main(["table", "vacuum", *wh, "--retain-hours", "0", "--force", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("would delete feature_date=") == 6
    assert "would delete 6 files no longer needed (retention 0 hours, forced)" in out
    assert main(["table", "vacuum", *wh, "--retain-hours", "0", "--force", "--quiet"]) == 0
    assert "deleted 6 files" in capsys.readouterr().out
    assert len(data_files_on_disk(table)) == 2

    assert main(["table", "checkpoint", *wh]) == 0
    assert "checkpoint at version" in capsys.readouterr().out
    assert list(Path(table, "_delta_log").glob("*.checkpoint.parquet"))


def test_optimize_dates_with_delta_spark(
    table: str, warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["table", "optimize", "features.clicks", "--warehouse", str(warehouse)]
    dates = ["--start", "2026-03-02", "--end", "2026-03-02"]
    assert main([*args, *dates, "--engine", "delta-spark", "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["engine"], result["files_removed"], result["files_added"]) == (
        "delta-spark",
        3,
        1,
    )
    assert result["files_after"] == 4


def test_maintenance_of_an_unknown_table_exits_2(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["table", "checkpoint", "features.nothing", "--warehouse", str(warehouse)]) == 2
    assert "not in the catalog" in capsys.readouterr().err


def test_vacuum_lists_then_removes_stage_folders_of_dead_runs_only(
    table: str, warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import subprocess

    from featurekit.runs import this_holder
    from featurekit.tables.engine import STAGING, new_stage_id
    from featurekit.warehouse import Warehouse

    gone = subprocess.Popen(["true"])
    gone.wait()
    folders = {}
    for run_id, pid in (("r-dead", gone.pid), ("r-live", os.getpid())):
        folders[run_id] = Path(table) / STAGING / new_stage_id(run_id)
        (folders[run_id] / "feature_date=2026-03-01").mkdir(parents=True)
        (folders[run_id] / "feature_date=2026-03-01" / "part-0.parquet").write_bytes(b"x")
        doc = {"job": "clicks", "run_id": run_id, "status": "running", "last_phase": "validate",
               "holder": {**this_holder(), "pid": pid}, "lease_until": None}  # fmt: skip
        Warehouse(warehouse).write_json(f"_runs/clicks/{run_id}.json", doc)
    wh = ["features.clicks", "--warehouse", str(warehouse)]
    assert main(["table", "vacuum", *wh, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would remove {folders['r-dead']} (run r-dead of clicks is abandoned)" in out
    assert "r-live" not in out
    assert "would remove 1 stage folder(s) of dead runs" in out
    assert folders["r-dead"].is_dir()
    assert main(["table", "vacuum", *wh, "--json", "--quiet"]) == 0
    [removed] = json.loads(capsys.readouterr().out)["staging"]
    assert removed["folder"] == str(folders["r-dead"])
    assert not folders["r-dead"].exists()
    assert folders["r-live"].is_dir()  # a live run's staging is never removed
