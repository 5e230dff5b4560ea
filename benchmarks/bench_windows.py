"""Windowed aggregates against their floor, and how their cost grows with window length and count.

On one events table (default: 2M events, 30k users, 120 days) and one Spark session:

* ``scan_shuffle``: the daily partials (every event read once, shuffled to its key and
  day), written to ``noop``: the part of the work no combine can avoid.
* ``floor``: the scan and shuffle, then the feature grid (every output row: each key's
  dates) with one running sum per partial state in one sorted pass, written to
  ``noop``: the cheapest plan known that yields every output row with a value per
  state. It computes no window, so it does not depend on the windows asked.
* ``featurekit``: ``windowed_aggregates`` (running sums for additive aggregations),
  written to ``noop``;
* ``sliding``: the same rows by sliding frames (the combine before running sums),
  written to ``noop``.

``--history N`` adds N days of events (as many per day) before the feature dates, so
that the long windows' lookback holds data, as it does for a job with a year of history.

Each window set (1d/7d/30d; + 90d; 1d..365d in six windows) runs the methods
interleaved after ``--warmup`` untimed rounds, the order alternating between rounds;
medians and per-round ratios to the floor, in wall seconds and in the Spark JVM's CPU
seconds (user + system, from /proc: less moved by other processes on a shared machine
than the wall clock). The outputs of ``featurekit`` and ``sliding`` are compared row by
row after the timed rounds (values to 1e-9 relative). The load average is kept with each figure.

    python -m benchmarks.bench_windows --events 2000000 --users 30000 --days 120
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
from pathlib import Path
from typing import Any, Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from benchmarks import data
from benchmarks.bench_features import (
    events_table,
    measure,
    parse_session_args,
    report_path,
    session,
)
from benchmarks.bench_features import write_report as write_json
from featurekit.features import Agg, daily_partials, windowed_aggregates
from featurekit.features.windowed import _feature_grid, _window_values, plan_windows

KEY = "user_id"
AGGS = [
    Agg.count("events"),
    Agg.count("purchases", where="event_type = 'purchase'"),
    Agg.sum("spend", "amount", where="event_type = 'purchase'"),
]
WINDOW_SETS = {
    "1d/7d/30d": [1, 7, 30],
    "1d/7d/30d/90d": [1, 7, 30, 90],
    "1d..365d (6)": [1, 7, 30, 90, 180, 365],
}
BUDGET = 1.3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=2_000_000)
    p.add_argument("--users", type=int, default=30_000)
    p.add_argument("--days", type=int, default=120)
    p.add_argument(
        "--history",
        type=int,
        default=0,
        help="days of events before the feature dates (as many events per day): the long "
        "windows' lookback then holds data",
    )
    p.add_argument("--sets", default=",".join(WINDOW_SETS), help="window sets to run")
    p.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed rounds of each set first (a method's first run compiles its plan)",
    )
    return parse_session_args(p, argv)


def discard(df: DataFrame) -> None:
    df.write.format("noop").mode("overwrite").save()


def load() -> str:
    return (
        " ".join(Path("/proc/loadavg").read_text().split()[:3])
        if os.path.exists("/proc/loadavg")
        else "n/a"
    )


def jvm_cpu_seconds(spark: SparkSession) -> Callable[[], float]:
    """A reader of the driver JVM's CPU seconds so far (local mode: every task's too)."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()  # type: ignore[union-attr]
    stat = Path(f"/proc/{pid}/stat")
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def read() -> float:
        if not stat.exists():
            return float("nan")
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    return read


def methods(
    spark: SparkSession, path: Path, windows: list[int], start: dt.date, end: dt.date
) -> tuple[dict[str, Callable[[], Any]], Callable[[], DataFrame], Callable[[], DataFrame]]:
    def read() -> DataFrame:
        return spark.read.parquet(str(path))

    labels = [f"{n}d" for n in windows]
    plan_windows(AGGS, labels, [KEY])
    read_from = start - dt.timedelta(days=max(windows) - 1)

    def partials() -> DataFrame:
        return daily_partials(
            read(), keys=KEY, timestamp="event_time", aggregations=AGGS, start=read_from, end=end
        )

    states = [c for a in AGGS for c in a.state_columns()]

    def floor() -> DataFrame:
        from pyspark.sql import Window

        grid = _feature_grid(partials(), [KEY], "event_date", states, max(windows), start, end)
        run = Window.partitionBy(KEY).orderBy("__d").rowsBetween(Window.unboundedPreceding, 0)
        return grid.select(KEY, "__d", *[F.sum(s).over(run).alias(s) for s in states]).where(
            F.col("__d") >= F.lit((start - dt.date(1970, 1, 1)).days)
        )

    def featurekit() -> DataFrame:
        return windowed_aggregates(
            read(),
            keys=KEY,
            timestamp="event_time",
            aggregations=AGGS,
            windows=labels,
            start=start,
            end=end,
        )

    def sliding() -> DataFrame:
        grid = _feature_grid(partials(), [KEY], "event_date", states, max(windows), start, end)
        return _window_values(grid, [KEY], AGGS, windows, start, running=False)

    timed = {
        "featurekit": lambda: discard(featurekit()),
        "floor": lambda: discard(floor()),
        "scan_shuffle": lambda: discard(partials()),
        "sliding": lambda: discard(sliding()),
    }
    return timed, featurekit, sliding


