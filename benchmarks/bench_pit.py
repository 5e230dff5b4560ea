"""Point-in-time joins: every feature store's algorithm and every featurekit strategy, per size.

For each case (feature rows x labels as a share of them x rows per key x ``max_age``)
the methods run interleaved in one Spark session, ``--repeats`` times each, each
repeat in a new (seeded) order, after ``--warmup`` untimed passes in the first case: a
plan's first run in a session compiles its code, and a method always run right after
another with the same plan would inherit that:

* the baselines of ``benchmarks/pit_baselines.py`` (Feast, Hopsworks, union-sort-filter,
  Databricks), each as its store computes it;
* ``point_in_time_join`` with each strategy (``sort``, ``range``, ``bucket`` with
  ``max_age``) and with ``auto`` (the table names the strategy it chose);
* ``auto_clustered``: ``auto`` on the same rows clustered by key and sorted by key and
  ``feature_ts`` within each file, the layout a writer of daily feature tables could give
  them (featurekit's does not: measured, it changed no plan and no time; docs/features.md);
* ``floor``: the cheapest exact match known (``benchmarks/pit_floor.py``'s ``match``):
  a lower bound, not a join.

Every timed run builds its DataFrame (``auto``'s choice and spine count included) and ends
in a ``noop`` write, as the floor does: the whole plan runs, the rows are discarded. One
more, untimed, run of each join ends in a checksum of all its rows instead, so they must
agree (``agree``; the checksum's aggregation cost 0.8 s of a 4.6 s join at 10M, work the
floor never did). A method still running after ``--budget`` seconds is cancelled and
not run again in that case (the quadratic joins, at long histories). The table gives
each method's median, its ratio to the fastest baseline (below 1: faster) and to the
floor; the summary adds ``auto``'s paired ratio to the floor (the median of its ratios
within each repeat, which the machine's drifting load moves less); the JSON goes to
benchmarks/results/bench_pit_<time>.json.

    python -m benchmarks.bench_pit --rows 100000,300000 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from benchmarks import data
from benchmarks.bench_features import (
    checksum,
    ensure_parquet,
    parse_session_args,
    report_path,
    session,
)
from benchmarks.pit_baselines import BASELINES
from benchmarks.pit_floor import discard, matched
from featurekit.features import point_in_time_join
from featurekit.features.pit import choose_strategy

KEY = "user_id"
JOIN = {"keys": [KEY], "spine_time": "label_time", "feature_time": "feature_ts"}
Method = Callable[[DataFrame, DataFrame, Optional[dt.timedelta]], DataFrame]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", default="1000000,3000000,10000000", help="feature rows")
    p.add_argument("--labels", default="0.05,0.5", help="labels per feature row")
    p.add_argument("--history", default="10,1000", help="feature rows per key (days)")
    p.add_argument("--max-age", default="none,7", help="days, or none")
    p.add_argument("--columns", type=int, default=5, help="value columns per feature row")
    p.add_argument("--budget", type=float, default=300.0, help="seconds before a run is cut")
    p.add_argument("--methods", default="", help="comma-separated subset (default: all)")
    p.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed passes over every method before the first case (a JVM's first runs "
        "compile; default 1)",
    )
    return parse_session_args(p, argv)


def cases(args: argparse.Namespace) -> list[dict[str, Any]]:
    ages = [None if a == "none" else int(a) for a in args.max_age.split(",")]
    grid = itertools.product(
        [int(r) for r in args.rows.split(",")],
        [float(x) for x in args.labels.split(",")],
        [int(h) for h in args.history.split(",")],
        ages,
    )
    return [{"rows": r, "labels": x, "history": h, "max_age_days": a} for r, x, h, a in grid]


# -- data ---------------------------------------------------------------------------------
def inputs(spark: SparkSession, args: argparse.Namespace, case: dict[str, Any]) -> dict[str, Path]:
    """Parquet paths of the case's features (plain and clustered) and labels."""
    rows, history = case["rows"], case["history"]
    users = max(1, rows // history)
    base = Path(args.data_dir) / "pit"
    name = f"features_{rows}_h{history}_c{args.columns}"
    feats = ensure_parquet(
        spark,
        base / name,
        lambda: data.daily_features(spark, rows=rows, users=users, columns=args.columns),
    )
    clustered = ensure_parquet(
        spark,
        base / f"{name}_clustered",
        lambda: (
            spark.read.parquet(str(feats))
            .repartitionByRange(args.partitions, KEY)
            .sortWithinPartitions(KEY, "feature_ts")
        ),
    )
    n_labels = max(1, int(rows * case["labels"]))
    labels = ensure_parquet(
        spark,
        base / f"labels_{n_labels}_u{users}_d{history}",
        lambda: data.labels(spark, n=n_labels, users=users, days=history),
    )
    return {"features": feats, "clustered": clustered, "labels": labels}


def floor_times(spark: SparkSession, labels: Path) -> int:
    """The power of two the floor's binary search needs: every key's spine times fit."""
    most = spark.read.parquet(str(labels)).groupBy(KEY).count().agg(F.max("count")).first()
    n = int(most[0] or 1) if most else 1
    return 1 << max(0, (n - 1).bit_length())


# -- methods ------------------------------------------------------------------------------
def methods(
    args: argparse.Namespace, age: Optional[dt.timedelta], max_times: int
) -> dict[str, Any]:
    """name -> (feature layout, fn(spine, features, max_age) -> the method's DataFrame)."""

    def baseline(name: str) -> Method:
        return lambda s, f, a: BASELINES[name](s, f, max_age=a, **JOIN)

    def strategy(name: str) -> Method:
        return lambda s, f, a: point_in_time_join(s, f, max_age=a, strategy=name, **JOIN)

    table: dict[str, Any] = {name: ("features", baseline(name)) for name in BASELINES}
    for name in ("sort", "range", *(("bucket",) if age else ())):
        table[name] = ("features", strategy(name))
    table["auto"] = ("features", strategy("auto"))
    table["auto_clustered"] = ("clustered", strategy("auto"))
    table["floor"] = ("features", lambda s, f, a: matched(s, f, max_times))
    wanted = [m for m in args.methods.split(",") if m]
    return {m: v for m, v in table.items() if not wanted or m in wanted}


def timed(spark: SparkSession, fn: Callable[[], Any], budget: float) -> tuple[Optional[float], Any]:
    """(seconds, result), or (None, None) when the run was cancelled after ``budget`` s."""
    sc = spark.sparkContext
    group = f"bench-pit-{uuid.uuid4().hex}"
    box: dict[str, Any] = {}

    def work() -> None:
        sc.setJobGroup(group, group, interruptOnCancel=True)
        try:
            box["result"] = fn()
        except Exception as exc:  # re-raised below unless the run was cancelled
            box["error"] = exc

    began = time.perf_counter()
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(budget)
    if thread.is_alive():
        sc.cancelJobGroup(group)
        thread.join()
        return None, None
    if "error" in box:
        raise box["error"]
    return time.perf_counter() - began, box["result"]


def run_case(
    spark: SparkSession, args: argparse.Namespace, case: dict[str, Any], warmup: int = 0
) -> dict[str, Any]:
    """Every method on one case, interleaved, ``--repeats`` times after ``warmup`` untimed
    passes; medians and ratios."""
    paths = inputs(spark, args, case)
    days = case["max_age_days"]
    age = dt.timedelta(days=days) if days else None
    table = methods(args, age, floor_times(spark, paths["labels"]))
    label = f"{case['rows']:,} rows x{case['labels']} h{case['history']} age {days}"
    runs: dict[str, list[float]] = {m: [] for m in table}
    cut: set[str] = set()

    def once(name: str, sink: Callable[[DataFrame], Any]) -> Callable[[], Any]:
        layout, fn = table[name]

        def run() -> Any:  # the reads too: each lists its files and reads their footers
            spine = spark.read.parquet(str(paths["labels"]))
            return sink(fn(spine, spark.read.parquet(str(paths[layout])), age))

        return run

    for r in range(-warmup, args.repeats):
        # a new order each repeat (seeded): no method always runs right after the same one
        names = list(table)
        random.Random(r).shuffle(names)
        for name in names:
            if name in cut:
                continue
            seconds, _ = timed(spark, once(name, discard), args.budget)
            if seconds is None:
                cut.add(name)
                print(f"  [{label}] {name}: cut after {args.budget:.0f}s", flush=True)
                continue
            if r < 0:
                print(f"  [{label}] {name} warm-up: {seconds:.2f}s", flush=True)
                continue
            runs[name].append(round(seconds, 3))
            print(f"  [{label}] {name} run {r + 1}: {seconds:.2f}s", flush=True)
    joins = [m for m in table if m not in cut and m != "floor"]
    results = checksums(spark, {m: once(m, checksum) for m in joins}, args.budget, label)
    spine, feats = (spark.read.parquet(str(paths[k])) for k in ("labels", "features"))
    chosen = choose_strategy(spine, feats, max_age=age, **JOIN)
    return summarise(case, runs, results, sorted(cut), chosen)


def checksums(
    spark: SparkSession, runs: dict[str, Callable[[], Any]], budget: float, label: str
) -> dict[str, Any]:
    """Each join's checksum, untimed; one cut after ``budget`` is left unchecked (and
    said so), not taken for a disagreement."""
    out = {}
    for name, run in runs.items():
        seconds, result = timed(spark, run, budget)
        if seconds is None:
            print(f"  [{label}] {name}: checksum cut after {budget:.0f}s", flush=True)
        else:
            out[name] = result
    return out


def summarise(
    case: dict[str, Any],
    runs: dict[str, list[float]],
    results: dict[str, Any],
    cut: list[str],
    chosen: str,
) -> dict[str, Any]:
    medians = {m: statistics.median(v) if v and m not in cut else None for m, v in runs.items()}
    timed = {m: t for m, t in medians.items() if t is not None}
    baselines = {m: t for m, t in timed.items() if m in BASELINES}
    best_name = min(baselines, key=baselines.__getitem__) if baselines else None
    best = baselines[best_name] if best_name else None
    joined = {m: t for m, t in timed.items() if m != "floor"}
    floor = medians.get("floor")
    joins = {str(v) for m, v in results.items() if m != "floor"}
    return {
        **case,
        "runs": runs,
        "median_s": medians,
        "cut": cut,
        "best_baseline": best_name,
        "best_baseline_s": best,
        "fastest": min(joined, key=joined.__getitem__) if joined else None,
        "vs_best_baseline": {m: _ratio(t, best) for m, t in medians.items()},
        "vs_floor": {m: _ratio(t, floor) for m, t in medians.items()},
        "paired_vs_best_baseline": paired_ratios(runs, best_name, cut),
        "paired_vs_floor": paired_ratios(runs, "floor" if floor is not None else None, cut),
        "auto_chose": chosen,
        "results": {m: list(v) if isinstance(v, tuple) else v for m, v in results.items()},
        "agree": len(joins) <= 1,
    }


def paired_ratios(
    runs: dict[str, list[float]], ref: Optional[str], cut: list[str]
) -> dict[str, Optional[float]]:
    """Each method's median over repeats of its time / ``ref``'s time in the same repeat.

    A repeat runs every method once, close together, so the ratio within it cancels the
    machine's load as it drifts from repeat to repeat (a shared machine: the floor's own
    median moved 2.97-3.50 s between runs); the ratio of medians does not. A method cut
    after ``--budget`` has none (its runs stop early; every list starts at the first
    repeat, so the same index is the same repeat)."""
    if ref is None or ref in cut or not runs.get(ref):
        return {m: None for m in runs}
    out: dict[str, Optional[float]] = {}
    for m, times in runs.items():
        pairs = [t / r for t, r in zip(times, runs[ref]) if r]
        out[m] = round(statistics.median(pairs), 2) if pairs and m not in cut else None
    return out


def _ratio(t: Optional[float], ref: Optional[float]) -> Optional[float]:
    return round(t / ref, 2) if t is not None and ref else None


def print_table(report: dict[str, Any]) -> None:
    """One row per case and method: median, vs fastest baseline, vs floor."""
    budget = f"> {report['config']['budget']:.0f}"
    rows = []
    for c in report["cases"]:
        for m, t in c["median_s"].items():
            rows.append(
                [
                    *_case_cells(c),
                    f"auto ({c['auto_chose']})" if m == "auto" else m,
                    f"{t:.2f}" if t is not None else budget,
                    _times(c["vs_best_baseline"][m]),
                    _times(c["vs_floor"][m]),
                    str(c["agree"]),
                ]
            )
    header = ["method", "median s", "vs best baseline", "vs floor", "agree"]
    _markdown(["rows", "labels", "rows/key", "max_age", *header], rows)


def print_summary(report: dict[str, Any]) -> None:
    """One row per case: the best baseline, what auto ran, the fastest join, the floor."""
    rows = []
    for c in report["cases"]:
        auto, best, fastest = c["median_s"].get("auto"), c["best_baseline_s"], c["fastest"]
        rows.append(
            [
                *_case_cells(c),
                f"{c['best_baseline']} {best:.2f}" if best else "-",
                f"{c['auto_chose']} {auto:.2f}" if auto else "-",
                _times(c["vs_best_baseline"].get("auto")),
                _times(c["vs_floor"].get("auto")),
                _times(c["paired_vs_floor"].get("auto")),
                f"{fastest} {c['median_s'][fastest]:.2f}" if fastest else "-",
            ]
        )
    header = [
        *("best baseline", "auto", "auto vs best", "auto vs floor"),
        *("auto vs floor, paired", "fastest join"),
    ]
    _markdown(["rows", "labels", "rows/key", "max_age", *header], rows)


def _case_cells(c: dict[str, Any]) -> list[str]:
    age = str(c["max_age_days"] or "-")
    return [f"{c['rows']:,}", f"{c['labels']:.0%}", str(c["history"]), age]


def _markdown(header: list[str], rows: list[list[str]]) -> None:
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _times(ratio: Optional[float]) -> str:
    return f"{ratio:.2f}x" if ratio else "-"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spark = session(args)
    path = report_path(args, "bench_pit")
    path.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"config": vars(args), "spark": spark.version, "cases": []}
    for i, case in enumerate(cases(args)):
        before = _load()
        result = run_case(spark, args, case, warmup=args.warmup if i == 0 else 0)
        report["cases"].append({**result, "load_before_after": [before, _load()]})
        path.write_text(json.dumps(report, indent=2, default=str))  # partial results survive
    print_table(report)
    print_summary(report)
    print(f"\nwritten: {path}")
    spark.stop()
    return 0


def _load() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages (the runs share it)."""
    import os

    return [round(x, 2) for x in os.getloadavg()]


if __name__ == "__main__":
    raise SystemExit(main())
