"""Table maintenance on both engines: optimize, vacuum (with retention safety), checkpoint.

The same tests run against delta-rs and delta-spark (the test session carries the
Delta jars), and a table written by one engine is maintained by the other.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.errors import ConfigError, RetentionError, TableNotFoundError
from featurekit.tables import TableEngine, select_engine
from featurekit.tables.deltaspark import RETENTION_CHECK
from featurekit.tables.maintenance import (
    check_retention,
    data_files_on_disk,
    parse_interval_hours,
    sql_predicate,
)

SCHEMA = "k string, d date, v bigint"
ENGINES = ("delta-rs", "delta-spark")
DAYS = ("2024-01-01", "2024-01-02")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, spark: SparkSession) -> TableEngine:
    return select_engine(spark, request.param)


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "table")


def batch(spark: SparkSession, n: int) -> DataFrame:
    """Batch ``n``: one row per day of DAYS (so one small file per partition)."""
    data = [(f"k{n}", dt.date.fromisoformat(day), n * 10 + i) for i, day in enumerate(DAYS)]
    return spark.createDataFrame(data, SCHEMA)


def small_files(engine: TableEngine, spark: SparkSession, path: str, batches: int = 3) -> DataFrame:
    """Append ``batches`` batches (``batches`` files in each of 2 partitions); all the rows."""
    expected = batch(spark, 0)
    engine.write(expected, path, partition_by=["d"])
    for n in range(1, batches):
        engine.write(batch(spark, n), path, partition_by=["d"])
        expected = expected.unionByName(batch(spark, n))
    return expected


def assert_rows(engine: TableEngine, spark: SparkSession, path: str, expected: DataFrame) -> None:
    assert_df_equality(
        engine.read(spark, path).select("k", "d", "v"),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_optimize_compacts_each_partition_and_keeps_the_data(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    expected = small_files(engine, spark, path)
    assert (engine.live_files(path), len(data_files_on_disk(path))) == (6, 6)
    result = engine.optimize(path)
    assert (result.files_before, result.files_removed, result.files_added) == (6, 6, 2)
    assert (result.files_after, result.version) == (2, 3)
    assert engine.live_files(path) == 2
    assert len(data_files_on_disk(path)) == 8  # removed files stay for time travel
    assert_rows(engine, spark, path, expected)
    assert engine.read(spark, path, version=2).count() == 6


def test_optimize_touches_only_the_given_partitions(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    expected = small_files(engine, spark, path)
    result = engine.optimize(path, partitions=[("d", "in", [dt.date(2024, 1, 2)])])
    assert (result.files_removed, result.files_added, result.files_after) == (3, 1, 4)
    assert_rows(engine, spark, path, expected)
    again = engine.optimize(path, partitions=[("d", "=", "2024-01-02")])
    assert (again.files_removed, again.files_added, again.files_after) == (0, 0, 4)


def test_vacuum_refuses_to_go_under_the_retention_period(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    small_files(engine, spark, path)
    engine.optimize(path)
    with pytest.raises(RetentionError, match=r"168 hours .*--force"):
        engine.vacuum(path, retention_hours=0)
    with pytest.raises(RetentionError, match="Refusing"):
        engine.vacuum(path, retention_hours=1, dry_run=True)
    assert len(data_files_on_disk(path)) == 8


def test_vacuum_at_the_default_retention_keeps_recent_files(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    small_files(engine, spark, path)
    engine.optimize(path)
    result = engine.vacuum(path)
    assert (result.files, result.retention_hours, result.forced) == ((), 168.0, False)
    assert len(data_files_on_disk(path)) == 8


def test_forced_vacuum_deletes_the_removed_files_only(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    expected = small_files(engine, spark, path)
    engine.optimize(path)
    conf_before = spark.conf.get(RETENTION_CHECK, None)
    listed = engine.vacuum(path, retention_hours=0, force=True, dry_run=True)
    assert (len(listed.files), listed.dry_run) == (6, True)
    assert len(data_files_on_disk(path)) == 8
    done = engine.vacuum(path, retention_hours=0, force=True)
    assert sorted(done.files) == sorted(listed.files)
    assert all(f.startswith("d=") and f.endswith(".parquet") for f in done.files)
    assert len(data_files_on_disk(path)) == 2
    assert spark.conf.get(RETENTION_CHECK, None) == conf_before  # the session is unchanged
    assert_rows(engine, spark, path, expected)


def test_checkpoint_writes_the_latest_version_into_the_log(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    expected = small_files(engine, spark, path)
    assert engine.last_checkpoint(path) is None
    result = engine.checkpoint(path)
    assert result.version == 2
    assert Path(path, "_delta_log", "00000000000000000002.checkpoint.parquet").is_file()
    assert result.file.endswith("00000000000000000002.checkpoint.parquet")
    assert engine.last_checkpoint(path) == 2
    assert_rows(engine, spark, path, expected)


@pytest.mark.parametrize(("writer", "maintainer"), [ENGINES, ENGINES[::-1]])
def test_a_table_written_by_one_engine_is_maintained_by_the_other(
    spark: SparkSession, path: str, writer: str, maintainer: str
) -> None:
    write, maintain = select_engine(spark, writer), select_engine(spark, maintainer)
    expected = small_files(write, spark, path)
    assert maintain.optimize(path).files_after == 2
    assert len(maintain.vacuum(path, retention_hours=0, force=True).files) == 6
    checkpoint = maintain.checkpoint(path)
    assert checkpoint.version == maintain.version(path) >= 3
    assert len(data_files_on_disk(path)) == 2
    assert write.last_checkpoint(path) == checkpoint.version
    write.write(batch(spark, 7), path, partition_by=["d"])  # the writer carries on
    for engine in (write, maintain):
        assert_rows(engine, spark, path, expected.unionByName(batch(spark, 7)))


def test_maintenance_of_a_missing_table_is_a_clear_error(engine: TableEngine, path: str) -> None:
    with pytest.raises(TableNotFoundError, match="No Delta table"):
        engine.optimize(path)
    with pytest.raises(TableNotFoundError, match="No Delta table"):
        engine.vacuum(path)
    with pytest.raises(TableNotFoundError, match="No Delta table"):
        engine.checkpoint(path)


# -- the shared rules (no table needed) ----------------------------------------------------
@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("interval 7 days", 168.0),
        ("interval 1 week", 168.0),
        ("INTERVAL 36 HOURS", 36.0),
        ("interval 1 day 12 hours", 36.0),
        ("30 minutes", 0.5),
    ],
)
def test_retention_periods_are_read_in_hours(text: str, hours: float) -> None:
    assert parse_interval_hours(text) == hours


def test_an_unreadable_retention_period_says_what_is_expected() -> None:
    with pytest.raises(ConfigError, match="interval 7 days"):
        parse_interval_hours("a fortnight")


def test_retention_check_allows_longer_or_forced_retention_only() -> None:
    assert check_retention("t", None, 168.0, force=False) == 168.0
    assert check_retention("t", 200, 168.0, force=False) == 200
    assert check_retention("t", 0, 168.0, force=True) == 0
    with pytest.raises(RetentionError, match="Refusing to vacuum t with 24 hours"):
        check_retention("t", 24, 168.0, force=False)
    with pytest.raises(ConfigError, match=">= 0"):
        check_retention("t", -1, 168.0, force=True)


def test_sql_predicate_casts_values_to_the_column_type(spark: SparkSession) -> None:
    schema = spark.createDataFrame([], "d date, n int").schema
    got = sql_predicate([("d", ">=", "2024-01-01"), ("n", "in", ["1", "2"])], schema)
    assert (
        got == "`d` >= CAST('2024-01-01' AS date) AND `n` IN (CAST('1' AS int), CAST('2' AS int))"
    )