def differing_rows(a: DataFrame, b: DataFrame) -> int:
    """Rows of ``a`` and ``b`` (same keys) whose values differ by more than 1e-9 relative."""
    values = [c for c in a.columns if c not in (KEY, "feature_date")]
    joined = a.alias("a").join(b.alias("b"), [KEY, "feature_date"], "full_outer")
    diff = F.lit(False)
    for c in values:
        x, y = F.col(f"a.{c}"), F.col(f"b.{c}")
        close = (F.abs(x - y) <= 1e-9 * F.greatest(F.abs(x), F.abs(y), F.lit(1.0))) | (
            x.isNull() & y.isNull()
        )
        diff = diff | ~F.coalesce(close, F.lit(False))
    return int(joined.where(diff).count())


def run_set(
    spark: SparkSession, args: argparse.Namespace, path: Path, label: str, windows: list[int]
) -> dict[str, Any]:
    start = data.START + dt.timedelta(days=args.history)
    end = start + dt.timedelta(days=args.days - 1)
    timed, featurekit, sliding = methods(spark, path, windows, start, end)
    runs: dict[str, list[float]] = {m: [] for m in timed}
    cpu: dict[str, list[float]] = {m: [] for m in timed}
    cpu_now = jvm_cpu_seconds(spark)
    loads = []
    for r in range(args.warmup):
        for name, fn in timed.items():
            measure(spark, fn)
            print(f"  [{label}] {name} warm-up {r + 1}/{args.warmup} (not timed)", flush=True)
    for r in range(args.repeats):
        order = list(timed.items())
        for name, fn in reversed(order) if r % 2 else order:
            began = cpu_now()
            seconds = measure(spark, fn)[0]
            cpu[name].append(round(cpu_now() - began, 2))
            runs[name].append(round(seconds, 3))
            print(
                f"  [{label}] {name} run {r + 1}/{args.repeats}: {seconds:.2f}s "
                f"(cpu {cpu[name][-1]:.2f}s)",
                flush=True,
            )
        loads.append(load())

    def paired(by: dict[str, list[float]]) -> dict[str, float]:
        return {
            m: round(statistics.median(x / f for x, f in zip(by[m], by["floor"])), 2) for m in by
        }

    out = featurekit()
    rows = out.count()
    return {
        "windows": windows,
        "runs": runs,
        "median_s": {m: statistics.median(v) for m, v in runs.items()},
        "paired_ratio_vs_floor": paired(runs),
        "cpu_s": cpu,
        "median_cpu_s": {m: statistics.median(v) for m, v in cpu.items()},
        "paired_cpu_ratio_vs_floor": paired(cpu),
        "output_rows": rows,
        "rows_differing_from_sliding": differing_rows(out, sliding()),
        "loadavg": loads,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spark = session(args)
    # the events of --history days before the --days feature dates, as dense per day
    span = args.days + args.history
    path = events_table(
        spark,
        argparse.Namespace(
            **{**vars(args), "events": args.events * span // args.days, "days": span}
        ),
    )
    report: dict[str, Any] = {"config": vars(args), "spark": spark.version, "budget": BUDGET}
    out = report_path(args, "bench_windows")
    for label in args.sets.split(","):
        report[label] = run_set(spark, args, path, label, WINDOW_SETS[label])
        write_json(report, out)
    print_table(report)
    print(f"\nwritten: {out}")
    spark.stop()
    return 0


def print_table(report: dict[str, Any]) -> None:
    print(
        "\n| windows | method | median s | paired / floor | median cpu s | paired cpu / floor "
        "| output rows | differing rows | load |\n|---|---|---|---|---|---|---|---|---|"
    )
    for label in WINDOW_SETS:
        if label not in report:
            continue
        r = report[label]
        for m, t in r["median_s"].items():
            print(
                f"| {label} | {m} | {t:.2f} | {r['paired_ratio_vs_floor'][m]:.2f}x "
                f"| {r['median_cpu_s'][m]:.2f} | {r['paired_cpu_ratio_vs_floor'][m]:.2f}x "
                f"| {r['output_rows']:,} | {r['rows_differing_from_sliding']} "
                f"| {r['loadavg'][-1]} |"
            )
    for label in WINDOW_SETS:
        if label in report:
            r = report[label]
            ratio = r["paired_ratio_vs_floor"]["featurekit"]
            verdict = "within" if ratio <= BUDGET else "OVER"
            print(
                f"windows {label}: featurekit at {ratio:.2f}x its floor "
                f"({r['paired_cpu_ratio_vs_floor']['featurekit']:.2f}x in CPU seconds; "
                f"target <= {BUDGET}x: {verdict}; load {', '.join(r['loadavg'])})"
            )


if __name__ == "__main__":
    raise SystemExit(main())
