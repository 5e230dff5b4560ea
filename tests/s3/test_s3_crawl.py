"""`featurekit crawl` over a real bucket (moto's S3 through s3a) into the Glue Data Catalog
(moto's Glue): the production path of a crawler, listed and sampled by Spark on S3."""

from __future__ import annotations

import json

import pytest
from s3_helpers import S3Setup, featurekit

from featurekit.testing.plugin import boto_client

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ORDERS_CSV = {
    "dt=2026-01-01/part-0.csv": "user_id,amount\nann,10.5\nbob,2.0\n",
    "dt=2026-01-02/part-0.csv": "user_id,amount\ncy,7.25\n",
}
CLICKS_JSON = {"2026/part-0.json": '{"user_id": "ann", "page": "home", "n": 3}\n'}


def put(s3: S3Setup, prefix: str, files: dict[str, str]) -> None:
    for key, body in files.items():
        s3.client.put_object(Bucket=s3.bucket, Key=f"{prefix}/{key}", Body=body.encode())


def test_crawl_a_bucket_into_the_glue_catalog(s3: S3Setup) -> None:
    put(s3, "landing/orders", ORDERS_CSV)
    put(s3, "landing/clicks", CLICKS_JSON)
    glue = ["--catalog", "glue", "--catalog-endpoint", s3.endpoint]
    glue += ["--catalog-region", "us-east-1"]
    args = ["crawl", f"s3://{s3.bucket}/landing/", "--database", "landing"]
    done = featurekit([*args, "--warehouse", s3.warehouse, *glue, "--json"], s3.env())
    assert done.returncode == 0, done.stderr[-3000:]
    plans = {p["table"]: p for p in json.loads(done.stdout)["tables"]}
    assert {t: p["action"] for t, p in plans.items()} == {
        "landing.clicks": "create",
        "landing.orders": "create",
    }

    client = boto_client(s3.endpoint, "glue")
    orders = client.get_table(DatabaseName="landing", Name="orders")["Table"]
    storage = orders["StorageDescriptor"]
    assert storage["Location"].rstrip("/") == f"s3://{s3.bucket}/landing/orders"
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == [
        ("user_id", "string"),
        ("amount", "double"),
    ]
    assert [k["Name"] for k in orders["PartitionKeys"]] == ["dt"]
    assert orders["Parameters"]["classification"] == "csv"
    found = client.get_partitions(DatabaseName="landing", TableName="orders")["Partitions"]
    assert sorted((p["Values"], p["StorageDescriptor"]["Location"].rstrip("/")) for p in found) == [
        (["2026-01-01"], f"s3://{s3.bucket}/landing/orders/dt=2026-01-01"),
        (["2026-01-02"], f"s3://{s3.bucket}/landing/orders/dt=2026-01-02"),
    ]
    clicks = client.get_table(DatabaseName="landing", Name="clicks")["Table"]
    assert [k["Name"] for k in clicks["PartitionKeys"]] == ["partition_0"]
    assert clicks["Parameters"]["classification"] == "json"


@pytest.mark.parametrize("fmt", ["delta", "parquet"])
def test_register_in_a_missing_bucket_is_one_error_line(s3: S3Setup, fmt: str) -> None:
    location = f"s3://{s3.bucket}-gone/landing/orders/"
    args = ["table", "register", "raw.orders", "--location", location, "--format", fmt]
    done = featurekit([*args, "--warehouse", s3.warehouse], s3.env())
    assert done.returncode == 2, done.stderr[-3000:]
    assert "NoSuchBucket" in done.stderr
    assert "Create the bucket" in done.stderr
    assert "Traceback" not in done.stderr
    assert "\tat " not in done.stderr
