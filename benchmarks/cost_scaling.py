"""Check the cost model's scaling rule on this machine: run the demo's
user_activity_daily at three data sizes, predict the larger two from the smallest
(featurekit.cost.model.predict_seconds on the same cores), then the largest from the
two smallest (calibrate: fixed + per-byte task time), and report the errors.

    .venv/bin/python -m benchmarks.cost_scaling --users 1000 --sizes 1,2,4

Small sizes only (the machine is shared). A warm-up run at the smallest size comes
first so JVM start-up and JIT are not counted as the job's serial part.
Results: benchmarks/results/cost_scaling.json; figures in docs/cost.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from featurekit.cost.model import Workload, calibrate, predict_seconds
from featurekit.demo import DemoSpec, events
from featurekit.demo_run import write_source_table
from featurekit.registry import get_job
from featurekit.runtime.local import LocalConfig, LocalRuntime

JOB = "user_activity_daily"


def run_at(runtime: LocalRuntime, users: int, days: int) -> dict[str, Any]:
    """Seed raw.events for ``users`` and run the job once; the run record as JSON."""
    spec = DemoSpec(users=users, days=days)
    write_source_table(runtime, "raw.events", events(runtime.spark, spec), "events")
    return get_job(JOB)().run(runtime).to_json()


def compare(
    w: Workload, base: dict[str, Any], runs: list[tuple[int, dict[str, Any]]], method: str
) -> list[dict[str, Any]]:
    """Predicted vs measured wall seconds of ``runs`` from workload ``w`` (run ``base``)."""
    base_rows = base["inputs"][0]["rows"]
    rows = []
    for size, doc in runs:
        scale = doc["inputs"][0]["rows"] / base_rows
        predicted = predict_seconds(w, scale=scale, cores=w.cores)
        measured = sum(doc["phases"].values())
        rows.append(
            {
                "method": method,
                "size": size,
                "events": doc["inputs"][0]["rows"],
                "scale": round(scale, 3),
                "task_seconds": doc["usage"]["executor_run_seconds"],
                "predicted_seconds": round(predicted, 2),
                "measured_seconds": round(measured, 2),
                "error_percent": round(100 * (predicted - measured) / measured, 1),
            }
        )
    return rows


def check(runs: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """From the smallest run alone (all task time linear), then from the two smallest
    (task time fitted as fixed + per byte, see featurekit.cost.model.calibrate)."""
    first, second = runs[0][1], runs[1][1]
    one = Workload.from_record(first)
    rows = compare(one, first, runs, "from 1 run")
    two = calibrate([one, Workload.from_record(second)])
    print(f"fitted fixed task-seconds: {two.fixed_task_seconds} of {two.task_seconds}")
    return rows + compare(two, second, runs[2:], "from 2 runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="users at size 1")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--sizes", default="1,2,4", help="multiples of --users")
    parser.add_argument("--out", default="benchmarks/results/cost_scaling.json")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        runtime = LocalRuntime(LocalConfig(warehouse=str(Path(folder) / "wh"), quiet=True))
        run_at(runtime, args.users * sizes[0], args.days)  # warm-up, not used
        runs = [(s, run_at(runtime, args.users * s, args.days)) for s in sizes]
        runtime.spark.stop()
    rows = check(runs)
    w = Workload.from_record(runs[0][1])
    result = {
        "job": JOB,
        "users_at_size_1": args.users,
        "days": args.days,
        "cores": w.cores,
        "base_serial_seconds": round(w.serial_seconds, 2),
        "rows": rows,
        "records": [doc for _size, doc in runs],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print("| method | size | events | scale | task-s | CPU-s | predicted s | measured s | error |")
    print("|---|---|---|---|---|---|---|---|---|")
    cpu = {size: doc["usage"]["executor_cpu_seconds"] for size, doc in runs}
    for r in rows:
        print(
            f"| {r['method']} | {r['size']} | {r['events']} | {r['scale']} | {r['task_seconds']} "
            f"| {cpu[r['size']]} | {r['predicted_seconds']} | {r['measured_seconds']} "
            f"| {r['error_percent']:+}% |"
        )
    print(f"serial part of the base run: {result['base_serial_seconds']} s on {w.cores} cores")


if __name__ == "__main__":
    main()
