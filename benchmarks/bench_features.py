"""``make bench``: featurekit's feature primitives against the usual ways, in one Spark session.

(a) windowed_aggregates (1d/7d/30d) vs one groupBy per window joined vs per-row rangeBetween;
(c) a FeatureJob run vs the same transform in a plain spark-submit style script.
Point-in-time joins, once (b) here, are raced by ``benchmarks/bench_pit.py``; ``pit_inputs``
stays here for ``benchmarks/pit_floor.py``.

Methods of one comparison run interleaved in the same session, ``--repeats`` times each;
the table shows medians, ratios and peak JVM heap, and everything goes to a JSON file
under benchmarks/results/. Each timed run ends in a checksum over all output rows, so
the methods of a comparison must agree on the result (``agree`` column).

    python -m benchmarks.bench_features --events 200000 --users 5000 --days 40 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType

from benchmarks import baselines, data, jobrun
from featurekit.features import Agg, windowed_aggregates
from featurekit.runtime.local import LocalConfig, build_session

ROOT = Path(__file__).resolve().parent
WINDOWS = [1, 7, 30]
AGGS = [
    Agg.count("events"),
    Agg.count("purchases", where="event_type = 'purchase'"),
    Agg.sum("spend", "amount", where="event_type = 'purchase'"),
    Agg.max("max_amount", "amount"),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=5_000_000)
    p.add_argument("--days", type=int, default=90)
    add_pit_input_args(p)
    p.add_argument("--only", default="a,c", help="comparisons to run: a,c")
    return parse_session_args(p, argv)


def add_pit_input_args(p: argparse.ArgumentParser) -> None:
    """The flags ``pit_inputs`` reads (here ``--users`` also sizes the events of (a))."""
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument(
        "--feature-columns", type=int, default=5, help="(b) value columns per feature row"
    )
    p.add_argument(
        "--labels-ratio",
        type=float,
        default=0.05,
        help="point-in-time spine rows per feature row (labels grow with the history)",
    )


def parse_session_args(p: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Add the flags every benchmark shares (repeats, Spark session, paths) and parse."""
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--driver-memory", default="6g")
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--data-dir", default=str(ROOT / ".data"))
    p.add_argument("--out", default=str(ROOT / "results"))
    args = p.parse_args(argv)
    if args.repeats < 3:
        p.error("--repeats must be at least 3 (medians of three or more runs)")
    return args


def session(args: argparse.Namespace) -> SparkSession:
    # every method's generated code stays cached after its first run: with Spark's default
    # of 100 entries, the interleaved methods evict each other, and a method run right
    # after another with the same plan would be the only one to skip compiling
    conf = {
        "spark.sql.shuffle.partitions": str(args.partitions),
        "spark.sql.codegen.cache.maxEntries": "10000",
    }
    return build_session(LocalConfig(driver_memory=args.driver_memory, spark_conf=conf))


# -- measuring ------------------------------------------------------------------------
def checksum(df: DataFrame) -> tuple[int, int]:
    """(rows, order-independent hash of every row): runs the whole plan once."""
    cols = []
    for name in sorted(df.columns):
        col = F.col(name)
        if isinstance(df.schema[name].dataType, DoubleType):
            col = F.round(col, 4)
        cols.append(col)
    row = df.agg(F.count(F.lit(1)), F.sum(F.xxhash64(*cols) % 1_000_003)).first()
    return (int(row[0]), int(row[1] or 0)) if row else (0, 0)


def _heap_pools(spark: SparkSession) -> list[Any]:
    factory = spark.sparkContext._jvm.java.lang.management.ManagementFactory  # type: ignore[union-attr]
    return [p for p in factory.getMemoryPoolMXBeans() if str(p.getType()) == "Heap memory"]


def measure(spark: SparkSession, fn: Callable[[], Any]) -> tuple[float, int, Any]:
    """(seconds, peak heap bytes, result of fn); the heap peak is reset after a GC first."""
    spark.sparkContext._jvm.java.lang.System.gc()  # type: ignore[union-attr]
    pools = _heap_pools(spark)
    for pool in pools:
        pool.resetPeakUsage()
    began = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - began
    peak = sum(int(pool.getPeakUsage().getUsed()) for pool in pools)
    return seconds, peak, result


def compare(
    spark: SparkSession,
    methods: dict[str, Callable[[], Any]],
    repeats: int,
    label: str,
    *,
    alternate: bool = False,
    warmup: int = 0,
) -> dict[str, Any]:
    """Run each method ``repeats`` times, interleaved (``alternate``: every other round in
    reverse order, so neither always runs on the other's warm-up), after ``warmup`` untimed
    rounds; medians, peaks, agreement."""
    for r in range(warmup):
        for name, fn in methods.items():
            fn()
            print(f"  [{label}] {name} warm-up {r + 1}/{warmup} (not timed)", flush=True)
    runs: dict[str, list[float]] = {m: [] for m in methods}
    peaks: dict[str, int] = dict.fromkeys(methods, 0)
    results: dict[str, Any] = {}
    for r in range(repeats):
        order = list(methods.items())
        for name, fn in reversed(order) if alternate and r % 2 else order:
            seconds, peak, result = measure(spark, fn)
            runs[name].append(round(seconds, 3))
            peaks[name] = max(peaks[name], peak)
            results[name] = result
            print(f"  [{label}] {name} run {r + 1}/{repeats}: {seconds:.1f}s", flush=True)
    first = next(iter(methods))
    medians = {m: statistics.median(v) for m, v in runs.items()}
    return {
        "runs": runs,
        "median_s": medians,
        "ratio_vs_featurekit": {m: round(medians[m] / medians[first], 2) for m in methods},
        "peak_heap_mb": {m: round(p / 2**20) for m, p in peaks.items()},
        "results": {m: list(v) if isinstance(v, tuple) else v for m, v in results.items()},
        "agree": len({str(v) for v in results.values()}) == 1,
    }


