"""The job graph: jobs that read each other's output tables, and dbt-style selections.

Job B depends on job A when one of B's declared inputs is A's output: a ``TableInput``
of A's table name, or a ``DeltaInput`` / ``FilesInput`` of A's ``FeatureTable.path``.
A job reading its own output does not depend on itself. Pure code: no Spark, no I/O.

Selectors (several are a union)::

    training_set          the job
    +training_set         the job and everything upstream of it
    user_activity_daily+  the job and everything downstream of it
    +training_set+        both

Example::

    graph = JobGraph.from_jobs(discover())
    graph.select(["+training_set"])   # ['user_activity_daily', 'training_set']
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from featurekit.errors import ConfigError, JobCycleError, UnknownJobError

if TYPE_CHECKING:
    from featurekit.job import FeatureJob


@dataclass(frozen=True)
class JobNode:
    """One job as the graph sees it: the tables (or paths) it reads and writes."""

    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]


@dataclass(frozen=True)
class Selector:
    """A parsed selector: a job name, with its upstream and/or downstream."""

    name: str
    upstream: bool = False
    downstream: bool = False

    @classmethod
    def parse(cls, text: str) -> Selector:
        """``+name+`` -> Selector(name, upstream=True, downstream=True)."""
        name = text.strip().strip("+")
        if not name or "+" in name:
            raise ConfigError(
                f"Job selector {text!r}: use NAME, +NAME (with upstream), NAME+ (with "
                "downstream) or +NAME+."
            )
        return cls(name, upstream=text.startswith("+"), downstream=text.endswith("+"))

    @property
    def plain(self) -> bool:
        return not (self.upstream or self.downstream)


def node_of(job: type[FeatureJob]) -> JobNode:
    """The graph node of a job class: its inputs' labels and its output's name (and path)."""
    writes = (job.output.name, job.output.path) if job.output.path else (job.output.name,)
    return JobNode(job.name, tuple(inp.label for inp in job.inputs.values()), writes)


class JobGraph:
    """A DAG of jobs; edges go from the job writing a table to the jobs reading it."""

    def __init__(self, nodes: Iterable[JobNode]) -> None:
        self.nodes = {node.name: node for node in nodes}
        self.writers: dict[str, set[str]] = {}
        for node in self.nodes.values():
            for table in node.writes:
                self.writers.setdefault(table, set()).add(node.name)
        self.upstream: dict[str, set[str]] = {
            name: {w for t in node.reads for w in self.writers.get(t, ()) if w != name}
            for name, node in self.nodes.items()
        }
        self.downstream: dict[str, set[str]] = {name: set() for name in self.nodes}
        for name, parents in self.upstream.items():
            for parent in parents:
                self.downstream[parent].add(name)

    @classmethod
    def from_jobs(cls, jobs: Mapping[str, type[FeatureJob]]) -> JobGraph:
        return cls(node_of(job) for job in jobs.values())

    def _reach(self, start: str, edges: Mapping[str, set[str]]) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def select(self, selectors: Sequence[str]) -> list[str]:
        """The jobs the selectors name, in the order to run them."""
        chosen: set[str] = set()
        for selector in map(Selector.parse, selectors):
            if selector.name not in self.nodes:
                raise UnknownJobError(selector.name, self.nodes)
            chosen.add(selector.name)
            if selector.upstream:
                chosen |= self._reach(selector.name, self.upstream)
            if selector.downstream:
                chosen |= self._reach(selector.name, self.downstream)
        return self.order(chosen)

    def order(self, names: Iterable[str] = ()) -> list[str]:
        """``names`` (default: every job) in dependency order, ties by name.

        JobCycleError (naming the cycle) when they depend on each other in a loop.
        """
        chosen = set(names) or set(self.nodes)
        waiting = {n: len(self.upstream[n] & chosen) for n in chosen}
        ready = [n for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        ordered: list[str] = []
        while ready:
            name = heapq.heappop(ready)
            ordered.append(name)
            for child in self.downstream[name] & chosen:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, child)
        if len(ordered) < len(chosen):
            raise JobCycleError(self._cycle(chosen - set(ordered)))
        return ordered

    def _cycle(self, stuck: set[str]) -> list[str]:
        """One cycle among ``stuck`` (jobs that could not be ordered): A -> B -> A, where
        each job reads the next one's output. Every stuck job has a stuck upstream job."""
        path: list[str] = []
        name = min(stuck)
        while name not in path:
            path.append(name)
            name = min(self.upstream[name] & stuck)
        return [*path[path.index(name) :], name]

    def sources(self) -> list[str]:
        """Tables read by some job and written by none (raw data), sorted."""
        read = {t for node in self.nodes.values() for t in node.reads}
        return sorted(read - set(self.writers))


def lineage_text(graph: JobGraph) -> str:
    """The lineage, job by job in run order: what each reads (and from which job) and
    which jobs read what it writes."""
    lines = [f"sources: {', '.join(graph.sources()) or '-'}"]
    for name in graph.order():
        node = graph.nodes[name]
        lines.append(name)
        for table in node.reads:
            writers = sorted(graph.writers.get(table, set()) - {name})
            lines.append(f"  reads  {table}" + (f"  <- {', '.join(writers)}" if writers else ""))
        readers = sorted(graph.downstream[name])
        arrow = f"  -> {', '.join(readers)}" if readers else ""
        lines.append(f"  writes {node.writes[0]}{arrow}")
    return "\n".join(lines)


def mermaid(graph: JobGraph) -> str:
    """A Mermaid flowchart: tables as cylinders, jobs as boxes, data flowing left to right."""
    order = graph.order()
    tables = sorted(
        {t for n in graph.nodes.values() for t in n.reads}
        | {n.writes[0] for n in graph.nodes.values()}
    )
    table_id = {t: f"t{i}" for i, t in enumerate(tables)}
    job_id = {name: f"j{i}" for i, name in enumerate(order)}
    lines = ["flowchart LR"]
    lines += [f'  {table_id[t]}[("{_quote(t)}")]' for t in tables]
    lines += [f'  {job_id[name]}["{_quote(name)}"]' for name in order]
    for name in order:
        node = graph.nodes[name]
        lines += [f"  {table_id[t]} --> {job_id[name]}" for t in node.reads]
        lines.append(f"  {job_id[name]} --> {table_id[node.writes[0]]}")
    return "\n".join(lines)


def _quote(text: str) -> str:
    return text.replace('"', "#quot;")
