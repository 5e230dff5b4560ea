"""The whole flow of the shared catalog, once with the Glue Data Catalog (moto's server)
and once with the local catalog: a crawl registers partitioned csv, json and parquet files
and a Delta table; a job on the Glue runtime (emulated) reads a crawled table through
TableInput and writes a feature table registered in the same catalog; a second job reads
that table through the catalog. Both catalogs give the same rows."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality
from deltalake import write_deltalake
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.cli import main
from featurekit.glue_local import GlueContext
from featurekit.runtime.glue import GlueConfig, GlueRuntime
from featurekit.tables.glue_catalog import GlueCatalogConfig
from featurekit.testing import read_table
from featurekit.testing.plugin import boto_client

pytestmark = pytest.mark.integration
DB = f"landing_{uuid.uuid4().hex[:6]}"
FEATURES = f"features_{uuid.uuid4().hex[:6]}"
SPEND = {"customer_id": "string", "dt": "date", "spend": "double"}


class DailySpend(FeatureJob):
    name = "daily_spend"
    inputs = {"orders": TableInput(f"{DB}.orders")}
    output = FeatureTable(
        f"{FEATURES}.daily_spend", keys=("customer_id",), date_column="dt", columns=SPEND
    )

    def transform(self, ctx: JobContext, orders: DataFrame) -> DataFrame:
        return orders.groupBy("customer_id", F.to_date("dt").alias("dt")).agg(
            F.round(F.sum("amount"), 2).alias("spend")
        )


class TopSpenders(FeatureJob):
    name = "top_spenders"
    inputs = {"spend": TableInput(f"{FEATURES}.daily_spend")}
    output = FeatureTable(
        f"{FEATURES}.top_spenders", keys=("customer_id",), date_column="dt", columns=SPEND
    )

    def transform(self, ctx: JobContext, spend: DataFrame) -> DataFrame:
        return spend.where(F.col("spend") >= 10)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A landing folder: partitioned csv, json and parquet files, and a Delta table."""
    root = tmp_path_factory.mktemp("flow") / "landing"
    orders = {"2026-03-01": ["o1,c1,12.5", "o2,c2,4.0"], "2026-03-02": ["o3,c1,7.5", "o4,c1,30"]}
    for day, lines in orders.items():
        (root / "orders" / f"dt={day}").mkdir(parents=True)
        text = "order_id,customer_id,amount\n" + "\n".join(lines) + "\n"
        (root / "orders" / f"dt={day}" / "part-0.csv").write_text(text)
    for day in ("01", "02"):  # unnamed partitions, as a crawler names them: partition_0, ...
        (root / "clicks" / "2026" / day).mkdir(parents=True)
        (root / "clicks" / "2026" / day / "c.jsonl").write_text('{"user": "c1", "n": 1}\n')
    (root / "prices" / "region=eu").mkdir(parents=True)
    pq.write_table(pa.table({"item": ["i1"], "price": [9.5]}), root / "prices/region=eu/p.parquet")
    write_deltalake(str(root / "customers"), pa.table({"customer_id": ["c1"], "tier": ["gold"]}))
    return root


def _flow(spark: SparkSession, warehouse: Path, landing: Path, catalog: list[str]) -> Any:
    """Crawl ``landing`` into ``catalog``, then run both jobs on the Glue runtime."""
    crawl = ["crawl", str(landing), "--database", DB, "--warehouse", str(warehouse), "--quiet"]
    assert main([*crawl, *catalog]) == 0
    glue = None
    if catalog[1] == "glue":
        glue = GlueCatalogConfig(region="us-east-1", endpoint_url=catalog[3])
    config = GlueConfig(warehouse=str(warehouse), quiet=True, catalog=catalog[1],
                        glue_catalog=glue, job_name="flow", args={})  # fmt: skip
    runtime = GlueRuntime(GlueContext(spark, warehouse=str(warehouse)), config)
    for job in (DailySpend, TopSpenders):
        record = job().run(runtime)
        assert record.status == "succeeded", record.error
    return runtime


def test_crawled_tables_feed_two_jobs_the_same_with_either_catalog(
    spark: SparkSession, landing: Path, tmp_path: Path, moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    glue_args = ["--catalog", "glue", "--catalog-endpoint", moto_endpoint,
                 "--catalog-region", "us-east-1", "--json"]  # fmt: skip
    on_glue = _flow(spark, tmp_path / "wh-glue", landing, glue_args)
    plan = {t["table"]: t for t in json.loads(capsys.readouterr().out)["tables"]}
    assert {
        n: (t["format"], t["partitions"], len(t["new_partitions"])) for n, t in plan.items()
    } == {
        f"{DB}.orders": ("csv", ["dt"], 2),
        f"{DB}.clicks": ("json", ["partition_0", "partition_1"], 2),
        f"{DB}.prices": ("parquet", ["region"], 1),
        f"{DB}.customers": ("delta", [], 0),
    }
    on_local = _flow(spark, tmp_path / "wh-local", landing, ["--catalog", "local"])
    for table in ("daily_spend", "top_spenders"):
        name = f"{FEATURES}.{table}"
        assert_df_equality(read_table(on_glue, name), read_table(on_local, name),
                           ignore_row_order=True, ignore_nullable=True)  # fmt: skip
    top = read_table(on_glue, f"{FEATURES}.top_spenders").orderBy("dt").collect()
    assert [(r.customer_id, r.dt, r.spend) for r in top] == [
        ("c1", dt.date(2026, 3, 1), 12.5), ("c1", dt.date(2026, 3, 2), 37.5)
    ]  # fmt: skip
    assert on_local.storage.catalog.partitions(
        f"{DB}.orders"
    ) == on_glue.storage.catalog.partitions(f"{DB}.orders")
    _assert_glue_form(boto_client(moto_endpoint, "glue"), landing, tmp_path / "wh-glue")


def _assert_glue_form(glue: Any, landing: Path, warehouse: Path) -> None:
    """What the Glue Data Catalog holds: the crawled tables, their partitions, the feature
    table as a Delta table; nothing in the warehouse's own catalog."""
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=DB)["TableList"]}
    assert {n: t["Parameters"]["classification"] for n, t in tables.items()} == {
        "orders": "csv", "clicks": "json", "prices": "parquet", "customers": "delta"
    }  # fmt: skip
    assert [c["Name"] for c in tables["orders"]["PartitionKeys"]] == ["dt"]
    assert tables["customers"]["Parameters"]["table_type"] == "DELTA"
    parts = glue.get_partitions(DatabaseName=DB, TableName="orders")["Partitions"]
    assert sorted((p["Values"], p["StorageDescriptor"]["Location"]) for p in parts) == [
        (["2026-03-01"], f"{landing}/orders/dt=2026-03-01"),
        (["2026-03-02"], f"{landing}/orders/dt=2026-03-02"),
    ]
    serde = {p["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] for p in parts}
    assert serde == {"org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"}
    feature = glue.get_table(DatabaseName=FEATURES, Name="daily_spend")["Table"]
    assert feature["StorageDescriptor"]["Location"] == str(warehouse / FEATURES / "daily_spend")
    params = feature["Parameters"]
    assert (params["table_type"], params["featurekit.keys"], params["featurekit.date_column"]) == (
        "DELTA", "customer_id", "dt"
    )  # fmt: skip
    assert feature["PartitionKeys"] == []
    assert not (warehouse / "_catalog").exists()
