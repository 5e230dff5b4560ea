"""Spark's own s3:// reads and writes in `featurekit glue run` (a local session built by
featurekit): into the local warehouse's _s3 folder, or to S3 with an s3:// warehouse."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from s3_helpers import ORDERS, PROJECT, S3Setup, clean_env, featurekit

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SCRIPT = PROJECT / "copy_orders.py"
ROWS = [("ann", dt.datetime(2026, 1, 1, 9), 10.0), ("bob", dt.datetime(2026, 1, 2, 12), 0.5)]


def orders_parquet() -> bytes:
    table = pa.table(
        {
            "user_id": [r[0] for r in ROWS],
            "ordered_at": pa.array([r[1] for r in ROWS], pa.timestamp("us", tz="UTC")),
            "amount": [r[2] for r in ROWS],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def expected(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([ROWS[0]], ORDERS)  # the script keeps amount > 1


def copy(warehouse: str, src: str, dst: str, env: dict[str, str]):  # type: ignore[no-untyped-def]
    args = ["glue", "run", str(SCRIPT), "--warehouse", warehouse, "--quiet", "--"]
    return featurekit([*args, "--src", src, "--dst", dst], env)


def test_s3_paths_land_in_the_local_warehouse(spark: SparkSession, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    raw = warehouse / "_s3" / "shop-raw" / "orders"
    raw.mkdir(parents=True)
    (raw / "part-0.parquet").write_bytes(orders_parquet())

    done = copy(str(warehouse), "s3://shop-raw/orders/", "s3://shop-raw/big/", clean_env())
    assert done.returncode == 0, done.stderr
    out = warehouse / "_s3" / "shop-raw" / "big"
    assert_df_equality(
        spark.read.parquet(str(out)), expected(spark), ignore_row_order=True, ignore_nullable=True
    )


def test_an_unmapped_bucket_says_what_to_create(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    raw = warehouse / "_s3" / "shop-raw" / "orders"
    raw.mkdir(parents=True)
    (raw / "part-0.parquet").write_bytes(orders_parquet())

    done = copy(str(warehouse), "s3://shop-raw/orders/", "s3://elsewhere/big/", clean_env())
    assert done.returncode == 2
    assert "No FileSystem for scheme" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("featurekit: error: s3://elsewhere/... is not in the local warehouse")
    assert f"Create {warehouse.resolve()}/_s3/elsewhere" in last
    assert not (Path("/big")).exists()


def test_s3_paths_go_to_s3_with_an_s3_warehouse(s3: S3Setup, spark: SparkSession) -> None:
    s3.client.put_object(Bucket=s3.bucket, Key="raw/orders/part-0.parquet", Body=orders_parquet())
    src, dst = f"s3://{s3.bucket}/raw/orders/", f"s3://{s3.bucket}/raw/big/"
    done = copy(s3.warehouse, src, dst, s3.env())
    assert done.returncode == 0, done.stderr
    parts = [k for k in s3.keys("raw/big/") if k.endswith(".parquet")]
    assert parts
    tables = [
        pq.read_table(io.BytesIO(s3.client.get_object(Bucket=s3.bucket, Key=k)["Body"].read()))
        for k in parts
    ]
    got = spark.createDataFrame(pa.concat_tables(tables).to_pandas(), ORDERS)
    assert_df_equality(got, expected(spark), ignore_row_order=True, ignore_nullable=True)
