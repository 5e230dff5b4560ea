"""One contract for every table engine: the same tests run against the two Delta engines
and the Iceberg engine.

The test session carries the Delta jars and Iceberg's Spark runtime (resolved from Maven
Central once by ``make install``), so delta-spark and Iceberg run here exactly as on Glue
and EMR; nothing skips.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.errors import ConfigError, SchemaEvolutionError, TableError, TableNotFoundError
from featurekit.quality.quarantine import commit_metadata
from featurekit.tables import TableEngine, Txn, iceberg_engine, select_engine
from featurekit.tables import engine as table_engine
from featurekit.tables.deltaspark import delta_spark_available

SCHEMA = "k string, d date, ts timestamp, v bigint"


@pytest.fixture(params=["delta-rs", "delta-spark", "iceberg"])
def engine(request: pytest.FixtureRequest, spark: SparkSession) -> TableEngine:
    if request.param == "delta-spark" and not delta_spark_available(spark):
        pytest.fail(
            "The test session has no Delta jars: run `make install` (it resolves them from "
            "Maven Central) or set the pytest ini featurekit_engine = delta-spark."
        )
    if request.param == "iceberg":
        return iceberg_engine(spark)  # fails the test, not skips, without Iceberg's jar
    return select_engine(spark, request.param)


def rows(spark: SparkSession, *items: tuple[str, str, int]) -> DataFrame:
    """Rows (key, date, value); ts is noon of the date."""
    data = []
    for key, day, value in items:
        date = dt.date.fromisoformat(day)
        data.append((key, date, dt.datetime.combine(date, dt.time(12)), value))
    return spark.createDataFrame(data, SCHEMA)


def assert_table(engine: TableEngine, spark: SparkSession, path: str, expected: DataFrame) -> None:
    assert_df_equality(
        engine.read(spark, path),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "table")


def test_create_then_read_back(engine: TableEngine, spark: SparkSession, path: str) -> None:
    df = rows(spark, ("a", "2024-01-01", 1), ("b", "2024-01-02", 2))
    result = engine.write(df, path, partition_by=["d"])
    assert (result.version, result.rows, result.skipped) == (0, 2, False)
    assert engine.exists(path)
    assert_table(engine, spark, path, df)


def test_append_adds_rows(engine: TableEngine, spark: SparkSession, path: str) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"])
    engine.write(rows(spark, ("b", "2024-01-01", 2)), path, partition_by=["d"])
    assert engine.version(path) == 1
    assert_table(engine, spark, path, rows(spark, ("a", "2024-01-01", 1), ("b", "2024-01-01", 2)))


def test_overwrite_replaces_everything(engine: TableEngine, spark: SparkSession, path: str) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1), ("b", "2024-01-02", 2)), path)
    engine.write(rows(spark, ("c", "2024-01-03", 3)), path, mode="overwrite")
    assert_table(engine, spark, path, rows(spark, ("c", "2024-01-03", 3)))


def test_replace_touches_only_listed_partitions(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    engine.write(
        rows(spark, ("a", "2024-01-01", 1), ("b", "2024-01-02", 2), ("c", "2024-01-03", 3)),
        path,
        partition_by=["d"],
    )
    engine.write(
        rows(spark, ("x", "2024-01-02", 9)),
        path,
        mode="replace",
        replace={"d": ["2024-01-02", "2024-01-03"]},
        partition_by=["d"],
    )
    assert_table(engine, spark, path, rows(spark, ("a", "2024-01-01", 1), ("x", "2024-01-02", 9)))


def test_replace_rejects_rows_outside_the_replaced_values(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"])
    with pytest.raises(TableError, match="2024-01-05"):
        engine.write(
            rows(spark, ("x", "2024-01-05", 9)),
            path,
            mode="replace",
            replace={"d": ["2024-01-01"]},
            partition_by=["d"],
        )
    assert engine.version(path) == 0
    assert_table(engine, spark, path, rows(spark, ("a", "2024-01-01", 1)))


def test_replace_needs_a_partition_column(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    with pytest.raises(ConfigError, match="not a partition column"):
        engine.write(rows(spark, ("a", "2024-01-01", 1)), path, mode="replace", replace={"d": []})


def test_time_travel_by_version_and_timestamp(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    first = rows(spark, ("a", "2024-01-01", 1))
    engine.write(first, path)
    between = dt.datetime.now(dt.timezone.utc)
    engine.write(rows(spark, ("b", "2024-01-01", 2)), path)
    assert_df_equality(engine.read(spark, path, version=0), first, ignore_nullable=True)
    assert_df_equality(engine.read(spark, path, timestamp=between), first, ignore_nullable=True)
    assert engine.read(spark, path).count() == 2


def test_describe_names_the_snapshot_a_pinned_read_returns(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"])
    info = engine.describe(path)
    engine.write(rows(spark, ("b", "2024-01-02", 2)), path, partition_by=["d"], mode="append")
    assert (info.version, info.partition_columns) == (0, ("d",))
    assert [f.name for f in info.schema.fields] == ["k", "d", "ts", "v"]
    assert engine.read(spark, path, version=info.version).count() == 1
    assert engine.describe(path).version == 1
    with pytest.raises(TableNotFoundError):
        engine.describe(path + "-missing")


def test_history_lists_every_commit_newest_first(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, metadata={"job": "j1"})
    engine.write(rows(spark, ("b", "2024-01-01", 2)), path, mode="overwrite")
    history = engine.history(path)
    assert [h.version for h in history] == [1, 0]
    assert engine.history(path, limit=1)[0].version == 1


def test_commit_is_idempotent_per_app_and_batch(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    df = rows(spark, ("a", "2024-01-01", 1))
    first = engine.write(df, path, txn=Txn("job-a", 1))
    again = engine.write(df, path, txn=Txn("job-a", 1))
    older = engine.write(df, path, txn=Txn("job-a", 0))
    assert (first.skipped, again.skipped, older.skipped) == (False, True, True)
    assert engine.version(path) == 0
    assert engine.txn_version(path, "job-a") == 1
    other = engine.write(df, path, txn=Txn("job-b", 1))
    assert not other.skipped
    assert engine.read(spark, path).count() == 2


def test_staged_data_is_invisible_until_commit(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"])
    staged = engine.stage(rows(spark, ("b", "2024-01-01", 2)), path, partition_by=["d"])
    assert staged.rows == 1
    assert staged.dataframe().count() == 1
    assert engine.read(spark, path).count() == 1
    engine.abort(staged)
    assert engine.read(spark, path).count() == 1
    assert engine.version(path) == 0


@pytest.mark.parametrize("one_task_bytes", [1 << 20, 0], ids=["small-one-task", "shuffled"])
def test_a_stage_writes_one_file_per_partition_value(
    engine: TableEngine,
    spark: SparkSession,
    path: str,
    one_task_bytes: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows of every date spread over four tasks: one file per date either way, whether
    the output is small enough for one task or shuffled by date first."""
    monkeypatch.setattr(table_engine, "ONE_TASK_BYTES", one_task_bytes)
    days = ["2024-01-01", "2024-01-02", "2024-01-03"]
    spread = rows(spark, *((f"k{i}", days[i % 3], i) for i in range(24))).repartition(4)
    staged = engine.stage(spread, path, partition_by=["d"])
    try:
        folders = [f.rsplit("/", 1)[0] for f in staged.files]
        assert len(folders) == len(set(folders)) == 3
        assert staged.rows == 24
    finally:
        engine.abort(staged)


