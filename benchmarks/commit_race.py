"""Many writers, one Delta table on S3: does any commit get lost? (delta-rs #3736's test)

N writer processes each make M one-row append commits to one table on a local S3 (moto's
server on 127.0.0.1, with DynamoDB), all starting at the same instant: each writer sets up
(a Spark application takes seconds), says it is ready, and waits for the others' go.
Afterwards the table must hold N x M rows, every (writer, sequence) exactly once, in
versions 0..N x M - 1.

Writers (``--engine``):
  * ``delta-rs``     featurekit's delta-rs engine: the commit lease + S3 conditional puts.
                     No JVM: each commit is a parquet file put on S3, committed by the engine.
  * ``delta-spark``  featurekit's delta-spark engine (one Spark application per writer).
  * ``mixed``        half of each.
  * ``raw-unsafe``   plain deltalake with ``AWS_S3_ALLOW_UNSAFE_RENAME`` (the #3736 setup).
  * ``raw-conditional`` plain deltalake with ``AWS_CONDITIONAL_PUT=etag``, retrying conflicts.

Examples::

    python -m benchmarks.commit_race --writers 10 --commits 200 --engine delta-rs \
        --coordinator s3-conditional
    python -m benchmarks.commit_race --writers 10 --commits 200 --engine raw-unsafe

Results go to ``benchmarks/results/commit_race.json`` (one entry per run, appended).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Optional

RESULTS = Path(__file__).parent / "results" / "commit_race.json"
LEASE_TABLE = "featurekit_commits"
SCHEMA = "writer string, seq bigint"
ENGINES = ("delta-rs", "delta-spark", "mixed", "raw-unsafe", "raw-conditional")


def storage_options(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ALLOW_HTTP": "true",
    }


def client(endpoint: str, service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create_lease_table(endpoint: str, name: str = LEASE_TABLE) -> None:
    """A DynamoDB table with Delta's S3DynamoDBLogStore key schema."""
    ddb = client(endpoint, "dynamodb")
    if name in ddb.list_tables()["TableNames"]:
        return
    ddb.create_table(
        TableName=name,
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


# -- one writer ------------------------------------------------------------------------
def _row(writer: str, seq: int) -> Any:
    import pyarrow as pa

    return pa.table({"writer": pa.array([writer]), "seq": pa.array([seq], pa.int64())})


def ready_then_wait(barrier: Path, writer: str) -> None:
    """Say ``writer`` is ready in ``barrier`` (a folder), then wait for the race's go."""
    (barrier / f"ready-{writer}").touch()
    go = barrier / "go"
    while not go.exists():
        time.sleep(0.005)


def start_together(barrier: Path, procs: list[subprocess.Popen[str]], timeout: float) -> None:
    """Wait until every writer is ready (or one has ended: its error is collected after),
    then give the go."""
    deadline = time.monotonic() + timeout
    while len(list(barrier.glob("ready-*"))) < len(procs):
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    (barrier / "go").touch()


def delta_rs_writer(
    endpoint: str, table: str, writer: str, commits: int, coordinator: str, barrier: Path
) -> int:
    """M commits through featurekit's delta-rs engine (no Spark: the staged file is put on
    S3 by hand, as Spark would have written it). Returns the commits made."""
    import pyarrow.parquet as pq
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    from featurekit.tables.commits import CommitCoordinator, CommitGuard
    from featurekit.tables.deltars import DeltaRsEngine
    from featurekit.tables.engine import STAGING, Staged
    from featurekit.tables.objects import S3Files, split

    s3 = client(endpoint, "s3")
    options = storage_options(endpoint)
    guard = CommitGuard(
        CommitCoordinator.parse(coordinator),
        s3_client=lambda: s3,
        dynamodb_client=lambda: client(endpoint, "dynamodb"),
    )
    engine = DeltaRsEngine(storage_options=options, s3_files=S3Files(s3, options), guard=guard)
    schema = StructType(
        [StructField("writer", StringType(), True), StructField("seq", LongType(), True)]
    )
    ready_then_wait(barrier, writer)
    for seq in range(commits):
        stage_id = f"{writer}-{seq}-{uuid.uuid4().hex[:8]}"
        staging = f"{table}/{STAGING}/{stage_id}"
        body = io.BytesIO()
        pq.write_table(_row(writer, seq), body)
        bucket, key = split(f"{staging}/part-0.parquet")
        s3.put_object(Bucket=bucket, Key=key, Body=body.getvalue())
        staged = Staged(
            path=table,
            staging_dir=staging,
            schema=schema,
            partition_by=(),
            rows=1,
            files=[f"{staging}/part-0.parquet"],
            spark=None,  # type: ignore[arg-type]  # delta-rs commits need no Spark
            details={"stage_id": stage_id, "file_rows": {f"{staging}/part-0.parquet": 1}},
        )
        engine.commit(staged, mode="append", metadata={"writer": writer, "seq": str(seq)})
    return commits


def delta_spark_writer(
    endpoint: str, table: str, writer: str, commits: int, coordinator: str, barrier: Path
) -> int:
    """M commits through featurekit's delta-spark engine, in this process's own Spark."""
    from featurekit.runtime.local import LocalConfig, build_session
    from featurekit.runtime.s3 import S3Access
    from featurekit.tables.commits import CommitCoordinator, CommitGuard
    from featurekit.tables.deltaspark import DeltaSparkEngine

    access = S3Access(endpoint=endpoint, access_key="testing", secret_key="testing")
    config = LocalConfig(
        warehouse=f"s3://{table.split('://', 1)[1].split('/', 1)[0]}/wh",
        engine="delta-spark",
        quiet=True,
        s3=access,
        spark_conf={"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "1"},
        app_name=f"commit-race-{writer}",
    )
    spark = build_session(config, report=lambda _m: None)
    s3 = access.client()
    guard = CommitGuard(
        CommitCoordinator.parse(coordinator),
        s3_client=lambda: s3,
        dynamodb_client=lambda: client(endpoint, "dynamodb"),
    )
    engine = DeltaSparkEngine(spark, guard=guard)
    frames = [spark.createDataFrame([(writer, seq)], SCHEMA) for seq in range(commits)]
    ready_then_wait(barrier, writer)
    for seq, frame in enumerate(frames):
        engine.write(frame, table, mode="append", metadata={"writer": writer, "seq": str(seq)})
    spark.stop()
    return commits


def raw_writer(endpoint: str, table: str, writer: str, commits: int, conditional: bool) -> int:
    """M appends with plain deltalake: unsafe rename (#3736) or conditional puts (retried)."""
    from deltalake import write_deltalake

    options = storage_options(endpoint)
    options["AWS_CONDITIONAL_PUT" if conditional else "AWS_S3_ALLOW_UNSAFE_RENAME"] = (
        "etag" if conditional else "true"
    )
    made = 0
    for seq in range(commits):
        for _attempt in range(50):
            try:
                write_deltalake(table, _row(writer, seq), mode="append", storage_options=options)
                made += 1
                break
            except Exception as exc:
                if "CommitFailed" not in type(exc).__name__ and "conflict" not in str(exc).lower():
                    raise
                time.sleep(0.01)
    return made


def run_writer(args: argparse.Namespace) -> int:
    if args.engine == "delta-rs":
        return delta_rs_writer(
            args.endpoint, args.table, args.writer, args.commits, args.coordinator, args.barrier
        )
    if args.engine == "delta-spark":
        return delta_spark_writer(
            args.endpoint, args.table, args.writer, args.commits, args.coordinator, args.barrier
        )
    ready_then_wait(args.barrier, args.writer)
    return raw_writer(
        args.endpoint, args.table, args.writer, args.commits, args.engine == "raw-conditional"
    )


# -- the race and its check ----------------------------------------------------------------
def check_table(endpoint: str, table: str, writers: int, commits: int) -> dict[str, Any]:
    """Lost and duplicated commits, and whether versions are contiguous, read by delta-rs."""
    from deltalake import DeltaTable

    data = DeltaTable(table, storage_options=storage_options(endpoint))
    rows = data.to_pyarrow_table().to_pylist()
    seen = Counter((r["writer"], int(r["seq"])) for r in rows)
    expected = {(f"w{w}", s) for w in range(writers) for s in range(commits)}
    versions = log_versions(endpoint, table)
    return {
        "rows": len(rows),
        "expected": len(expected),
        "lost": len(expected - set(seen)),
        "duplicated": sum(n - 1 for n in seen.values() if n > 1),
        "unexpected": len(set(seen) - expected),
        "versions": len(versions),
        "contiguous": versions == list(range(len(versions))),
        "latest_version": int(data.version()),
    }


def log_versions(endpoint: str, table: str) -> list[int]:
    """The versions of the commit files in the table's ``_delta_log``, listed with boto3
    (deltalake's ``history()`` holds the GIL, which would starve a moto server running in
    this process)."""
    from featurekit.tables.objects import split

    bucket, prefix = split(f"{table}/_delta_log/")
    found = []
    pages = (
        client(endpoint, "s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=prefix)
    )
    for page in pages:
        for item in page.get("Contents", []):
            stem, _, ext = str(item["Key"])[len(prefix) :].partition(".")
            if ext == "json" and stem.isdigit():
                found.append(int(stem))
    return sorted(found)


def writer_engine(engine: str, index: int) -> str:
    if engine == "mixed":
        return "delta-spark" if index % 2 else "delta-rs"
    return engine


def race(
    endpoint: str,
    bucket: str,
    *,
    writers: int,
    commits: int,
    engine: str,
    coordinator: str,
    setup_timeout: float = 1200.0,
) -> dict[str, Any]:
    """Start ``writers`` processes; once all are set up, let them commit at once; wait;
    check the table. Returns the figures (``seconds``: from the go to the last writer's end)."""
    table = f"s3://{bucket}/race-{uuid.uuid4().hex[:8]}"
    barrier = Path(tempfile.mkdtemp(prefix="commit-race-"))
    procs = []
    for index in range(writers):
        command = [
            sys.executable, "-m", "benchmarks.commit_race", "writer",
            "--endpoint", endpoint, "--table", table, "--writer", f"w{index}",
            "--commits", str(commits), "--engine", writer_engine(engine, index),
            "--coordinator", coordinator, "--barrier", str(barrier),
        ]  # fmt: skip
        procs.append(
            subprocess.Popen(
                command,
                cwd=Path(__file__).parent.parent,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    failures = []
    try:
        start_together(barrier, procs, setup_timeout)
        start_at = time.time()
        for proc in procs:
            _out, err = proc.communicate()
            if proc.returncode != 0:
                failures.append(err.strip().splitlines()[-3:])
    finally:  # interrupted (a test's timeout): no writer outlives the race
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        shutil.rmtree(barrier, ignore_errors=True)
    seconds = time.time() - start_at
    figures = check_table(endpoint, table, writers, commits)
    figures.update(
        writers=writers,
        commits_each=commits,
        engine=engine,
        coordinator=coordinator,
        seconds=round(seconds, 1),
        failed_writers=failures,
    )
    return figures


def _moto() -> tuple[Any, str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("writer", help="one writer (started by the race)")
    for name in ("--endpoint", "--table", "--writer", "--engine", "--coordinator"):
        one.add_argument(name, required=True)
    one.add_argument("--commits", type=int, required=True)
    one.add_argument("--barrier", type=Path, required=True, help="the race's ready/go folder")
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--engine", choices=ENGINES, default="delta-rs")
    parser.add_argument("--coordinator", default="s3-conditional")
    parser.add_argument("--endpoint", help="an S3+DynamoDB endpoint (default: moto, started here)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON file to append to")
    args = parser.parse_args(argv)
    if args.command == "writer":
        run_writer(args)
        return 0
    server, endpoint = (None, args.endpoint) if args.endpoint else _moto()
    try:
        bucket = f"race-{uuid.uuid4().hex[:8]}"
        client(endpoint, "s3").create_bucket(Bucket=bucket)
        create_lease_table(endpoint)
        figures = race(
            endpoint,
            bucket,
            writers=args.writers,
            commits=args.commits,
            engine=args.engine,
            coordinator=args.coordinator,
        )
    finally:
        if server is not None:
            server.stop()
    figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    figures["cpus"] = os.cpu_count()
    print(json.dumps(figures, indent=2))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.results.read_text()) if args.results.exists() else []
    args.results.write_text(json.dumps([*previous, figures], indent=2) + "\n")
    return 0 if figures["lost"] == 0 and figures["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
