"""``featurekit runs [JOB] [--limit N] [--json]``: the run records in the warehouse.

One line per run, newest first: run id, job, status, start, duration, last phase. A run
still ``running`` whose process is gone (killed, its machine lost) is shown
``abandoned`` with the phase it died in and its age, whether or not a later run of its
job has stored it so yet. Reads ``_runs/<job>/<run id>.json`` without starting Spark.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable, Optional

from featurekit.errors import ConfigError


def load_runs(warehouse: Any, job: Optional[str], limit: int) -> list[dict[str, Any]]:
    """The ``limit`` newest run records (of ``job``, or all), judged, newest first."""
    from featurekit.runs import judge

    names = warehouse.list_json(f"_runs/{job}" if job else "_runs")
    names.sort(key=lambda n: n.rsplit("/", 1)[-1], reverse=True)  # run ids start with a time
    return [judge(dict(warehouse.read_json(n)), by="featurekit runs") for n in names[:limit]]


def _seconds(doc: dict[str, Any]) -> str:
    phases = doc.get("phases") or {}
    return f"{sum(phases.values()):.1f}s" if phases else "-"


def line(doc: dict[str, Any]) -> str:
    """One run: id, job, status, start, time spent in phases, and what went wrong."""
    text = (
        f"{doc['run_id']:<28} {doc['job']:<24} {doc['status']:<10} "
        f"{doc.get('started_at') or '-':<26} {_seconds(doc):>8}"
    )
    if doc["status"] == "abandoned":
        info = doc.get("abandoned") or {}
        text += (
            f"  died in {info.get('last_phase')!r}; found dead {info.get('age_seconds')} s "
            "after its start"
        )
    elif doc["status"] == "running":
        text += f"  in {doc.get('last_phase') or 'start'!r}"
    elif doc.get("duplicate_of"):
        text += f"  waited for {doc['duplicate_of']}, which wrote the same dates"
    elif doc.get("error"):
        text += f"  {doc.get('error_type')}: {str(doc['error']).splitlines()[0][:120]}"
    return text


def cmd_runs(args: argparse.Namespace) -> int:
    from featurekit.cli.common import open_cli_warehouse

    if args.limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {args.limit}.")
    docs = load_runs(open_cli_warehouse(args), args.job, args.limit)
    if args.json:
        keys = ("job", "run_id", "status", "started_at", "finished_at", "last_phase",
                "phases", "error_type", "error", "abandoned", "duplicate_of", "output")  # fmt: skip
        print(json.dumps([{k: d.get(k) for k in keys} for d in docs], indent=2, default=str))
        return 0
    if not docs:
        print(f"no run records{' of ' + args.job if args.job else ''} in {args.warehouse}")
        return 0
    print("\n".join(line(d) for d in docs))
    return 0


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "runs",
        help="list run records, newest first (dead runs shown abandoned)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("job", nargs="?", metavar="JOB", help="only this job's runs")
    p.add_argument("--limit", type=int, default=20, help="show at most N runs (default 20)")
    p.add_argument("--json", action="store_true", help="print the runs as JSON")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_runs)
