"""SIGKILL at each batch boundary, then a re-run: no duplicates, no gaps.

The run to kill happens in a subprocess whose runtime (a LocalRuntime subclass
in a driver script written here) kills itself in ``on_phase`` at the chosen
boundary; the repair run happens in the test process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import functions as F

from featurekit.runtime.local import LocalRuntime
from featurekit.state.partials import partials_location
from featurekit.storage.leftovers import staging_folders

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "run"))
from sample_jobs import EventCopies, WindowSums, events  # noqa: E402
from test_incremental import add_files, assert_same, reference, table  # noqa: E402

DRIVER = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    sys.path.insert(0, {here!r})
    from sample_jobs import EventCopies, WindowSums
    from featurekit.runtime.local import LocalConfig, LocalRuntime
    from featurekit.testing.plugin import TEST_CONF

    warehouse, job_name, stop_at, mode = sys.argv[1:5]

    class Stopping(LocalRuntime):
        def on_phase(self, ctx, phase):
            if phase != stop_at:
                return
            if mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            Path(warehouse, "reached").write_text(phase)
            while not Path(warehouse, "go").exists():
                time.sleep(0.1)

    job = {{"window_sums": WindowSums, "event_copies": EventCopies}}[job_name]
    runtime = Stopping(LocalConfig(warehouse=warehouse, quiet=True, spark_conf=TEST_CONF))
    job().run(runtime)
    """
)


def start_driver(tmp_path: Path, warehouse: Path, job: str, phase: str, mode: str) -> Any:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(here=str(HERE)))
    args = [sys.executable, str(script), str(warehouse), job, phase, mode]
    return subprocess.Popen(args, env=os.environ.copy(), stderr=subprocess.PIPE, text=True)


def no_pending(runtime: LocalRuntime, job: str) -> bool:
    return runtime.storage.state_store.get(f"{job}/pending") is None


@pytest.mark.slow
@pytest.mark.parametrize(
    "phase", ["pending", "partials_committed", "output_committed", "state_committed"]
)
def test_windowed_job_killed_at_phase_then_rerun(
    local_runtime: LocalRuntime, warehouse: Path, tmp_path: Path, phase: str
) -> None:
    rows = [r for d in range(1, 5) for r in events(d)]
    add_files(local_runtime, rows)
    WindowSums().run(local_runtime)
    batch = events(5) + events(2, users=1, per_user=1, amount=40.0)
    add_files(local_runtime, batch)

    proc = start_driver(tmp_path, warehouse, "window_sums", phase, "kill")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, err[-2000:]

    more = events(6)
    add_files(local_runtime, more)
    record = WindowSums().run(local_runtime)
    # a batch that reached a table is finished from what was committed; one that did not is redone
    repaired = phase in ("partials_committed", "output_committed")
    assert ("repaired_batch" in record.counters) == repaired
    assert_same(
        table(local_runtime, WindowSums), reference(local_runtime.spark, rows + batch + more)
    )
    assert no_pending(local_runtime, "window_sums")
    # what the killed run staged (its partials, before "pending") is gone too
    storage = local_runtime.storage
    for location in (
        partials_location(storage, WindowSums()),
        storage.output_location(WindowSums.output),
    ):
        assert staging_folders(storage.warehouse, location) == []
    assert WindowSums().run(local_runtime).output is None  # every file is processed


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["pending", "output_committed"])
def test_appending_job_killed_at_phase_then_rerun(
    local_runtime: LocalRuntime, warehouse: Path, tmp_path: Path, phase: str
) -> None:
    add_files(local_runtime, events(1))
    EventCopies().run(local_runtime)
    add_files(local_runtime, events(2))

    proc = start_driver(tmp_path, warehouse, "event_copies", phase, "kill")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, err[-2000:]

    add_files(local_runtime, events(3))
    EventCopies().run(local_runtime)
    out = table(local_runtime, EventCopies)
    expected = len(events(1)) + len(events(2)) + len(events(3))
    assert out.count() == expected
    assert out.select("user_id", "ts").distinct().count() == expected
    assert sorted(r[0].day for r in out.select("event_date").distinct().collect()) == [1, 2, 3]


@pytest.mark.slow
def test_a_second_run_waits_for_the_running_one_and_changes_nothing(
    local_runtime: LocalRuntime, warehouse: Path, tmp_path: Path
) -> None:
    """A retry started beside a running run of the same job waits for it (the run lease),
    touches neither its pending batch nor the state, then recognises its run."""
    rows = events(1)
    add_files(local_runtime, rows)
    proc = start_driver(tmp_path, warehouse, "window_sums", "pending", "pause")
    deadline = time.monotonic() + 300
    while not (warehouse / "reached").exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.2)
    store = local_runtime.storage.state_store
    pending = store.get("window_sums/pending")
    second: dict[str, Any] = {}
    retry = threading.Thread(target=lambda: second.update(record=WindowSums().run(local_runtime)))
    retry.start()
    retry.join(timeout=10)
    assert retry.is_alive()  # waiting for the first run, not failing and not running
    assert store.get("window_sums/pending") == pending
    assert store.get("window_sums/state") is None
    (warehouse / "go").write_text("")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    retry.join(timeout=300)
    assert not retry.is_alive()
    assert second["record"].duplicate_of is not None  # the first run did it
    assert_same(table(local_runtime, WindowSums), reference(local_runtime.spark, rows))
    assert table(local_runtime, WindowSums).where(F.col("events_3d") > 0).count() == 3