# -- the comparisons --------------------------------------------------------------------
def ensure_parquet(spark: SparkSession, path: Path, build: Callable[[], DataFrame]) -> Path:
    if not (path / "_SUCCESS").exists():
        shutil.rmtree(path, ignore_errors=True)
        build().write.mode("overwrite").parquet(str(path))
    return path


def events_table(spark: SparkSession, args: argparse.Namespace) -> Path:
    """The synthetic events of ``--events --users --days`` as parquet under ``--data-dir``
    (built on first use, then reused by every benchmark of that size)."""
    return ensure_parquet(
        spark,
        Path(args.data_dir) / f"events_{args.events}_u{args.users}_d{args.days}",
        lambda: data.events(spark, n=args.events, users=args.users, days=args.days),
    )


def report_path(args: argparse.Namespace, name: str) -> Path:
    """Where a benchmark writes its report: ``<--out>/<name>_<UTC time>.json``."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path(args.out) / f"{name}_{stamp}.json"


def windowed_comparison(
    spark: SparkSession, args: argparse.Namespace, path: Path
) -> dict[str, Any]:
    start = data.START
    end = start + dt.timedelta(days=args.days - 1)

    def read() -> DataFrame:
        return spark.read.parquet(str(path))

    def featurekit() -> Any:
        out = windowed_aggregates(
            read(),
            keys="user_id",
            timestamp="event_time",
            aggregations=AGGS,
            windows=[f"{n}d" for n in WINDOWS],
            start=start,
            end=end,
        )
        return checksum(out)

    methods = {
        "featurekit": featurekit,
        "per_window_groupby": lambda: checksum(
            baselines.per_window_groupby(read(), WINDOWS, start, end)
        ),
        "per_row_range": lambda: checksum(
            baselines.per_row_range_window(read(), WINDOWS, start, end)
        ),
    }
    return compare(spark, methods, args.repeats, "a windowed")


def pit_inputs(
    spark: SparkSession, args: argparse.Namespace, base: Path, rows: int
) -> tuple[Path, Path]:
    """(daily feature rows, labels) parquet paths for (b), generated on first use.

    Labels spread over the same days as the features, as many as ``labels_ratio`` x
    feature rows: a longer history means more labels per user and more earlier rows
    per label."""
    users = args.users
    feats = ensure_parquet(
        spark,
        base / f"features_{rows}_u{users}_c{args.feature_columns}",
        lambda: data.daily_features(spark, rows=rows, users=users, columns=args.feature_columns),
    )
    history = max(1, rows // users)
    n_labels = max(1, int(rows * args.labels_ratio))
    labels = ensure_parquet(
        spark,
        base / f"labels_{n_labels}_u{users}_d{history}",
        lambda: data.labels(spark, n=n_labels, users=users, days=history),
    )
    return feats, labels


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spark = session(args)
    events_path = events_table(spark, args)
    report: dict[str, Any] = {"config": vars(args), "spark": spark.version}
    path = report_path(args, "bench_features")
    only = set(args.only.split(","))
    steps: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
        ("a", "a_windowed", lambda: windowed_comparison(spark, args, events_path)),
        (
            "c",
            "c_job_overhead",
            lambda: jobrun.job_comparison(spark, events_path, args.repeats, compare, checksum),
        ),
    ]
    for letter, key, run in steps:
        if letter in only:
            report[key] = run()
            write_report(report, path)  # after each comparison: partial results survive
    print_table(report)
    print(f"\nwritten: {path}")
    spark.stop()
    return 0


def write_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str))


def _rows(name: str, result: dict[str, Any]) -> list[str]:
    lines = []
    for method, median in result["median_s"].items():
        lines.append(
            f"| {name} | {method} | {median:.1f} | {result['ratio_vs_featurekit'][method]:.2f}x "
            f"| {result['peak_heap_mb'][method]} | {result['agree']} |"
        )
    return lines


def print_table(report: dict[str, Any]) -> None:
    lines = [
        "| comparison | method | median s | vs featurekit | peak heap MB | agree |",
        "|---|---|---|---|---|---|",
    ]
    if "a_windowed" in report:
        lines += _rows("a windowed 1d/7d/30d", report["a_windowed"])
    if "c_job_overhead" in report:
        lines += _rows("c job vs plain script", report["c_job_overhead"])
    print("\n" + "\n".join(lines))
    if "c_job_overhead" in report:
        ratio = report["c_job_overhead"]["ratio_vs_featurekit"]
        plain = ratio.get("plain_script")
        if plain:
            print(
                f"\nc featurekit job overhead: {(1 / plain - 1) * 100:.1f}% over the plain script"
            )


if __name__ == "__main__":
    raise SystemExit(main())
