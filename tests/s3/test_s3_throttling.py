"""S3 throttling (503 SlowDown) in a whole run: every client of the run (boto3 for the run
records, Spark's S3A for the staged files, delta-rs for the Delta log) talks to moto
through a proxy that answers chosen requests 503 SlowDown (tests/s3/throttle_proxy.py).
Throttling that passes is retried with backoff and the run succeeds; throttling that
does not end is one error line, exit 2, with nothing half-written."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession
from s3_helpers import FIRST, ORDER_ROWS, S3Setup, featurekit
from test_s3_faults import assert_rows, error_lines, records, staged
from throttle_proxy import ThrottleProxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TABLE = "wh/shop/daily_spend"


@pytest.fixture
def proxy(s3: S3Setup) -> Iterator[ThrottleProxy]:
    with ThrottleProxy(s3.endpoint) as running:
        yield running


def run_through(proxy: ThrottleProxy, s3: S3Setup) -> tuple[int, str, str]:
    env = {**s3.env(), "AWS_ENDPOINT_URL_S3": proxy.endpoint}
    args = ["run", "daily_spend", "--warehouse", s3.warehouse, "--engine", "delta-rs", "--json"]
    done = featurekit(args, env, timeout=1200)
    return done.returncode, done.stdout, done.stderr


def hits(proxy: ThrottleProxy, fragment: str) -> int:
    return sum(fragment in path for _method, path in proxy.throttled)


@pytest.mark.timeout(1500)
def test_throttling_of_every_client_is_retried_and_the_run_succeeds(
    s3: S3Setup, spark: SparkSession, proxy: ThrottleProxy
) -> None:
    s3.seed_orders(spark, ORDER_ROWS)
    proxy.throttle("PUT", "/wh/_runs/", times=2)  # boto3: the run's record
    proxy.throttle("PUT", "_featurekit_staging", times=2)  # S3A: the staged parquet
    proxy.throttle("*", "_delta_log", times=2)  # delta-rs: reading and writing the log

    code, out, err = run_through(proxy, s3)

    assert code == 0, err[-3000:]
    assert json.loads(out)["status"] == "succeeded"
    assert hits(proxy, "/wh/_runs/") == 2
    assert hits(proxy, "_featurekit_staging") == 2
    assert hits(proxy, "_delta_log") == 2
    assert_rows(s3, spark, FIRST)  # every row once
    assert s3.version("shop.daily_spend") == 0
    assert not staged(s3, TABLE)


@pytest.mark.timeout(1500)
def test_throttling_that_does_not_end_is_one_error_with_nothing_half_written(
    s3: S3Setup, spark: SparkSession, proxy: ThrottleProxy
) -> None:
    s3.seed_orders(spark, ORDER_ROWS)
    proxy.throttle("PUT", "_delta_log/0")  # every attempt of the commit itself

    code, _out, err = run_through(proxy, s3)

    print(f"persistent throttling: exit {code}, {hits(proxy, '_delta_log/0')} commit attempts")
    assert code == 2, err[-3000:]
    assert "Traceback" not in err
    [line] = error_lines(err)
    assert line == err.strip().splitlines()[-1]
    assert line.startswith("featurekit: error: Run daily_spend (")
    assert "S3 is unavailable after retrying with backoff" in line
    assert "SlowDown" in line or "503" in line
    assert hits(proxy, "_delta_log/0") >= 4  # delta-rs retried the put with backoff
    # nothing half-written: no commit, no data file moved into the table, no staging
    assert not s3.keys(f"{TABLE}/_delta_log/")
    assert not [k for k in s3.keys(f"{TABLE}/") if k.endswith(".parquet")]
    assert not staged(s3, TABLE)
    assert not [k for k in s3.keys("wh/") if k.endswith("_featurekit_commit_lease.json")]
    [record] = records(s3, "daily_spend").values()
    assert (record["status"], record["error_type"]) == ("failed", "StorageUnavailableError")
