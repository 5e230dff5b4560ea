"""A run's fixed cost: a FeatureJob on tiny input against a plain pyspark script.

Both read the same parquet events (default 1,000), run the same transform
(``jobrun.transform``: windowed aggregates 1d/7d/30d) and write the result: the job
through featurekit's whole lifecycle on the local runtime (input count, staged write,
row checks, Delta commit, catalog, run record), the script as ``spark-submit`` would
(read parquet, transform, write parquet partitioned by date). Interleaved in one session,
the order alternating between rounds; medians, the median per-round ratio, the number of
Spark jobs each run starts (each run in its own job group, counted by the status
tracker), the load average, and the outputs compared. Target: the job within 1.2x of the
script.

    python -m benchmarks.bench_overhead --events 1000 --repeats 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from benchmarks import data, jobrun
from benchmarks.bench_features import (
    checksum,
    ensure_parquet,
    parse_session_args,
    session,
    write_report,
)
from featurekit.runtime.local import LocalConfig, LocalRuntime

BUDGET = 1.2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1_000)
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--days", type=int, default=30)
    return parse_session_args(p, argv)


def timed_with_jobs(spark: Any, name: str, fn: Callable[[], Any]) -> tuple[float, int]:
    """(seconds, Spark jobs started) of one run of ``fn`` in its own job group."""
    context = spark.sparkContext
    group = f"bench-overhead-{name}-{time.monotonic_ns()}"
    context.setJobGroup(group, name)
    try:
        began = time.perf_counter()
        fn()
        seconds = time.perf_counter() - began
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    return seconds, len(context.statusTracker().getJobIdsForGroup(group))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spark = session(args)
    events = ensure_parquet(
        spark,
        Path(args.data_dir) / f"events_{args.events}_u{args.users}_d{args.days}",
        lambda: data.events(spark, n=args.events, users=args.users, days=args.days),
    )
    work = Path(tempfile.mkdtemp(prefix="fk-bench-overhead-"))
    runtime = LocalRuntime(LocalConfig(warehouse=str(work / "warehouse"), quiet=True), spark=spark)
    job = jobrun.make_job(events)()
    plain_out = work / "plain"

    def plain_script() -> None:
        out = jobrun.transform(spark.read.parquet(str(events)))
        out.write.mode("overwrite").partitionBy("feature_date").parquet(str(plain_out))

    methods: dict[str, Callable[[], Any]] = {
        "featurekit_job": lambda: job.run(runtime),
        "plain_script": plain_script,
    }
    runs: dict[str, list[float]] = {m: [] for m in methods}
    jobs: dict[str, list[int]] = {m: [] for m in methods}
    loads = []
    try:
        for r in range(args.repeats):
            order = list(methods.items())
            for name, fn in reversed(order) if r % 2 else order:
                seconds, started = timed_with_jobs(spark, name, fn)
                runs[name].append(round(seconds, 3))
                jobs[name].append(started)
                print(f"  [overhead] {name} run {r + 1}: {seconds:.2f}s, {started} Spark jobs")
            loads.append(os.getloadavg())
        table = runtime.storage.engine.read(spark, runtime.storage.location("bench.activity"))
        plain = spark.read.parquet(str(plain_out)).select(*table.columns)
        agree = checksum(table) == checksum(plain)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {m: statistics.median(v) for m, v in runs.items()}
    paired = statistics.median(a / b for a, b in zip(runs["featurekit_job"], runs["plain_script"]))
    report = {
        "config": vars(args),
        "spark": spark.version,
        "runs": runs,
        "median_s": medians,
        "spark_jobs": jobs,
        "paired_ratio": round(paired, 3),
        "agree": agree,
        "loadavg": loads,
        "budget": BUDGET,
    }
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = Path(args.out) / f"bench_overhead_{stamp}.json"
    write_report(report, path)
    print(
        f"\nfixed cost at {args.events:,} events: featurekit job {medians['featurekit_job']:.2f} s"
        f" / plain script {medians['plain_script']:.2f} s = {paired:.2f}x paired "
        f"(target <= {BUDGET}x: {'within' if paired <= BUDGET else 'OVER'}); Spark jobs per "
        f"run: featurekit {statistics.median(jobs['featurekit_job']):.0f}, plain "
        f"{statistics.median(jobs['plain_script']):.0f}; outputs agree: {agree}; "
        f"load {loads[-1]}\nwritten: {path}"
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
