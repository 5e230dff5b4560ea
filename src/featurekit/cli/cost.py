"""``featurekit cost RUN_ID|JOB``: what a measured run would cost on each AWS target.

    featurekit cost user_activity_daily --runs-per-day 24 --deadline 30m --chart cost.png

Reads the run record (the job's latest succeeded run, or the run of that id) from the
warehouse; the estimates come from :mod:`featurekit.cost` and docs/cost.md explains them.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import asdict
from typing import Any, Callable

from featurekit.cli.records import find_records, scenario_of, workload_of
from featurekit.errors import ConfigError


def _row(o: Any) -> str:
    from featurekit.cost.recommend import money

    ok = "yes" if o.meets_deadline else "no"
    used = f" busy {o.utilisation:.0%}" if o.utilisation is not None else ""
    return (
        f"{o.target:<26} {o.shape:<22} {o.run_seconds:>8.0f} {o.duration_seconds:>8.0f} "
        f"{money(o.cost_per_run):>10} {money(o.cost_per_day):>10}  {ok}{used}"
    )


def _notes(w: Any) -> list[str]:
    """Warnings about the measured run that bear on the estimates."""
    lines = []
    if w.task_seconds and w.cpu_seconds < 0.5 * w.task_seconds:
        lines.append(
            f"  note: tasks were on a CPU {w.cpu_seconds / w.task_seconds:.0%} of their run "
            "time (I/O, GC or a busy machine); the estimates scale run time, so they are high "
            "if the measuring machine was shared."
        )
    if w.spilled_bytes:
        lines.append(
            f"  note: the run spilled {w.spilled_bytes / 1e6:.0f} MB; memory-optimised "
            "workers (R.*, r5) may run it faster than this CPU-time model says."
        )
    return lines


def render(
    doc: dict[str, Any], w: Any, sc: Any, table: Any, rec: Any, *, runs: int = 1, kind: str = ""
) -> str:
    """The text report: the measured run, each target's best size, the recommendation."""
    deadline = f"{sc.deadline_seconds:.0f}s" if sc.deadline_seconds else "none"
    lines = [
        f"{w.job} run {w.run_id} on {doc.get('runtime')}: {w.wall_seconds:.1f}s wall, "
        f"{w.task_seconds:.1f} task-s ({w.cpu_seconds:.1f} CPU-s) on {w.cores} cores, "
        f"{w.stages} stages, {w.tasks} tasks, {w.input_bytes / 1e6:.1f} MB in, "
        f"{w.shuffle_bytes / 1e6:.1f} MB shuffled",
        *(
            [
                f"task time calibrated from {runs} {kind + ' ' if kind else ''}runs: "
                f"{w.fixed_task_seconds:.1f} task-s fixed"
            ]
            if w.fixed_task_seconds
            else []
        ),
        f"data scale {sc.scale:g}x, {sc.runs_per_day:g} run(s)/day, deadline {deadline}; "
        f"{table.describe()}",
        "",
        f"{'target':<26} {'size':<22} {'run s':>8} {'total s':>8} {'USD/run':>10} "
        f"{'USD/day':>10}  deadline",
        *(_row(o) for o in rec.options),
        "",
        f"recommended: {rec.best.target} {rec.best.shape}",
        *(f"  {r}" for r in rec.reasons),
    ]
    lines.extend(_notes(w))
    return "\n".join(lines)


def json_report(doc: dict[str, Any], sc: Any, table: Any, rec: Any, **more: Any) -> str:
    """The ``--json`` document: the run's usage, the scenario, prices, estimates, series."""
    out: dict[str, Any] = {
        "run": {"job": doc["job"], "run_id": doc["run_id"], "usage": doc["usage"]},
        "scenario": asdict(sc),
        "prices": {"version": table.version, "as_of": table.as_of, "region": table.region},
        **rec.to_json(),
        **more,
    }
    return json.dumps(out, indent=2)


def _kind_counts(docs: list[dict[str, Any]]) -> dict[str, int]:
    from featurekit.cost.model import run_kind

    kinds = [run_kind(d) for d in docs]
    return {k: kinds.count(k) for k in sorted(set(kinds))}


def _kind_word(docs: list[dict[str, Any]]) -> str:
    """``full`` or ``range`` when every run is of that kind, else ``full and range``."""
    kinds = sorted(_kind_counts(docs))
    return " and ".join(kinds)


