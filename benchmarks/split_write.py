"""Where a dropping ruleset's write time goes: the feature benchmark's output (with
``bench_quality``'s planted failing rows) written six ways in one Spark session, the
order alternating between rounds, after an untimed warm-up round:

* ``noop``: computed, written nowhere (the job's own cost);
* ``noop_outcomes``: the same with Deequ's row-level outcomes of ``bench_quality``'s
  dropping ruleset attached (:mod:`featurekit.quality.rowlevel`), as the split write has;
* ``parquet``: staged as parquet partitioned by date, as a run stages its output
  (:func:`featurekit.tables.engine.write_stage`: shuffled by the partition values first,
  one file per value);
* ``parquet_outcomes``: the same with the pass/fail flag as a column (the outcomes'
  cost in a real write, the files unchanged);
* ``parquet_split``: partitioned by the flag, then the date, laid out the same way (what
  a dropping run stages, :mod:`featurekit.run.split`: the failing rows of each date get a
  file of their own);
* ``parquet_more_files``: ``parquet`` with each file cut in two (``maxRecordsPerFile``):
  what a file costs, apart from its rows.

    python -m benchmarks.split_write --events 5000000 --users 100000 --days 90
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any, Callable

from pyspark.sql import DataFrame

from benchmarks import jobrun
from benchmarks.bench_features import (
    events_table,
    measure,
    parse_session_args,
    report_path,
    write_report,
)
from benchmarks.bench_quality import ROW_RULES, with_negative_spend
from featurekit.quality import rowlevel
from featurekit.run import split
from featurekit.runtime.local import LocalConfig, build_session
from featurekit.tables.engine import write_stage
from featurekit.tables.maintenance import scoped_conf


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=5_000_000)
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--days", type=int, default=90)
    args = parse_session_args(p, argv)
    conf = {"spark.sql.shuffle.partitions": str(args.partitions)}
    spark = build_session(
        LocalConfig(driver_memory=args.driver_memory, spark_conf=conf, quality=True)
    )
    events = events_table(spark, args)
    job = with_negative_spend(jobrun.make_job(events))()
    work = Path(tempfile.mkdtemp(prefix="fk-split-write-"))

    def output() -> DataFrame:
        return job.transform(None, spark.read.parquet(str(events)))  # type: ignore[arg-type]

    def flagged() -> DataFrame:
        out = output()
        rules = rowlevel.prepare(out.schema, ROW_RULES, spark)
        if rules is None:
            raise SystemExit("Deequ's row-level outcomes of the ruleset are not a projection")
        return split.flagged(rules, out)

    def parquet(df: DataFrame, name: str, *partitions: str) -> int:
        """``df`` staged as a run stages its output (``write_stage``), into ``name``."""
        folder = work / name
        shutil.rmtree(folder, ignore_errors=True)  # the previous round's
        write_stage(df, str(folder), partitions)
        return sum(1 for _ in folder.rglob("*.parquet"))

    def more_files() -> int:
        """``parquet`` with each file cut in two (its rows at most half a file's)."""
        plain = work / "plain"  # written earlier in the round, or in the previous one
        files = sum(1 for _ in plain.rglob("*.parquet"))
        half = max(1, spark.read.parquet(str(plain)).count() // (2 * files))
        with scoped_conf(spark, "spark.sql.files.maxRecordsPerFile", str(half)):
            return parquet(output(), "more_files", "feature_date")

    methods: dict[str, Callable[[], Any]] = {
        "noop": lambda: output().write.format("noop").mode("overwrite").save(),
        "noop_outcomes": lambda: flagged().write.format("noop").mode("overwrite").save(),
        "parquet": lambda: parquet(output(), "plain", "feature_date"),
        "parquet_outcomes": lambda: parquet(flagged(), "outcomes", "feature_date"),
        "parquet_split": lambda: parquet(flagged(), "split", split.FLAG, "feature_date"),
        "parquet_more_files": more_files,  # after parquet in the first round
    }
    runs: dict[str, list[float]] = {m: [] for m in methods}
    files: dict[str, Any] = {}
    load = [os.getloadavg()]
    try:
        for r in range(args.repeats + 1):  # the first round warms up, untimed
            order = list(methods)
            for name in reversed(order) if r % 2 else order:
                seconds, _peak, result = measure(spark, methods[name])
                files[name] = result
                if r:
                    runs[name].append(round(seconds, 3))
                print(f"  [split write] {name} round {r}: {seconds:.1f}s", flush=True)
            load.append(os.getloadavg())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {m: statistics.median(v) for m, v in runs.items()}
    paired = {
        m: round(statistics.median(a / b for a, b in zip(v, runs["parquet"])), 3)
        for m, v in runs.items()
    }
    report = {
        "config": vars(args),
        "spark": spark.version,
        "runs": runs,
        "median_s": medians,
        "paired_vs_parquet": paired,
        "files": files,
        "load_average": load,
    }
    path = report_path(args, "split_write")
    write_report(report, path)
    for name in methods:
        count = f", {files[name]} files" if isinstance(files[name], int) else ""
        print(f"{name}: {medians[name]:.2f} s median, {paired[name]:.3f}x parquet paired{count}")
    print(f"load average (1 min) per round: {[round(x[0], 2) for x in load]}\nwritten: {path}")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
