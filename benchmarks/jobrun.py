"""(c) The cost of the framework: a FeatureJob run vs the same transform as a plain script.

The job goes through featurekit's whole lifecycle on the local runtime (read with input
row count, transform, staged write, row checks, Delta commit, catalog, run record). The
plain script is what one would spark-submit: read parquet, transform, write parquet.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from pyspark.sql import DataFrame, SparkSession

from featurekit import FeatureJob, FeatureTable, FilesInput, JobContext
from featurekit.features import Agg, windowed_aggregates
from featurekit.runtime.local import LocalConfig, LocalRuntime

WINDOWS = ("1d", "7d", "30d")
AGGS = (
    Agg.count("events"),
    Agg.count("purchases", where="event_type = 'purchase'"),
    Agg.sum("spend", "amount", where="event_type = 'purchase'"),
)
COLUMNS = {
    "user_id": "string",
    "feature_date": "date",
    **{f"{a.name}_{w}": "double" if a.name == "spend" else "bigint" for a in AGGS for w in WINDOWS},
}


def transform(events: DataFrame) -> DataFrame:
    """The transform both variants run."""
    return windowed_aggregates(
        events, keys="user_id", timestamp="event_time", aggregations=AGGS, windows=WINDOWS
    )


def make_job(events_path: Path) -> type[FeatureJob]:
    class BenchActivity(FeatureJob):
        name = "bench_activity"
        inputs = {"events": FilesInput(str(events_path), format="parquet")}  # noqa: RUF012
        output = FeatureTable(
            "bench.activity", keys=("user_id",), date_column="feature_date", columns=COLUMNS
        )

        def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
            return transform(events)

    return BenchActivity


def job_comparison(
    spark: SparkSession,
    events_path: Path,
    repeats: int,
    compare: Callable[..., dict[str, Any]],
    checksum: Callable[[DataFrame], Any],
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="fk-bench-"))
    runtime = LocalRuntime(LocalConfig(warehouse=str(work / "warehouse"), quiet=True), spark=spark)
    job = make_job(events_path)()
    plain_out = work / "plain"

    def featurekit_job() -> None:
        job.run(runtime)

    def plain_script() -> None:
        out = transform(spark.read.parquet(str(events_path)))
        out.write.mode("overwrite").partitionBy("feature_date").parquet(str(plain_out))

    try:
        methods = {"featurekit_job": featurekit_job, "plain_script": plain_script}
        result = compare(spark, methods, repeats, "c job overhead")
        table = runtime.storage.engine.read(spark, runtime.storage.location("bench.activity"))
        plain = spark.read.parquet(str(plain_out)).select(*table.columns)
        result["agree"] = checksum(table) == checksum(plain)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
