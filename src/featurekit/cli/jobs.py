"""Jobs: list them, run one, and the demo."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, Callable

from featurekit.cli.common import add_runtime_args, local_runtime, parse_date
from featurekit.errors import ConfigError
from featurekit.params import split_assignments

if TYPE_CHECKING:
    from featurekit.job import FeatureJob


def _job_json(job: type[FeatureJob]) -> dict[str, Any]:
    return {
        "name": job.name,
        "description": job.description,
        "inputs": {
            name: {"source": inp.label, "kind": type(inp).__name__}
            for name, inp in job.inputs.items()
        },
        "output": {
            "table": job.output.name,
            "keys": list(job.output.keys),
            "date_column": job.output.date_column,
        },
        "params": {
            name: {"type": p.type.__name__, "required": p.required, "default": p.default}
            for name, p in job.params.items()
        },
    }


def _print_job(job: type[FeatureJob]) -> None:
    print(f"{job.name}: {job.description}")
    for input_name, inp in job.inputs.items():
        print(f"  in  {input_name}: {inp.label} ({type(inp).__name__})")
    print(f"  out {job.output.name} keys={list(job.output.keys)} date={job.output.date_column}")
    for pname, param in job.params.items():
        default = "required" if param.required else f"default {param.default!r}"
        print(f"  param {pname} ({param.type.__name__}, {default}) {param.help}")


def cmd_jobs(args: argparse.Namespace) -> int:
    from featurekit.graph import JobGraph, lineage_text, mermaid
    from featurekit.registry import discover_all

    found = discover_all()
    if args.check:
        return _check(args, found)
    jobs = found.listed(True if args.examples else None)
    graph = JobGraph.from_jobs(jobs)
    if args.json:
        doc = {
            "jobs": [
                {
                    **_job_json(job),
                    "upstream": sorted(graph.upstream[name]),
                    "downstream": sorted(graph.downstream[name]),
                }
                for name, job in sorted(jobs.items())
            ],
            "broken": [b.to_json() for b in found.broken],
        }
        print(json.dumps(doc, indent=2, default=str))
    elif args.graph:
        print(mermaid(graph) if args.graph == "mermaid" else lineage_text(graph))
    else:
        if not jobs and not found.broken:
            print("No jobs found (entry points 'featurekit.jobs'; 'featurekit init' makes one).")
        for _, job in sorted(jobs.items()):
            _print_job(job)
    if not args.json:
        # beside a graph (which may be piped into a Mermaid file), on stderr
        stream = sys.stderr if args.graph else sys.stdout
        for broken in found.broken:
            print(f"BROKEN {broken.line()}", file=stream)
    return 1 if args.strict and found.broken else 0


def _check(args: argparse.Namespace, found: Any) -> int:
    """``jobs --check``: every job loaded and checked as declared (its DQDL rulesets'
    rule types included), without reading data or starting Spark; exit 2 on any problem."""
    from featurekit.graph import JobGraph
    from featurekit.job import declaration_problems

    # the jobs `featurekit jobs` lists: a project's own, without the demo's unless asked
    checked = found.listed(True if args.examples else None)
    problems = [f"BROKEN {broken.line()}" for broken in found.broken]
    for name, job in sorted(checked.items()):
        problems += [f"{name}: {problem}" for problem in declaration_problems(job)]
    try:
        JobGraph.from_jobs(found.jobs)
    except ConfigError as exc:
        problems.append(str(exc))
    if args.json:
        print(json.dumps({"jobs": sorted(checked), "problems": problems}, indent=2))
    elif problems:
        print(f"featurekit: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
    else:
        print(f"{len(checked)} jobs checked: no problems.")
    return 2 if problems else 0


def _selected(selectors: list[str]) -> list[type[FeatureJob]]:
    """The jobs of the selectors, in run order; broken or unknown names fail first."""
    from featurekit.graph import JobGraph, Selector
    from featurekit.registry import check_known, discover_all

    found = discover_all()
    parsed = [Selector.parse(selector) for selector in selectors]
    for selector in parsed:
        check_known(selector.name, found)
    if found.broken and not all(p.plain for p in parsed):
        print(
            "featurekit: warning: the jobs of modules that failed to import are not in the "
            "graph, so not in this selection: " + "; ".join(b.line() for b in found.broken),
            file=sys.stderr,
        )
    return [found.jobs[name] for name in JobGraph.from_jobs(found.jobs).select(selectors)]


def _params_for(jobs: list[type[FeatureJob]], given: dict[str, str]) -> list[dict[str, str]]:
    """Each job gets the --param values it declares; one job alone gets them all (so a
    typo is an UnknownParameterError); a name no selected job declares is an error."""
    if len(jobs) == 1:
        return [given]
    declared = {name for job in jobs for name in job.params}
    unused = sorted(set(given) - declared)
    if unused:
        raise ConfigError(
            f"No selected job declares parameter(s) {', '.join(unused)}; selected jobs: "
            f"{', '.join(job.name for job in jobs)}."
        )
    return [{k: v for k, v in given.items() if k in job.params} for job in jobs]


def has_rulesets(job: Any) -> bool:
    """True when the job declares DQDL rulesets on its output or an input."""
    from featurekit.deploy.quality_jars import has_rulesets as declared

    return declared(job)


def uses_iceberg(job: Any, args: argparse.Namespace) -> bool:
    """True when the job writes an Iceberg table (declared, or the --table-format default)
    or reads one of the catalog's Iceberg tables: its session needs Iceberg's runtime."""
    from featurekit.cli.common import open_cli_catalog
    from featurekit.io import TableInput

    output = getattr(job, "output", None)
    if output is not None and (output.format or args.table_format) == "iceberg":
        return True
    names = [i.name for i in getattr(job, "inputs", {}).values() if isinstance(i, TableInput)]
    if not names:
        return False
    catalog = open_cli_catalog(args)
    return any(getattr(catalog.find(n), "format", None) == "iceberg" for n in names)


def cmd_run(args: argparse.Namespace) -> int:
    from featurekit.graph import Selector
    from featurekit.job import make_context

    if (args.start is None) != (args.end is None):
        raise ConfigError("Give both --start and --end, or neither.")
    selectors = [args.job, *args.more]
    jobs = _selected(selectors)
    params = _params_for(jobs, split_assignments(args.param or []))
    for job, job_params in zip(jobs, params):  # dates and params, before Spark starts
        make_context(job, "local", params=job_params, start=args.start, end=args.end)
    runtime = local_runtime(
        args,
        quality=any(has_rulesets(j) for j in jobs),
        iceberg=any(uses_iceberg(j, args) for j in jobs),
    )
    if len(selectors) == 1 and Selector.parse(args.job).plain:
        try:
            record = jobs[0]().run(runtime, params=params[0], start=args.start, end=args.end)
        except BaseException as exc:
            from featurekit.run import failed_record

            failed = failed_record(exc)
            if args.json and failed is not None:  # for scripts: the failed run's record
                print(json.dumps(failed.to_json(), indent=2, default=str))
            raise
        if args.json:
            print(json.dumps(record.to_json(), indent=2, default=str))
        else:
            _print_summary(args, record)
        return 0
    return _run_all(args, runtime, jobs, params)


def _print_summary(args: argparse.Namespace, record: Any) -> None:
    """The run's summary, once: the run reports it as its last progress line (stderr), so
    it is printed on stdout only when --quiet silenced the progress lines."""
    if args.quiet:
        print(record.summary())


def _run_all(
    args: argparse.Namespace,
    runtime: Any,
    jobs: list[type[FeatureJob]],
    params: list[dict[str, str]],
) -> int:
    """Run jobs in order; at the first failure, say what was skipped and re-raise."""
    records: list[dict[str, Any]] = []
    for i, (job, job_params) in enumerate(zip(jobs, params)):
        if not args.quiet:
            print(f"featurekit: run {i + 1}/{len(jobs)}: {job.name}", file=sys.stderr, flush=True)
        try:
            record = job().run(runtime, params=job_params, start=args.start, end=args.end)
        except BaseException as exc:
            from featurekit.run import failed_record

            failed = failed_record(exc)
            if failed is not None:
                records.append(failed.to_json())
            skipped = [j.name for j in jobs[i + 1 :]]
            _report(args, records, job.name, skipped)
            raise
        records.append(record.to_json())
        if not args.json:
            _print_summary(args, record)
    _report(args, records, None, [])
    return 0


def _report(
    args: argparse.Namespace, records: list[dict[str, Any]], failed: Any, skipped: list[str]
) -> None:
    if args.json:
        doc = {"runs": records, "failed": failed, "skipped": skipped}
        print(json.dumps(doc, indent=2, default=str))
    elif failed is not None:
        listing = ", ".join(skipped) if skipped else "none"
        print(f"featurekit: {failed} failed; skipped: {listing}", file=sys.stderr)


def cmd_demo(args: argparse.Namespace) -> int:
    from featurekit.cli.quality import render
    from featurekit.demo_run import run_demo

    runtime = local_runtime(args, quality=True)  # the demo's jobs declare rulesets
    records = run_demo(runtime, users=args.users, days=args.days, seed=args.seed)
    if args.json:
        print(json.dumps([r.to_json() for r in records], indent=2, default=str))
        return 0
    print()
    for record in records:
        print(record.summary())
    for record in records:
        if record.quality:
            print()
            print("\n".join(render(record.to_json())))
    print(f"\nWarehouse: {runtime.storage.warehouse.uri}")
    print("Look at a table: featurekit table show features.user_activity_daily")
    print("Rule outcomes of a run: featurekit quality show training_set")
    return 0


def add_commands(sub: Any, _add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("jobs", help="list jobs with their inputs, output and parameters")
    p.add_argument("--json", action="store_true", help="print jobs and broken modules as JSON")
    p.add_argument(
        "--graph",
        nargs="?",
        const="text",
        choices=("text", "mermaid"),
        help="print the lineage: which job reads which job's table (mermaid: a flowchart)",
    )
    p.add_argument(
        "--mermaid", dest="graph", action="store_const", const="mermaid", help="--graph mermaid"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a job module failed to import (default: list it as BROKEN, exit 0)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="load every job and check its declaration and DQDL rulesets without data or "
        "Spark; report every problem, exit 2 when any",
    )
    p.add_argument(
        "--examples",
        action="store_true",
        help="list featurekit's demo jobs (featurekit.examples) too; by default they are "
        "listed only when no project registers jobs",
    )
    p.set_defaults(handler=cmd_jobs)

    p = sub.add_parser(
        "run",
        help="run jobs on the local runtime: NAME, +NAME (with upstream), NAME+ (downstream)",
    )
    # ``job`` stays one string (the EMR step's --job means the same); more selectors follow
    p.add_argument(
        "job",
        metavar="SELECTOR",
        help="a job name; +NAME adds its upstream jobs, NAME+ its downstream ones",
    )
    p.add_argument(
        "more", nargs="*", metavar="SELECTOR", help="more selectors: a union, run in order"
    )
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="job parameter")
    p.add_argument("--start", type=parse_date, help="first date to (re)build, inclusive")
    p.add_argument("--end", type=parse_date, help="last date to (re)build, inclusive")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the run record as JSON, a failed run's too (a selection of several "
        'jobs: {"runs": [records], "failed": JOB or null, "skipped": [jobs]})',
    )
    add_runtime_args(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("demo", help="generate demo events and build the demo feature tables")
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", action="store_true", help="print the run records as JSON")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_demo)
