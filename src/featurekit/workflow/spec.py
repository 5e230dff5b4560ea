"""The workflow as data: the selected jobs in run order, the edges between them (a job
waits for the selected jobs whose output it reads) and each job's target.

Example::

    graph = JobGraph.from_jobs(discover())
    flow = build_workflow(graph, graph.select(["+training_set"]), settings)
    flow.levels()   # [['user_activity_daily'], ['training_set']]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

from featurekit.errors import ConfigError
from featurekit.graph import JobGraph
from featurekit.workflow.settings import TARGETS, Settings, with_targets


@dataclass(frozen=True)
class WorkflowJob:
    """One job of the workflow: its target and the selected jobs it waits for."""

    name: str
    target: str
    upstream: tuple[str, ...]


@dataclass(frozen=True)
class Workflow:
    """The jobs in run order (dependencies first), each on its target."""

    name: str
    jobs: tuple[WorkflowJob, ...]
    settings: Settings

    def __post_init__(self) -> None:
        if not self.jobs:
            raise ConfigError("A workflow needs at least one job.")

    @property
    def by_name(self) -> dict[str, WorkflowJob]:
        return {job.name: job for job in self.jobs}

    def downstream(self, name: str) -> list[str]:
        return [job.name for job in self.jobs if name in job.upstream]

    @property
    def edges(self) -> set[tuple[str, str]]:
        """(upstream, downstream) pairs."""
        return {(up, job.name) for job in self.jobs for up in job.upstream}

    @property
    def all_glue(self) -> bool:
        return all(job.target.startswith("glue") for job in self.jobs)

    def components(self) -> list[list[str]]:
        """The independent parts of the graph (jobs linked by no edge), each in run order."""
        owner = {job.name: job.name for job in self.jobs}

        def root(name: str) -> str:
            while owner[name] != name:
                name = owner[name]
            return name

        for up, down in self.edges:
            owner[root(down)] = root(up)
        groups: dict[str, list[str]] = {}
        for job in self.jobs:
            groups.setdefault(root(job.name), []).append(job.name)
        return list(groups.values())

    def levels(self, names: Optional[Sequence[str]] = None) -> list[list[str]]:
        """``names`` (default: all) by depth: a job's level is one more than its deepest
        upstream job's, so each level's jobs are independent of each other."""
        chosen = list(names) if names is not None else [job.name for job in self.jobs]
        depth: dict[str, int] = {}
        for name in chosen:  # run order: upstream jobs come first
            ups = [depth[u] for u in self.by_name[name].upstream if u in depth]
            depth[name] = 1 + max(ups, default=-1)
        out: list[list[str]] = [[] for _ in range(1 + max(depth.values(), default=-1))]
        for name in chosen:
            out[depth[name]].append(name)
        return out


AutoTarget = Callable[[str], str]


def resolve_targets(
    names: Sequence[str], settings: Settings, auto: Optional[AutoTarget] = None
) -> dict[str, str]:
    """Each job's target: its configured one, or the cost model's (``auto``) for jobs set
    to auto. An unknown job named in the targets table is an error (a typo)."""
    unknown = sorted(set(settings.targets) - set(names))
    if unknown:
        raise ConfigError(
            f"Targets are set for {', '.join(unknown)}, which the selection does not hold "
            f"({', '.join(names)}); fix the name or the selection."
        )
    out = {}
    for name in names:
        target = settings.target_of(name)
        if target == "auto":
            if auto is None:
                raise ConfigError(f"Job {name} is set to auto but no cost model was given.")
            target = auto(name)
        if target not in TARGETS:
            raise ConfigError(f"Job {name}: target {target!r} is not one of {TARGETS}.")
        out[name] = target
    return out


def build_workflow(
    graph: JobGraph,
    selected: Sequence[str],
    settings: Settings,
    auto: Optional[AutoTarget] = None,
) -> Workflow:
    """The workflow of the ``selected`` jobs (in run order, as ``graph.select`` gives)."""
    ordered = graph.order(selected)
    targets = resolve_targets(ordered, settings, auto)
    chosen = set(ordered)
    jobs = tuple(
        WorkflowJob(name, targets[name], tuple(sorted(graph.upstream[name] & chosen)))
        for name in ordered
    )
    return Workflow(settings.name, jobs, with_targets(settings, targets))


def graph_json(flow: Workflow) -> dict[str, dict[str, object]]:
    """``{job: {"target": ..., "upstream": [...]}}``: the workflow's graph as plain data."""
    return {j.name: {"target": j.target, "upstream": list(j.upstream)} for j in flow.jobs}


def target_counts(flow: Workflow) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for job in flow.jobs:
        counts[job.target] = counts.get(job.target, 0) + 1
    return counts
