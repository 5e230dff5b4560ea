"""The S3 state store against moto's server on 127.0.0.1: conditional writes and the lease lock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from featurekit.errors import ConfigError, LockedError, StateConflictError
from featurekit.state import StateSession
from featurekit.storage.s3_state import S3StateStore, split_s3_uri
from featurekit.testing.plugin import boto_client

boto3 = pytest.importorskip("boto3")

BUCKET = "featurekit-state"


@pytest.fixture(scope="module")
def s3(moto_endpoint: str) -> Any:
    client = boto_client(moto_endpoint, "s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def store(s3: Any, request: pytest.FixtureRequest) -> S3StateStore:
    return S3StateStore(s3, f"s3://{BUCKET}/{request.node.name}")


pytestmark = pytest.mark.integration


def test_conditional_writes(store: S3StateStore) -> None:
    token = store.put("job/state", {"batch": 1}, expect=None)
    with pytest.raises(StateConflictError):
        store.put("job/state", {"batch": 5}, expect=None)
    new = store.put("job/state", {"batch": 2}, expect=token)
    with pytest.raises(StateConflictError, match="another run advanced it"):
        store.put("job/state", {"batch": 3}, expect=token)
    got = store.get("job/state")
    assert got is not None
    assert (got.doc, got.token) == ({"batch": 2}, new)
    assert store.get("job/missing") is None


def test_keys_skip_the_lock(store: S3StateStore) -> None:
    store.put("job/state", {}, expect=None)
    with store.lock("job", {"run_id": "r"}):
        assert store.keys("job") == ["job/state"]
    store.delete("job/state")
    assert store.keys("job") == []


def test_lock_is_exclusive_and_released(store: S3StateStore) -> None:
    first, second = store.lock("job", {"run_id": "first"}), store.lock("job", {"run_id": "second"})
    with first, pytest.raises(LockedError, match="first"), second:
        pass  # pragma: no cover
    with store.lock("job", {"run_id": "third"}):
        pass


def test_expired_lease_is_taken_over(s3: Any, store: S3StateStore) -> None:
    stale = {"run_id": "dead", "expires_at": "2000-01-01T00:00:00+00:00"}
    s3.put_object(Bucket=BUCKET, Key=f"{store.prefix}/job/_lock.json", Body=json.dumps(stale))
    with store.lock("job", {"run_id": "alive"}):
        body = s3.get_object(Bucket=BUCKET, Key=f"{store.prefix}/job/_lock.json")["Body"]
        assert json.loads(body.read())["run_id"] == "alive"


def test_a_lock_of_a_killed_process_here_is_taken_over_before_its_lease_ends(
    s3: Any, store: S3StateStore
) -> None:
    import subprocess

    from featurekit.runs import this_holder

    gone = subprocess.Popen(["true"])
    gone.wait()
    held = {"run_id": "killed", "holder": {**this_holder(), "pid": gone.pid},
            "expires_at": "2999-01-01T00:00:00+00:00"}  # fmt: skip
    s3.put_object(Bucket=BUCKET, Key=f"{store.prefix}/job/_lock.json", Body=json.dumps(held))
    with store.lock("job", {"run_id": "next"}):
        body = s3.get_object(Bucket=BUCKET, Key=f"{store.prefix}/job/_lock.json")["Body"]
        assert json.loads(body.read())["run_id"] == "next"
    alive = {**held, "holder": this_holder()}  # a live holder keeps it until its lease ends
    s3.put_object(Bucket=BUCKET, Key=f"{store.prefix}/job/_lock.json", Body=json.dumps(alive))
    with pytest.raises(LockedError, match="killed"), store.lock("job", {"run_id": "next"}):
        pass  # pragma: no cover


def test_session_on_s3(store: S3StateStore) -> None:
    from featurekit.state import JobState

    with StateSession(store, "job", run_id="r1") as session:
        session.write_pending(JobState("job", batch=1), {"affected": []})
        session.promote()
    with StateSession(store, "job", run_id="r2") as session:
        assert session.state.batch == 1
        assert session.pending is None


def test_uri_must_name_a_bucket() -> None:
    assert split_s3_uri("s3://b/a/b/") == ("b", "a/b")
    with pytest.raises(ConfigError, match="s3://bucket/prefix"):
        split_s3_uri("file:///tmp")


@pytest.mark.slow
def test_job_keeps_its_state_on_s3(
    s3: Any, local_runtime: Any, request: pytest.FixtureRequest
) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from sample_jobs import EVENTS_PATH, EVENTS_SCHEMA, WindowSums, events

    def add(rows: list[tuple]) -> None:
        df = local_runtime.spark.createDataFrame(rows, EVENTS_SCHEMA).coalesce(1)
        df.write.mode("append").parquet(local_runtime.storage.warehouse.resolve(EVENTS_PATH))

    local_runtime.storage.state_store = S3StateStore(s3, f"s3://{BUCKET}/jobs-{request.node.name}")
    add(events(1))
    WindowSums().run(local_runtime)
    add(events(2))
    record = WindowSums().run(local_runtime)
    assert record.counters["new_units.events"] == 1
    assert not (Path(local_runtime.storage.warehouse.root) / "_state").exists()
    got = local_runtime.storage.state_store.get("window_sums/state")
    assert got is not None
    assert (got.doc["batch"], len(got.doc["inputs"]["events"]["files"])) == (2, 2)


def test_release_keeps_a_lock_taken_over_after_expiry(s3: Any, store: S3StateStore) -> None:
    key = f"{store.prefix}/job/_lock.json"
    expired = S3StateStore(s3, f"s3://{BUCKET}/{store.prefix}", lease_seconds=-1)
    slow = expired.lock("job", {"run_id": "slow"})
    slow.__enter__()
    taker = store.lock("job", {"run_id": "next"})
    taker.__enter__()  # the slow run's lease has expired: taken over
    slow.__exit__(None, None, None)  # the slow run ends late: it must not drop the new lock
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())["run_id"] == "next"
    taker.__exit__(None, None, None)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key=key)
