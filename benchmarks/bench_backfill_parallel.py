"""`backfill --parallel N` against a serial backfill, in one Spark application.

One local warehouse per run (delta-rs engine), a daily-spend job over ``--days`` days of
events in chunks of ``--chunk-days``; serial and parallel runs alternate (``--rounds``
pairs, the order flipped every round), and the medians and the per-round (paired) ratios
are compared, with the machine's load average around each run. Each run's table is
checked equal to the first serial one. ``--master`` runs the application on another
Spark master: ``standalone`` starts a Spark standalone cluster on 127.0.0.1 for the
benchmark (``--workers`` workers of one core each, featurekit.testing.cluster) and stops
it at the end; a ``spark://`` URL uses a running one.

    python -m benchmarks.bench_backfill_parallel --days 12 --chunk-days 2 --parallel 3
    python -m benchmarks.bench_backfill_parallel --master standalone --workers 2
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.run.backfill import backfill
from featurekit.runtime.local import LocalConfig, LocalRuntime, build_session

RESULTS = Path(__file__).parent / "results" / "backfill_parallel.json"


class DailySpend(FeatureJob):
    name = "bench_daily_spend"
    inputs = {"events": TableInput("raw.events", time_column="event_time")}  # noqa: RUF012
    output = FeatureTable(
        "features.daily_spend",
        keys=("user_id",),
        date_column="feature_date",
        columns={"user_id": "string", "feature_date": "date", "spend": "double"},
    )

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        return events.groupBy("user_id", F.to_date("event_time").alias("feature_date")).agg(
            F.sum("amount").alias("spend")
        )


def seeded(spark: Any, root: Path, days: int, users: int) -> LocalRuntime:
    runtime = LocalRuntime(LocalConfig(warehouse=str(root), quiet=True), spark=spark)
    events = spark.range(days * users * 20).select(
        (F.col("id") % users).cast("string").alias("user_id"),
        (F.lit(dt.datetime(2024, 1, 1)).cast("timestamp") + F.expr(
            f"make_interval(0, 0, 0, 0, 0, 0, (id % {days * 86400}))"
        )).alias("event_time"),
        (F.col("id") % 97).cast("double").alias("amount"),
    )  # fmt: skip
    location = runtime.storage.location("raw.events")
    runtime.storage.engine.write(events, location, mode="overwrite")
    schema = runtime.storage.engine.schema(location)
    assert schema is not None
    runtime.storage.catalog.register("raw.events", location, schema=schema.jsonValue())
    return runtime


def one_run(spark: Any, base: Path, name: str, args: argparse.Namespace, parallel: int) -> float:
    runtime = seeded(spark, base / name, args.days, args.users)
    start = dt.date(2024, 1, 1)
    end = start + dt.timedelta(days=args.days - 1)
    began = time.perf_counter()
    backfill(
        DailySpend(), runtime, start=start, end=end, chunk_days=args.chunk_days,
        progress=None, parallel=parallel,
    )  # fmt: skip
    return time.perf_counter() - began


def table(spark: Any, base: Path, name: str) -> DataFrame:
    runtime = LocalRuntime(LocalConfig(warehouse=str(base / name), quiet=True), spark=spark)
    location = runtime.storage.output_location(DailySpend.output)
    return runtime.storage.engine.read(spark, location)


@contextlib.contextmanager
def master_url(master: str, workers: int, base: Path) -> Iterator[str]:
    """The Spark master to run on: ``standalone`` starts a cluster for the benchmark."""
    if master != "standalone":
        yield master
        return
    from featurekit.testing.cluster import ClusterConfig, StandaloneCluster

    with StandaloneCluster(base / "cluster", ClusterConfig(workers=workers)) as cluster:
        yield cluster.master_url


def measure(spark: Any, base: Path, args: argparse.Namespace) -> dict[str, list[float]]:
    """Alternating serial and parallel runs: times and the 1-minute load before each."""
    times: dict[str, list[float]] = {"serial": [], "parallel": [], "load": []}
    one_run(spark, base, "warmup", args, 1)  # JIT, Python workers: not measured
    for index in range(args.rounds):
        order = ["serial", "parallel"] if index % 2 == 0 else ["parallel", "serial"]
        for kind in order:
            degree = 1 if kind == "serial" else args.parallel
            times["load"].append(os.getloadavg()[0])
            times[kind].append(one_run(spark, base, f"{kind}{index}", args, degree))
    reference = table(spark, base, "serial0")
    for index in range(args.rounds):
        other = table(spark, base, f"parallel{index}")
        if reference.exceptAll(other).count() or other.exceptAll(reference).count():
            raise SystemExit(f"parallel run {index} differs from the serial one")
    return times


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--chunk-days", type=int, default=2)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--master",
        default="local[2]",
        help="Spark master: local[N], a spark:// URL, or standalone (a cluster started here)",
    )
    parser.add_argument("--workers", type=int, default=2, help="workers of a standalone cluster")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as tmp,
        master_url(args.master, args.workers, Path(tmp)) as master,
    ):
        config = LocalConfig(engine="delta-rs", quiet=True, master=master)
        spark = build_session(config, report=lambda _m: None)
        try:
            times = measure(spark, Path(tmp), args)
            executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1
        finally:
            spark.stop()
    serial, parallel = statistics.median(times["serial"]), statistics.median(times["parallel"])
    paired = [s / p for s, p in zip(times["serial"], times["parallel"])]
    figures = {
        **{k: v for k, v in vars(args).items() if k != "results"},
        "serial_s": [round(t, 1) for t in times["serial"]],
        "parallel_s": [round(t, 1) for t in times["parallel"]],
        "median_serial_s": round(serial, 1),
        "median_parallel_s": round(parallel, 1),
        "speedup": round(serial / parallel, 2),
        "paired_ratios": [round(r, 2) for r in paired],
        "median_paired_ratio": round(statistics.median(paired), 2),
        "load_1min": [round(x, 1) for x in times["load"]],
        "master_url": master,
        "executors": executors,
        "cpus": os.cpu_count(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(json.dumps(figures, indent=2))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.results.read_text()) if args.results.exists() else []
    args.results.write_text(json.dumps([*previous, figures], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
