"""Where Spark's status store cannot be read, a run is "not measured", never failed."""

from __future__ import annotations

from typing import Any

from featurekit.cost.usage import UsageProbe


class NoJvmSession:
    """A session without a JVM behind it, as Spark Connect's: no sparkContext."""

    @property
    def sparkContext(self) -> Any:
        raise RuntimeError("[JVM_ATTRIBUTE_NOT_SUPPORTED] sparkContext is not supported")


class BrokenStore:
    """A status store whose reads fail midway (a py4j gateway gone)."""

    def jobsList(self, _statuses: Any) -> Any:
        raise ConnectionError("py4j gateway closed\nlong trace")


def test_a_session_without_a_status_store_is_not_measured() -> None:
    usage, missing = UsageProbe.start(NoJvmSession()).finish()  # type: ignore[arg-type]
    assert usage is None
    assert missing == (
        "not measured: RuntimeError: [JVM_ATTRIBUTE_NOT_SUPPORTED] sparkContext is not supported"
    )


def test_a_store_failing_after_the_start_is_not_measured() -> None:
    usage, missing = UsageProbe(BrokenStore(), -1, None).finish()
    assert usage is None
    assert missing == "not measured: ConnectionError: py4j gateway closed"


class _Option:
    def __init__(self, ms: int) -> None:
        self._ms = ms

    def isDefined(self) -> bool:
        return True

    def get(self) -> Any:
        return self

    def getTime(self) -> int:
        return self._ms


class _Seq:
    """A Scala Seq / Java iterator as py4j shows them."""

    def __init__(self, items: list[Any]) -> None:
        self._items = items

    def size(self) -> int:
        return len(self._items)

    def apply(self, i: int) -> Any:
        return self._items[i]

    def iterator(self) -> Any:
        return iter(self._items)


class _Iterator:
    def __init__(self, items: list[int]) -> None:
        self._items = list(items)

    def hasNext(self) -> bool:
        return bool(self._items)

    def next(self) -> int:
        return self._items.pop(0)


class _Job:
    def __init__(self, job_id: int, stages: list[int]) -> None:
        self._id, self._stages = job_id, stages

    def jobId(self) -> int:
        return self._id

    def stageIds(self) -> Any:
        return type("Ids", (), {"iterator": lambda _s: _Iterator(self._stages)})()

    def submissionTime(self) -> _Option:
        return _Option(1_000)

    def completionTime(self) -> _Option:
        return _Option(3_500)


class _Stage:
    def status(self) -> Any:
        return type("Status", (), {"toString": lambda _s: "COMPLETE"})()

    def __getattr__(self, name: str) -> Any:
        return lambda: 1_000 if name in ("executorRunTime", "executorCpuTime") else 2


class ForgetfulStore:
    """A status store that has dropped stage 11 (as Spark's does past retainedStages)."""

    def jobsList(self, _statuses: Any) -> _Seq:
        return _Seq([_Job(7, [10, 11, 12])])

    def lastStageAttempt(self, stage_id: int) -> _Stage:
        if stage_id == 11:
            raise RuntimeError(
                "An error occurred while calling o1.lastStageAttempt.\n"
                ": java.util.NoSuchElementException: No stage with id 11"
            )
        return _Stage()

    def executorList(self, _active: bool) -> _Seq:
        return _Seq([])


def test_stages_the_store_has_dropped_are_counted_not_fatal() -> None:
    usage, missing = UsageProbe(ForgetfulStore(), 6, None).finish()
    assert missing is None
    assert usage is not None
    assert (usage.jobs, usage.stages, usage.stages_unretained) == (1, 2, 1)
    assert usage.tasks == 8  # 2 complete + 2 failed tasks in each of the two stages read
    assert usage.spark_seconds == 2.5


def test_a_stage_missing_from_the_real_store_is_recognised(spark: Any) -> None:
    from featurekit.cost.usage import _stage, status_store

    assert _stage(status_store(spark), 10**9) is None


def test_reading_the_store_as_json_gives_what_reading_each_field_gives(spark: Any) -> None:
    from featurekit.cost.usage import _newest_job_id, json_reader, measure, status_store

    store = status_store(spark)
    baseline = _newest_job_id(store)
    spark.range(2000).selectExpr("id % 7 AS k").groupBy("k").count().collect()  # a shuffle
    as_dicts = json_reader(spark)
    assert as_dicts is not None
    by_json, by_field = measure(store, baseline, as_dicts), measure(store, baseline)
    assert by_json == by_field
    assert min(by_json.jobs, by_json.stages, by_json.tasks) >= 1
