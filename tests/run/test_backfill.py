"""Backfills: chunked, resumable after a crash, idempotent, with progress on stderr."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import pytest

from featurekit.cli import main
from featurekit.errors import ConfigError
from featurekit.job import JobContext
from featurekit.run.backfill import backfill
from featurekit.run.plan import plan_chunks
from featurekit.runtime.local import LocalConfig, LocalRuntime

sys.path.insert(0, str(Path(__file__).parent.parent / "state"))
sys.path.insert(0, str(Path(__file__).parent))
from sample_jobs import WindowSums, events
from test_incremental import add_files, assert_same, reference, table


def day(n: int) -> dt.date:
    return dt.date(2024, 1, n)


def test_plan_chunks() -> None:
    assert plan_chunks(day(1), day(7), 3) == [(day(1), day(3)), (day(4), day(6)), (day(7), day(7))]
    assert plan_chunks(day(1), day(1), 5) == [(day(1), day(1))]
    with pytest.raises(ConfigError, match="chunk-days"):
        plan_chunks(day(1), day(2), 0)


class CrashOnChunk(LocalRuntime):
    """Fails when a run starts at ``crash_at`` (a crash between chunks)."""

    crash_at: dt.date = day(5)

    def begin(self, ctx: JobContext) -> None:
        if ctx.start == self.crash_at:
            raise RuntimeError("simulated crash")


@pytest.mark.slow
def test_backfill_resumes_after_a_crash_and_is_idempotent(
    local_runtime: LocalRuntime, warehouse: Path
) -> None:
    rows = [r for d in range(1, 9) for r in events(d)]
    add_files(local_runtime, rows)
    crashing = CrashOnChunk(
        LocalConfig(warehouse=str(warehouse), quiet=True), spark=local_runtime.spark
    )
    with pytest.raises(RuntimeError, match="simulated crash"):
        backfill(WindowSums(), crashing, start=day(1), end=day(8), chunk_days=2, progress=None)

    stream = io.StringIO()
    result = backfill(
        WindowSums(), local_runtime, start=day(1), end=day(8), chunk_days=2, progress=stream
    )
    assert result.skipped == [(day(1), day(2)), (day(3), day(4))]
    assert result.ran == [(day(5), day(6)), (day(7), day(8))]
    assert "4/4 chunks" in stream.getvalue()
    assert "ETA" in stream.getvalue()
    assert_same(table(local_runtime, WindowSums), reference(local_runtime.spark, rows))

    location = local_runtime.storage.output_location(WindowSums.output)
    version = local_runtime.storage.engine.version(location)
    again = backfill(
        WindowSums(), local_runtime, start=day(1), end=day(8), chunk_days=2, progress=None
    )
    assert again.ran == []
    assert local_runtime.storage.engine.version(location) == version


@pytest.mark.slow
def test_incremental_run_after_backfill_reads_only_later_files(
    local_runtime: LocalRuntime,
) -> None:
    rows = [r for d in range(1, 6) for r in events(d)]
    add_files(local_runtime, rows)
    backfill(WindowSums(), local_runtime, start=day(1), end=day(5), chunk_days=3, progress=None)
    assert WindowSums().run(local_runtime).output is None  # the pinned files are bookmarked
    later = events(6) + events(4, users=1, per_user=1, amount=11.0)
    add_files(local_runtime, later)
    record = WindowSums().run(local_runtime)
    assert record.inputs[0].rows == len(later)
    assert_same(table(local_runtime, WindowSums), reference(local_runtime.spark, rows + later))


def test_state_show_and_reset_commands(
    local_runtime: LocalRuntime, warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from featurekit.state import JobState, StateSession

    with StateSession(local_runtime.storage.state_store, "window_sums", run_id="r1") as session:
        bookmarks = {
            "events": {"kind": "files", "files": {"a": [1, 2]}},
            "clicks": {"kind": "delta", "version": 4},
        }
        session.save(JobState("window_sums", batch=3, inputs=bookmarks, horizon="2024-01-09"))
    assert main(["state", "show", "window_sums", "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "batch 3" in out
    assert "events: 1 files processed" in out
    assert "clicks: Delta version 4 processed" in out

    assert (
        main(["state", "reset", "window_sums", "--input", "nope", "--warehouse", str(warehouse)])
        == 2
    )
    assert "inputs with state: ['clicks', 'events']" in capsys.readouterr().err
    assert (
        main(["state", "reset", "window_sums", "--input", "clicks", "--warehouse", str(warehouse)])
        == 0
    )
    got = local_runtime.storage.state_store.get("window_sums/state")
    assert got is not None
    assert sorted(got.doc["inputs"]) == ["events"]
    assert main(["state", "reset", "window_sums", "--warehouse", str(warehouse)]) == 0
    got = local_runtime.storage.state_store.get("window_sums/state")
    assert got is not None
    assert (got.doc["inputs"], got.doc["batch"], got.doc["horizon"]) == ({}, 3, None)


@pytest.mark.slow
def test_backfill_command(
    local_runtime: LocalRuntime,
    warehouse: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import featurekit.registry

    rows = [r for d in range(1, 4) for r in events(d)]
    add_files(local_runtime, rows)
    monkeypatch.setattr(featurekit.registry, "get_job", lambda name: WindowSums)
    argv = [
        "backfill",
        "window_sums",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-03",
        "--chunk-days",
        "2",
        "--warehouse",
        str(warehouse),
        "--quiet",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "2 chunks run, 0 already done" in captured.out
    assert "backfill window_sums [" not in captured.err  # --quiet: no progress bar
    assert_same(table(local_runtime, WindowSums), reference(local_runtime.spark, rows))
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["ran"], doc["skipped"]) == (
        [],
        ["2024-01-01..2024-01-02", "2024-01-03..2024-01-03"],
    )
    assert main(["state", "show", "window_sums", "--warehouse", str(warehouse)]) == 0
    assert "2 chunks done, finished" in capsys.readouterr().out
