"""`backfill --parallel N` against a serial backfill, in one Spark application.

One local warehouse per run (delta-rs engine), a daily-spend job over ``--days`` days of
events in chunks of ``--chunk-days``; serial and parallel runs alternate (``--rounds``
pairs, the order flipped every round), and the medians are compared. Each run's table is
checked equal to the first serial one.

    python -m benchmarks.bench_backfill_parallel --days 12 --chunk-days 2 --parallel 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
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


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--chunk-days", type=int, default=2)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    spark = build_session(LocalConfig(engine="delta-rs", quiet=True), report=lambda _m: None)
    times: dict[str, list[float]] = {"serial": [], "parallel": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        one_run(spark, base, "warmup", args, 1)  # JIT, Python workers: not measured
        for index in range(args.rounds):
            order = ["serial", "parallel"] if index % 2 == 0 else ["parallel", "serial"]
            for kind in order:
                degree = 1 if kind == "serial" else args.parallel
                times[kind].append(one_run(spark, base, f"{kind}{index}", args, degree))
        reference = table(spark, base, "serial0")
        for index in range(args.rounds):
            other = table(spark, base, f"parallel{index}")
            if reference.exceptAll(other).count() or other.exceptAll(reference).count():
                raise SystemExit(f"parallel run {index} differs from the serial one")
    spark.stop()
    serial, parallel = statistics.median(times["serial"]), statistics.median(times["parallel"])
    figures = {
        **{k: v for k, v in vars(args).items() if k != "results"},
        "serial_s": [round(t, 1) for t in times["serial"]],
        "parallel_s": [round(t, 1) for t in times["parallel"]],
        "median_serial_s": round(serial, 1),
        "median_parallel_s": round(parallel, 1),
        "speedup": round(serial / parallel, 2),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(json.dumps(figures, indent=2))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.results.read_text()) if args.results.exists() else []
    args.results.write_text(json.dumps([*previous, figures], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
