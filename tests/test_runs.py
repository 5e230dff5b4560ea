"""Run records: live, dead and abandoned runs."""

from __future__ import annotations

import datetime as dt
import subprocess
from typing import Any

import pytest

from featurekit.runs import RunRecord, holder_alive, is_dead, judge, this_holder

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


def dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def running(
    holder: dict[str, Any], lease_until: str = "2026-01-01T12:05:00+00:00"
) -> dict[str, Any]:
    return {
        "job": "daily", "run_id": "r1", "status": "running", "last_phase": "write",
        "started_at": "2026-01-01T11:58:20+00:00", "holder": holder, "lease_until": lease_until,
    }  # fmt: skip


def test_this_process_and_a_live_one_here_are_alive() -> None:
    assert holder_alive(this_holder(), None)
    assert not is_dead(running(this_holder()), NOW)


def test_a_dead_process_on_this_machine_is_dead_before_its_lease_ends() -> None:
    holder = {**this_holder(), "pid": dead_pid()}
    doc = running(holder)
    assert is_dead(doc, NOW)
    marked = judge(doc, by="r2", now=NOW)
    assert marked["status"] == "abandoned"
    assert marked["abandoned"] == {
        "marked_at": "2026-01-01T12:00:00+00:00",
        "marked_by": "r2",
        "last_phase": "write",
        "age_seconds": 100,
    }
    assert marked["error"] == (
        "the run died during phase 'write' (killed, or its machine lost); marked by a later "
        "run 100 s after it started"
    )


def test_another_machine_is_judged_by_its_lease() -> None:
    elsewhere = {"host": "glue-worker-7", "boot_id": "x", "pid": 1}
    assert not is_dead(running(elsewhere, "2026-01-01T12:00:30+00:00"), NOW)
    assert is_dead(running(elsewhere, "2026-01-01T11:59:59+00:00"), NOW)


def test_finished_runs_are_never_abandoned() -> None:
    doc = {**running({"host": "gone", "pid": 1}, "2000-01-01T00:00:00+00:00"), "status": "failed"}
    assert not is_dead(doc, NOW)
    assert judge(doc, by="r2", now=NOW) is doc


def test_a_phase_is_told_to_listeners_and_kept_as_last_phase() -> None:
    record = RunRecord(job="daily", run_id="r1", runtime="local", params={})
    seen: list[str] = []
    record.listen(seen.append)
    with record.phase("read"):
        pass
    record.begin("output_committed")
    assert seen == ["read", "output_committed"]
    assert record.to_json()["last_phase"] == "output_committed"
    assert "_listeners" not in record.to_json()


def test_a_phase_that_comes_back_adds_its_time(monkeypatch: Any) -> None:
    """A quarantining run writes twice (the output staged, then its quarantine): the
    record's write phase is both."""
    clock = iter([10.0, 12.5, 20.0, 21.0, 30.0, 30.25])
    monkeypatch.setattr("featurekit.runs.time.perf_counter", lambda: next(clock))
    record = RunRecord(job="daily", run_id="r1", runtime="local", params={})
    lines: list[str] = []
    for name in ("write", "quality", "write"):
        with record.phase(name, lines.append):
            pass
    assert record.phases == {"write": 2.75, "quality": 1.0}
    assert lines[-1] == "write done in 0.2s"  # each line tells its own part


def test_a_phase_that_raises_says_it_failed(monkeypatch: Any) -> None:
    clock = iter([5.0, 5.8])
    monkeypatch.setattr("featurekit.runs.time.perf_counter", lambda: next(clock))
    record = RunRecord(job="daily", run_id="r1", runtime="local", params={})
    lines: list[str] = []
    with pytest.raises(RuntimeError), record.phase("write", lines.append):
        raise RuntimeError("the write failed")
    assert lines == ["write ...", "write failed after 0.8s"]
    assert record.phases == {"write": 0.8}
