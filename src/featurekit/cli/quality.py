"""``featurekit quality show JOB|RUN [--json]``: the rule outcomes of a run, from its record.

A job name shows its latest run; a run id shows that run. Reads the run records in the
warehouse (``_runs/<job>/<run id>.json``) without starting Spark.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable

from featurekit.errors import ConfigError


def find_record(warehouse: Any, name: str) -> dict[str, Any]:
    """The latest run record of job ``name``, else the record whose run id is ``name``."""
    from featurekit.runs import judge

    own = warehouse.list_json(f"_runs/{name}")
    if own:
        records: list[dict[str, Any]] = [warehouse.read_json(p) for p in own]
        latest = max(records, key=lambda r: (str(r.get("started_at") or ""), str(r["run_id"])))
        return judge(dict(latest), by="featurekit quality show")
    for path in warehouse.list_json("_runs"):
        if path.endswith(f"/{name}.json"):
            return judge(dict(warehouse.read_json(path)), by="featurekit quality show")
    raise ConfigError(
        f"No run record of a job or run named {name!r} in {warehouse.uri}; run the job first "
        "(featurekit run JOB), or check --warehouse."
    )


def render(record: dict[str, Any]) -> list[str]:
    """Lines for a person: the run, one line per rule, the quarantine."""
    lines = [f"{record['job']} [{record['run_id']}] {record['status']}"]
    if record.get("abandoned"):
        info = record["abandoned"]
        lines.append(
            f"  abandoned: died during phase {info['last_phase']!r} (found dead "
            f"{info['age_seconds']} s after its start); rules it had not reached were never "
            "evaluated"
        )
    outcomes = record.get("quality") or []
    if not outcomes:
        lines.append("  no quality rules were evaluated in this run")
    for o in outcomes:
        metrics = ", ".join(f"{k}={v:g}" for k, v in sorted(o["metrics"].items()))
        extra = f"; {o['failing_rows']} rows failed" if o.get("failing_rows") else ""
        reason = f" ({o['failure_reason']})" if o["outcome"] != "Passed" else ""
        by = f" (by the {o['evaluated_by']})" if o.get("evaluated_by", "deequ") != "deequ" else ""
        lines.append(
            f"  {o['outcome']:<7} {o['severity']:<4} [{o['target']}] {o['rule']}{reason}"
            f"{by}{extra}{' [' + metrics + ']' if metrics else ''}"
        )
    quarantine = record.get("quarantine")
    if quarantine:
        lines.append(f"  quarantine: {quarantine['rows']} rows in {quarantine['table']}")
    lines += [f"  warning: {w}" for w in record.get("warnings") or []]
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    from featurekit.cli.common import open_cli_warehouse

    record = find_record(open_cli_warehouse(args), args.name)
    if args.json:
        keys = ("job", "run_id", "status", "abandoned", "quality", "quarantine", "warnings")
        print(json.dumps({k: record.get(k) for k in keys}, indent=2, default=str))
    else:
        print("\n".join(render(record)))
    return 0


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    quality = sub.add_parser("quality", help="data quality outcomes of runs")
    commands = quality.add_subparsers(dest="quality_command", required=True, metavar="COMMAND")
    p = commands.add_parser("show", help="rule outcomes of a job's latest run, or of a run")
    p.add_argument("name", metavar="JOB|RUN")
    p.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_show)
