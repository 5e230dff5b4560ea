"""The cost of data quality rules: the feature benchmark's job without rules, with a
10-rule DQDL ruleset that keeps every row, with a ruleset that drops failing rows and
with one that quarantines them, interleaved in one Spark session (Deequ on its
classpath), the order alternating between rounds, after an untimed warm-up round. The
budget for each is at most 15% over the job without rules (medians, and the median of
each round's ratio). The dropping and
quarantining rulesets are the ones a new user writes (``ColumnValues "spend_30d" >= 0``,
``IsComplete``, ``RowCount``); about 1% of rows fail them (negative spend planted by a
wrapped transform, which also gives a user without purchases a spend of 0; with
``--null-spend`` it stays null and fails the rule too: about half the rows). The report
keeps the load average and each variant's lifecycle phases.

    python -m benchmarks.bench_quality --events 200000 --users 5000 --days 40 --repeats 3
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import jobrun
from benchmarks.bench_features import (
    checksum,
    compare,
    events_table,
    report_path,
    write_report,
)
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
ROW_RULES = 'Rules = [ ColumnValues "spend_30d" >= 0, IsComplete "user_id", RowCount > 0 ]'
DROP = Ruleset(ROW_RULES, severity="warn", on_failing_rows="drop", name="bench_drop")
QUARANTINE = Ruleset(ROW_RULES, severity="warn", on_failing_rows="quarantine", name="bench_q")
BUDGET = 1.15
VARIANTS = {
    "job_with_10_rules": RULESET,
    "job_dropping_rows": DROP,
    "job_quarantining_rows": QUARANTINE,
}


def with_rules(
    plain: type[FeatureJob], ruleset: Ruleset = RULESET, suffix: str = "dq"
) -> type[FeatureJob]:
    """The same job writing to its own table, with ``ruleset`` on its output."""
    output = dataclasses.replace(plain.output, name=f"bench.activity_{suffix}", quality=(ruleset,))
    return type(
        f"BenchActivity_{suffix}", (plain,), {"name": f"bench_activity_{suffix}", "output": output}
    )


def with_negative_spend(plain: type[FeatureJob], *, nulls: bool = False) -> type[FeatureJob]:
    """``plain`` whose output has spend_30d negated on about 1% of rows (rows to drop).

    A user without purchases in 30 days has a null ``spend_30d``, which fails
    ``ColumnValues "spend_30d" >= 0`` as well; it is 0 here unless ``nulls`` (then about
    half the rows of the benchmark's data fail)."""
    from pyspark.sql import functions as F

    def transform(self: Any, ctx: Any, events: Any) -> Any:
        out = plain.transform(self, ctx, events)
        spend = F.col("spend_30d") if nulls else F.coalesce(F.col("spend_30d"), F.lit(0.0))
        bad = F.abs(F.xxhash64("user_id", "feature_date")) % 100 == 0
        return out.withColumn("spend_30d", F.when(bad, -F.lit(1.0)).otherwise(spend))

    return type("BenchActivityNeg", (plain,), {"transform": transform})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=5_000_000)
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--warmup", type=int, default=1, help="untimed rounds first (the first run compiles)"
    )
    p.add_argument(
        "--null-spend",
        action="store_true",
        help="keep null spend_30d (no purchase in 30 days), which fails the row rule: "
        "about half the rows fail instead of 1%%",
    )
    p.add_argument("--driver-memory", default="6g")
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--data-dir", default=str(ROOT / ".data"))
    p.add_argument("--out", default=str(ROOT / "results"))
    args = p.parse_args(argv)
    if args.repeats < 3:
        p.error("--repeats must be at least 3 (medians of three or more runs)")
    return args


def run_comparison(
    spark: Any, events_path: Path, repeats: int, warmup: int = 1, *, nulls: bool = False
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="fk-bench-dq-"))
    runtime = LocalRuntime(LocalConfig(warehouse=str(work / "warehouse"), quiet=True), spark=spark)
    plain = with_negative_spend(jobrun.make_job(events_path), nulls=nulls)
    jobs = {"job_without_rules": plain}
    for i, (name, ruleset) in enumerate(VARIANTS.items()):
        jobs[name] = with_rules(plain, ruleset, f"dq{i}")
    try:
        methods = {
            name: (lambda job=job: dict(job().run(runtime).phases)) for name, job in jobs.items()
        }
        load_before = os.getloadavg()
        result = compare(spark, methods, repeats, "quality", alternate=True, warmup=warmup)
        result["load_average"] = {"before": load_before, "after": os.getloadavg()}
        result["phases_of_last_run"] = result.pop("results")
        tables = {
            name: runtime.storage.engine.read(spark, runtime.storage.location(job.output.name))
            for name, job in jobs.items()
        }
        plain_sum = checksum(tables["job_without_rules"])
        kept = tables["job_without_rules"].where("spend_30d >= 0")
        # a ruleset that keeps or quarantines writes every row; one that drops, the passing ones
        result["agree"] = (
            checksum(tables["job_with_10_rules"]) == plain_sum
            and checksum(tables["job_quarantining_rows"]) == plain_sum
            and checksum(tables["job_dropping_rows"]) == checksum(kept)
        )
        quarantined = runtime.storage.engine.read(
            spark, runtime.storage.location(jobs["job_dropping_rows"].output.name + "__quarantine")
        )
        result["quarantined_rows"] = quarantined.count()
        result["failing_rows"] = tables["job_without_rules"].count() - kept.count()
        runs = result["runs"]
        base = runs["job_without_rules"]
        result["overhead_ratio"] = {}
        result["paired_ratio"] = {}
        for name in VARIANTS:
            ratio = result["median_s"][name] / result["median_s"]["job_without_rules"]
            result["overhead_ratio"][name] = round(ratio, 3)
            result["paired_ratio"][name] = round(
                statistics.median(a / b for a, b in zip(runs[name], base)), 3
            )
        result["within_budget"] = all(r <= BUDGET for r in result["paired_ratio"].values())
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    conf = {"spark.sql.shuffle.partitions": str(args.partitions)}
    spark = build_session(
        LocalConfig(driver_memory=args.driver_memory, spark_conf=conf, quality=True)
    )
    events_path = events_table(spark, args)
    report: dict[str, Any] = {"config": vars(args), "spark": spark.version, "rules": RULES}
    report["quality"] = run_comparison(
        spark, events_path, args.repeats, args.warmup, nulls=args.null_spend
    )
    path = report_path(args, "bench_quality")
    write_report(report, path)
    q = report["quality"]
    for name in VARIANTS:
        print(
            f"quality {name} / without rules: {q['paired_ratio'][name]:.3f}x paired "
            f"({q['overhead_ratio'][name]:.3f}x of medians; target <= {BUDGET:.2f}x)"
        )
    print(
        f"within budget: {q['within_budget']}, outputs agree: {q['agree']}, quarantined "
        f"{q['quarantined_rows']} of {q['failing_rows']} failing rows\n"
        f"medians: {q['median_s']}\nphases of the last runs: {q['phases_of_last_run']}\n"
        f"load average (1/5/15 min) before {q['load_average']['before']}, after "
        f"{q['load_average']['after']}\nwritten: {path}"
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
