"""Run records: what one run read, wrote, how long each phase took, and how it ended.

Stored as JSON in the warehouse (``_runs/<job>/<run id>.json``) and printed by
``featurekit run --json``. A run stores its record first with status ``running``, its
``holder`` (host, boot id, process id) and a ``lease_until`` it keeps renewing, and
again at each phase (``last_phase``); so a run killed at any point leaves a record, and
:func:`judge` tells a live run from a dead one: on this machine by its process, elsewhere
by its lease running out. The next run of the job stores a dead one as ``abandoned``.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class InputRecord:
    name: str
    source: str
    kind: str
    version: Optional[int] = None
    rows: Optional[int] = None


@dataclass
class OutputRecord:
    table: str
    location: str
    engine: str
    mode: str
    version: Optional[int] = None
    rows_written: int = 0
    files: int = 0
    skipped: bool = False
    # how the row checks ran: "observed" (counted during the write, uniqueness proven
    # from the plan) or "read back" (one aggregation over the staged rows)
    row_checks: Optional[str] = None
    # conflicts with other writers the commit was retried after (featurekit.tables.conflicts)
    commit_conflicts: int = 0


@dataclass
class MaintenanceRecord:
    """What ran on the output table after its commit; a step that did not run stays None."""

    files_before: Optional[int] = None  # live files in the snapshot before maintenance
    files_after: Optional[int] = None
    # {"files_removed", "files_added", "version", "partitions"}
    compaction: Optional[dict[str, Any]] = None
    # {"files_deleted", "retention_hours"}
    vacuum: Optional[dict[str, Any]] = None
    checkpoint_version: Optional[int] = None
    last_checkpoint: Optional[int] = None  # the latest checkpoint after maintenance

    def summary(self) -> str:
        parts = [f"files {self.files_before} -> {self.files_after}"]
        if self.compaction is not None:
            c = self.compaction
            parts.append(f"compacted {c['files_removed']} into {c['files_added']}")
        if self.vacuum is not None:
            parts.append(f"vacuumed {self.vacuum['files_deleted']} files")
        if self.checkpoint_version is not None:
            parts.append(f"checkpoint at version {self.checkpoint_version}")
        return "maintenance: " + ", ".join(parts)


@dataclass
class UsageRecord:
    """Resources one run used, from Spark's own metrics (the status store) for the jobs
    the run started; see featurekit.cost.usage. Times in seconds, sizes in bytes."""

    jobs: int = 0
    stages: int = 0
    tasks: int = 0
    # task-seconds: the sum over tasks of executor run time and of executor CPU time
    executor_run_seconds: float = 0.0
    executor_cpu_seconds: float = 0.0
    input_bytes: int = 0
    output_bytes: int = 0
    shuffle_read_bytes: int = 0
    shuffle_write_bytes: int = 0
    spilled_bytes: int = 0  # memory + disk spill
    # the largest stage's sum of its tasks' peak execution memory
    peak_execution_memory_bytes: int = 0
    executors: int = 0  # executors that ran tasks (the driver in local mode)
    cores: int = 0  # task slots available
    memory_bytes: int = 0  # Spark's unified (execution + storage) memory, all executors
    # the wall seconds the measured jobs spanned (first submission to last completion)
    spark_seconds: float = 0.0
    # stages of the run the status store had already dropped (not counted above; see
    # featurekit.cost.usage._stage)
    stages_unretained: int = 0


@dataclass
class RunRecord:
    job: str
    run_id: str
    runtime: str
    params: dict[str, Any]
    start: Optional[str] = None
    end: Optional[str] = None
    status: str = "running"
    error: Optional[str] = None
    error_type: Optional[str] = None
    started_at: str = field(default_factory=utc_now)
    finished_at: Optional[str] = None
    inputs: list[InputRecord] = field(default_factory=list)
    output: Optional[OutputRecord] = None
    phases: dict[str, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    maintenance: Optional[MaintenanceRecord] = None
    # problems that did not fail the run (e.g. a maintenance step after the commit)
    warnings: list[str] = field(default_factory=list)
    # measured resource usage; None with ``usage_missing`` saying why when not measured
    usage: Optional[UsageRecord] = None
    usage_missing: Optional[str] = None
    # one dict per evaluated DQDL rule (featurekit.quality.checks.rule_outcomes)
    quality: list[dict[str, Any]] = field(default_factory=list)
    # {"table", "location", "rows", "version"} when failing rows were quarantined
    quarantine: Optional[dict[str, Any]] = None
    # the phase begun last (a record left "running" by a killed run says where it died)
    last_phase: Optional[str] = None
    # {"host", "boot_id", "pid"} of the process running it (see this_holder)
    holder: dict[str, Any] = field(default_factory=dict)
    # until when the run is alive without renewing its lease (renewed while it runs)
    lease_until: Optional[str] = None
    # {"marked_at", "marked_by", "last_phase", "age_seconds"} once found dead
    abandoned: Optional[dict[str, Any]] = None
    # table locations the run stages into (its leftovers there are found by its run id)
    staging: list[str] = field(default_factory=list)
    # a retry that waited for a run of the same job and dates, which succeeded: its id
    duplicate_of: Optional[str] = None

    def __post_init__(self) -> None:
        self._listeners: list[Callable[[str], None]] = []

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def listen(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(phase)`` when a phase begins (the run stores its record then)."""
        self._listeners.append(listener)

    def begin(self, phase: str) -> None:
        """Note that ``phase`` began, and tell the listeners."""
        self.last_phase = phase
        for listener in self._listeners:
            listener(phase)

    @contextmanager
    def phase(self, name: str, report: Optional[Callable[[str], None]] = None) -> Iterator[None]:
        """Time a phase into ``phases[name]`` (seconds, added up when the phase comes back:
        a quarantine's write after the output's), reporting start and end."""
        self.begin(name)
        if report:
            report(f"{name} ...")
        began, ended = time.perf_counter(), "failed after"
        try:
            yield
            ended = "done in"
        finally:
            took = time.perf_counter() - began
            self.phases[name] = round(self.phases.get(name, 0.0) + took, 3)
            if report:
                report(f"{name} {ended} {took:.1f}s")

    def summary(self) -> str:
        """One short paragraph for the end of a run."""
        total = sum(self.phases.values())
        head = f"{self.job} [{self.run_id}] {self.status} in {total:.1f}s on {self.runtime}"
        if self.status != "succeeded":
            return f"{head}: {self.error_type}: {self.error}"
        out = self.output
        if out is None:
            if self.duplicate_of is not None:
                return f"{head}: run {self.duplicate_of} of the same dates did it; wrote nothing."
            return head
        if out.skipped:
            return f"{head}: {out.table} already has this batch; nothing written."
        read = ", ".join(f"{i.name}={i.rows}" for i in self.inputs)
        text = (
            f"{head}: wrote {out.rows_written} rows to {out.table} "
            f"(version {out.version}, {out.mode}, {out.engine}); read {read}."
        )
        if self.quality:
            passed = sum(1 for q in self.quality if q["outcome"] == "Passed")
            text += f" quality: {passed}/{len(self.quality)} rules passed."
        if self.quarantine is not None:
            text += f" {self.quarantine['rows']} rows quarantined in {self.quarantine['table']}."
        if self.maintenance is not None:
            text += f" {self.maintenance.summary()}."
        return text + "".join(f"\nwarning: {w}" for w in self.warnings)


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:  # not Linux: the host name alone says "this machine"
        return ""


