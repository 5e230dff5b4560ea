"""What a one-scan point-in-time join could cost at best: (b)'s floor, measured in parts.

Each method runs one piece of the work an as-of join of the 10M-row daily feature table
must do, on the same data and session as ``bench_features`` (b), next to
``point_in_time_join`` and the join + ROW_NUMBER baseline. The pieces are lower bounds,
not joins: none of them carries a value over an interval without feature rows or
assembles the spine's rows.

* ``scan_all`` / ``scan_keys_time``: read the feature rows and discard them.
* ``match``: the cheapest exact match known: each key's sorted spine times broadcast as
  one row, each feature row binary-searched into the interval between two spine times.
* ``match_hash_agg``: ``match``, then each interval's latest row by a hash aggregate
  (``max_by`` per column: fast, but which of two rows at the same time wins is not
  defined, so it is not a valid tie rule).
* ``match_sort_agg``: ``match``, then each interval's greatest (time, values) row: the
  deterministic tie rule; Spark sorts, as it has no hash aggregate over a struct.

    python -m benchmarks.pit_floor --rows 10000000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from benchmarks import baselines
from benchmarks.bench_features import (
    add_pit_input_args,
    checksum,
    compare,
    parse_session_args,
    pit_inputs,
    report_path,
    session,
)
from featurekit.features import point_in_time_join

KEY = "user_id"
# spine times per key searched by ``match`` (keys with more are left out of the floor)
MAX_TIMES = 64


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=10_000_000, help="feature rows")
    add_pit_input_args(p)
    return parse_session_args(p, argv)


def discard(df: DataFrame) -> None:
    """Run the whole plan, keep nothing."""
    df.write.format("noop").mode("overwrite").save()


def matched(spine: DataFrame, features: DataFrame, max_times: int = MAX_TIMES) -> DataFrame:
    """Feature rows with ``__i``: how many of their key's spine times are earlier
    (keys with more than ``max_times`` spine times, a power of two, are left out)."""
    times = spine.where(F.col("label_time").isNotNull())
    per_key = times.groupBy(KEY).agg(F.array_sort(F.collect_set("label_time")).alias("__ts"))
    per_key = per_key.select(
        KEY, "__ts", F.size("__ts").alias("__n"), F.element_at("__ts", -1).alias("__last")
    ).where(F.col("__n") <= max_times)
    ft = F.col("feature_ts")
    rows = features.join(F.broadcast(per_key), KEY).where(ft <= F.col("__last"))
    # binary search, one projection per halving step (nested in one expression, the
    # search would be copied into every branch)
    rows = rows.withColumn("__i", F.lit(0))
    step = max_times
    while step >= 1:
        probe: Column = F.col("__i") + F.lit(step)
        earlier = F.when(probe <= F.col("__n"), F.element_at("__ts", probe) < ft)
        rows = rows.withColumn("__i", F.when(earlier, probe).otherwise(F.col("__i")))
        step //= 2
    return rows.drop("__ts", "__n", "__last")


def methods(
    spark: SparkSession, feats: Path, labels: Path, columns: list[str]
) -> dict[str, Callable[[], Any]]:
    def f() -> DataFrame:
        return spark.read.parquet(str(feats))

    def s() -> DataFrame:
        return spark.read.parquet(str(labels))

    ft = F.col("feature_ts")
    value = F.struct(ft.alias("__ft"), F.struct(*columns).alias("__f"))
    return {
        "join_rownumber": lambda: checksum(baselines.join_rownumber_pit(s(), f())),
        "featurekit": lambda: checksum(
            point_in_time_join(
                s(), f(), keys=KEY, spine_time="label_time", feature_time="feature_ts"
            )
        ),
        "scan_all": lambda: discard(f()),
        "scan_keys_time": lambda: discard(f().select(KEY, "feature_ts")),
        "match": lambda: discard(matched(s(), f())),
        "match_hash_agg": lambda: discard(
            matched(s(), f())
            .groupBy(KEY, "__i")
            .agg(F.max(ft), *[F.max_by(c, ft) for c in columns])
        ),
        "match_sort_agg": lambda: discard(matched(s(), f()).groupBy(KEY, "__i").agg(F.max(value))),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spark = session(args)
    feats, labels = pit_inputs(spark, args, Path(args.data_dir), args.rows)
    columns = [c for c in spark.read.parquet(str(feats)).columns if c != KEY]
    result = compare(
        spark, methods(spark, feats, labels, columns), args.repeats, f"b floor {args.rows:,}"
    )
    medians = result["median_s"]
    baseline = medians["join_rownumber"]
    result["baseline_over"] = {m: round(baseline / t, 2) for m, t in medians.items() if t}
    result["joins_agree"] = result["results"]["join_rownumber"] == result["results"]["featurekit"]
    print("\n| method | median s | join + ROW_NUMBER / method |\n|---|---|---|")
    for m, t in medians.items():
        print(f"| {m} | {t:.2f} | {result['baseline_over'][m]:.2f}x |")
    print(f"\nfeaturekit and the baseline agree: {result['joins_agree']}")
    path = report_path(args, "pit_floor")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"config": vars(args), **result}, indent=2, default=str))
    print(f"written: {path}")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
