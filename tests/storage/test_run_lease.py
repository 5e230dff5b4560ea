"""The run lease: one live run per (job, table, dates), locally and on moto's S3."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from featurekit.runs import this_holder
from featurekit.storage.run_lease import RunLease, scope_key
from featurekit.storage.state_store import LocalStateStore, StateStore

SCOPE = {"table": "features.daily", "start": "2026-01-01", "end": "2026-01-03"}


def dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    if request.param == "local":
        return LocalStateStore(tmp_path / "_state")
    from featurekit.storage.s3_state import S3StateStore
    from featurekit.testing.plugin import boto_client

    endpoint = request.getfixturevalue("moto_endpoint")
    client = boto_client(endpoint, "s3")
    bucket = f"lease-{tmp_path.name.lower().replace('_', '-')[:40]}"
    client.create_bucket(Bucket=bucket)
    return S3StateStore(client, f"s3://{bucket}/state")


def lease(store: StateStore, run_id: str, scope: Any = SCOPE) -> RunLease:
    return RunLease(store, "daily", scope, run_id=run_id, seconds=60)


def test_a_second_run_of_the_same_scope_sees_the_first(store: StateStore) -> None:
    first, second = lease(store, "r1"), lease(store, "r2")
    assert first.try_take() is None
    holder = second.try_take()
    assert holder is not None
    assert holder["run_id"] == "r1"
    assert holder["holder"] == this_holder()
    assert not second.held
    # other dates are another scope: no wait
    assert lease(store, "r3", {**SCOPE, "start": "2026-01-04"}).try_take() is None
    first.release()
    assert second.try_take() is None


def test_a_dead_holder_is_taken_over_by_exactly_one_waiter(store: StateStore) -> None:
    key = scope_key("daily", SCOPE)
    gone = {**this_holder(), "pid": dead_pid()}
    store.put(key, {"run_id": "dead", "holder": gone, "lease_until": None}, expect=None)
    waiters = [lease(store, f"w{i}") for i in range(4)]
    results: list[Any] = [None] * 4

    def take(i: int) -> None:
        results[i] = waiters[i].try_take()

    threads = [threading.Thread(target=take, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [w.run_id for w in waiters if w.held]
    assert len(winners) == 1
    got = store.get(key)
    assert got is not None
    assert got.doc["run_id"] == winners[0]
    assert all(r["run_id"] == winners[0] for r in results if r is not None)


def test_renewing_after_a_takeover_fails(store: StateStore) -> None:
    mine = lease(store, "r1")
    assert mine.try_take() is None
    assert mine.renew()
    key = scope_key("daily", SCOPE)
    got = store.get(key)
    assert got is not None
    store.put(key, {**got.doc, "run_id": "thief"}, expect=got.token)
    assert not mine.renew()
    mine.release()  # no longer ours: left in place
    assert store.get(key) is not None


def test_a_lease_this_process_could_not_release_is_taken_over(store: StateStore) -> None:
    key = scope_key("daily", SCOPE)
    left = {"run_id": "earlier", "holder": this_holder(), "lease_until": None}
    store.put(key, left, expect=None)  # as a run of this process leaves it when S3 failed
    again = lease(store, "later")
    assert again.try_take() is None
    assert lease(store, "third").try_take() == {**again._doc(), "lease_until": ANY}
