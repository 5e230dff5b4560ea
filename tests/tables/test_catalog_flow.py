"""Files registered in the catalog, read by a job through TableInput, its Delta output
registered in the same catalog and read by a second job: on the Glue runtime (emulated)
with the Glue Data Catalog (moto's server), and locally with the local catalog, the same
rows."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.cli import main
from featurekit.glue_local import GlueContext
from featurekit.runtime.glue import GlueConfig, GlueRuntime
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.tables.glue_catalog import GlueCatalogConfig
from featurekit.testing import read_table
from featurekit.testing.plugin import boto_client

pytestmark = pytest.mark.integration
DB = f"landing_{uuid.uuid4().hex[:6]}"
FEATURES = f"features_{uuid.uuid4().hex[:6]}"


class DailySpend(FeatureJob):
    name = "daily_spend"
    inputs = {"orders": TableInput(f"{DB}.orders")}
    output = FeatureTable(
        f"{FEATURES}.daily_spend",
        keys=("customer_id",),
        date_column="dt",
        columns={"customer_id": "string", "dt": "date", "spend": "double"},
    )

    def transform(self, ctx: JobContext, orders: DataFrame) -> DataFrame:
        return orders.groupBy("customer_id", F.to_date("dt").alias("dt")).agg(
            F.round(F.sum("amount"), 2).alias("spend")
        )


class TopSpenders(FeatureJob):
    name = "top_spenders"
    inputs = {"spend": TableInput(f"{FEATURES}.daily_spend")}
    output = FeatureTable(
        f"{FEATURES}.top_spenders",
        keys=("customer_id",),
        date_column="dt",
        columns={"customer_id": "string", "dt": "date", "spend": "double"},
    )

    def transform(self, ctx: JobContext, spend: DataFrame) -> DataFrame:
        return spend.where(F.col("spend") >= 10)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """Partitioned csv files, as a landing bucket holds them."""
    rows = {"2026-03-01": ["o1,c1,12.5", "o2,c2,4.0"], "2026-03-02": ["o3,c1,7.5", "o4,c1,30"]}
    for day, lines in rows.items():
        folder = tmp_path / "landing" / "orders" / f"dt={day}"
        folder.mkdir(parents=True)
        (folder / "part-0.csv").write_text("order_id,customer_id,amount\n" + "\n".join(lines))
    return tmp_path / "landing" / "orders"


def _flow(
    spark: SparkSession,
    warehouse: Path,
    landing: Path,
    catalog: list[str],
    glue_runtime: bool = False,
) -> Any:
    argv = ["table", "register", f"{DB}.orders", "--location", str(landing), "--format", "csv",
            "--schema", "order_id string, customer_id string, amount double",
            "--option", "header=true", "--partition-columns", "dt", "--quiet",
            "--warehouse", str(warehouse), *catalog]  # fmt: skip
    assert main(argv) == 0
    glue = None
    if catalog[1] == "glue":
        glue = GlueCatalogConfig(region="us-east-1", endpoint_url=catalog[3])
    runtime: Any
    if glue_runtime:  # a featurekit job on the Glue runtime (the awsglue emulation)
        config = GlueConfig(warehouse=str(warehouse), quiet=True, catalog=catalog[1],
                            glue_catalog=glue, job_name="flow", args={})  # fmt: skip
        runtime = GlueRuntime(GlueContext(spark, warehouse=str(warehouse)), config)
    else:
        local = LocalConfig(
            warehouse=str(warehouse), quiet=True, catalog=catalog[1], glue_catalog=glue
        )
        runtime = LocalRuntime(local, spark=spark)
    for job in (DailySpend, TopSpenders):
        record = job().run(runtime)
        assert record.status == "succeeded", record.error
    return runtime


def test_a_crawled_style_table_feeds_two_jobs_the_same_with_either_catalog(
    spark: SparkSession, landing: Path, tmp_path: Path, moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    glue_args = ["--catalog", "glue", "--catalog-endpoint", moto_endpoint,
                 "--catalog-region", "us-east-1"]  # fmt: skip
    on_glue = _flow(spark, tmp_path / "wh-glue", landing, glue_args, glue_runtime=True)
    on_local = _flow(spark, tmp_path / "wh-local", landing, ["--catalog", "local"])
    for table in ("daily_spend", "top_spenders"):
        name = f"{FEATURES}.{table}"
        assert_df_equality(read_table(on_glue, name), read_table(on_local, name),
                           ignore_row_order=True, ignore_nullable=True)  # fmt: skip
    top = read_table(on_glue, f"{FEATURES}.top_spenders").orderBy("dt").collect()
    assert [(r.customer_id, r.dt, r.spend) for r in top] == [
        ("c1", dt.date(2026, 3, 1), 12.5), ("c1", dt.date(2026, 3, 2), 37.5)
    ]  # fmt: skip
    glue = boto_client(moto_endpoint, "glue")
    table = glue.get_table(DatabaseName=FEATURES, Name="daily_spend")["Table"]
    assert table["Parameters"]["table_type"] == "DELTA"
    assert table["StorageDescriptor"]["Location"] == str(
        tmp_path / "wh-glue" / FEATURES / "daily_spend"
    )
    orders = glue.get_table(DatabaseName=DB, Name="orders")["Table"]
    assert [c["Name"] for c in orders["PartitionKeys"]] == ["dt"]
    assert orders["Parameters"]["classification"] == "csv"
    assert not (tmp_path / "wh-glue" / "_catalog").exists()  # nothing in the local catalog
