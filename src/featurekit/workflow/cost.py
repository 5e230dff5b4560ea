"""A workflow's cost per scheduled run: each job on its target (the plan's assignment) and
the cheapest assignment, with the critical path checked against a deadline.

Each job is priced by :mod:`featurekit.cost` from its measured runs, at every size of
every target a workflow deploys to: ``glue`` and ``glue-flex`` (Glue's prices, start-up
included), ``emr-serverless`` (cold start included) and ``emr`` (a step on the workflow's
running cluster: the cluster's time for the step at EC2 + EMR prices, no start-up nor
shutdown, as :func:`featurekit.cost.targets.emr_step_options` prices it; the cluster's
idle time is not counted).

The workflow lasts as long as its critical path: the longest chain of jobs, each waiting
for the jobs it reads. With a deadline, sizes (and, for the cheapest assignment, targets)
are upgraded greedily on the critical path, the cheapest second saved first, until the
path fits or nothing is faster: a good assignment, not a proven optimum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Optional

from featurekit.cost.model import Workload
from featurekit.cost.prices import PriceTable
from featurekit.cost.targets import STEP_TARGET, Scenario, all_options, emr_step_options
from featurekit.workflow.spec import Workflow

# The cost model's target pricing each workflow target (its start-up as that target's).
COST_TARGET = {
    "glue": "glue",
    "glue-flex": "glue-flex",
    "emr": STEP_TARGET,
    "emr-serverless": "emr-serverless",
}


@dataclass(frozen=True)
class Choice:
    """One job on one target at one size: how long it takes and what a run costs."""

    job: str
    target: str
    shape: str
    seconds: float
    cost_per_run: float

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "shape": self.shape,
            "seconds": round(self.seconds, 1),
            "cost_per_run": round(self.cost_per_run, 6),
        }


@dataclass(frozen=True)
class WorkflowCost:
    """An assignment priced: per job, per run, per day, and its critical path."""

    choices: Mapping[str, Choice]
    runs_per_day: float
    critical_path: tuple[str, ...]
    critical_seconds: float
    deadline_seconds: Optional[float]

    @property
    def cost_per_run(self) -> float:
        return sum(c.cost_per_run for c in self.choices.values())

    @property
    def cost_per_day(self) -> float:
        return self.cost_per_run * self.runs_per_day

    @property
    def meets_deadline(self) -> bool:
        return self.deadline_seconds is None or self.critical_seconds <= self.deadline_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": {job: c.to_json() for job, c in self.choices.items()},
            "cost_per_run": round(self.cost_per_run, 6),
            "cost_per_day": round(self.cost_per_day, 6),
            "critical_path": list(self.critical_path),
            "critical_seconds": round(self.critical_seconds, 1),
            "meets_deadline": self.meets_deadline,
        }


def job_choices(job: str, w: Workload, sc: Scenario, table: PriceTable) -> list[Choice]:
    """Every deployable (target, size) of a job, keeping only sizes that are faster or
    cheaper than every other size of their target (the Pareto front)."""
    by_target = {cost: name for name, cost in COST_TARGET.items()}
    found: list[Choice] = []
    sc = replace(sc, deadline_seconds=None)
    for option in all_options(w, sc, table) + emr_step_options(w, sc, table):
        target = by_target.get(option.target)
        if target is not None:
            found.append(
                Choice(job, target, option.shape, option.duration_seconds, option.cost_per_run)
            )
    found.sort(key=lambda c: (c.target, c.cost_per_run, c.seconds))
    front: list[Choice] = []
    for choice in found:  # cheapest first per target: keep each one faster than all before
        if all(c.target != choice.target or choice.seconds < c.seconds for c in front):
            front.append(choice)
    return front


def critical_path(flow: Workflow, seconds: Mapping[str, float]) -> tuple[tuple[str, ...], float]:
    """The longest chain of jobs (each after the jobs it reads) and its length."""
    finish: dict[str, float] = {}
    before: dict[str, Optional[str]] = {}
    for job in flow.jobs:  # run order
        prior = max(job.upstream, key=lambda u: finish[u], default=None)
        before[job.name] = prior
        finish[job.name] = seconds[job.name] + (finish[prior] if prior else 0.0)
    last: Optional[str] = max(finish, key=lambda name: finish[name])
    total = finish[last] if last else 0.0
    path: list[str] = []
    while last is not None:
        path.append(last)
        last = before[last]
    return tuple(reversed(path)), total


def _priced(flow: Workflow, picks: Mapping[str, Choice], sc: Scenario) -> WorkflowCost:
    path, total = critical_path(flow, {j: c.seconds for j, c in picks.items()})
    return WorkflowCost(dict(picks), sc.runs_per_day, path, total, sc.deadline_seconds)


def _upgrade(
    flow: Workflow, picks: dict[str, Choice], options: Mapping[str, Sequence[Choice]]
) -> bool:
    """Swap one job of the critical path for a faster choice, the cheapest second saved
    first; False when none is faster."""
    path, _ = critical_path(flow, {j: c.seconds for j, c in picks.items()})
    best: Optional[tuple[float, Choice]] = None
    for job in path:
        for choice in options[job]:
            saved = picks[job].seconds - choice.seconds
            if saved > 0:
                score = (choice.cost_per_run - picks[job].cost_per_run) / saved
                if best is None or score < best[0]:
                    best = (score, choice)
    if best is None:
        return False
    picks[best[1].job] = best[1]
    return True


def assign(
    flow: Workflow,
    options: Mapping[str, Sequence[Choice]],
    sc: Scenario,
    targets: Optional[Mapping[str, str]] = None,
) -> WorkflowCost:
    """The cheapest choice per job (on ``targets`` when given, else on any target), then
    greedy upgrades on the critical path until the deadline is met or nothing is faster."""
    allowed = {
        job: [c for c in opts if targets is None or c.target == targets[job]]
        for job, opts in options.items()
    }
    picks = {
        job: min(opts, key=lambda c: (c.cost_per_run, c.seconds)) for job, opts in allowed.items()
    }
    while sc.deadline_seconds is not None:
        if _priced(flow, picks, sc).meets_deadline or not _upgrade(flow, picks, allowed):
            break
    return _priced(flow, picks, sc)


def workflow_cost(
    flow: Workflow, workloads: Mapping[str, Workload], sc: Scenario, table: PriceTable
) -> dict[str, WorkflowCost]:
    """``{"planned": the plan's targets, "cheapest": the cheapest assignment}``."""
    options = {job.name: job_choices(job.name, workloads[job.name], sc, table) for job in flow.jobs}
    planned = {job.name: job.target for job in flow.jobs}
    return {"planned": assign(flow, options, sc, planned), "cheapest": assign(flow, options, sc)}


def runs_per_day(flow: Workflow) -> float:
    """Scheduled runs a day, from the schedule's times (not ``interval_days``, the days
    each run builds)."""
    return flow.settings.parsed_schedule().runs_per_day
