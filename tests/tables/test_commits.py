"""The commit lease on moto's S3 and DynamoDB (127.0.0.1): refused, waited for, taken over,
lost; a refused delta-rs commit leaves nothing behind. The races of many writer processes
are in tests/s3/test_s3_concurrency.py.

moto runs in its own process here: deltalake holds the GIL during some calls, which
would starve a moto server running in a thread of this one.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from featurekit.errors import CommitCoordinatorError, ConcurrentWriterError, ConfigError
from featurekit.runs import this_holder
from featurekit.tables.commits import (
    LEASE_FILE_NAME,
    LEASE_OBJECT,
    LEASE_PATH_PREFIX,
    CommitCoordinator,
    CommitGuard,
)
from featurekit.testing.plugin import boto_client

pytestmark = pytest.mark.integration

DDB_TABLE = "featurekit_commits_test"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's server in a process of its own on 127.0.0.1 (a free port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                boto_client(endpoint, "s3").list_buckets()
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield endpoint
    finally:
        server.kill()  # moto keeps nothing worth a clean shutdown
        server.communicate()


@pytest.fixture
def s3(moto_endpoint: str) -> tuple[Any, str]:
    client = boto_client(moto_endpoint, "s3")
    bucket = f"fk-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


@pytest.fixture
def ddb(moto_endpoint: str) -> Any:
    client = boto_client(moto_endpoint, "dynamodb")
    if DDB_TABLE not in client.list_tables()["TableNames"]:
        client.create_table(
            TableName=DDB_TABLE,
            AttributeDefinitions=[
                {"AttributeName": "tablePath", "AttributeType": "S"},
                {"AttributeName": "fileName", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "tablePath", "KeyType": "HASH"},
                {"AttributeName": "fileName", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    return client


def guard(spec: str, s3_client: Any, ddb_client: Any = None, **settings: float) -> CommitGuard:
    coordinator = CommitCoordinator.parse(spec)
    if settings:
        coordinator = CommitCoordinator(coordinator.kind, coordinator.table, **settings)
    return CommitGuard(coordinator, s3_client=lambda: s3_client, dynamodb_client=lambda: ddb_client)


@pytest.mark.parametrize(
    ("text", "kind", "table"),
    [("none", "none", None), ("", "none", None), ("s3-conditional", "s3-conditional", None),
     ("dynamodb:delta_log", "dynamodb", "delta_log")],
)  # fmt: skip
def test_coordinator_parse(text: str, kind: str, table: Any) -> None:
    parsed = CommitCoordinator.parse(text)
    assert (parsed.kind, parsed.table) == (kind, table)
    assert CommitCoordinator.parse(str(parsed)) == parsed


@pytest.mark.parametrize("text", ["dynamodb", "dynamodb:", "zookeeper", "s3-conditional:x"])
def test_coordinator_parse_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="coordinator"):
        CommitCoordinator.parse(text)


def test_second_writer_without_coordinator_is_refused(s3: tuple[Any, str]) -> None:
    client, bucket = s3
    table = f"s3://{bucket}/wh/features/daily"
    with guard("none", client).hold(table) as lease:
        lease.check()
        with (
            pytest.raises(ConcurrentWriterError, match="no commit coordinator") as refused,
            guard("none", client).hold(f"s3a://{bucket}/wh/features/daily/"),
        ):
            pass
        assert "--commit-coordinator" in str(refused.value)
    with guard("none", client).hold(table):  # released: the next writer gets it
        pass
    assert "Contents" not in client.list_objects_v2(Bucket=bucket)  # nothing left behind


def test_s3_conditional_waits_its_turn(s3: tuple[Any, str]) -> None:
    client, bucket = s3
    table = f"s3://{bucket}/t"
    order: list[str] = []
    first_has_it = threading.Event()

    def first() -> None:
        with guard("s3-conditional", client).hold(table):
            order.append("first in")
            first_has_it.set()
            time.sleep(0.6)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    first_has_it.wait(10)
    with guard("s3-conditional", client).hold(table):
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]


def test_expired_lease_of_a_dead_writer_is_taken_over(s3: tuple[Any, str]) -> None:
    client, bucket = s3
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    dead = {"owner": "dead", "host": "gone", "pid": "1", "expires_at": past.isoformat()}
    client.put_object(Bucket=bucket, Key=f"t/{LEASE_OBJECT}", Body=json.dumps(dead).encode())
    with guard("none", client).hold(f"s3://{bucket}/t"):
        holder = json.loads(
            client.get_object(Bucket=bucket, Key=f"t/{LEASE_OBJECT}")["Body"].read()
        )
        assert holder["owner"] != "dead"


def _dead_process() -> int:
    """The id of a process of this machine that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_live_lease_of_a_dead_process_here_is_taken_over_at_once(
    s3: tuple[Any, str], ddb: Any
) -> None:
    """A writer killed mid-commit on this machine: its lease is not waited out."""
    client, bucket = s3
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
    here = {k: str(v) for k, v in this_holder().items()}
    dead = {**here, "owner": "dead", "pid": str(_dead_process())}
    key = f"t/{LEASE_OBJECT}"
    body = {**dead, "expires_at": later.isoformat()}
    client.put_object(Bucket=bucket, Key=key, Body=json.dumps(body).encode())
    with guard("none", client).hold(f"s3://{bucket}/t"):
        holder = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert holder["owner"] != "dead"
    # a live process of this machine (this one, under another owner id) keeps its lease
    alive = {**here, "owner": "alive", "expires_at": later.isoformat()}
    client.put_object(Bucket=bucket, Key=key, Body=json.dumps(alive).encode())
    with (
        pytest.raises(ConcurrentWriterError, match=f"pid {os.getpid()}"),
        guard("none", client).hold(f"s3://{bucket}/t"),
    ):
        pass
    # the same with the lease in DynamoDB
    table = f"s3://{bucket}/d"
    item = {
        "tablePath": {"S": LEASE_PATH_PREFIX + table},
        "fileName": {"S": LEASE_FILE_NAME},
        "expireTime": {"N": str(int(later.timestamp()))},
        **{k: {"S": v} for k, v in dead.items()},
    }
    ddb.put_item(TableName=DDB_TABLE, Item=item)
    with guard(f"dynamodb:{DDB_TABLE}", client, ddb, wait_seconds=0.3).hold(table):
        got = ddb.get_item(TableName=DDB_TABLE, Key={k: item[k] for k in ("tablePath", "fileName")})
        assert got["Item"]["owner"]["S"] != "dead"


