"""Measure what one run used, from Spark's own metrics.

Spark's status store (``AppStatusStore``, the data behind the UI and its REST API)
keeps, for every stage, the sum over its tasks of executor run time, CPU time,
bytes read, written and shuffled, spill and peak execution memory. It is filled
on the JVM side whether or not the UI is enabled, so reading it through py4j
needs no Python callback server::

    probe = UsageProbe.start(spark)     # remembers the newest Spark job id
    ...                                 # the run: every Spark job it starts
    usage, missing = probe.finish()     # sums the stages of the jobs started since

A run is scoped by job ids: the jobs submitted after ``start`` (other threads
submitting jobs on the same session at the same time would be counted too).
Where the store cannot be reached (Spark Connect, a JVM without it) ``finish``
returns ``(None, reason)``: the run record says "not measured", the run goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.runs import UsageRecord

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

NOT_MEASURED = "not measured"


def status_store(spark: Any) -> Any:
    """The JVM AppStatusStore of ``spark``; raises when the session has none (Spark Connect)."""
    if type(spark).__module__.startswith("pyspark.sql.connect"):
        raise RuntimeError("a Spark Connect session exposes no status store")
    return spark.sparkContext._jsc.sc().statusStore()


def _option_ms(option: Any) -> Optional[int]:
    return int(option.get().getTime()) if option.isDefined() else None


def _newest_job_id(store: Any) -> int:
    jobs = store.jobsList(None)  # newest first
    return int(jobs.apply(0).jobId()) if jobs.size() else -1


@dataclass
class _Jobs:
    count: int
    stage_ids: set[int]
    first_ms: Optional[int]
    last_ms: Optional[int]


#: a Scala Seq of status objects (job data) as a list of dicts, in one serialization
AsDicts = Callable[[Any], "list[dict[str, Any]]"]


def json_reader(spark: Any) -> Optional[AsDicts]:
    """A reader of the status store's jobs as dicts, all of a run's in one py4j call
    (Jackson with its Scala module, as Spark's REST API writes them), or None where it
    cannot be built: the probe then reads each job's fields with calls of their own."""
    try:
        jvm = spark.sparkContext._jvm
        mapper = jvm.com.fasterxml.jackson.databind.ObjectMapper()
        scala = getattr(jvm.com.fasterxml.jackson.module.scala, "DefaultScalaModule$")
        mapper.registerModule(getattr(scala, "MODULE$"))
    except Exception:  # no such classes here: fields are read one by one
        return None

    def as_dicts(objs: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(str(mapper.writeValueAsString(objs)))
        return found

    return as_dicts


def _json_jobs_since(store: Any, baseline: int, as_dicts: AsDicts) -> _Jobs:
    found = _Jobs(0, set(), None, None)
    jobs = store.jobsList(None)  # newest first
    newest = int(jobs.apply(0).jobId()) if jobs.size() else baseline
    # job ids are consecutive: the newer ones are at most the first newest - baseline
    for job in as_dicts(jobs.take(max(newest - baseline, 0))):
        if int(job["jobId"]) <= baseline:
            break
        found.count += 1
        found.stage_ids.update(int(s) for s in job["stageIds"])
        began, ended = job.get("submissionTime"), job.get("completionTime")
        if began is not None:
            found.first_ms = began if found.first_ms is None else min(found.first_ms, began)
        if ended is not None:
            found.last_ms = ended if found.last_ms is None else max(found.last_ms, ended)
    return found


def _jobs_since(store: Any, baseline: int) -> _Jobs:
    jobs = store.jobsList(None)
    found = _Jobs(0, set(), None, None)
    for i in range(jobs.size()):
        job = jobs.apply(i)
        if int(job.jobId()) <= baseline:
            break
        found.count += 1
        it = job.stageIds().iterator()
        while it.hasNext():
            found.stage_ids.add(int(it.next()))
        began, ended = _option_ms(job.submissionTime()), _option_ms(job.completionTime())
        if began is not None:
            found.first_ms = began if found.first_ms is None else min(found.first_ms, began)
        if ended is not None:
            found.last_ms = ended if found.last_ms is None else max(found.last_ms, ended)
    return found


def _stage(store: Any, stage_id: int) -> Any:
    """The stage's last attempt, or None when the store no longer holds it: it keeps
    ``spark.ui.retainedStages`` stages (1000) and drops the oldest completed ones first,
    skipped stages (no completion time) before all others, so in a long session a new
    job's skipped stages can be gone by the time the run ends."""
    try:
        return store.lastStageAttempt(stage_id)
    except Exception as exc:  # py4j wraps the store's NoSuchElementException
        if "NoSuchElementException" in str(exc):
            return None
        raise


def _add_stage(usage: UsageRecord, stage: Any) -> None:
    if stage.status().toString() == "SKIPPED":
        return  # its output was reused from an earlier stage: no tasks ran
    usage.stages += 1
    usage.tasks += int(stage.numCompleteTasks()) + int(stage.numFailedTasks())
    usage.executor_run_seconds += int(stage.executorRunTime()) / 1e3  # ms
    usage.executor_cpu_seconds += int(stage.executorCpuTime()) / 1e9  # ns
    usage.input_bytes += int(stage.inputBytes())
    usage.output_bytes += int(stage.outputBytes())
    usage.shuffle_read_bytes += int(stage.shuffleReadBytes())
    usage.shuffle_write_bytes += int(stage.shuffleWriteBytes())
    usage.spilled_bytes += int(stage.memoryBytesSpilled()) + int(stage.diskBytesSpilled())
    peak = int(stage.peakExecutionMemory())
    usage.peak_execution_memory_bytes = max(usage.peak_execution_memory_bytes, peak)


def _add_capacity(usage: UsageRecord, store: Any) -> None:
    executors = store.executorList(True)  # active only
    found = [executors.apply(i) for i in range(executors.size())]
    workers = [e for e in found if e.id() != "driver"] or found  # local mode: the driver
    usage.executors = len(workers)
    usage.cores = sum(int(e.totalCores()) for e in workers)
    usage.memory_bytes = sum(int(e.maxMemory()) for e in workers)


def measure(store: Any, baseline: int, as_dicts: Optional[AsDicts] = None) -> UsageRecord:
    """The usage of the Spark jobs newer than job id ``baseline`` in ``store``
    (``as_dicts``: see :func:`json_reader`)."""
    jobs = (
        _jobs_since(store, baseline)
        if as_dicts is None
        else _json_jobs_since(store, baseline, as_dicts)
    )
    usage = UsageRecord(jobs=jobs.count)
    found = [_stage(store, stage_id) for stage_id in sorted(jobs.stage_ids)]
    stages = [stage for stage in found if stage is not None]
    usage.stages_unretained = len(found) - len(stages)
    for stage in stages:  # field by field: a stage's JSON (~2.6 KB) costs ten times more
        _add_stage(usage, stage)
    _add_capacity(usage, store)
    if jobs.first_ms is not None and jobs.last_ms is not None:
        usage.spark_seconds = round((jobs.last_ms - jobs.first_ms) / 1e3, 3)
    usage.executor_run_seconds = round(usage.executor_run_seconds, 3)
    usage.executor_cpu_seconds = round(usage.executor_cpu_seconds, 3)
    return usage


def _reason(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{NOT_MEASURED}: {type(exc).__name__}: {first}"


class UsageProbe:
    """Measures the Spark jobs run between :meth:`start` and :meth:`finish`."""

    def __init__(
        self, store: Any, baseline: int, missing: Optional[str], as_dicts: Optional[AsDicts] = None
    ) -> None:
        self._store = store
        self._baseline = baseline
        self._missing = missing
        self._as_dicts = as_dicts

    @classmethod
    def start(cls, spark: SparkSession) -> UsageProbe:
        # Any failure here (Connect, a JVM without the store, py4j) means "not measured":
        # the reason is kept in the run record and the run itself is unaffected.
        try:
            store = status_store(spark)
            return cls(store, _newest_job_id(store), None, json_reader(spark))
        except Exception as exc:  # kept as the reason in the run record
            return cls(None, -1, _reason(exc))

    def finish(self) -> tuple[Optional[UsageRecord], Optional[str]]:
        """(usage, None), or (None, why it was not measured)."""
        if self._store is None:
            return None, self._missing
        try:
            return measure(self._store, self._baseline, self._as_dicts), None
        except Exception as exc:  # kept as the reason in the run record
            return None, _reason(exc)
