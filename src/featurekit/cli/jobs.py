"""Jobs: list them, run one, and the demo."""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable

from featurekit.cli.common import add_runtime_args, local_runtime, parse_date
from featurekit.errors import ConfigError
from featurekit.params import split_assignments


def cmd_jobs(args: argparse.Namespace) -> int:
    from featurekit.registry import discover

    jobs = discover()
    if not jobs:
        print("No jobs found (entry points 'featurekit.jobs'; 'featurekit init' makes a project).")
    for name, job in sorted(jobs.items()):
        print(f"{name}: {job.description}")
        for input_name, inp in job.inputs.items():
            print(f"  in  {input_name}: {inp.label} ({type(inp).__name__})")
        print(f"  out {job.output.name} keys={list(job.output.keys)} date={job.output.date_column}")
        for pname, param in job.params.items():
            default = "required" if param.required else f"default {param.default!r}"
            print(f"  param {pname} ({param.type.__name__}, {default}) {param.help}")
    return 0


def has_rulesets(job: Any) -> bool:
    """True when the job declares DQDL rulesets on its output or an input."""
    return bool(job.output.quality) or any(inp.quality for inp in job.inputs.values())


def cmd_run(args: argparse.Namespace) -> int:
    from featurekit.registry import get_job

    job = get_job(args.job)
    params = split_assignments(args.param or [])
    if (args.start is None) != (args.end is None):
        raise ConfigError("Give both --start and --end, or neither.")
    runtime = local_runtime(args, quality=has_rulesets(job))
    record = job().run(runtime, params=params, start=args.start, end=args.end)
    if args.json:
        print(json.dumps(record.to_json(), indent=2, default=str))
    else:
        print(record.summary())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from featurekit.demo_run import run_demo

    runtime = local_runtime(args, quality=True)  # the demo's jobs declare rulesets
    run_demo(runtime, users=args.users, days=args.days, seed=args.seed)
    return 0


def add_commands(sub: Any, _add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("jobs", help="list jobs with their inputs, output and parameters")
    p.set_defaults(handler=cmd_jobs)

    p = sub.add_parser("run", help="run a job on the local runtime")
    p.add_argument("job")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="job parameter")
    p.add_argument("--start", type=parse_date, help="first date to (re)build, inclusive")
    p.add_argument("--end", type=parse_date, help="last date to (re)build, inclusive")
    p.add_argument("--json", action="store_true", help="print the run record as JSON")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("demo", help="generate demo events and build the demo feature tables")
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--seed", type=int, default=7)
    add_runtime_args(p)
    p.set_defaults(handler=cmd_demo)
