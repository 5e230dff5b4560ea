"""Benchmark: writing and reading one daily feature table as Delta and as Iceberg.

    python -m benchmarks.bench_tables [--rows 1000000] [--users 10000] [--repeats 3]

The table is daily features per user (``user_id``, ``feature_date``, five double
features; ``rows / users`` dates), partitioned by ``feature_date`` as featurekit writes
feature tables. Each engine (delta-rs, delta-spark when Delta's jars resolve, iceberg)
writes it through the table-engine port (``write``: stage, then one commit) into a fresh
folder, then it is read back in full (every row, through the engine, ending in a
checksum). Engines alternate within each round, after one untimed warm-up round, so JIT
warm-up and machine noise fall on all alike. The report gives medians and Iceberg's
ratio to each Delta engine; every read must agree with the others.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from benchmarks.bench_features import checksum, parse_session_args, report_path, write_report
from benchmarks.data import daily_features
from featurekit.runtime.local import LocalConfig, build_session
from featurekit.tables import TableEngine, iceberg_engine, select_engine
from featurekit.tables.deltaspark import delta_spark_available


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="feature rows")
    p.add_argument("--users", type=int, default=10_000, help="users (rows / users dates)")
    return parse_session_args(p, argv)


def session(args: argparse.Namespace) -> SparkSession:
    conf = {"spark.sql.shuffle.partitions": str(args.partitions)}
    config = LocalConfig(
        driver_memory=args.driver_memory, spark_conf=conf, engine="delta-spark", iceberg=True
    )
    return build_session(config)


def features(spark: SparkSession, args: argparse.Namespace) -> DataFrame:
    """The table's rows, computed once and cached, so every write writes the same rows."""
    rows = daily_features(spark, rows=args.rows, users=args.users)
    table = rows.withColumn("feature_date", F.to_date("feature_ts")).drop("feature_ts")
    return table.repartition(args.partitions).cache()


def engines(spark: SparkSession) -> dict[str, TableEngine]:
    found = {"delta-rs": select_engine(spark, "delta-rs")}
    if delta_spark_available(spark):
        found["delta-spark"] = select_engine(spark, "delta-spark")
    found["iceberg"] = iceberg_engine(spark)
    return found


def one_round(
    spark: SparkSession, df: DataFrame, by: dict[str, TableEngine], root: Path, tag: str
) -> dict[str, tuple[float, float, Any]]:
    """Each engine writes the table into a fresh folder, then reads it back."""
    out = {}
    for name, engine in by.items():
        path = str(root / f"{name}-{tag}")
        began = time.perf_counter()
        engine.write(df, path, mode="overwrite", partition_by=["feature_date"])
        wrote = time.perf_counter() - began
        began = time.perf_counter()
        summed = checksum(engine.read(spark, path))
        out[name] = (round(wrote, 3), round(time.perf_counter() - began, 3), summed)
        shutil.rmtree(path, ignore_errors=True)
        print(f"  [{name}] {tag}: write {wrote:.2f}s, read {out[name][1]:.2f}s", flush=True)
    return out


def run(spark: SparkSession, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    df = features(spark, args)
    rows = df.count()
    by = engines(spark)
    one_round(spark, df, by, root, "warm-up")
    writes: dict[str, list[float]] = {name: [] for name in by}
    reads: dict[str, list[float]] = {name: [] for name in by}
    sums: dict[str, Any] = {}
    for r in range(args.repeats):
        for name, (wrote, read, summed) in one_round(spark, df, by, root, f"r{r + 1}").items():
            writes[name].append(wrote)
            reads[name].append(read)
            sums[name] = summed
    write_m = {n: statistics.median(t) for n, t in writes.items()}
    read_m = {n: statistics.median(t) for n, t in reads.items()}
    deltas = [n for n in by if n != "iceberg"]
    return {
        "rows": rows,
        "dates": max(1, args.rows // args.users),
        "engines": list(by),
        "write_s": writes,
        "read_s": reads,
        "median_write_s": write_m,
        "median_read_s": read_m,
        "iceberg_write_ratio": {d: round(write_m["iceberg"] / write_m[d], 3) for d in deltas},
        "iceberg_read_ratio": {d: round(read_m["iceberg"] / read_m[d], 3) for d in deltas},
        "agree": len(set(sums.values())) == 1,
        "load_average": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spark = session(args)
    root = Path(tempfile.mkdtemp(prefix="fk-bench-tables-"))
    path = report_path(args, "bench_tables")
    try:
        result = run(spark, args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    write_report({"config": vars(args), "spark": spark.version, "result": result}, path)
    print(f"{result['rows']:,} daily feature rows over {result['dates']} date partitions")
    print(f"| engine | median write s | median read s | (median of {args.repeats})")
    print("|---|---|---|")
    for name in result["engines"]:
        wrote, read = result["median_write_s"][name], result["median_read_s"][name]
        print(f"| {name} | {wrote:.2f} | {read:.2f} |")
    for delta in result["iceberg_write_ratio"]:
        print(
            f"iceberg / {delta}: write {result['iceberg_write_ratio'][delta]:.2f}x, "
            f"read {result['iceberg_read_ratio'][delta]:.2f}x"
        )
    load = ", ".join(f"{x:.1f}" for x in result["load_average"])
    print(f"agree: {result['agree']}; load average at the end: {load}")
    print(f"written: {path}")
    spark.stop()
    return 0 if result["agree"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