def test_wait_gives_up_with_a_clear_error(s3: tuple[Any, str]) -> None:
    client, bucket = s3
    with guard("s3-conditional", client).hold(f"s3://{bucket}/t"):
        patient = guard("s3-conditional", client, lease_seconds=60, wait_seconds=0.3)
        with (
            pytest.raises(CommitCoordinatorError, match="still held"),
            patient.hold(f"s3://{bucket}/t"),
        ):
            pass


def test_lost_lease_stops_the_commit(s3: tuple[Any, str]) -> None:
    client, bucket = s3
    with guard("s3-conditional", client, lease_seconds=3, wait_seconds=1).hold(
        f"s3://{bucket}/t"
    ) as lease:
        client.put_object(Bucket=bucket, Key=f"t/{LEASE_OBJECT}", Body=b"{}")  # taken away
        time.sleep(1.6)  # a renewal (every second here) fails
        with pytest.raises(CommitCoordinatorError, match="lost before the commit"):
            lease.check()


def test_dynamodb_lease_waits_and_lives_beside_delta_entries(s3: tuple[Any, str], ddb: Any) -> None:
    client, bucket = s3
    table = f"s3://{bucket}/t"
    spec = f"dynamodb:{DDB_TABLE}"
    with guard(spec, client, ddb).hold(table):
        items = ddb.scan(TableName=DDB_TABLE)["Items"]
        mine = [i for i in items if i["tablePath"]["S"] == f"featurekit-lease:{table}"]
        assert len(mine) == 1  # its own tablePath: Delta's LogStore never lists it
        with (
            pytest.raises(CommitCoordinatorError, match="still held"),
            guard(spec, client, ddb, lease_seconds=60, wait_seconds=0.3).hold(table),
        ):
            pass
    with guard(spec, client, ddb).hold(table):  # released
        pass


