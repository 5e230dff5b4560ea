"""The ``featurekit`` command line.

    featurekit jobs
    featurekit run JOB [--param k=v ...] [--start DATE --end DATE] [--warehouse DIR] [--json]
    featurekit table list|show|history [DB.TABLE]
    featurekit demo [--warehouse DIR] [--users N] [--days N] [--seed S]

Environment (read here, at the edge, and nowhere below): ``FEATUREKIT_WAREHOUSE``
(default warehouse folder), ``FEATUREKIT_DELTA_JARS`` (comma-separated Delta jars
for the delta-spark engine locally, instead of resolving them from Maven Central),
``FEATUREKIT_IVY`` (Ivy's folder, default ``~/.ivy2``) and ``FEATUREKIT_IVY_SETTINGS``
(an ivysettings.xml naming a Maven mirror); for an ``s3://`` warehouse or state, boto3's
own: ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` and the default credential chain.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, Callable, Optional

from featurekit.errors import ConfigError, FeatureKitError
from featurekit.params import split_assignments
from featurekit.warehouse import DEFAULT_WAREHOUSE

Handler = Callable[[argparse.Namespace], int]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-01-31, got {text!r}") from exc


def _add_runtime_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        default=os.environ.get("FEATUREKIT_WAREHOUSE", DEFAULT_WAREHOUSE),
        help="warehouse folder (default: $FEATUREKIT_WAREHOUSE or ./warehouse)",
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "delta-spark", "delta-rs"),
        default="auto",
        help="Delta table engine (auto: delta-rs locally, delta-spark for an s3:// warehouse "
        "or with FEATUREKIT_DELTA_JARS; delta-spark resolves its jars from Maven Central)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--state",
        help="incremental state store: a folder or s3://bucket/prefix (default: WAREHOUSE/_state)",
    )
    parser.add_argument(
        "--s3-endpoint",
        metavar="URL",
        help="S3 endpoint for an s3:// warehouse or state, e.g. http://127.0.0.1:5000 "
        "(default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS's S3)",
    )


def s3_access(args: argparse.Namespace) -> Any:
    """The S3 endpoint and credentials when the warehouse or state is on S3, else None."""
    from featurekit.runtime.s3 import resolve_s3_access
    from featurekit.warehouse import S3_SCHEMES

    state = getattr(args, "state", None) or ""
    if not (args.warehouse.startswith(S3_SCHEMES) or state.startswith(S3_SCHEMES)):
        return None
    where = args.warehouse if args.warehouse.startswith(S3_SCHEMES) else state
    return resolve_s3_access(
        f"The warehouse {where}", os.environ, endpoint=getattr(args, "s3_endpoint", None)
    )


def open_cli_warehouse(args: argparse.Namespace) -> Any:
    """The warehouse of ``--warehouse`` (with its S3 access when it is on S3)."""
    from featurekit.warehouse import open_warehouse

    access = s3_access(args)
    return open_warehouse(args.warehouse, s3_client=access.client() if access else None)


def local_runtime(args: argparse.Namespace) -> Any:
    """The local runtime for parsed CLI arguments."""
    from featurekit.runtime.local import LocalConfig, LocalRuntime

    jars = tuple(j for j in os.environ.get("FEATUREKIT_DELTA_JARS", "").split(",") if j)
    return LocalRuntime(
        LocalConfig(
            warehouse=args.warehouse,
            engine=args.engine,
            quiet=args.quiet,
            delta_jars=jars,
            ivy_dir=os.environ.get("FEATUREKIT_IVY"),
            ivy_settings=os.environ.get("FEATUREKIT_IVY_SETTINGS"),
            state=args.state,
            s3=s3_access(args),
        )
    )


def cmd_jobs(args: argparse.Namespace) -> int:
    from featurekit.registry import discover

    jobs = discover()
    if not jobs:
        print("No jobs found (package 'jobs' or entry points 'featurekit.jobs').")
    for name, job in sorted(jobs.items()):
        print(f"{name}: {job.description}")
        for input_name, inp in job.inputs.items():
            print(f"  in  {input_name}: {inp.label} ({type(inp).__name__})")
        print(f"  out {job.output.name} keys={list(job.output.keys)} date={job.output.date_column}")
        for pname, param in job.params.items():
            default = "required" if param.required else f"default {param.default!r}"
            print(f"  param {pname} ({param.type.__name__}, {default}) {param.help}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from featurekit.registry import get_job

    job = get_job(args.job)
    params = split_assignments(args.param or [])
    if (args.start is None) != (args.end is None):
        raise ConfigError("Give both --start and --end, or neither.")
    runtime = local_runtime(args)
    record = job().run(runtime, params=params, start=args.start, end=args.end)
    if args.json:
        print(json.dumps(record.to_json(), indent=2, default=str))
    else:
        print(record.summary())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from featurekit.demo_run import run_demo

    runtime = local_runtime(args)
    run_demo(runtime, users=args.users, days=args.days, seed=args.seed)
    return 0


# Modules that add command groups; each has add_commands(subparsers, add_runtime_args).
COMMAND_MODULES = (
    "featurekit.cli_table",
    "featurekit.cli_glue",
    "featurekit.cli_plan",
    "featurekit.cli_deploy",
    "featurekit.cli_state",
    "featurekit.cli_jars",
    "featurekit.cli_cost",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    from featurekit import __version__

    parser = argparse.ArgumentParser(prog="featurekit", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"featurekit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("jobs", help="list jobs with their inputs, output and parameters")
    p.set_defaults(handler=cmd_jobs)

    p = sub.add_parser("run", help="run a job on the local runtime")
    p.add_argument("job")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="job parameter")
    p.add_argument("--start", type=_date, help="first date to (re)build, inclusive")
    p.add_argument("--end", type=_date, help="last date to (re)build, inclusive")
    p.add_argument("--json", action="store_true", help="print the run record as JSON")
    _add_runtime_args(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("demo", help="generate demo events and build the demo feature tables")
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--seed", type=int, default=7)
    _add_runtime_args(p)
    p.set_defaults(handler=cmd_demo)

    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(sub, _add_runtime_args)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``featurekit`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except FeatureKitError as exc:
        print(f"featurekit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("featurekit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
