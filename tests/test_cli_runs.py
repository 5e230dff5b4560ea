"""``featurekit runs``, ``quality show`` and ``cost`` see a run that died (a record left
``running`` by a process that is gone) as abandoned, with its last phase and age."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from featurekit.cli import main
from featurekit.runs import this_holder
from featurekit.warehouse import Warehouse


def dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def stored(warehouse: Path, **doc: Any) -> None:
    base = {"job": "daily", "runtime": "local", "params": {}, "phases": {}, "quality": [],
            "warnings": [], "holder": this_holder(), "lease_until": None}  # fmt: skip
    Warehouse(warehouse).write_json(f"_runs/daily/{doc['run_id']}.json", {**base, **doc})


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    stored(tmp_path, run_id="20260101T000000Z-aaaa0001", status="succeeded",
           started_at="2026-01-01T00:00:00+00:00", phases={"read": 1.0, "write": 2.5})  # fmt: skip
    gone = {**this_holder(), "pid": dead_pid()}
    stored(tmp_path, run_id="20260102T000000Z-aaaa0002", status="running", last_phase="validate",
           started_at="2026-01-02T00:00:00+00:00", holder=gone)  # fmt: skip
    return tmp_path


def test_runs_lists_newest_first_with_the_dead_run_abandoned(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "--warehouse", str(warehouse)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["20260102T000000Z-aaaa0002", "daily", "abandoned"]
    assert "died in 'validate'" in lines[0]
    assert lines[1].split()[:3] == ["20260101T000000Z-aaaa0001", "daily", "succeeded"]
    assert "3.5s" in lines[1]
    assert main(["runs", "daily", "--warehouse", str(warehouse), "--json", "--limit", "1"]) == 0
    [doc] = json.loads(capsys.readouterr().out)
    assert doc["status"] == "abandoned"
    assert doc["abandoned"]["last_phase"] == "validate"
    assert doc["abandoned"]["age_seconds"] > 0


def test_quality_show_and_cost_name_the_abandoned_run(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["quality", "show", "daily", "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "[20260102T000000Z-aaaa0002] abandoned" in out
    assert "died during phase 'validate'" in out
    assert main(["cost", "20260102T000000Z-aaaa0002", "--warehouse", str(warehouse)]) == 2
    err = capsys.readouterr().err
    assert "was abandoned: it died during phase 'validate'" in err
