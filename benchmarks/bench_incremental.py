"""Benchmark: an incremental run adding one day to 90 days of history vs a full recompute.

    python benchmarks/bench_incremental.py [--users 100000] [--per-day 55000] [--days 90]
                                           [--repeats 3] [--warmup 1]

The defaults are the feature benchmark's shape: about 5M events, 100k users, 90 days.

Builds a 30-day windowed job kept from daily partial sums (an IncrementalFeatureJob)
over parquet files partitioned by day. Warehouse A processes ``--days`` days, then
one more day arrives and an incremental run is timed. Warehouse B runs the same
job once over all ``--days + 1`` days (the full recompute), timed. The two output
tables are compared row for row. Target: incremental <= 5% of the full run.

Both kinds of run are timed warm. A's first run, over the history, is the full
recompute's plan (every date of a fresh table), so it warms B's runs up; the last
``--warmup`` days of the history then arrive one at a time, each an untimed incremental
run, so the one-date plan is warm too. Without them (``--warmup 0``) the first timed
incremental run also compiles its plan and warms its code, which the full recompute
never pays in the timed rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureTable, JobContext
from featurekit.features import Agg, combine_windows, daily_partials, merge_partials
from featurekit.io import FilesInput, Input
from featurekit.job import IncrementalFeatureJob
from featurekit.runtime.local import LocalConfig, LocalRuntime

START = dt.date(2026, 1, 1)
TARGET = 0.05  # an incremental day at most 5% of a full recompute
WINDOW = 30
SCHEMA = "user_id string, ts timestamp, amount double"


AGGS = [Agg.count("events"), Agg.sum("amount", "amount")]


class Sums30d(IncrementalFeatureJob):
    """30-day counts and sums, kept from daily partials with featurekit's own primitives."""

    name = "bench_sums_30d"
    window_days = WINDOW
    inputs: ClassVar[Mapping[str, Input]] = {
        "events": FilesInput("s3://bench/events", schema=SCHEMA, time_column="ts", incremental=True)
    }
    output = FeatureTable(
        "features.bench_sums_30d",
        keys=("user_id",),
        date_column="feature_date",
        columns={
            "user_id": "string",
            "feature_date": "date",
            "events_30d": "bigint",
            "amount_30d": "double",
        },
    )

    def partials(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        parts = daily_partials(events, keys="user_id", timestamp="ts", aggregations=AGGS)
        return parts.withColumnRenamed("event_date", "feature_date")

    def merge_partials(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        return merge_partials(
            partials, keys="user_id", aggregations=AGGS, date_column="feature_date"
        )

    def combine(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        return combine_windows(
            partials,
            keys="user_id",
            aggregations=AGGS,
            windows=[f"{WINDOW}d"],
            start=ctx.start,
            end=ctx.end,
            date_column="feature_date",
        )


def write_days(
    spark: SparkSession, path: str, first: int, days: int, args: argparse.Namespace
) -> None:
    """``per_day`` events a day for days ``first .. first + days - 1``.

    Event ``i`` belongs to user ``i * 48271 mod users`` (48271 is prime, so a day's
    events reach ``min(per_day, users)`` distinct users, a different set each day).
    Values depend on the global event number only, so days written apart equal days
    written together.
    """
    per_day = args.per_day
    ids = spark.range(first * per_day, (first + days) * per_day)
    day = (F.col("id") / per_day).cast("int")
    start = F.lit(dt.datetime.combine(START, dt.time()))
    user = (F.col("id") * 48271) % args.users
    rows = ids.select(
        F.concat(F.lit("u"), user.cast("string")).alias("user_id"),
        (
            start
            + F.make_dt_interval(day, F.lit(0), F.lit(0), (F.col("id") % 86_000).cast("double"))
        ).alias("ts"),
        ((F.col("id") % 97) * 1.5).alias("amount"),
    ).withColumn("day", F.to_date("ts").cast("string"))
    rows.repartition("day").write.mode("append").partitionBy("day").parquet(path)


def timed(job: Sums30d, runtime: LocalRuntime, label: str) -> float:
    began = time.perf_counter()
    record = job.run(runtime)
    took = time.perf_counter() - began
    phases = ", ".join(f"{k} {v:.2f}" for k, v in record.phases.items())
    print(f"  {label}: {took:.2f} s ({phases})", file=sys.stderr)
    return took


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--per-day", type=int, default=55_000, help="events per day")
    parser.add_argument("--days", type=int, default=90, help="days of history")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each kind")
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed incremental runs (the last days of the history, one each) first",
    )
    parser.add_argument("--out", default="benchmarks/results/incremental.json")
    args = parser.parse_args(argv)
    if args.users < 1 or args.per_day < 1 or args.users % 48271 == 0:
        parser.error("--users and --per-day must be positive (and users not a multiple of 48271)")
    if not 0 <= args.warmup < args.days:
        parser.error("--warmup must be at least 0 and less than --days")
    root = Path(tempfile.mkdtemp(prefix="featurekit-bench-"))
    try:
        a = LocalRuntime(LocalConfig(warehouse=str(root / "a"), quiet=True))
        events_a = a.storage.warehouse.resolve("s3://bench/events")
        first_days = args.days - args.warmup
        write_days(a.spark, events_a, 0, first_days, args)
        setup = timed(Sums30d(), a, "history")  # the full recompute's plan, warmed up
        for day in range(first_days, args.days):  # the one-date plan, warmed up
            write_days(a.spark, events_a, day, 1, args)
            timed(Sums30d(), a, f"warm-up incremental (day {day + 1})")
        fulls, incrementals, differ = [], [], 0
        # Side by side: each round times one full recompute (a fresh warehouse B holding
        # days 0..DAYS) and one incremental run that adds the next day to A.
        for round_ in range(args.repeats):
            b = LocalRuntime(
                LocalConfig(warehouse=str(root / f"b{round_}"), quiet=True), spark=a.spark
            )
            write_days(
                a.spark, b.storage.warehouse.resolve("s3://bench/events"), 0, args.days + 1, args
            )
            fulls.append(timed(Sums30d(), b, f"full #{round_ + 1}"))
            write_days(a.spark, events_a, args.days + round_, 1, args)
            incrementals.append(timed(Sums30d(), a, f"incremental #{round_ + 1}"))
            if round_ == 0:  # A and B have seen the same days: the tables must be equal
                out_a = a.storage.engine.read(a.spark, a.storage.output_location(Sums30d.output))
                out_b = b.storage.engine.read(b.spark, b.storage.output_location(Sums30d.output))
                differ = out_a.exceptAll(out_b).count() + out_b.exceptAll(out_a).count()
                rows_out = out_b.count()
        full, incremental = statistics.median(fulls), statistics.median(incrementals)
        events = args.per_day * (args.days + 1)
        result = {
            "events": events,
            "users": args.users,
            "days": args.days,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "history_run_s": round(setup, 3),
            "full_s": [round(t, 3) for t in fulls],
            "incremental_s": [round(t, 3) for t in incrementals],
            "full_median_s": round(full, 3),
            "incremental_median_s": round(incremental, 3),
            "ratio": round(incremental / full, 4),
            "target_ratio": TARGET,
            "output_rows": rows_out,
            "rows_differing": differ,
        }
        print(
            f"events: {events:,} ({args.per_day:,} a day over {args.users:,} users, "
            f"{args.days + 1} days)"
        )
        print(f"history run ({first_days} days, not in the ratio): {setup:.2f} s")
        print(f"untimed incremental runs first: {args.warmup}")
        print(f"full recompute, median of {args.repeats}:  {full:.2f} s")
        print(f"incremental (+1 day), median of {args.repeats}: {incremental:.2f} s")
        print(
            f"ratio of medians incremental / full: {incremental / full:.1%} "
            f"(target <= {TARGET:.0%})"
        )
        print(f"output rows: {rows_out}, rows differing after the first round: {differ}")
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2))
        return 0 if differ == 0 else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
