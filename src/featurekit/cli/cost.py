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
from typing import Any, Callable, Optional

from featurekit.errors import ConfigError

CALIBRATION_RUNS = 10
SCANNED_RUNS = 100  # a job's newest run records read to find them


def find_records(
    warehouse: Any, ref: str, runs: str = "auto"
) -> tuple[list[dict[str, Any]], Optional[str]]:
    """[the run record of run id ``ref``], else the succeeded, measured runs of job ``ref``,
    newest first (at most ``CALIBRATION_RUNS``) of one kind (``runs``: ``full``, ``range``,
    ``all`` mixes them, ``auto`` the latest run's kind); and a note naming the runs of the
    other kind left out, and the abandoned runs (None when none were)."""
    from featurekit.runs import judge

    names = warehouse.list_json("_runs")
    exact = [n for n in names if n.endswith(f"/{ref}.json")]
    if exact:
        return [_measured(judge(dict(warehouse.read_json(exact[0])), by="featurekit cost"))], None
    measured, abandoned = [], []
    mine = [n for n in names if n.startswith(f"_runs/{ref}/")][-SCANNED_RUNS:]
    for name in reversed(mine):  # newest first
        doc = judge(dict(warehouse.read_json(name)), by="featurekit cost")
        if doc.get("status") == "succeeded" and doc.get("usage"):
            measured.append(doc)
        elif doc.get("status") == "abandoned":
            abandoned.append(doc)
    chosen, note = _chosen(warehouse, ref, runs, measured)
    if abandoned:
        dead = (
            f"{len(abandoned)} abandoned run(s) left out (they died before finishing; "
            f"the latest, {abandoned[0]['run_id']}, in phase "
            f"{abandoned[0]['abandoned']['last_phase']!r})"
        )
        note = f"{note}; {dead}" if note else dead
    return chosen, note


def _measured(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc``, when it can be priced: an abandoned run cannot (nothing was measured)."""
    if doc.get("status") == "abandoned":
        info = doc["abandoned"]
        raise ConfigError(
            f"Run {doc['run_id']} of {doc['job']} was abandoned: it died during phase "
            f"{info['last_phase']!r}, {info['age_seconds']} s after its start, so its resource "
            f"usage was never measured; price a finished run (featurekit runs {doc['job']})."
        )
    return doc


def _chosen(
    warehouse: Any, ref: str, runs: str, measured: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], Optional[str]]:
    from featurekit.cost.model import run_kind

    if not measured:
        raise ConfigError(
            f"No run {ref!r} and no succeeded, measured run of a job {ref!r} in {warehouse.uri}; "
            f"run it first (featurekit run {ref}) or give a run id from {warehouse.uri}/_runs."
        )
    kind = run_kind(measured[0]) if runs == "auto" else runs
    chosen = [d for d in measured if kind == "all" or run_kind(d) == kind][:CALIBRATION_RUNS]
    if not chosen:
        raise ConfigError(
            f"Job {ref!r} has no succeeded, measured {kind} run in {warehouse.uri} "
            f"({_kinds(measured)}); run one, or choose --runs "
            f"{'range' if kind == 'full' else 'full'}."
        )
    if kind == "all":
        if len({run_kind(d) for d in chosen}) == 1:
            return chosen, None
        return chosen, (
            f"calibrating full and range runs together ({_kinds(chosen)}): a range run reads "
            "its dates, a full run everything, so the fit mixes two workloads"
        )
    left = [d for d in measured if run_kind(d) != kind]
    if not left:
        return chosen, None
    other = "range" if kind == "full" else "full"
    return chosen, (
        f"estimated from {kind} runs only ({len(chosen)}); {len(left)} {other} run(s) left "
        f"out: --runs {other} prices those, --runs all mixes them"
    )


def _kinds(docs: list[dict[str, Any]]) -> str:
    """``3 full, 2 range (1 day)``: the runs by kind, the range runs by their spans."""
    from featurekit.cost.model import run_kind, span_days

    full = sum(1 for d in docs if run_kind(d) == "full")
    spans = sorted({n for d in docs for n in [span_days(d)] if n is not None})
    ranges = len(docs) - full
    days = ", ".join(f"{n} day{'s' if n != 1 else ''}" for n in spans)
    parts = [f"{full} full"] if full else []
    if ranges:
        parts.append(f"{ranges} range ({days})" if days else f"{ranges} range")
    return ", ".join(parts) or "none"


def workload_of(docs: list[dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    """The workload of one run, or calibrated from a job's runs at several sizes; and the
    record it is based on."""
    from featurekit.cost.model import Workload, calibrate

    w = calibrate([Workload.from_record(d) for d in docs])
    return w, next(d for d in docs if d["run_id"] == w.run_id)


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


def scenario_of(args: argparse.Namespace) -> Any:
    """The Scenario of ``--data-scale``, ``--runs-per-day`` and ``--deadline``."""
    from featurekit.cost.model import parse_duration
    from featurekit.cost.targets import Scenario

    if args.data_scale <= 0 or args.runs_per_day <= 0:
        raise ConfigError("--data-scale and --runs-per-day must be positive.")
    deadline = parse_duration(args.deadline) if args.deadline else None
    return Scenario(
        scale=args.data_scale, runs_per_day=args.runs_per_day, deadline_seconds=deadline
    )


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


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "cost",
        help="estimate a measured run's duration and cost on Glue, EMR and EMR Serverless",
    )
    p.add_argument("run", metavar="RUN_ID|JOB", help="a run id, or a job (its latest run)")
    p.add_argument("--data-scale", type=float, default=1.0, help="data x the measured run's")
    p.add_argument("--runs-per-day", type=float, default=1.0)
    p.add_argument("--deadline", help="longest acceptable run, e.g. 900, 15m, 2h")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--prices", help="another price table of prices.json's shape")
    p.add_argument("--by-type", action="store_true", help="also each worker / instance type")
    p.add_argument(
        "--runs",
        choices=("auto", "full", "range", "all"),
        default="auto",
        help="a job's runs to calibrate from: full runs (no --start/--end), range runs, or "
        "all together; auto (the default): those of the kind of its latest run, saying so "
        "when runs of the other kind are left out",
    )
    p.add_argument("--json", action="store_true", help="the estimates and chart data as JSON")
    p.add_argument("--chart", metavar="PATH", help="write the cost chart (.png or .svg)")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_cost)


def cmd_plan_auto(args: argparse.Namespace) -> int:
    """``plan auto``: plan the target ``featurekit cost`` recommends for the job's latest run."""
    from featurekit.cli import main
    from featurekit.cli.common import open_cli_warehouse
    from featurekit.cost.prices import load_prices
    from featurekit.cost.recommend import plan_arguments, plan_target, recommend

    docs, note = find_records(open_cli_warehouse(args), args.job)
    if note:
        print(f"featurekit: plan auto: {note}", file=sys.stderr)
    w, _doc = workload_of(docs)
    rec = recommend(w, scenario_of(args), load_prices(args.region, path=args.prices))
    rest = shlex.split(args.target_args or "")
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
    add_runtime_args(p)
    p.add_argument(
        "--target-args",
        metavar="'OPTIONS'",
        help="options for the recommended target's plan, e.g. '--artifacts s3://B/P'",
    )
    p.set_defaults(handler=cmd_plan_auto)