@pytest.mark.parametrize("limit", [1 << 20, 0], ids=["one-task", "over-the-limit"])
def test_one_value_is_coalesced_into_one_task_up_to_its_limit(
    engine: TableEngine,
    spark: SparkSession,
    path: str,
    limit: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows of one date: coalesced into one task when small enough, and then staged as
    they are (no shuffle by date on top); one file either way."""
    monkeypatch.setattr(table_engine, "ONE_TASK_BYTES", 0)
    monkeypatch.setattr(table_engine, "ONE_VALUE_BYTES", limit)
    # from spark.range, which Spark knows the size of (a local list it does not)
    spread = spark.range(8, numPartitions=4).selectExpr(
        "concat('k', id) AS k", "DATE'2024-01-01' AS d", "TIMESTAMP'2024-01-01 12:00:00' AS ts",
        "id AS v",
    )  # fmt: skip
    laid_out = table_engine.one_task_for_one_value(spread)
    assert (laid_out is not spread) == (limit > 0)
    assert (table_engine.one_file_per_value(laid_out, ["d"]) is laid_out) == (limit > 0)
    staged = engine.stage(laid_out, path, partition_by=["d"])
    try:
        assert len(staged.files) == 1
        assert staged.rows == 8
    finally:
        engine.abort(staged)


def test_new_nullable_column_is_added(engine: TableEngine, spark: SparkSession, path: str) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path)
    wider = rows(spark, ("b", "2024-01-02", 2)).selectExpr("*", "CAST(v * 2 AS double) AS extra")
    engine.write(wider, path)
    got = engine.read(spark, path)
    assert got.columns == ["k", "d", "ts", "v", "extra"]
    assert {(r.k, r.extra) for r in got.collect()} == {("a", None), ("b", 4.0)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("k, d, ts, CAST(v AS string) AS v", "changes type"),
        ("k, d, ts", "'v' .* is missing"),
    ],
)
def test_other_schema_changes_are_rejected(
    engine: TableEngine, spark: SparkSession, path: str, change: str, message: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path)
    with pytest.raises(SchemaEvolutionError, match=message):
        engine.write(rows(spark, ("b", "2024-01-01", 2)).selectExpr(*change.split(", ")), path)
    assert engine.version(path) == 0


def test_partitioning_cannot_change(engine: TableEngine, spark: SparkSession, path: str) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"])
    with pytest.raises(TableError, match="partitioned by"):
        engine.write(rows(spark, ("b", "2024-01-01", 2)), path, partition_by=["k"])


def test_empty_write_creates_an_empty_table(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    engine.write(spark.createDataFrame([], SCHEMA), path, partition_by=["d"])
    assert engine.exists(path)
    assert engine.read(spark, path).count() == 0


def test_missing_table_is_a_clear_error(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    assert not engine.exists(path)
    assert engine.version(path) is None
    with pytest.raises(TableNotFoundError, match=r"No (Delta|Iceberg) table"):
        engine.read(spark, path)


def test_partition_values_with_special_characters_round_trip(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    df = spark.createDataFrame([("a b/c:d%e", 1), ("plain", 2)], "k string, v bigint")
    engine.write(df, path, partition_by=["k"])
    assert_df_equality(engine.read(spark, path), df, ignore_row_order=True, ignore_nullable=True)


def test_partition_filters_prune_the_read(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    days = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-10"]
    engine.write(
        rows(spark, *[(f"k{i}", d, i) for i, d in enumerate(days)]), path, partition_by=["d"]
    )
    in_range = [("d", ">=", dt.date(2024, 1, 2)), ("d", "<=", "2024-01-03")]
    got = engine.read(spark, path, partitions=in_range)
    assert_df_equality(
        got,
        rows(spark, ("k1", days[1], 1), ("k2", days[2], 2)),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    listed = engine.read(spark, path, partitions=[("d", "in", ["2024-01-10", "2024-01-01"])])
    assert sorted(r.v for r in listed.collect()) == [0, 3]
    assert engine.read(spark, path, partitions=[("d", "not in", days[:3])]).count() == 1
    assert engine.read(spark, path, partitions=[("d", ">", "2024-02-01")]).count() == 0
    # a pruned read of an older version prunes that version's files
    engine.write(
        rows(spark, ("z", "2024-01-10", 9)),
        path,
        mode="replace",
        partition_by=["d"],
        replace={"d": ["2024-01-10"]},
    )
    old = engine.read(spark, path, version=0, partitions=[("d", "=", "2024-01-10")])
    assert [r.v for r in old.collect()] == [3]


def test_partition_filters_compare_as_the_column_type(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    df = spark.createDataFrame([(9, "a"), (10, "b"), (100, "c")], "n int, v string")
    engine.write(df, path, partition_by=["n"])
    assert sorted(r.v for r in engine.read(spark, path, partitions=[("n", ">", 9)]).collect()) == [
        "b",
        "c",
    ]


def test_partition_filters_on_other_columns_are_rejected(
    engine: TableEngine, spark: SparkSession, path: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"])
    with pytest.raises(ConfigError, match="'v': it is not a partition column"):
        engine.read(spark, path, partitions=[("v", "=", 1)])
    with pytest.raises(ConfigError, match="Unknown partition filter operator 'like'"):
        engine.read(spark, path, partitions=[("d", "like", "2024%")])
    with pytest.raises(ConfigError, match="takes a list"):
        engine.read(spark, path, partitions=[("d", "in", "2024-01-01")])


@pytest.mark.parametrize(
    ("writer", "reader"), [("delta-rs", "delta-spark"), ("delta-spark", "delta-rs")]
)
def test_a_table_written_by_one_engine_is_read_and_extended_by_the_other(
    spark: SparkSession, path: str, writer: str, reader: str
) -> None:
    first, second = select_engine(spark, writer), select_engine(spark, reader)
    # a run's commit metadata (run/write.py's keys: "job" is also a field of Delta's commitInfo)
    meta = {"job": "daily", "run_id": "r1"}
    first.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"], txn=Txn("j", 1))
    first.write(
        rows(spark, ("b", "2024-01-02", 2)),
        path,
        partition_by=["d"],
        txn=Txn("j", 2),
        metadata=meta,
    )
    assert second.version(path) == 1
    assert commit_metadata(second.history(path, limit=1)[0].metadata)["job"] == "daily"
    assert second.txn_version(path, "j") == 2
    assert second.describe(path).partition_columns == ("d",)
    assert_df_equality(
        second.read(spark, path, partitions=[("d", "=", "2024-01-02")]),
        rows(spark, ("b", "2024-01-02", 2)),
        ignore_nullable=True,
    )
    second.write(
        rows(spark, ("c", "2024-01-02", 3)),
        path,
        mode="replace",
        replace={"d": ["2024-01-02"]},
        partition_by=["d"],
        txn=Txn("j", 3),
    )
    expected = rows(spark, ("a", "2024-01-01", 1), ("c", "2024-01-02", 3))
    assert_table(first, spark, path, expected)
    assert first.txn_version(path, "j") == 3


@pytest.mark.parametrize("writer", ["delta-rs", "delta-spark"])
def test_written_table_is_readable_by_spark_with_delta_and_by_deltalake(
    spark: SparkSession, path: str, writer: str
) -> None:
    import deltalake

    engine = select_engine(spark, writer)
    expected = rows(spark, ("a", "2024-01-01", 1), ("b", "2024-01-02", 2))
    engine.write(expected, path, partition_by=["d"])
    engine.write(
        rows(spark, ("z", "2024-01-02", 9)),
        path,
        mode="replace",
        replace={"d": ["2024-01-02"]},
        partition_by=["d"],
    )
    after = rows(spark, ("a", "2024-01-01", 1), ("z", "2024-01-02", 9))
    # Spark's own Delta data source, as Glue, EMR and Athena-compatible readers see it
    assert_df_equality(
        spark.read.format("delta").load(path).select(*after.columns),
        after,
        ignore_row_order=True,
        ignore_nullable=True,
    )
    # deltalake (delta-rs) without Spark, as `featurekit table show` reads it
    data = deltalake.DeltaTable(path).to_pyarrow_table().to_pydict()
    assert sorted(zip(data["k"], data["v"])) == [("a", 1), ("z", 9)]
    assert sorted(data["d"]) == [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]
    assert {t.hour for t in data["ts"]} == {12}  # microsecond timestamps, UTC
