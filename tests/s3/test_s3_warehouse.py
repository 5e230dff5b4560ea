"""An s3:// warehouse end to end: `featurekit run`, `featurekit glue run` and an EMR step
(spark-submit) write Delta tables (delta-spark over S3A), the catalog, run records and
incremental state to moto's S3, and a second Delta reader (delta-rs) reads them back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import SparkSession
from s3_helpers import FIRST, ORDER_ROWS, PROJECT, SPEND, S3Setup, clean_env, featurekit

from featurekit.core import jars
from featurekit.errors import ConfigError
from featurekit.runtime.local import DELTA_CONFS
from featurekit.warehouse import S3Warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
RANGE = ["--start", "2026-01-01", "--end", "2026-01-03"]


def expected_spend(spark: SparkSession, rows: list[tuple[str, str, int, float]]):  # type: ignore[no-untyped-def]
    import datetime as dt

    data = [(u, dt.date.fromisoformat(d), n, s) for u, d, n, s in rows]
    return spark.createDataFrame(data, SPEND)


def assert_spend(s3: S3Setup, spark: SparkSession, table: str, rows: list) -> None:  # type: ignore[type-arg]
    assert_approx_df_equality(  # incremental runs: a double sum may differ in its last bits
        s3.table(spark, table),
        expected_spend(spark, rows),
        1e-9,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_run_twice_on_s3_is_idempotent(s3: S3Setup, spark: SparkSession) -> None:
    s3.seed_orders(spark, ORDER_ROWS)
    args = ["run", "daily_spend", "--warehouse", s3.warehouse, *RANGE, "--json"]
    first = featurekit(args, s3.env())
    assert first.returncode == 0, first.stderr
    record = json.loads(first.stdout)
    assert record["status"] == "succeeded"
    assert_spend(s3, spark, "shop.daily_spend", FIRST)
    assert s3.version("shop.daily_spend") == 0
    # catalog entry and run record are S3 objects next to the tables
    assert "wh/_catalog/shop.daily_spend.json" in s3.keys("wh/_catalog/")
    assert f"wh/_runs/daily_spend/{record['run_id']}.json" in s3.keys("wh/_runs/")

    again = featurekit(args, s3.env())
    assert again.returncode == 0, again.stderr
    assert_spend(s3, spark, "shop.daily_spend", FIRST)  # same rows, none twice
    assert s3.version("shop.daily_spend") == 1
    shown = featurekit(["table", "show", "shop.daily_spend", "--warehouse", s3.warehouse], s3.env())
    assert shown.returncode == 0, shown.stderr
    assert "rows: 3" in shown.stdout


def test_sigkill_mid_write_on_s3_keeps_the_previous_version(
    s3: S3Setup, spark: SparkSession, tmp_path: Path
) -> None:
    s3.seed_orders(spark, ORDER_ROWS)
    args = ["run", "daily_spend", "--warehouse", s3.warehouse, "--quiet"]
    assert featurekit(args, s3.env()).returncode == 0
    before = s3.table(spark, "shop.daily_spend")
    s3.seed_orders(spark, [("cy", "2026-01-05 10:00:00", 3.0), *ORDER_ROWS])

    marker = tmp_path / "writing"
    victim = subprocess.Popen(
        [sys.executable, "-m", "featurekit", *args, "--param", f"pause_marker={marker}"],
        env=s3.env(),
        start_new_session=True,  # the JVM and Python workers die with the group
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 400
    while not marker.exists():
        assert victim.poll() is None, "the run ended before its write started"
        assert time.monotonic() < deadline, "the write never started"
        time.sleep(0.2)
    os.killpg(victim.pid, signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL

    assert s3.version("shop.daily_spend") == 0
    assert_df_equality(
        s3.table(spark, "shop.daily_spend"), before, ignore_row_order=True, ignore_nullable=True
    )
    assert featurekit(args, s3.env()).returncode == 0  # the next run repairs nothing by hand
    assert s3.version("shop.daily_spend") == 1
    assert_spend(s3, spark, "shop.daily_spend", [("cy", "2026-01-05", 1, 3.0), *FIRST])


def put_orders(s3: S3Setup, name: str, rows: list[tuple[str, str, float]]) -> None:
    body = "\n".join(
        json.dumps({"user_id": u, "ordered_at": t.replace(" ", "T") + "Z", "amount": a})
        for u, t, a in rows
    )
    s3.client.put_object(Bucket="shop-landing", Key=f"orders/{name}", Body=body.encode())


def test_incremental_state_lives_on_s3(s3: S3Setup, spark: SparkSession) -> None:
    # the job reads s3://shop-landing/orders/ (fixed in its declaration): a fresh bucket
    s3.client.create_bucket(Bucket="shop-landing")
    try:
        put_orders(s3, "a.json", ORDER_ROWS[:2])
        args = ["run", "spend_totals", "--warehouse", s3.warehouse, "--quiet"]
        first = featurekit(args, s3.env())
        assert first.returncode == 0, first.stderr
        assert any(k.startswith("wh/_state/") for k in s3.keys("wh/_state/"))
        put_orders(s3, "b.json", ORDER_ROWS[2:])
        second = featurekit(args, s3.env())
        assert second.returncode == 0, second.stderr
        assert_spend(s3, spark, "shop.spend_totals", FIRST)
    finally:
        objects = s3.client.list_objects_v2(Bucket="shop-landing").get("Contents", [])
        for item in objects:
            s3.client.delete_object(Bucket="shop-landing", Key=item["Key"])
        s3.client.delete_bucket(Bucket="shop-landing")


def test_glue_run_with_an_s3_warehouse(s3: S3Setup, spark: SparkSession) -> None:
    s3.seed_orders(spark, ORDER_ROWS)
    script = ROOT / "entrypoints" / "glue_job.py"
    glue_args = ["--featurekit_job", "daily_spend", "--featurekit_start", "2026-01-01",
                 "--featurekit_end", "2026-01-03"]  # fmt: skip
    done = featurekit(
        ["glue", "run", str(script), "--warehouse", s3.warehouse, "--quiet", "--", *glue_args],
        s3.env(),
    )
    assert done.returncode == 0, done.stderr
    assert_spend(s3, spark, "shop.daily_spend", FIRST)
    assert s3.keys("wh/_runs/daily_spend/")


def test_emr_step_spark_submit_with_an_s3_warehouse(s3: S3Setup, spark: SparkSession) -> None:
    s3.seed_orders(spark, ORDER_ROWS)
    classpath = jars.resolve([jars.delta_coordinate(), jars.hadoop_aws_coordinate()])
    confs = {
        "spark.ui.enabled": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.jars": ",".join(classpath),
        # Delta's Python API (delta.tables) ships inside its jar
        "spark.submit.pyFiles": ",".join(j for j in classpath if "delta-spark" in j),
        **DELTA_CONFS,
        **s3.access.spark_conf(),  # what a local spark-submit against a local S3 passes
    }
    submit = Path(sys.executable).parent / "spark-submit"
    env = s3.env()
    env.update(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT), str(ROOT / "src")])
    command = [str(submit), "--master", "local[2]",
               *[a for k, v in confs.items() for a in ("--conf", f"{k}={v}")],
               str(ROOT / "entrypoints" / "emr_step.py"), "--job", "daily_spend", *RANGE,
               "--warehouse", s3.warehouse, "--engine", "delta-spark"]  # fmt: skip
    began = time.perf_counter()
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    print(f"spark-submit emr_step.py: {time.perf_counter() - began:.1f}s")
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    assert_spend(s3, spark, "shop.daily_spend", FIRST)


@pytest.mark.parametrize(
    ("given", "names"),
    [
        ({}, "AWS_ACCESS_KEY_ID"),
        ({"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}, "AWS_ENDPOINT_URL_S3"),
    ],
)
def test_missing_credentials_or_endpoint_is_one_line(given: dict[str, str], names: str) -> None:
    done = featurekit(["run", "daily_spend", "--warehouse", "s3://bucket/wh"], clean_env(**given))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("featurekit: error: The warehouse s3://bucket/wh is on S3; set ")
    assert names in lines[0]


@pytest.mark.parametrize(
    "call",
    [
        lambda wh: wh.read_json("_catalog/raw/events.json"),
        lambda wh: wh.list_json("_catalog"),
        lambda wh: wh.write_json("_runs/j/r.json", {}),
    ],
    ids=["read", "list", "write"],
)
def test_a_warehouse_in_a_missing_bucket_is_a_config_error_naming_it(
    s3: S3Setup, call: Callable[[S3Warehouse], object]
) -> None:
    warehouse = S3Warehouse(f"s3://{s3.bucket}-gone/wh", client=s3.client)
    with pytest.raises(ConfigError, match=f"{s3.bucket}-gone does not exist"):
        call(warehouse)
