"""Commit conflicts: retried with backoff when the commit is safe to repeat, else one error.

The rule and the backoff on a scripted attempt; then a real conflict on each engine:
another writer (delta-rs, straight to the Delta log; for Iceberg a second engine) appends
to the very dates a commit replaces, after the commit read the table and before it wrote
its log entry (Iceberg: published its snapshot).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType

from featurekit.errors import ConcurrentCommitError, ConcurrentWriterError, ConfigError
from featurekit.tables import select_engine
from featurekit.tables.commits import CommitCoordinator, CommitGuard
from featurekit.tables.conflicts import CommitRetry, commit_with_retries, retry_is_safe
from featurekit.tables.deltaspark import delta_spark_available
from featurekit.tables.engine import STAGING, CommitResult, TableEngine, Txn
from featurekit.tables.iceberg import IcebergEngine

SCHEMA = "k string, d date, v bigint"
# delta-spark's commits take 15-45 s on a busy 2-core machine: the slow lane
ENGINES = ["delta-rs", pytest.param("delta-spark", marks=pytest.mark.slow)]
DAY = "2024-01-01"


# -- the rule and the backoff ----------------------------------------------------------
def scripted(conflicts: int, error: type[Exception] = ConcurrentCommitError) -> Any:
    """An attempt that conflicts ``conflicts`` times, then commits version 7."""
    calls: list[int] = []

    def attempt() -> CommitResult:
        calls.append(1)
        if len(calls) <= conflicts:
            raise error("another writer committed first")
        return CommitResult(version=7, skipped=False, rows=3, files=1)

    attempt.calls = calls  # type: ignore[attr-defined]
    return attempt


def test_a_safe_commit_is_retried_with_growing_jittered_waits() -> None:
    waits: list[float] = []
    attempt = scripted(3)
    result = commit_with_retries(
        attempt, CommitRetry(attempts=5), safe=True, path="t", sleep=waits.append
    )
    assert (result.version, result.conflicts) == (7, 3)
    assert len(attempt.calls) == 4
    # 0.5, 1, 2 s doubled, each jittered into its upper half
    for wait, full in zip(waits, (0.5, 1.0, 2.0)):
        assert full / 2 <= wait <= full
    assert len(waits) == 3


def test_a_commit_without_conflicts_reports_none() -> None:
    result = commit_with_retries(scripted(0), CommitRetry(), safe=True, path="t")
    assert result.conflicts == 0


def test_the_attempts_are_bounded_and_end_in_one_error() -> None:
    waits: list[float] = []
    attempt = scripted(10)
    with pytest.raises(ConcurrentCommitError, match=r"conflicted with other writers 3 time") as got:
        commit_with_retries(
            attempt, CommitRetry(attempts=3), safe=True, path="s3://b/t", sleep=waits.append
        )
    assert len(attempt.calls) == 3
    assert len(waits) == 2
    assert "nothing of it was committed" in str(got.value)
    assert "\n" not in str(got.value)


def test_an_append_without_a_transaction_is_not_retried() -> None:
    attempt = scripted(1)
    with pytest.raises(ConcurrentCommitError, match="without a transaction id"):
        commit_with_retries(attempt, CommitRetry(), safe=False, path="t", sleep=pytest.fail)
    assert len(attempt.calls) == 1


def test_a_writer_refused_by_the_lease_is_not_retried() -> None:
    attempt = scripted(1, ConcurrentWriterError)
    with pytest.raises(ConcurrentWriterError):
        commit_with_retries(attempt, CommitRetry(), safe=True, path="t", sleep=pytest.fail)
    assert len(attempt.calls) == 1


def test_which_commits_are_safe_to_repeat() -> None:
    assert retry_is_safe("append", Txn("job", 3))  # a batch: its txn makes it a no-op
    assert retry_is_safe("replace", None)  # replaces its dates again
    assert retry_is_safe("overwrite", None)  # replaces the table again
    assert not retry_is_safe("append", None)  # could add its rows twice


def test_bad_retry_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        CommitRetry(attempts=0)
    with pytest.raises(ConfigError, match="first_wait <= max_wait"):
        CommitRetry(first_wait=5, max_wait=1)
    assert CommitRetry(first_wait=1, max_wait=4).wait(10, jitter=1.0) == 4  # capped


# -- a real conflict on both engines ---------------------------------------------------
def append_behind(path: str, value: int) -> None:
    """Another writer: one row of DAY appended straight to the Delta log (delta-rs)."""
    import pyarrow as pa
    from deltalake import write_deltalake

    rows = pa.table(
        {
            "k": pa.array(["other"], pa.string()),
            "d": pa.array([dt.date.fromisoformat(DAY)], pa.date32()),
            "v": pa.array([value], pa.int64()),
        }
    )
    write_deltalake(path, rows, mode="append", partition_by=["d"])


def race(engine: TableEngine, staged: Any, path: str, marker: Path) -> None:
    """Make the first commit attempt of ``staged`` lose a race: the other writer commits
    after the attempt read the log (delta-rs) or began its Delta transaction (delta-spark,
    from inside the write's Spark job), before the attempt's log entry."""
    if engine.name == "delta-rs":
        latest = engine._latest  # type: ignore[attr-defined]

        def stale(table_path: str) -> Any:
            table = latest(table_path)
            if not marker.exists():
                marker.touch()
                append_behind(path, 99)
            return table

        engine._latest = stale  # type: ignore[attr-defined]
        return
    frame: Callable[[], DataFrame] = staged.dataframe
    flag = str(marker)

    def once(v: int) -> int:  # in Spark's Python worker: nothing of this module imported
        import datetime
        import os

        import pyarrow as pa
        from deltalake import write_deltalake

        if not os.path.exists(flag):
            open(flag, "w").close()
            rows = pa.table(
                {
                    "k": pa.array(["other"], pa.string()),
                    "d": pa.array([datetime.date(2024, 1, 1)], pa.date32()),
                    "v": pa.array([99], pa.int64()),
                }
            )
            write_deltalake(path, rows, mode="append", partition_by=["d"])
        return v

    hook = F.udf(once, LongType())
    staged.dataframe = lambda: frame().withColumn("v", hook("v"))


def engine_for(spark: SparkSession, name: str, attempts: int) -> TableEngine:
    if name == "delta-spark" and not delta_spark_available(spark):
        pytest.fail("The test session has no Delta jars: run `make install`.")
    guard = CommitGuard(CommitCoordinator(), retry=CommitRetry(attempts=attempts, first_wait=0))
    return select_engine(spark, name, guard=guard)


def raced_replace(
    spark: SparkSession, name: str, tmp_path: Path, *, attempts: int
) -> tuple[TableEngine, Any, str]:
    """A table holding ("a", DAY, 1), a stage replacing DAY with ("b", DAY, 2), and another
    writer that appends to DAY after the commit read the table (see :func:`race`)."""
    engine = engine_for(spark, name, attempts=attempts)
    path = str(tmp_path / "t")
    day = dt.date.fromisoformat(DAY)
    engine.write(spark.createDataFrame([("a", day, 1)], SCHEMA), path, partition_by=["d"])
    staged = engine.stage(spark.createDataFrame([("b", day, 2)], SCHEMA), path, partition_by=["d"])
    race(engine, staged, path, tmp_path / "raced")
    return engine, staged, path


def values(engine: TableEngine, spark: SparkSession, path: str) -> list[tuple[str, int]]:
    return sorted((r["k"], r["v"]) for r in engine.read(spark, path).collect())


@pytest.mark.parametrize("name", ENGINES)
def test_a_replacing_commit_that_loses_a_race_is_retried(
    name: str, spark: SparkSession, tmp_path: Path
) -> None:
    engine, staged, path = raced_replace(spark, name, tmp_path, attempts=3)

    result = engine.commit(staged, mode="replace", replace={"d": [DAY]})

    assert (tmp_path / "raced").exists()  # the other writer did commit in between
    assert result.conflicts == 1
    assert result.version == 2  # after the other writer's version 1
    # in serial order: the other writer's row, then this commit replacing DAY
    assert_df_equality(
        engine.read(spark, path),
        spark.createDataFrame([("b", dt.date.fromisoformat(DAY), 2)], SCHEMA),
        ignore_nullable=True,
    )
    assert not list((Path(path) / STAGING).glob("*/*"))


@pytest.mark.parametrize("name", ENGINES)
def test_a_conflict_past_the_attempts_is_one_error_with_nothing_written(
    name: str, spark: SparkSession, tmp_path: Path
) -> None:
    engine, staged, path = raced_replace(spark, name, tmp_path, attempts=1)

    with pytest.raises(ConcurrentCommitError, match="conflicted with other writers 1 time"):
        engine.commit(staged, mode="replace", replace={"d": [DAY]})

    assert engine.version(path) == 1  # the other writer's commit, none of this one
    assert values(engine, spark, path) == [("a", 1), ("other", 99)]
    assert not list((Path(path) / STAGING).glob("*/*"))
    if name == "delta-rs":  # the files it had moved into the table are gone again
        named = {Path(f).name for f in engine.read(spark, path).inputFiles()}
        on_disk = {f.name for f in Path(path).rglob("*.parquet") if STAGING not in str(f)}
        assert on_disk == named


# -- a real conflict on Iceberg --------------------------------------------------------
def other_writer(spark: SparkSession, path: str, *items: tuple[str, int], **commit: Any) -> None:
    """Another writer of the Iceberg table: its own engine, its own snapshot on ``main``."""
    day = dt.date.fromisoformat(DAY)
    frame = spark.createDataFrame([(k, day, v) for k, v in items], SCHEMA)
    IcebergEngine(spark).write(frame, path, partition_by=["d"], **commit)


def raced_iceberg(
    spark: SparkSession,
    tmp_path: Path,
    *,
    attempts: int,
    race: Callable[[int], None],
) -> tuple[IcebergEngine, Any, str, list[list[str]]]:
    """A table holding ("a", DAY, 1), a stage of ("b", DAY, 2), and ``race(n)`` run as the
    n-th attempt publishes, after it read its base snapshot; with the files each attempt
    published."""
    guard = CommitGuard(CommitCoordinator(), retry=CommitRetry(attempts=attempts, first_wait=0))
    engine = IcebergEngine(spark, guard=guard)
    path = str(tmp_path / "t")
    day = dt.date.fromisoformat(DAY)
    engine.write(spark.createDataFrame([("a", day, 1)], SCHEMA), path, partition_by=["d"])
    staged = engine.stage(spark.createDataFrame([("b", day, 2)], SCHEMA), path, partition_by=["d"])
    publish = engine._publish
    published: list[list[str]] = []

    def raced(table: Any, files: Any, base: Optional[int], what: Any) -> None:
        published.append(sorted(str(f.location()) for f in files))
        race(len(published))
        publish(table, files, base, what)

    engine._publish = raced  # type: ignore[method-assign]
    return engine, staged, path, published


def data_files(path: str) -> int:
    """Data files in the table's folder, on ``main`` or not (nothing removes them here)."""
    return sum(1 for f in Path(path).rglob("*.parquet") if STAGING not in str(f))


def only_main(engine: IcebergEngine, path: str) -> bool:
    """True when no staging branch or staged file is left."""
    refs = sorted(str(name) for name in dict(engine.tables.load(path).refs()))
    return refs == ["main"] and not list((Path(path) / STAGING).glob("*/*"))


def test_an_iceberg_replace_that_loses_a_race_is_retried_without_writing_again(
    spark: SparkSession, tmp_path: Path
) -> None:
    def race(attempt: int) -> None:
        if attempt == 1:
            other_writer(spark, str(tmp_path / "t"), ("other", 99))

    engine, staged, path, published = raced_iceberg(spark, tmp_path, attempts=3, race=race)

    result = engine.commit(staged, mode="replace", replace={"d": [DAY]})

    assert result.conflicts == 1
    assert result.version == 2  # after the other writer's version 1
    assert values(engine, spark, path) == [("b", 2)]
    assert published == [published[0]] * 2  # the same files again
    assert data_files(path) == 3  # a, other, b: Spark wrote the rows once
    assert only_main(engine, path)


def test_an_iceberg_append_is_rebased_by_iceberg_past_another_append(
    spark: SparkSession, tmp_path: Path
) -> None:
    def race(attempt: int) -> None:
        other_writer(spark, str(tmp_path / "t"), ("other", 99))

    engine, staged, path, published = raced_iceberg(spark, tmp_path, attempts=3, race=race)

    result = engine.commit(staged, mode="append")

    # Iceberg applies the append to the newer snapshot itself: nothing overlaps, no conflict
    assert (result.conflicts, result.version) == (0, 2)
    assert values(engine, spark, path) == [("a", 1), ("b", 2), ("other", 99)]
    assert len(published) == 1


def test_an_iceberg_blind_append_that_conflicts_is_not_retried(
    spark: SparkSession, tmp_path: Path
) -> None:
    def race(attempt: int) -> None:
        other_writer(spark, str(tmp_path / "t"), ("other", 99))
        # what the publish raises when Iceberg's own commit retries ran out
        raise ConcurrentCommitError("Another writer committed first.")

    engine, staged, path, published = raced_iceberg(spark, tmp_path, attempts=3, race=race)

    with pytest.raises(ConcurrentCommitError, match="without a transaction id"):
        engine.commit(staged, mode="append")

    assert len(published) == 1
    assert engine.version(path) == 1  # the other writer's commit, none of this one
    assert values(engine, spark, path) == [("a", 1), ("other", 99)]
    assert only_main(engine, path)


def test_an_iceberg_conflict_past_the_attempts_is_one_error_with_nothing_on_main(
    spark: SparkSession, tmp_path: Path
) -> None:
    def race(attempt: int) -> None:
        other_writer(spark, str(tmp_path / "t"), ("other", 100 - attempt))

    engine, staged, path, published = raced_iceberg(spark, tmp_path, attempts=2, race=race)

    with pytest.raises(ConcurrentCommitError, match="conflicted with other writers 2 time") as got:
        engine.commit(staged, mode="replace", replace={"d": [DAY]})

    assert "--commit-attempts" in str(got.value)
    assert published == [published[0]] * 2
    assert engine.version(path) == 2  # the other writer's two commits, none of this one
    assert values(engine, spark, path) == [("a", 1), ("other", 98), ("other", 99)]
    assert only_main(engine, path)


def test_an_iceberg_retry_skips_a_batch_another_writer_committed_meanwhile(
    spark: SparkSession, tmp_path: Path
) -> None:
    batch = Txn("job", 1)

    def race(attempt: int) -> None:
        if attempt == 1:  # another run of the same batch, committed first
            other_writer(
                spark,
                str(tmp_path / "t"),
                ("b", 2),
                mode="replace",
                replace={"d": [DAY]},
                txn=batch,
            )

    engine, staged, path, published = raced_iceberg(spark, tmp_path, attempts=3, race=race)

    result = engine.commit(staged, mode="replace", replace={"d": [DAY]}, txn=batch)

    assert (result.skipped, result.conflicts) == (True, 1)
    assert len(published) == 1  # the retry found the batch committed: nothing published
    assert values(engine, spark, path) == [("b", 2)]  # once
    assert engine.version(path) == 1
    assert only_main(engine, path)
