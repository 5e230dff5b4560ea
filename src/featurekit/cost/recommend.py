"""The recommendation: the cheapest target that meets the deadline, the runner-up, why;
and the series behind the chart (cost against data scale and against runs a day).

    rec = recommend(Workload.from_record(doc), Scenario(runs_per_day=24), load_prices())
    rec.best.target, rec.runner_up.target, rec.reasons
    plan_target(rec.best)        # "glue" | "emr" | "emr-serverless": what `featurekit plan` takes
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Optional

from featurekit.cost.model import Workload
from featurekit.cost.prices import PriceTable
from featurekit.cost.targets import TARGETS, Option, Scenario, all_options, best_per_target

SCALES = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
RUNS_PER_DAY = (1.0, 2.0, 4.0, 8.0, 24.0, 48.0, 96.0)


@dataclass(frozen=True)
class Recommendation:
    best: Option
    runner_up: Optional[Option]
    reasons: tuple[str, ...]
    options: tuple[Option, ...]  # each target's best size, cheapest first

    def to_json(self) -> dict[str, Any]:
        return {
            "recommended": self.best.to_json(),
            "runner_up": self.runner_up.to_json() if self.runner_up else None,
            "reasons": list(self.reasons),
            "targets": [o.to_json() for o in self.options],
        }


def money(value: float) -> str:
    """Dollars with cents, or four decimals under a dollar."""
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def _reasons(best: Option, runner: Optional[Option], sc: Scenario) -> tuple[str, ...]:
    deadline = f"the deadline ({sc.deadline_seconds:.0f}s)" if sc.deadline_seconds else ""
    if not best.meets_deadline:
        return (
            f"No target meets {deadline}; {best.target} {best.shape} is the "
            f"fastest at {best.duration_seconds:.0f}s. Relax --deadline or cut the data.",
        )
    out = [
        f"{best.target} ({best.shape}) is the cheapest"
        + (f" that meets {deadline}: " if deadline else " (no deadline given): ")
        + f"{money(best.cost_per_day)}/day at {sc.runs_per_day:g} run(s)/day, "
        f"{best.duration_seconds:.0f}s per run."
    ]
    if runner is not None:
        ratio = runner.cost_per_day / best.cost_per_day if best.cost_per_day else float("inf")
        out.append(
            f"Runner-up {runner.target} ({runner.shape}): {money(runner.cost_per_day)}/day, "
            f"{ratio:.2f}x the cost, {runner.duration_seconds:.0f}s per run."
        )
    if best.utilisation is not None:
        out.append(f"Its capacity is busy {best.utilisation:.0%} of the day.")
    return tuple(out)


def recommend(w: Workload, sc: Scenario, table: PriceTable) -> Recommendation:
    """Each target's best size; the cheapest that meets the deadline and the runner-up."""
    options = best_per_target(all_options(w, sc, table))
    meeting = [o for o in options if o.meets_deadline]
    if meeting:
        best, runner = meeting[0], (meeting[1] if len(meeting) > 1 else None)
    else:
        best, runner = min(options, key=lambda o: o.duration_seconds), None
    return Recommendation(best, runner, _reasons(best, runner, sc), tuple(options))


def plan_target(option: Option) -> str:
    """The ``featurekit plan`` target that deploys ``option``."""
    if option.target.startswith("glue"):
        return "glue"
    if option.target.startswith("emr-serverless"):
        return "emr-serverless"
    return "emr"


def plan_arguments(option: Option) -> list[str]:
    """``featurekit plan`` options that size the deployment like ``option`` (Glue only:
    EMR capacity belongs to the cluster or application, outside the plan)."""
    if not option.target.startswith("glue"):
        return []
    worker_type, _, count = option.shape.partition(" x ")
    execution = "FLEX" if option.target == "glue-flex" else "STANDARD"
    return ["--worker-type", worker_type, "--workers", count, "--execution-class", execution]


def recommended_target(doc: Mapping[str, Any], sc: Scenario, table: PriceTable) -> str:
    """The plan target (``glue``, ``emr``, ``emr-serverless``) recommended for the run
    record ``doc``: the hook behind ``featurekit plan --target auto``."""
    return plan_target(recommend(Workload.from_record(doc), sc, table).best)


def series(
    w: Workload,
    sc: Scenario,
    table: PriceTable,
    *,
    scales: Sequence[float] = SCALES,
    runs: Sequence[float] = RUNS_PER_DAY,
) -> dict[str, Any]:
    """Each target's best cost per run against data scale (at ``sc.runs_per_day``) and
    cost per day against runs a day (at ``sc.scale``): the chart's data."""
    by_scale: dict[str, list[Optional[float]]] = {t: [] for t in TARGETS}
    for scale in scales:
        _collect(by_scale, best_per_target(all_options(w, replace(sc, scale=scale), table)), True)
    by_runs: dict[str, list[Optional[float]]] = {t: [] for t in TARGETS}
    for n in runs:
        _collect(
            by_runs, best_per_target(all_options(w, replace(sc, runs_per_day=n), table)), False
        )
    return {
        "scales": list(scales),
        "cost_per_run_by_scale": by_scale,
        "runs_per_day": list(runs),
        "cost_per_day_by_runs": by_runs,
    }


def _collect(into: dict[str, list[Optional[float]]], options: list[Option], per_run: bool) -> None:
    found = {o.target: o for o in options}
    for target, values in into.items():
        option = found.get(target)
        if option is None or not option.meets_deadline:
            values.append(None)  # no size of this target meets the deadline there
        else:
            values.append(round(option.cost_per_run if per_run else option.cost_per_day, 6))
