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
import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from benchmarks import jobrun
from benchmarks.bench_features import (
    checksum,
    events_table,
    parse_session_args,
    report_path,
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
    p.add_argument("--warmup", type=int, default=1, help="untimed rounds of both methods first")
    return parse_session_args(p, argv)


class PhaseJobs:
    """A run's progress lines, counting the Spark jobs of the current job group by the
    lifecycle phase that started them (a phase begins with the line ``<phase> ...``)."""

    BEGINS = re.compile(r"^(\w+) \.\.\.$")

    def __init__(self, spark: Any) -> None:
        self.context = spark.sparkContext
        self.counts: dict[str, int] = {}
        self.phase = "start"
        self.seen = 0
        self.group: str | None = None

    def _jobs(self) -> int:
        self.group = self.context.getLocalProperty("spark.jobGroup.id") or self.group
        tracker = self.context.statusTracker()
        return len(tracker.getJobIdsForGroup(self.group)) if self.group else 0

    def close(self) -> dict[str, int]:
        """Jobs per phase since the last close (the last phase counted up to now)."""
        self("end ...")
        counts, self.counts, self.phase, self.seen = self.counts, {}, "start", 0
        self.group = None
        return {k: v for k, v in counts.items() if v}

    def __call__(self, message: str) -> None:
        began = self.BEGINS.match(message)
        if began is None:
            return
        now = self._jobs()
        self.counts[self.phase] = self.counts.get(self.phase, 0) + now - self.seen
        self.phase, self.seen = began.group(1), now


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
    events = events_table(spark, args)
    work = Path(tempfile.mkdtemp(prefix="fk-bench-overhead-"))
    runtime = LocalRuntime(LocalConfig(warehouse=str(work / "warehouse"), quiet=True), spark=spark)
    phase_jobs = PhaseJobs(spark)
    runtime.report = phase_jobs
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
    by_phase: list[dict[str, int]] = []
    loads = []
    try:
        for _ in range(args.warmup):
            for name, fn in methods.items():
                timed_with_jobs(spark, name, fn)
        phase_jobs.close()
        for r in range(args.repeats):
            order = list(methods.items())
            for name, fn in reversed(order) if r % 2 else order:
                seconds, started = timed_with_jobs(spark, name, fn)
                runs[name].append(round(seconds, 3))
                jobs[name].append(started)
                print(f"  [overhead] {name} run {r + 1}: {seconds:.2f}s, {started} Spark jobs")
                if name == "featurekit_job":
                    by_phase.append(phase_jobs.close())
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
        "featurekit_jobs_by_phase": by_phase,
        "paired_ratio": round(paired, 3),
        "agree": agree,
        "loadavg": loads,
        "budget": BUDGET,
    }
    path = report_path(args, "bench_overhead")
    write_report(report, path)
    print(
        f"\nfixed cost at {args.events:,} events: featurekit job {medians['featurekit_job']:.2f} s"
        f" / plain script {medians['plain_script']:.2f} s = {paired:.2f}x paired "
        f"(target <= {BUDGET}x: {'within' if paired <= BUDGET else 'OVER'}); Spark jobs per "
        f"run: featurekit {statistics.median(jobs['featurekit_job']):.0f}, plain "
        f"{statistics.median(jobs['plain_script']):.0f} (featurekit by phase: {by_phase[-1]}); "
        f"outputs agree: {agree}; load {loads[-1]}\nwritten: {path}"
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