def test_dynamodb_table_missing_says_how_to_create_it(s3: tuple[Any, str], ddb: Any) -> None:
    client, bucket = s3
    with (
        pytest.raises(CommitCoordinatorError, match="tablePath HASH"),
        guard("dynamodb:no_such_table", client, ddb).hold(f"s3://{bucket}/t"),
    ):
        pass


def test_local_tables_need_no_lease(tmp_path: Any) -> None:
    never = CommitGuard(CommitCoordinator.parse("dynamodb:x"), dynamodb_client=_no_client)
    with never.hold(str(tmp_path / "t")) as lease:
        lease.check()


def _no_client() -> Any:
    raise AssertionError("a local table must not reach DynamoDB")


# -- a delta-rs commit refused ---------------------------------------------------------------
def _commit_rows(engine: Any, s3_client: Any, table: str, writer: str, commits: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    from featurekit.tables.engine import STAGING, Staged

    schema = StructType([StructField("writer", StringType()), StructField("seq", LongType())])
    bucket, _, prefix = table[len("s3://") :].partition("/")
    for seq in range(commits):
        stage_id = f"{writer}-{seq}-{uuid.uuid4().hex[:6]}"
        key = f"{prefix}/{STAGING}/{stage_id}/part-0.parquet"
        body = io.BytesIO()
        pq.write_table(pa.table({"writer": [writer], "seq": pa.array([seq], pa.int64())}), body)
        s3_client.put_object(Bucket=bucket, Key=key, Body=body.getvalue())
        file = f"s3://{bucket}/{key}"
        staged = Staged(
            path=table, staging_dir=f"{table}/{STAGING}/{stage_id}", schema=schema,
            partition_by=(), rows=1, files=[file], spark=None,  # type: ignore[arg-type]
            details={"stage_id": stage_id, "file_rows": {file: 1}},
        )  # fmt: skip
        engine.commit(staged, mode="append")


def _delta_rs(moto_endpoint: str, s3_client: Any, spec: str) -> Any:
    from featurekit.tables.deltars import DeltaRsEngine
    from featurekit.tables.objects import S3Files

    options = {
        "AWS_ENDPOINT_URL": moto_endpoint, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ALLOW_HTTP": "true",
    }  # fmt: skip
    ddb = boto_client(moto_endpoint, "dynamodb")
    return DeltaRsEngine(
        storage_options=options,
        s3_files=S3Files(s3_client, options),
        guard=guard(spec, s3_client, ddb),
    )


def test_refused_commit_leaves_the_table_as_it_was(moto_endpoint: str, s3: tuple[Any, str]) -> None:
    client, bucket = s3
    table = f"s3://{bucket}/wh/shop/t"
    engine = _delta_rs(moto_endpoint, client, "none")
    _commit_rows(engine, client, table, "w0", 1)
    with guard("none", client).hold(table), pytest.raises(ConcurrentWriterError):
        _commit_rows(engine, client, table, "w1", 1)  # while another writer commits
    assert engine.version(table) == 0
    staged = client.list_objects_v2(Bucket=bucket, Prefix="wh/shop/t/_featurekit_staging/")
    assert "Contents" not in staged  # the refused write's staged files are gone
    data = client.list_objects_v2(Bucket=bucket, Prefix="wh/shop/t/part-")
    assert len(data["Contents"]) == 1  # and its published copy never appeared
