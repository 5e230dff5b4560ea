"""The local state store: compare-and-set writes and the per-job lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from featurekit.errors import LockedError, StateConflictError, StateError
from featurekit.state import JobState, LocalStateStore, StateSession


def test_put_requires_the_token_it_read(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    token = store.put("job/state", {"batch": 1}, expect=None)
    with pytest.raises(StateConflictError, match="changed since this run read it"):
        store.put("job/state", {"batch": 9}, expect=None)
    new = store.put("job/state", {"batch": 2}, expect=token)
    with pytest.raises(StateConflictError):
        store.put("job/state", {"batch": 3}, expect=token)
    got = store.get("job/state")
    assert got is not None
    assert (got.doc, got.token) == ({"batch": 2}, new)


def test_keys_delete_and_bad_keys(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.put("job/state", {}, expect=None)
    store.put("job/backfill/a", {}, expect=None)
    assert store.keys("job") == ["job/backfill/a", "job/state"]
    store.delete("job/state")
    assert store.get("job/state") is None
    with pytest.raises(StateError, match="Invalid state key"):
        store.get("../escape")


def test_corrupt_state_names_the_file_and_the_fix(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "state.json").write_text("{not json")
    with pytest.raises(StateError, match="state reset"):
        store.get("job/state")


def test_lock_excludes_a_second_holder_and_is_released(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    first, second = store.lock("job", {"run_id": "first"}), store.lock("job", {"run_id": "second"})
    with first, pytest.raises(LockedError, match="first"), second:
        pass  # pragma: no cover
    with store.lock("job", {"run_id": "third"}):
        pass


@pytest.mark.slow
def test_lock_of_a_killed_process_is_free(tmp_path: Path) -> None:
    code = (
        "import os, signal, sys; sys.path[:0] = sys.argv[2:]\n"
        "from featurekit.state import LocalStateStore\n"
        "with LocalStateStore(sys.argv[1]).lock('job', {'run_id': 'dead'}):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path), *sys.path], check=False)
    assert proc.returncode == -9
    assert (tmp_path / "job" / ".lock").exists()
    with LocalStateStore(tmp_path).lock("job", {"run_id": "next"}):
        pass


def test_session_pending_then_promote(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    with StateSession(store, "job", run_id="r1") as session:
        assert session.state == JobState(job="job")
        session.write_pending(JobState("job", batch=1, inputs={"e": {"kind": "delta"}}), {})
        assert session.pending is not None
        promoted = session.promote()
    assert promoted.batch == 1
    assert store.get("job/pending") is None
    with StateSession(store, "job", run_id="r2") as session:
        assert session.state.inputs == {"e": {"kind": "delta"}}
        assert session.state.run_id == "r1"
