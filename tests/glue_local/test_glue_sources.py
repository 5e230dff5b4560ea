"""Listing a Glue source's S3 objects: a bucket that does not exist is an error, as on Glue;
an empty prefix of one that does is no objects."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from featurekit.errors import ConfigError
from featurekit.glue_local.sources import check_bucket, list_objects
from featurekit.warehouse import S3Warehouse, Warehouse


def test_a_local_warehouse_without_the_buckets_folder_refuses_it(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    with pytest.raises(ConfigError) as refused:
        check_bucket(warehouse, "s3://landing/events/")
    assert str(refused.value).startswith(
        "s3://landing/events/ is in bucket 'landing', which the local warehouse does not have: "
        f"s3:// paths map to {tmp_path}/_s3/BUCKET. Create {tmp_path}/_s3/landing"
    )
    (tmp_path / "_s3" / "landing").mkdir(parents=True)
    check_bucket(warehouse, "s3://landing/events/")
    assert list_objects(warehouse, "s3://landing/events/", recurse=True) == {}
    (tmp_path / "_s3" / "landing" / "events").mkdir()
    (tmp_path / "_s3" / "landing" / "events" / "a.json").write_text("{}\n")
    assert list(list_objects(warehouse, "s3://landing/events/", recurse=True)) == [
        "s3://landing/events/a.json"
    ]


def test_an_s3_warehouse_refuses_a_bucket_that_does_not_exist(moto_endpoint: str) -> None:
    from featurekit.testing.plugin import boto_client

    client = boto_client(moto_endpoint, "s3")
    bucket = f"fk-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    warehouse = S3Warehouse(f"s3://{bucket}/wh", client=client)
    assert list_objects(warehouse, f"s3://{bucket}/landing/", recurse=True) == {}
    with pytest.raises(ConfigError, match=r"is in bucket 'no-such-bucket', which does not exist"):
        list_objects(warehouse, "s3://no-such-bucket/landing/", recurse=True)
