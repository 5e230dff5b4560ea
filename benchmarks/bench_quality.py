"""The cost of data quality rules: the feature benchmark's job with and without a
10-rule DQDL ruleset on its output, interleaved in one Spark session (Deequ on its
classpath), the order alternating between rounds. The budget is at most 15% over the job
without rules. The report keeps the load average and each variant's lifecycle phases.

    python -m benchmarks.bench_quality --events 200000 --users 5000 --days 40 --repeats 3
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import data, jobrun
from benchmarks.bench_features import checksum, compare, ensure_parquet, write_report
from featurekit import FeatureJob
from featurekit.quality import Ruleset
from featurekit.runtime.local import LocalConfig, LocalRuntime, build_session

ROOT = Path(__file__).resolve().parent
RULES = (
    'IsComplete "user_id"',
    'IsComplete "feature_date"',
    'IsPrimaryKey "user_id" "feature_date"',
    'ColumnValues "events_1d" >= 0',
    'ColumnValues "purchases_30d" >= 0',
    'Completeness "events_30d" >= 0.9',
    "RowCount > 0",
    'Mean "events_7d" >= 0',
    'Sum "spend_30d" >= 0',
    'StandardDeviation "events_30d" >= 0',
)
RULESET = Ruleset(f"Rules = [ {', '.join(RULES)} ]", severity="warn", name="bench")
BUDGET = 1.15


def with_rules(plain: type[FeatureJob]) -> type[FeatureJob]:
    """The same job writing to its own table, with the 10-rule ruleset on its output."""
    output = dataclasses.replace(plain.output, name="bench.activity_dq", quality=(RULESET,))
    return type("BenchActivityDQ", (plain,), {"name": "bench_activity_dq", "output": output})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=5_000_000)
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--driver-memory", default="6g")
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--data-dir", default=str(ROOT / ".data"))
    p.add_argument("--out", default=str(ROOT / "results"))
    args = p.parse_args(argv)
    if args.repeats < 3:
        p.error("--repeats must be at least 3 (medians of three or more runs)")
    return args


def run_comparison(spark: Any, events_path: Path, repeats: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="fk-bench-dq-"))
    runtime = LocalRuntime(LocalConfig(warehouse=str(work / "warehouse"), quiet=True), spark=spark)
    plain = jobrun.make_job(events_path)
    checked = with_rules(plain)
    try:
        methods = {
            "job_without_rules": lambda: dict(plain().run(runtime).phases),
            "job_with_10_rules": lambda: dict(checked().run(runtime).phases),
        }
        load_before = os.getloadavg()
        result = compare(spark, methods, repeats, "quality", alternate=True)
        result["load_average"] = {"before": load_before, "after": os.getloadavg()}
        result["phases_of_last_run"] = result.pop("results")
        ours, theirs = (
            runtime.storage.engine.read(spark, runtime.storage.location(n))
            for n in ("bench.activity", "bench.activity_dq")
        )
        result["agree"] = checksum(ours) == checksum(theirs)
        ratio = result["median_s"]["job_with_10_rules"] / result["median_s"]["job_without_rules"]
        result["overhead_ratio"] = round(ratio, 3)
        result["within_budget"] = ratio <= BUDGET
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    conf = {"spark.sql.shuffle.partitions": str(args.partitions)}
    spark = build_session(
        LocalConfig(driver_memory=args.driver_memory, spark_conf=conf, quality=True)
    )
    events_path = ensure_parquet(
        spark,
        Path(args.data_dir) / f"events_{args.events}_u{args.users}_d{args.days}",
        lambda: data.events(spark, n=args.events, users=args.users, days=args.days),
    )
    report: dict[str, Any] = {"config": vars(args), "spark": spark.version, "rules": RULES}
    report["quality"] = run_comparison(spark, events_path, args.repeats)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = Path(args.out) / f"bench_quality_{stamp}.json"
    write_report(report, path)
    q = report["quality"]
    print(
        f"\nwith 10 rules / without: {q['overhead_ratio']:.3f}x (budget {BUDGET:.2f}x, "
        f"within: {q['within_budget']}), outputs agree: {q['agree']}\n"
        f"medians: {q['median_s']}\nphases of the last runs: {q['phases_of_last_run']}\n"
        f"load average (1/5/15 min) before {q['load_average']['before']}, after "
        f"{q['load_average']['after']}\nwritten: {path}"
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
