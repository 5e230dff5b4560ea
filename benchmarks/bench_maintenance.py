"""Benchmark: reading a table after 30 daily range runs, before and after ``optimize``.

    python -m benchmarks.bench_maintenance [--days 30] [--users 20000] [--per-user 5]

A daily job (clicks per user and day) runs once per date with ``--start D --end D``,
as a scheduler would run it. Then ``optimize`` compacts the output table, and the
table before and after it is read in full (every row, through the engine, ending in
a checksum) ``--repeats`` times each: medians side by side, their ratio, and the file
counts in the snapshot and on disk. Both reads must agree.

The two versions are read alternately after the optimize (the version before it by
time travel, which reads exactly that version's files), after one warm-up read of
each, so JIT warm-up and machine noise fall on both alike.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from benchmarks.bench_features import (
    checksum,
    parse_session_args,
    report_path,
    session,
    write_report,
)
from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.tables.maintenance import data_files_on_disk

START = dt.date(2026, 1, 1)


class DailyClicks(FeatureJob):
    name = "bench_daily_clicks"
    inputs = {"clicks": TableInput("web.clicks", time_column="ts")}  # noqa: RUF012
    output = FeatureTable(
        "features.bench_daily_clicks",
        keys=("user_id",),
        date_column="feature_date",
        columns={
            "user_id": "string",
            "feature_date": "date",
            "clicks": "bigint",
            "spend": "double",
        },
    )

    def transform(self, ctx: JobContext, clicks: DataFrame) -> DataFrame:
        daily = clicks.groupBy("user_id", F.to_date("ts").alias("feature_date"))
        return daily.agg(F.count(F.lit(1)).alias("clicks"), F.sum("amount").alias("spend"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=30, help="daily range runs")
    p.add_argument("--users", type=int, default=20_000)
    p.add_argument("--per-user", type=int, default=5, help="clicks per user and day")
    return parse_session_args(p, argv)


def seed_clicks(runtime: LocalRuntime, args: argparse.Namespace) -> None:
    spark = runtime.spark
    n = args.days * args.users * args.per_user
    ids = spark.range(n)
    day = (F.col("id") / (args.users * args.per_user)).cast("int")
    clicks = ids.select(
        F.concat(F.lit("u"), (F.col("id") % args.users).cast("string")).alias("user_id"),
        (F.lit(dt.datetime.combine(START, dt.time(0, 30))) + F.make_dt_interval(day)).alias("ts"),
        ((F.col("id") % 89) * 0.5).alias("amount"),
    )
    location = runtime.storage.location("web.clicks")
    runtime.storage.engine.write(clicks, location, mode="overwrite")
    schema = runtime.storage.engine.schema(location)
    assert schema is not None
    runtime.storage.catalog.register("web.clicks", location, schema=schema.jsonValue())


def interleaved_reads(
    reads: dict[str, Callable[[], DataFrame]], repeats: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Each read once untimed (warm-up), then ``repeats`` timed rounds, alternating."""
    times: dict[str, list[float]] = {name: [] for name in reads}
    results = {name: checksum(read()) for name, read in reads.items()}
    for r in range(repeats):
        for name, read in reads.items():
            began = time.perf_counter()
            results[name] = checksum(read())
            times[name].append(round(time.perf_counter() - began, 3))
            print(f"  [{name}] read {r + 1}/{repeats}: {times[name][-1]:.2f}s", flush=True)
    return times, results


def run(spark: SparkSession, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    runtime = LocalRuntime(LocalConfig(warehouse=str(root), quiet=True), spark=spark)
    seed_clicks(runtime, args)
    began = time.perf_counter()
    for i in range(args.days):
        date = START + dt.timedelta(days=i)
        DailyClicks().run(runtime, start=date, end=date)
    runs_s = time.perf_counter() - began
    location = runtime.storage.output_location(DailyClicks.output)
    engine = runtime.storage.engine

    disk_before = len(data_files_on_disk(location))
    version_before = engine.version(location)
    compacted = engine.optimize(location)
    # Side by side: the version before optimize (time travel reads exactly its files)
    # and the latest one, read alternately in the same session.
    reads = {
        "before_optimize": lambda: engine.read(spark, location, version=version_before),
        "after_optimize": lambda: engine.read(spark, location),
    }
    times, sums = interleaved_reads(reads, args.repeats)
    medians = {name: statistics.median(t) for name, t in times.items()}
    return {
        "engine": engine.name,
        "range_runs": args.days,
        "range_runs_s": round(runs_s, 3),
        "rows": sums["before_optimize"][0],
        "versions": {"before_optimize": version_before, "after_optimize": compacted.version},
        "read_s": times,
        "median_s": medians,
        "ratio_after_vs_before": round(medians["after_optimize"] / medians["before_optimize"], 3),
        "files": {
            "live_before": compacted.files_before,
            "live_after": compacted.files_after,
            "removed": compacted.files_removed,
            "added": compacted.files_added,
            "on_disk_before": disk_before,
            "on_disk_after": len(data_files_on_disk(location)),
        },
        "agree": sums["before_optimize"] == sums["after_optimize"],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spark = session(args)
    root = Path(tempfile.mkdtemp(prefix="fk-bench-maint-"))
    path = report_path(args, "bench_maintenance")
    try:
        result = run(spark, args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    write_report({"config": vars(args), "spark": spark.version, "result": result}, path)
    m, f = result["median_s"], result["files"]
    runs, rows = result["range_runs"], result["rows"]
    print(f"{runs} daily range runs ({rows:,} rows) on {result['engine']}")
    print(f"live files {f['live_before']} -> {f['live_after']}, on disk {f['on_disk_before']}")
    print(
        f"read, median of {args.repeats}: before optimize {m['before_optimize']:.2f}s, after "
        f"{m['after_optimize']:.2f}s (ratio {result['ratio_after_vs_before']:.2f}); "
        f"agree: {result['agree']}"
    )
    print(f"written: {path}")
    spark.stop()
    return 0 if result["agree"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
