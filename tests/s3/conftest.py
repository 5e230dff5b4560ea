"""S3 end to end: each test gets its own bucket on moto's server (127.0.0.1)."""

from __future__ import annotations

import uuid

import pytest
from s3_helpers import S3Setup

from featurekit.testing.plugin import boto_client


@pytest.fixture
def s3(moto_endpoint: str) -> S3Setup:
    client = boto_client(moto_endpoint, "s3")
    bucket = f"fk-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3Setup(moto_endpoint, bucket, client)
