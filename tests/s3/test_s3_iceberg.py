"""Iceberg feature tables on an s3:// warehouse (moto's S3 through S3A): `featurekit run
--table-format iceberg` writes, re-runs and replaces a run's dates; with the Glue Data
Catalog (moto's Glue) the table is kept by Iceberg's GlueCatalog, and two writers of one
table under a DynamoDB commit coordinator (moto's DynamoDB, Iceberg's DynamoDB lock
manager) both land. The table is read back without Spark (pyiceberg, from the metadata
file the catalog names)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from typing import Any

import pytest
from chispa import assert_approx_df_equality
from pyspark.sql import DataFrame, SparkSession
from s3_helpers import FIRST, ORDER_ROWS, ORDERS, SPEND, S3Setup, featurekit

from featurekit.tables.glue_catalog import GlueCatalog, GlueCatalogConfig
from featurekit.testing.plugin import boto_client

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def spend(spark: SparkSession, rows: list[tuple[str, str, int, float]]) -> DataFrame:
    data = [(u, dt.date.fromisoformat(d), n, s) for u, d, n, s in rows]
    return spark.createDataFrame(data, SPEND)


def read_iceberg(s3: S3Setup, spark: SparkSession, metadata_location: str) -> DataFrame:
    """The table at its metadata file, read by pyiceberg (no Spark, no catalog)."""
    from pyiceberg.table import StaticTable

    props = {
        "s3.endpoint": s3.endpoint,
        "s3.access-key-id": "testing",
        "s3.secret-access-key": "testing",
        "s3.region": "us-east-1",
    }
    frame = StaticTable.from_metadata(metadata_location, props).scan().to_pandas()
    names = [f.name for f in spark.createDataFrame([], SPEND).schema.fields]
    return spark.createDataFrame(frame[names], SPEND)


def latest_metadata(s3: S3Setup, table: str) -> str:
    """The newest metadata file of the table folder (names start with their sequence)."""
    db, name = table.split(".")
    keys = [k for k in s3.keys(f"wh/{db}/{name}/metadata/") if k.endswith(".metadata.json")]
    assert keys, f"no Iceberg metadata under wh/{db}/{name}"

    def sequence(key: str) -> int:
        base = key.rsplit("/", 1)[1]
        found = re.match(r"v?(\d+)", base)
        return int(found.group(1)) if found else -1

    return f"s3://{s3.bucket}/{max(keys, key=sequence)}"


def assert_rows(actual: DataFrame, expected: DataFrame) -> None:
    assert_approx_df_equality(actual, expected, 1e-9, ignore_row_order=True, ignore_nullable=True)


def test_iceberg_output_on_s3_reruns_and_replaces_dates(s3: S3Setup, spark: SparkSession) -> None:
    s3.seed_orders(spark, ORDER_ROWS)
    args = ["run", "daily_spend", "--warehouse", s3.warehouse, "--table-format", "iceberg"]
    first = featurekit([*args, "--start", "2026-01-01", "--end", "2026-01-03"], s3.env())
    assert first.returncode == 0, first.stderr[-3000:]
    assert not s3.keys("wh/shop/daily_spend/_delta_log/")
    table = read_iceberg(s3, spark, latest_metadata(s3, "shop.daily_spend"))
    assert_rows(table, spend(spark, FIRST))

    # a late order for 2026-01-02: the re-run replaces exactly that date
    s3.seed_orders(spark, [*ORDER_ROWS, ("cy", "2026-01-02 20:00:00", 2.0)])
    again = featurekit([*args, "--start", "2026-01-02", "--end", "2026-01-02"], s3.env())
    assert again.returncode == 0, again.stderr[-3000:]
    table = read_iceberg(s3, spark, latest_metadata(s3, "shop.daily_spend"))
    assert_rows(table, spend(spark, [*FIRST, ("cy", "2026-01-02", 1, 2.0)]))
    shown = featurekit(["table", "show", "shop.daily_spend", "--warehouse", s3.warehouse], s3.env())
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "rows: 4" in shown.stdout


def glue_setup(s3: S3Setup, spark: SparkSession) -> GlueCatalog:
    """raw.orders in moto's Glue (the input), and the DynamoDB table of the coordinator."""
    s3.seed_orders(spark, ORDER_ROWS)  # the Delta table on S3 (its local-catalog entry is unused)
    config = GlueCatalogConfig(region="us-east-1", endpoint_url=s3.endpoint)
    glue = GlueCatalog(config, client=boto_client(s3.endpoint, "glue"))
    schema = spark.createDataFrame([], ORDERS).schema.jsonValue()
    glue.register("raw.orders", s3.s3_warehouse().table_location("raw.orders"), schema=schema)
    dynamodb = boto_client(s3.endpoint, "dynamodb")
    dynamodb.create_table(
        TableName=f"commits_{s3.bucket}",
        KeySchema=[
            {"AttributeName": "tablePath", "KeyType": "HASH"},
            {"AttributeName": "fileName", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "tablePath", "AttributeType": "S"},
            {"AttributeName": "fileName", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return glue


def test_two_iceberg_writers_with_the_glue_catalog_both_land(
    s3: S3Setup, spark: SparkSession
) -> None:
    glue = glue_setup(s3, spark)
    base = [
        sys.executable, "-m", "featurekit", "run", "daily_spend", "--warehouse", s3.warehouse,
        "--table-format", "iceberg", "--catalog", "glue", "--catalog-region", "us-east-1",
        "--catalog-endpoint", s3.endpoint,
        "--commit-coordinator", f"dynamodb:commits_{s3.bucket}",
    ]  # fmt: skip
    writers = [
        subprocess.Popen(
            [*base, "--start", day, "--end", day],
            env={**s3.env(), "AWS_ENDPOINT_URL_DYNAMODB": s3.endpoint},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for day in ("2026-01-01", "2026-01-03")
    ]
    outcomes: list[Any] = [w.communicate(timeout=900) for w in writers]
    for writer, (_out, err) in zip(writers, outcomes):
        assert writer.returncode == 0, err[-3000:]

    raw = glue.client.get_table(DatabaseName="shop", Name="daily_spend")["Table"]
    params = raw["Parameters"]
    assert params["table_type"] == "ICEBERG"
    assert params["metadata_location"] == latest_metadata(s3, "shop.daily_spend")
    assert raw["StorageDescriptor"]["Location"].rstrip("/") == (
        s3.s3_warehouse().table_location("shop.daily_spend")
    )
    table = read_iceberg(s3, spark, params["metadata_location"])
    both = [("ann", "2026-01-01", 2, 15.0), ("ann", "2026-01-03", 1, 1.0)]
    assert_rows(table, spend(spark, both))  # neither writer's commit was lost
    locks = boto_client(s3.endpoint, "dynamodb").list_tables()["TableNames"]
    assert f"commits_{s3.bucket}_iceberg_locks" in locks  # Iceberg's lock manager was used
