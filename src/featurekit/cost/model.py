"""The scaling model: from one measured run to the duration of the same job elsewhere.

A run measured at data scale 1 on ``c`` cores took ``W`` wall seconds and ``T``
task-seconds (the sum of its tasks' executor run time). The model splits it into

* a parallel part, ``T`` task-seconds, linear in the data: ``T * s`` at scale ``s``
  (or ``F + (T - F) * s`` when runs at several sizes showed ``F`` of them to be fixed,
  see :func:`calibrate`),
  spread over ``min(cores, tasks per stage)`` task slots (a stage of 3 tasks keeps
  at most 3 cores busy; tasks per stage grow with the data);
* a serial part, ``S = W - T / min(c, tasks per stage)``: the driver's planning,
  listing and commits, taken as constant in the data;
* a shuffle transfer over the network on clusters of several nodes: the measured
  shuffle bytes times ``s``, ``(n-1)/n`` of it crossing nodes, at ``NODE_NETWORK_BPS``
  each (a local run shuffles through its own disk, already inside ``T``);
* a platform start-up time added by the target (see ``targets``), not by the model.

So ``duration(s, cores) = S + T*s / min(cores, tasks_per_stage*s) + shuffle``; at the
measured scale and cores it returns the measured ``W``. Assumptions and limits are
listed in docs/cost.md: cloud cores as fast as the measuring machine's, no skew,
memory enough to avoid new spill, the serial part not growing with the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Optional

from featurekit.errors import ConfigError

# Effective shuffle throughput between nodes, bytes/second per node (1 Gbit/s: well
# under the 10 Gbit/s "up to" of m5 instances, for contention and serialisation).
NODE_NETWORK_BPS = 125e6


@dataclass(frozen=True)
class Workload:
    """What the model takes from one run record."""

    job: str
    run_id: str
    wall_seconds: float  # the run's phases
    task_seconds: float  # executor run time summed over tasks
    cpu_seconds: float
    cores: int
    tasks: int
    stages: int
    shuffle_bytes: int
    input_bytes: int
    spilled_bytes: int = 0
    # task-seconds that do not grow with the data (per-task overheads, fixed-size stages);
    # 0 from one run, fitted by :func:`calibrate` from runs at several sizes
    fixed_task_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.cores < 1 or self.wall_seconds <= 0 or self.task_seconds < 0:
            raise ConfigError(
                f"Run {self.run_id}: a workload needs cores >= 1, wall > 0 and task-seconds"
                f" >= 0 (got {self.cores}, {self.wall_seconds}, {self.task_seconds})."
            )

    @classmethod
    def from_record(cls, doc: Mapping[str, Any]) -> Workload:
        """The workload of a run record (its JSON); refuses a run without measured usage."""
        usage = doc.get("usage")
        if not usage:
            why = doc.get("usage_missing") or "the record predates usage measurement"
            raise ConfigError(
                f"Run {doc.get('run_id')} of {doc.get('job')} has no measured resource usage "
                f"({why}); run the job again with this featurekit to measure it."
            )
        if doc.get("status") != "succeeded":
            raise ConfigError(
                f"Run {doc.get('run_id')} of {doc.get('job')} {doc.get('status')}; cost "
                "estimates start from a succeeded run."
            )
        return cls(
            job=str(doc["job"]),
            run_id=str(doc["run_id"]),
            wall_seconds=float(sum(doc.get("phases", {}).values())),
            task_seconds=float(usage["executor_run_seconds"]),
            cpu_seconds=float(usage["executor_cpu_seconds"]),
            cores=int(usage["cores"]),
            tasks=int(usage["tasks"]),
            stages=int(usage["stages"]),
            shuffle_bytes=int(usage["shuffle_read_bytes"]),
            input_bytes=int(usage["input_bytes"]),
            spilled_bytes=int(usage.get("spilled_bytes", 0)),
        )

    @property
    def tasks_per_stage(self) -> float:
        return self.tasks / self.stages if self.stages else 1.0

    def slots(self, scale: float, cores: int) -> float:
        """Task slots kept busy at ``scale`` on ``cores``: never more than the tasks."""
        return max(1.0, min(float(cores), self.tasks_per_stage * scale))

    @property
    def serial_seconds(self) -> float:
        """The part of the measured wall time not explained by parallel task time."""
        return max(0.0, self.wall_seconds - self.task_seconds / self.slots(1.0, self.cores))


def predict_seconds(workload: Workload, *, scale: float, cores: int, nodes: int = 1) -> float:
    """Run time (no platform start-up) of ``workload`` at ``scale`` on ``cores`` task
    slots spread over ``nodes`` machines."""
    if scale <= 0 or cores < 1 or nodes < 1:
        raise ConfigError(f"scale, cores and nodes must be positive ({scale}, {cores}, {nodes}).")
    fixed = workload.fixed_task_seconds
    work = fixed + (workload.task_seconds - fixed) * scale
    parallel = work / workload.slots(scale, cores)
    shuffle = 0.0
    if nodes > 1:
        crossing = workload.shuffle_bytes * scale * (nodes - 1) / nodes
        shuffle = crossing / (nodes * NODE_NETWORK_BPS)
    return workload.serial_seconds + parallel + shuffle


def calibrate(runs: Sequence[Workload]) -> Workload:
    """One workload from runs of one job at several data sizes: task-seconds fitted as
    ``fixed + per_byte * input_bytes`` (least squares), kept on the largest run.

    With one run, or inputs within 10% of each other, the largest run as measured
    (all task time linear in the data)."""
    if not runs:
        raise ConfigError("calibrate() needs at least one run.")
    base = max(runs, key=lambda r: r.input_bytes)
    xs = [float(r.input_bytes) for r in runs]
    if len(runs) < 2 or max(xs) < 1.1 * max(min(xs), 1.0):
        return base
    ys = [r.task_seconds for r in runs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    fixed = my - slope * mx
    return replace(base, fixed_task_seconds=round(min(max(fixed, 0.0), base.task_seconds), 3))


RUN_KINDS = ("full", "range")


def run_kind(doc: Mapping[str, Any]) -> str:
    """``range`` for a run record of a ``--start/--end`` run, else ``full``: the two are
    not points of one line (a range run reads its dates and their lookback, a full run
    everything, with a different fixed part), so they are calibrated apart."""
    return "range" if doc.get("start") else "full"


def span_days(doc: Mapping[str, Any]) -> Optional[int]:
    """The days a range run rebuilt (``end - start + 1``); None for a full run."""
    import datetime as dt

    if not doc.get("start") or not doc.get("end"):
        return None
    first, last = dt.date.fromisoformat(doc["start"]), dt.date.fromisoformat(doc["end"])
    return (last - first).days + 1


def parse_duration(text: str) -> float:
    """Seconds of ``90``, ``90s``, ``30m``, ``2h`` or ``1d``."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    raw = text.strip().lower()
    factor = units.get(raw[-1:], 0)
    number = raw[:-1] if factor else raw
    try:
        value = float(number) * (factor or 1)
    except ValueError as exc:
        raise ConfigError(f"Expected a duration like 90s, 30m or 2h, got {text!r}.") from exc
    if value <= 0:
        raise ConfigError(f"A duration must be positive, got {text!r}.")
    return value
