"""Helpers of the S3 tests: a bucket on moto, the featurekit CLI in a subprocess.

The jobs come from ``project/`` (a user's package with its entry points), put on the
subprocesses' PYTHONPATH.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from featurekit.runtime.s3 import S3Access
from featurekit.tables.catalog import LocalCatalog
from featurekit.warehouse import S3Warehouse

PROJECT = Path(__file__).parent / "project"
SOURCE = Path(__file__).resolve().parents[2] / "src"  # this checkout's featurekit
ORDERS = "user_id string, ordered_at timestamp, amount double"
SPEND = "user_id string, day date, orders bigint, spend double"
# The orders the S3 tests seed, and the spend_daily rows (SPEND) a run over them writes.
ORDER_ROWS = [
    ("ann", "2026-01-01 09:00:00", 10.0),
    ("ann", "2026-01-01 18:00:00", 5.0),
    ("bob", "2026-01-02 12:00:00", 7.5),
    ("ann", "2026-01-03 08:00:00", 1.0),
]
FIRST = [
    ("ann", "2026-01-01", 2, 15.0),
    ("bob", "2026-01-02", 1, 7.5),
    ("ann", "2026-01-03", 1, 1.0),
]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any AWS setting, plus ``extra``; no instance-metadata lookups."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("FEATUREKIT_WAREHOUSE", None)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws"
    # the user's jobs, and this checkout's featurekit before any installed one
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT), str(SOURCE)])
    env.update(extra)
    return env


@dataclass(frozen=True)
class S3Setup:
    """One test's bucket on moto, its warehouse URI and how to reach it."""

    endpoint: str
    bucket: str
    client: Any

    @property
    def warehouse(self) -> str:
        return f"s3://{self.bucket}/wh"

    @property
    def access(self) -> S3Access:
        return S3Access(endpoint=self.endpoint, access_key="testing", secret_key="testing")

    def env(self) -> dict[str, str]:
        return clean_env(
            AWS_ENDPOINT_URL_S3=self.endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )

    def s3_warehouse(self) -> S3Warehouse:
        return S3Warehouse(self.warehouse, client=self.client)

    def keys(self, prefix: str) -> list[str]:
        found = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in found.get("Contents", []))

    def table(self, spark: SparkSession, name: str, schema: str = SPEND) -> DataFrame:
        """The Delta table read by delta-rs (a second Delta reader), as a DataFrame."""
        from deltalake import DeltaTable

        location = self.s3_warehouse().table_location(name)
        data = DeltaTable(location, storage_options=self.access.storage_options())
        frame = data.to_pyarrow_table().to_pandas()
        names = [f.name for f in spark.createDataFrame([], schema).schema.fields]
        return spark.createDataFrame(frame[names], schema)  # by name: engines order differ

    def version(self, name: str) -> int:
        from deltalake import DeltaTable

        location = self.s3_warehouse().table_location(name)
        return int(DeltaTable(location, storage_options=self.access.storage_options()).version())

    def seed_orders(self, spark: SparkSession, rows: Sequence[tuple[str, str, float]]) -> None:
        """Write ``raw.orders`` as a Delta table (delta-rs) on S3 and register it."""
        import pyarrow as pa
        from deltalake import write_deltalake

        location = self.s3_warehouse().table_location("raw.orders")
        stamp = pa.timestamp("us", tz="UTC")
        data = pa.table(
            {
                "user_id": pa.array([r[0] for r in rows], pa.string()),
                "ordered_at": pa.array([dt.datetime.fromisoformat(r[1]) for r in rows], stamp),
                "amount": pa.array([r[2] for r in rows], pa.float64()),
            }
        )
        options = self.access.storage_options()
        write_deltalake(location, data, mode="overwrite", storage_options=options)
        schema = spark.createDataFrame([], ORDERS).schema.jsonValue()
        LocalCatalog(self.s3_warehouse()).register("raw.orders", location, schema=schema)


def featurekit(
    args: Sequence[str], env: Mapping[str, str], *, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``featurekit ARGS`` in a subprocess; prints its wall time (pytest -s shows it)."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "featurekit", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    print(f"featurekit {' '.join(args[:2])}: {time.perf_counter() - began:.1f}s")
    return done
