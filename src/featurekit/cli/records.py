"""The measured runs ``featurekit cost`` prices: finding a job's run records, its workload
(calibrated over several runs) and the scenario of the cost options. Shared by
``featurekit cost``, ``plan auto`` and the workflows' costs and auto targets."""

from __future__ import annotations

import argparse
import math
from typing import Any, Optional

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
    measured, abandoned, idle = [], [], 0
    mine = [n for n in names if n.startswith(f"_runs/{ref}/")][-SCANNED_RUNS:]
    if not mine:
        _check_known(warehouse, ref, names)
    for name in reversed(mine):  # newest first
        doc = judge(dict(warehouse.read_json(name)), by="featurekit cost")
        if doc.get("status") == "succeeded" and doc.get("usage"):
            if doc["usage"].get("jobs") == 0:  # an incremental run with nothing new: no work
                idle += 1
            else:
                measured.append(doc)
        elif doc.get("status") == "abandoned":
            abandoned.append(doc)
    chosen, note = _chosen(warehouse, ref, runs, measured)
    if idle:
        none = f"{idle} run(s) that started no Spark job left out (nothing new to process)"
        note = f"{note}; {none}" if note else none
    if abandoned:
        dead = (
            f"{len(abandoned)} abandoned run(s) left out (they died before finishing; "
            f"the latest, {abandoned[0]['run_id']}, in phase "
            f"{abandoned[0]['abandoned']['last_phase']!r})"
        )
        note = f"{note}; {dead}" if note else dead
    return chosen, note


def _check_known(warehouse: Any, ref: str, names: list[str]) -> None:
    """A ConfigError when ``ref`` is no run id, no installed job and no job with run records
    (a typo), naming the closest jobs; a known job without runs is left to :func:`_chosen`."""
    from featurekit.cli.common import did_you_mean
    from featurekit.registry import discover_all

    found = discover_all()
    if ref in found.jobs:
        return
    recorded = {n.split("/")[1] for n in names if n.count("/") >= 2}
    hint = did_you_mean(ref, {*found.listed(), *recorded}, "Known jobs")
    raise ConfigError(
        f"Unknown job {ref!r}: no job of that name is installed or has runs in {warehouse.uri}, "
        f"and no run has that id.{hint}"
    )


def _measured(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc``, when it can be priced: an abandoned run cannot (nothing was measured)."""
    if doc.get("status") == "abandoned":
        info = doc["abandoned"]
        raise ConfigError(
            f"Run {doc['run_id']} of {doc['job']} was abandoned: it died during phase "
            f"{info['last_phase']!r} (found dead {info['age_seconds']} s after its start), so "
            "its resource usage was never measured; price a finished run "
            f"(featurekit runs {doc['job']})."
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


def scenario_of(args: argparse.Namespace) -> Any:
    """The Scenario of ``--data-scale``, ``--runs-per-day`` and ``--deadline``."""
    from featurekit.cost.model import parse_duration
    from featurekit.cost.targets import Scenario

    runs = getattr(args, "runs_per_day_given", None)
    runs = args.runs_per_day if runs is None and hasattr(args, "runs_per_day") else runs
    runs = 1.0 if runs is None else runs
    if not (0 < args.data_scale < math.inf and 0 < runs < math.inf):  # nan compares false
        raise ConfigError(
            "--data-scale and --runs-per-day must be positive numbers, got "
            f"{args.data_scale:g} and {runs:g}."
        )
    deadline = parse_duration(args.deadline) if args.deadline else None
    return Scenario(scale=args.data_scale, runs_per_day=runs, deadline_seconds=deadline)
