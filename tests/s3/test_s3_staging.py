"""Stage folders on an s3:// warehouse: a successful `featurekit run` leaves no object
under the table's ``_featurekit_staging/`` (not even S3A's empty folder marker)."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession
from s3_helpers import ORDER_ROWS, S3Setup, featurekit

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_successful_run_on_s3_leaves_nothing_in_staging(s3: S3Setup, spark: SparkSession) -> None:
    s3.seed_orders(spark, ORDER_ROWS)
    args = ["run", "daily_spend", "--warehouse", s3.warehouse, "--quiet"]
    done = featurekit(args, s3.env())
    assert done.returncode == 0, done.stderr

    table = s3.s3_warehouse().table_location("shop.daily_spend").split(f"{s3.bucket}/", 1)[1]
    keys = s3.keys(f"{table.rstrip('/')}/")
    assert [k for k in keys if "/_delta_log/" in k and k.endswith(".json")]
    assert [k for k in keys if k.endswith(".parquet")]
    assert not [k for k in keys if "_featurekit_staging" in k]
