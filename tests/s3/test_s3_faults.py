"""Faults on an s3:// warehouse (moto's server): throttling retried with backoff, an
unreachable or vanishing endpoint ending in one error line, a kill -9 at every phase
leaving tables, state and run records consistent."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from s3_helpers import FIRST, ORDER_ROWS, S3Setup, featurekit

from featurekit.errors import StorageUnavailableError
from featurekit.runtime.s3 import S3Access
from featurekit.warehouse import S3Warehouse

pytestmark = pytest.mark.integration

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
SLOW_DOWN = (
    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def throttle(client: Any, times: int) -> list[str]:
    """Answer the first ``times`` PutObject calls with 503 SlowDown (what S3 sends under
    load; moto never does) before they reach the server; returns the calls seen."""
    from botocore.awsrequest import AWSResponse

    calls: list[str] = []

    def handler(request: Any, **_: Any) -> Any:
        calls.append(request.url)
        if len(calls) <= times:
            return AWSResponse(request.url, 503, {}, _Raw(SLOW_DOWN))
        return None

    client.meta.events.register("before-send.s3.PutObject", handler)
    return calls


def test_throttling_is_retried_with_backoff(s3: S3Setup) -> None:
    client = S3Access(endpoint=s3.endpoint, access_key="testing", secret_key="testing").client()
    calls = throttle(client, 2)
    warehouse = S3Warehouse(s3.warehouse, client=client)
    warehouse.write_json("_runs/j/r1.json", {"ok": 1})
    assert len(calls) == 3  # two throttled, the third stored
    assert warehouse.read_json("_runs/j/r1.json") == {"ok": 1}


@pytest.mark.slow  # about 10 s of backoff
def test_throttling_that_does_not_end_is_one_error(s3: S3Setup) -> None:
    client = S3Access(endpoint=s3.endpoint, access_key="testing", secret_key="testing").client()
    calls = throttle(client, 100)
    warehouse = S3Warehouse(s3.warehouse, client=client)
    with pytest.raises(StorageUnavailableError, match=r"S3 kept throttling \(SlowDown\)") as got:
        warehouse.write_json("_runs/j/r2.json", {"ok": 1})
    assert len(calls) == 5  # botocore's standard mode: the call and four retries
    assert "\n" not in str(got.value)
    assert "wh/_runs/j/r2.json" not in s3.keys("wh/_runs/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def error_lines(stderr: str) -> list[str]:
    """featurekit's own lines (Spark's start-up log lines left out)."""
    return [line for line in stderr.splitlines() if line.startswith("featurekit")]


@pytest.mark.slow
def test_an_unreachable_endpoint_is_one_error_line(s3: S3Setup) -> None:
    env = {**s3.env(), "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{free_port()}"}
    done = featurekit(["run", "daily_spend", "--warehouse", s3.warehouse, "--quiet"], env)
    print(f"unreachable endpoint: exit {done.returncode}, {len(done.stderr.splitlines())} lines")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert error_lines(done.stderr) == [done.stderr.strip().splitlines()[-1]]
    # the first S3 read (the catalog entry of the job's table input, which says whether
    # the session needs Iceberg's runtime) fails, before Spark starts
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("featurekit: error: Reading s3://"), done.stderr
    assert "S3 is unavailable after retrying with backoff" in last
    assert last.endswith("and run again.")
    assert not s3.keys("wh/")  # nothing half-written


def staged(s3: S3Setup, table: str) -> list[str]:
    """Objects in stage folders (S3A's marker object of the staging folder left out)."""
    prefix = f"{table}/_featurekit_staging/"
    return [k for k in s3.keys(prefix) if k != prefix]


def records(s3: S3Setup, job: str) -> dict[str, dict[str, Any]]:
    docs = {}
    for key in s3.keys(f"wh/_runs/{job}/"):
        body = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
        doc = json.loads(body)
        docs[doc["run_id"]] = doc
    return docs


def wait_for(marker: Path, victim: subprocess.Popen[bytes], seconds: float = 1200) -> None:
    deadline = time.monotonic() + seconds
    while not marker.exists():
        assert victim.poll() is None, victim.stderr.read() if victim.stderr else ""
        assert time.monotonic() < deadline, "the run never reached the phase"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_the_endpoint_vanishing_mid_write_is_one_error_and_the_next_run_cleans_up(
    s3: S3Setup, spark: SparkSession, tmp_path: Path
) -> None:
    from moto.server import ThreadedMotoServer

    s3.seed_orders(spark, ORDER_ROWS)
    # a second server on the same in-process backend: stopping it is S3 going away
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    marker = tmp_path / "writing"
    args = ["run", "daily_spend", "--warehouse", s3.warehouse, "--quiet"]
    try:
        victim = subprocess.Popen(
            [sys.executable, "-m", "featurekit", *args, "--param", f"pause_marker={marker}"],
            env={**s3.env(), "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(marker, victim)  # type: ignore[arg-type]
    finally:
        server.stop()
    began = time.monotonic()
    _out, stderr = victim.communicate(timeout=600)
    took = time.monotonic() - began
    print(f"endpoint lost mid-write: exit {victim.returncode} after {took:.0f}s, "
          f"{len(stderr.splitlines())} lines")  # fmt: skip
    assert victim.returncode == 2, stderr[-3000:]
    assert "Traceback" not in stderr
    assert len(error_lines(stderr)) == 1, stderr[-3000:]
    assert "S3 is unavailable" in error_lines(stderr)[0]
    assert not s3.keys("wh/shop/daily_spend/_delta_log/")  # nothing committed
    [dead] = records(s3, "daily_spend").values()  # its last record: the write began
    assert (dead["status"], dead["last_phase"]) == ("running", "write")

    again = featurekit([*args, "--json"], s3.env())
    assert again.returncode == 0, again.stderr
    after = records(s3, "daily_spend")
    assert after[dead["run_id"]]["status"] == "abandoned"
    assert after[dead["run_id"]]["abandoned"]["marked_by"] == json.loads(again.stdout)["run_id"]
    assert not staged(s3, "wh/shop/daily_spend")
    assert_rows(s3, spark, FIRST)


def assert_rows(
    s3: S3Setup, spark: SparkSession, rows: list[Any], table: str = "shop.daily_spend"
) -> None:
    got = sorted((r[0], r[1].isoformat(), r[2], r[3]) for r in s3.table(spark, table).collect())
    assert got == sorted(rows)


# -- kill -9 at every phase ---------------------------------------------------------
# Before the write, a run has only its record and its lease on S3, the same at read and
# at transform: it is killed at read (the local tests kill it at every phase).
PLAIN = ["read", "write", "validate", "commit"]
INCREMENTAL = ["pending", "partials_committed", "output_committed"]


@pytest.fixture
def landing(s3: S3Setup) -> Any:
    """``s3://shop-landing/orders/`` (fixed in spend_totals' declaration) with two files."""
    s3.client.create_bucket(Bucket="shop-landing")
    for name, rows in (("a.json", ORDER_ROWS[:2]), ("b.json", ORDER_ROWS[2:])):
        body = "\n".join(
            json.dumps({"user_id": u, "ordered_at": t.replace(" ", "T") + "Z", "amount": a})
            for u, t, a in rows
        )
        s3.client.put_object(Bucket="shop-landing", Key=f"orders/{name}", Body=body.encode())
    yield
    for item in s3.client.list_objects_v2(Bucket="shop-landing").get("Contents", []):
        s3.client.delete_object(Bucket="shop-landing", Key=item["Key"])
    s3.client.delete_bucket(Bucket="shop-landing")


def kill_at(phase: str, args: list[str], env: dict[str, str], marker: Path) -> None:
    victim = subprocess.Popen(
        [sys.executable, str(SCRIPTS / "phase_kill_run.py"), phase, str(marker), *args],
        env=env,
        start_new_session=True,  # the JVM and Python workers die with the group
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_for(marker, victim)
    os.killpg(victim.pid, signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL


@pytest.mark.slow
@pytest.mark.timeout(2400)  # two or three runs in a row: minutes each on a busy machine
@pytest.mark.parametrize("phase", PLAIN + INCREMENTAL)
def test_kill_9_at_every_phase_leaves_everything_consistent(
    phase: str, s3: S3Setup, spark: SparkSession, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    incremental = phase in INCREMENTAL
    job, table = (
        ("spend_totals", "shop.spend_totals")
        if incremental
        else ("daily_spend", "shop.daily_spend")
    )
    if incremental:
        request.getfixturevalue("landing")
    else:
        s3.seed_orders(spark, ORDER_ROWS)
    folder = f"wh/shop/{table.split('.')[1]}"
    args = ["run", job, "--warehouse", s3.warehouse, "--quiet"]
    kill_at(phase, args, s3.env(), tmp_path / "reached")

    [dead] = records(s3, job).values()
    assert (dead["status"], dead["last_phase"]) == ("running", phase)
    listed = featurekit(["runs", job, "--warehouse", s3.warehouse, "--json"], s3.env())
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["status"] == "abandoned"  # seen before any re-run
    if phase in ("validate", "commit"):  # the output was staged in full, then the kill
        assert staged(s3, folder)
    committed = bool(s3.keys(f"{folder}/_delta_log/"))
    assert committed == (phase == "output_committed")  # nothing visible before the commit
    if incremental:  # the batch's pending record is there, the state not advanced
        assert s3.keys(f"wh/_state/{job}/pending")
        assert not s3.keys(f"wh/_state/{job}/state")

    again = featurekit([*args, "--json"], s3.env())
    assert again.returncode == 0, again.stderr
    after = records(s3, job)
    assert after[dead["run_id"]]["status"] == "abandoned"
    assert after[dead["run_id"]]["abandoned"]["last_phase"] == phase
    assert json.loads(again.stdout)["status"] == "succeeded"
    assert not staged(s3, folder)  # the dead run's copy is gone
    assert not [k for k in s3.keys("wh/_state/") if "/_running/" in k]  # leases released
    assert_rows(s3, spark, FIRST, table)  # every row once
    if incremental:
        assert not s3.keys(f"wh/_state/{job}/pending")
        state = json.loads(
            s3.client.get_object(Bucket=s3.bucket, Key=f"wh/_state/{job}/state.json")["Body"].read()
        )
        assert state["batch"] == 1  # the killed batch finished by the re-run, not read twice


# -- kill -9 at every phase of a run that quarantines rows ------------------------------
# In the order a run reaches them: read (transform leaves S3 the same), write, validate
# (the output staged), quality (the rulesets on the staged rows), commit (the quarantine
# staged too), quarantine_committed (the quarantine's commit returned, the output's not
# begun; the record says "commit")
QUARANTINING = ["read", "write", "validate", "quality", "commit", "quarantine_committed"]
CHECKED = [("bob", "2026-01-02", 1, 7.5), ("ann", "2026-01-03", 1, 1.0)]
QUARANTINED = [("ann", "2026-01-01", 2, 15.0)]  # spend over 10


def paired(s3: S3Setup, folder: str) -> Any:
    """The quarantine version the output's latest commit names (None: no commit), read
    from the Delta log with boto3 (deltalake's own calls from this process would hold up
    moto's server, which runs in it)."""
    from featurekit.quality.quarantine import VERSION_KEY, commit_metadata

    logs = [k for k in s3.keys(f"{folder}/_delta_log/") if k.endswith(".json")]
    if not logs:
        return None
    body = s3.client.get_object(Bucket=s3.bucket, Key=logs[-1])["Body"].read().decode()
    [info] = [json.loads(line)["commitInfo"] for line in body.splitlines() if "commitInfo" in line]
    found = commit_metadata(info).get(VERSION_KEY)
    return int(found) if found else None


def quarantine_rows(s3: S3Setup, location: str, version: int) -> list[Any]:
    from deltalake import DeltaTable

    options = s3.access.storage_options()
    frame = DeltaTable(location, version=version, storage_options=options).to_pandas()
    return sorted(
        (r.user_id, r.day.isoformat(), int(r.orders), float(r.spend)) for r in frame.itertuples()
    )


@pytest.mark.slow
@pytest.mark.timeout(1800)  # two runs (delta-rs on S3, Deequ): a few minutes on a busy machine
@pytest.mark.parametrize("phase", QUARANTINING)
def test_kill_9_of_a_quarantining_run_at_every_phase(
    phase: str, s3: S3Setup, spark: SparkSession, tmp_path: Path
) -> None:
    s3.seed_orders(spark, ORDER_ROWS)
    quarantine = s3.s3_warehouse().table_location("shop.checked_spend__quarantine")
    output, held = "wh/shop/checked_spend", "wh/shop/checked_spend__quarantine"
    args = ["run", "checked_spend", "--warehouse", s3.warehouse, "--engine", "delta-rs",
            "--quiet"]  # fmt: skip
    kill_at(phase, args, s3.env(), tmp_path / "reached")

    [dead] = records(s3, "checked_spend").values()
    last = "commit" if phase == "quarantine_committed" else phase
    assert (dead["status"], dead["last_phase"]) == ("running", last)
    assert not s3.keys(f"{output}/_delta_log/")  # nothing of the output before its commit
    assert bool(s3.keys(f"{held}/_delta_log/")) == (phase == "quarantine_committed")
    assert paired(s3, output) is None  # so no reader sees the quarantined rows
    if phase == "validate":  # the output staged; its rulesets run on it after the row checks
        assert staged(s3, output)
        assert not staged(s3, held)
    if phase == "commit":  # both staged in full, then the kill
        assert staged(s3, output)
        assert staged(s3, held)
    if phase == "quarantine_committed":  # the output still staged, the quarantine's moved in
        assert staged(s3, output)
        assert not staged(s3, held)
    listed = featurekit(["runs", "checked_spend", "--warehouse", s3.warehouse, "--json"],
                        s3.env())  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["status"] == "abandoned"

    again = featurekit([*args, "--json"], s3.env())
    assert again.returncode == 0, again.stderr
    done = json.loads(again.stdout)
    assert done["status"] == "succeeded"
    after = records(s3, "checked_spend")[dead["run_id"]]
    assert (after["status"], after["abandoned"]["last_phase"]) == ("abandoned", last)
    assert not staged(s3, output)
    assert not staged(s3, held)
    assert not [k for k in s3.keys("wh/") if k.endswith("_featurekit_commit_lease.json")]
    assert not [k for k in s3.keys("wh/_state/") if "/_running/" in k]
    assert_rows(s3, spark, CHECKED, "shop.checked_spend")  # exactly the rows that passed
    version = paired(s3, output)
    assert version is not None
    assert version == s3.version("shop.checked_spend__quarantine") == done["quarantine"]["version"]
    assert quarantine_rows(s3, quarantine, version) == QUARANTINED  # once, not twice


# -- a retry beside a running run -----------------------------------------------------
def run_twice_at_once(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A run held at its commit, the same run again until it waits, then both finish:
    both records, and what the second printed."""
    marker, release, err = tmp_path / "at-commit", tmp_path / "go-on", tmp_path / "err2"
    first = subprocess.Popen(
        [sys.executable, str(SCRIPTS / "phase_kill_run.py"), "commit", str(marker),
         "--until", str(release), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(marker, first)  # type: ignore[arg-type]
    second = subprocess.Popen(
        [sys.executable, "-m", "featurekit", *args],
        env=env, stdout=subprocess.PIPE, stderr=err.open("w"), text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 1200
    while "waiting for run" not in err.read_text():
        assert second.poll() is None, err.read_text()[-3000:]
        assert time.monotonic() < deadline, "the second run never waited"
        time.sleep(0.5)
    release.touch()
    out1, err1 = first.communicate(timeout=1200)
    out2, _ = second.communicate(timeout=1200)
    assert first.returncode == 0, err1[-3000:]
    assert second.returncode == 0, err.read_text()[-3000:]
    return json.loads(out1), json.loads(out2), err.read_text()


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_a_retry_beside_a_running_run_commits_once_on_s3(
    s3: S3Setup, spark: SparkSession, tmp_path: Path
) -> None:
    s3.seed_orders(spark, ORDER_ROWS)
    args = ["run", "daily_spend", "--warehouse", s3.warehouse, "--start", "2026-01-01",
            "--end", "2026-01-03", "--json"]  # fmt: skip
    one, two, said = run_twice_at_once(args, s3.env(), tmp_path)
    assert f"waiting for run {one['run_id']}" in said
    assert one["status"] == two["status"] == "succeeded"
    assert two["duplicate_of"] == one["run_id"]
    assert two["output"] is None
    assert s3.version("shop.daily_spend") == 0  # exactly one commit
    assert_rows(s3, spark, FIRST)