def this_holder() -> dict[str, Any]:
    """This process: host name, kernel boot id and process id."""
    return {"host": socket.gethostname(), "boot_id": _boot_id(), "pid": os.getpid()}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _parse(stamp: Optional[str]) -> Optional[dt.datetime]:
    return dt.datetime.fromisoformat(stamp) if stamp else None


def process_gone(holder: dict[str, Any]) -> bool:
    """True when ``holder`` ran on this machine (same host and boot) and its process is gone."""
    mine = this_holder()
    if holder.get("host") != mine["host"] or holder.get("boot_id") != mine["boot_id"]:
        return False
    pid = holder.get("pid")
    return not (pid == mine["pid"] or (isinstance(pid, int) and _pid_alive(pid)))


def holder_alive(
    holder: dict[str, Any], lease_until: Optional[str], now: Optional[dt.datetime] = None
) -> bool:
    """Whether a run (or lease) holder still runs: on this machine (same host and boot)
    its process decides; elsewhere its lease, which it renews while it runs."""
    mine = this_holder()
    if holder.get("host") == mine["host"] and holder.get("boot_id") == mine["boot_id"]:
        if holder.get("pid") == mine["pid"]:
            return True
        return isinstance(holder.get("pid"), int) and _pid_alive(holder["pid"])
    until = _parse(lease_until)
    return until is None or until > (now or dt.datetime.now(dt.timezone.utc))


def is_dead(doc: dict[str, Any], now: Optional[dt.datetime] = None) -> bool:
    """True for a record still ``running`` whose holder is gone."""
    return doc.get("status") == "running" and not holder_alive(
        doc.get("holder") or {}, doc.get("lease_until"), now
    )


def judge(doc: dict[str, Any], by: str, now: Optional[dt.datetime] = None) -> dict[str, Any]:
    """``doc`` as stored, or, for a dead ``running`` run, marked ``abandoned`` by ``by``
    with its last phase and its age (seconds from its start to now)."""
    if not is_dead(doc, now):
        return doc
    when = now or dt.datetime.now(dt.timezone.utc)
    started = _parse(doc.get("started_at"))
    age = round((when - started).total_seconds()) if started else None
    phase = doc.get("last_phase") or "start"
    return {
        **doc,
        "status": "abandoned",
        "error_type": "Abandoned",
        "error": (
            f"the run died during phase {phase!r}"
            + " (killed, or its machine lost); marked by a later run"
            + (f" {age} s after it started" if age is not None else "")
        ),
        "abandoned": {
            "marked_at": when.isoformat(timespec="seconds"),
            "marked_by": by,
            "last_phase": phase,
            "age_seconds": age,
        },
    }