def cmd_cost(args: argparse.Namespace) -> int:
    from featurekit.cli.common import open_cli_warehouse
    from featurekit.cost.chart import write_chart
    from featurekit.cost.prices import load_prices
    from featurekit.cost.recommend import recommend, series
    from featurekit.cost.targets import all_options, best_per_target

    if args.workflow:
        from featurekit.cli.workflow import cmd_cost_workflow

        given = [flag for flag, on in (("--chart", args.chart), ("--by-type", args.by_type)) if on]
        if given:  # they draw or list one job's options, which a workflow's price has not
            raise ConfigError(
                f"{' and '.join(given)} price one job; with --workflow leave them out (price a "
                "job of the workflow alone to see them)."
            )
        return cmd_cost_workflow(args)
    if args.more:
        raise ConfigError("Several jobs are priced together with --workflow.")
    sc = scenario_of(args)
    table = load_prices(args.region, path=args.prices)
    docs, note = find_records(open_cli_warehouse(args), args.run, args.runs)
    if note:
        print(f"featurekit: cost: {note}", file=sys.stderr)
    w, doc = workload_of(docs)
    rec = recommend(w, sc, table)
    data = series(w, sc, table)
    by_type = best_per_target(all_options(w, sc, table), by_type=True)
    if args.chart:
        write_chart(data, args.chart, title=f"{w.job} run {w.run_id}: {table.describe()}")
    if args.json:
        calibration = {"runs": [d["run_id"] for d in docs], "kinds": _kind_counts(docs)}
        print(
            json_report(
                doc,
                sc,
                table,
                rec,
                by_type=[o.to_json() for o in by_type],
                series=data,
                calibration=calibration,
            )
        )
        return 0
    print(render(doc, w, sc, table, rec, runs=len(docs), kind=_kind_word(docs)))
    if args.by_type:
        print("\neach worker / instance type:\n" + "\n".join(_row(o) for o in by_type))
    if args.chart:
        print(f"chart: {args.chart}")
    return 0


def _add_runs_option(p: argparse.ArgumentParser) -> None:
    """``--runs``, shared by ``cost`` and ``plan auto`` (whose notes name it)."""
    p.add_argument(
        "--runs",
        choices=("auto", "full", "range", "all"),
        default="auto",
        help="a job's runs to calibrate from: full runs (no --start/--end), range runs, or "
        "all together; auto (the default): those of the kind of its latest run, saying so "
        "when runs of the other kind are left out",
    )


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "cost",
        help="estimate a measured run's duration and cost on Glue, EMR and EMR Serverless",
    )
    p.add_argument(
        "run",
        metavar="RUN_ID|JOB",
        help="a run id, or a job (its latest run); with --workflow a selector (+JOB, ...)",
    )
    p.add_argument("more", nargs="*", metavar="SELECTOR", help="with --workflow: more selectors")
    p.add_argument(
        "--workflow",
        action="store_true",
        help="price the selected jobs as one workflow per scheduled run: each on its target "
        "([tool.featurekit.workflow], --target), the cheapest assignment, the critical path "
        "against --deadline",
    )
    p.add_argument("--data-scale", type=float, default=1.0, help="data x the measured run's")
    p.add_argument(
        "--runs-per-day",
        type=float,
        default=None,
        dest="runs_per_day_given",
        help="runs a day (default 1; with --workflow, the schedule's)",
    )
    p.add_argument("--deadline", help="longest acceptable run, e.g. 900, 15m, 2h")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--prices", help="another price table of prices.json's shape")
    p.add_argument("--by-type", action="store_true", help="also each worker / instance type")
    _add_runs_option(p)
    p.add_argument("--json", action="store_true", help="the estimates and chart data as JSON")
    p.add_argument("--chart", metavar="PATH", help="write the cost chart (.png or .svg)")
    add_runtime_args(p)
    from featurekit.cli.workflow import add_workflow_options

    add_workflow_options(p, cost=True)
    p.set_defaults(handler=cmd_cost)


def cmd_plan_auto(args: argparse.Namespace) -> int:
    """``plan auto``: plan the target ``featurekit cost`` recommends for the job's latest run."""
    from featurekit.cli import main
    from featurekit.cli.common import open_cli_warehouse
    from featurekit.cost.prices import load_prices
    from featurekit.cost.recommend import plan_arguments, plan_target, recommend

    try:  # the command line's own mistakes first, before any record is read
        rest = shlex.split(args.target_args or "")
    except ValueError as exc:  # an unclosed quote
        raise ConfigError(f"--target-args {args.target_args!r}: {exc}.") from exc
    docs, note = find_records(open_cli_warehouse(args), args.job, args.runs)
    if note:
        print(f"featurekit: plan auto: {note}", file=sys.stderr)
    w, _doc = workload_of(docs)
    rec = recommend(w, scenario_of(args), load_prices(args.region, path=args.prices))
    argv = ["plan", plan_target(rec.best), args.job, *plan_arguments(rec.best), *rest]
    print(f"featurekit: plan auto: {rec.reasons[0]}", file=sys.stderr)
    print(f"featurekit: plan auto: featurekit {' '.join(argv)}", file=sys.stderr)
    return main(argv)


def add_auto_plan(psub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """``featurekit plan auto JOB [cost options] [--target-args '--artifacts s3://B/P']``."""
    p = psub.add_parser(
        "auto",
        help="plan the target `featurekit cost` recommends for the job's latest measured run",
    )
    p.add_argument("job")
    p.add_argument("--data-scale", type=float, default=1.0)
    p.add_argument("--runs-per-day", type=float, default=1.0)
    p.add_argument("--deadline")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--prices")
    _add_runs_option(p)
    add_runtime_args(p)
    p.add_argument(
        "--target-args",
        metavar="'OPTIONS'",
        help="options for the recommended target's plan, e.g. '--artifacts s3://B/P'",
    )
    p.set_defaults(handler=cmd_plan_auto)
