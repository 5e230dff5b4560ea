"""What the Iceberg engine adds to the shared contract (tests/tables/test_contract.py):
its branch staging, its conflict check, the Spark-free reader (pyiceberg), maintenance
through Iceberg's actions, and feature tables declared ``format="iceberg"``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.errors import ConcurrentCommitError, ConfigError, RetentionError, TableError
from featurekit.runtime.local import LocalRuntime
from featurekit.tables import Txn, iceberg_engine
from featurekit.tables.engine import STAGING
from featurekit.tables.iceberg import IcebergEngine
from featurekit.tables.iceberg_java import java_list, main_lineage

SCHEMA = "k string, d date, v bigint"


def rows(spark: SparkSession, *items: tuple[str, str, int]) -> DataFrame:
    data = [(k, dt.date.fromisoformat(d), v) for k, d, v in items]
    return spark.createDataFrame(data, SCHEMA)


@pytest.fixture
def engine(spark: SparkSession) -> IcebergEngine:
    made = iceberg_engine(spark)
    assert isinstance(made, IcebergEngine)
    return made


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "table")


def test_a_commit_leaves_no_branch_and_one_snapshot_on_main(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"])
    engine.write(
        rows(spark, ("b", "2024-01-01", 2)),
        path,
        mode="replace",
        replace={"d": ["2024-01-01"]},
        partition_by=["d"],
        txn=Txn("job", 7),
        metadata={"job": "daily"},
    )
    table = engine.tables.load(path)
    assert sorted(str(name) for name in dict(table.refs())) == ["main"]
    lineage = main_lineage(table)
    assert [s.operation for s in lineage] == ["append", "overwrite"]
    assert lineage[-1].summary["featurekit.txn.job"] == "7"
    assert engine.history(path, limit=1)[0].metadata == {"job": "daily"}
    assert engine.history(path)[0].parameters["snapshot_id"] == str(lineage[-1].snapshot_id)
    assert not list(Path(path, "_featurekit_staging").glob("*"))


def test_a_replace_loses_to_a_writer_that_committed_to_its_partitions_first(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"])
    base = engine.tables.load(path).currentSnapshot().snapshotId()
    engine.write(rows(spark, ("other", "2024-01-01", 5)), path, partition_by=["d"])
    late = engine.stage(rows(spark, ("b", "2024-01-01", 2)), path, partition_by=["d"])
    table = engine.tables.load(path)
    files = engine._import_staged(table, late)
    from featurekit.tables.iceberg import _Publish

    publish = _Publish("replace", {"d": ["2024-01-01"]}, None, {})
    with pytest.raises(ConcurrentCommitError, match="Another writer"):
        engine._publish(table, files, base, publish)  # started before the other's append
    engine.abort(late)
    assert sorted(r.k for r in engine.read(spark, path).collect()) == ["a", "other"]


def test_pyiceberg_reads_the_table_without_spark(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    from pyiceberg.table import StaticTable

    engine.write(
        rows(spark, ("a", "2024-01-01", 1), ("b", "2024-01-02", 2)), path, partition_by=["d"]
    )
    engine.write(
        rows(spark, ("z", "2024-01-02", 9)),
        path,
        mode="replace",
        replace={"d": ["2024-01-02"]},
        partition_by=["d"],
    )
    hint = Path(path, "metadata", "version-hint.text").read_text().strip()
    table = StaticTable.from_metadata(str(Path(path, "metadata", f"v{hint}.metadata.json")))
    data = table.scan().to_arrow().to_pydict()
    assert sorted(zip(data["k"], data["v"])) == [("a", 1), ("z", 9)]
    first = main_lineage(engine.tables.load(path))[0].snapshot_id
    old = table.scan(snapshot_id=first).to_arrow().to_pydict()
    assert sorted(old["k"]) == ["a", "b"]


def test_optimize_compacts_and_checkpoint_rewrites_manifests(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    for i in range(3):
        engine.write(rows(spark, (f"k{i}", "2024-01-01", i)), path, partition_by=["d"])
    before = engine.read(spark, path)
    result = engine.optimize(path, partitions=[("d", "=", "2024-01-01")])
    assert (result.files_before, result.files_removed, result.files_after) == (3, 3, 1)
    assert_df_equality(engine.read(spark, path), before, ignore_row_order=True)
    point = engine.checkpoint(path)
    assert engine.last_checkpoint(path) == point.version == engine.version(path)
    assert point.file.endswith(".avro")


def test_vacuum_expires_old_snapshots_and_keeps_the_latest(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"])
    engine.write(rows(spark, ("b", "2024-01-01", 2)), path, partition_by=["d"], mode="overwrite")
    result = engine.vacuum(path, retention_hours=0, force=True)
    assert len(result.files) == 1
    assert result.files[0].startswith("data/d=2024-01-01/")
    assert [r.k for r in engine.read(spark, path).collect()] == ["b"]
    with pytest.raises(RetentionError, match="Refusing to vacuum") as refused:
        engine.vacuum(path, retention_hours=0)
    # the Iceberg table's own retention setting, not Delta's
    assert "history.expire.max-snapshot-age-ms" in str(refused.value)
    assert "delta." not in str(refused.value)


def test_versions_keep_their_numbers_when_older_snapshots_expire(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    for value in (1, 2, 3):
        engine.write(rows(spark, ("a", "2024-01-01", value)), path, mode="overwrite")
    assert [s.version for s in engine.history(path)] == [2, 1, 0]
    engine.vacuum(path, retention_hours=0, force=True)  # only the latest snapshot is kept
    assert engine.version(path) == 2
    assert [r.v for r in engine.read(spark, path, version=2).collect()] == [3]
    with pytest.raises(TableError, match=r"there is no 0 \(versions before 2 have"):
        engine.read(spark, path, version=0)
    engine.write(rows(spark, ("a", "2024-01-01", 4)), path, mode="overwrite")
    assert [s.version for s in engine.history(path)] == [3, 2]
    assert [r.v for r in engine.read(spark, path, version=2).collect()] == [3]


DAILY = FeatureTable(
    "features.daily_ice",
    keys=("k",),
    date_column="d",
    columns={"k": "string", "d": "date", "v": "bigint"},
    format="iceberg",
)


class DailyIceberg(FeatureJob):
    name = "daily_ice"
    output = DAILY

    def transform(self, ctx: JobContext) -> DataFrame:
        spark = SparkSession.getActiveSession()
        assert spark is not None
        return rows(spark, ("a", "2024-01-01", 1), ("b", "2024-01-02", 2))


class ReadsIceberg(FeatureJob):
    name = "reads_ice"
    inputs = {"daily": TableInput("features.daily_ice")}
    output = FeatureTable(
        "features.doubled",
        keys=("k",),
        date_column="d",
        columns={"k": "string", "d": "date", "v": "bigint"},
    )

    def transform(self, ctx: JobContext, daily: DataFrame) -> DataFrame:
        return daily.selectExpr("k", "d", "v * 2 AS v")


def test_a_feature_table_declared_iceberg_is_written_and_read_as_iceberg(
    local_runtime: LocalRuntime, spark: SparkSession
) -> None:
    record = DailyIceberg().run(local_runtime)
    assert record.output is not None
    assert record.output.engine == "iceberg"
    storage = local_runtime.storage
    entry = storage.catalog.get("features.daily_ice")
    assert entry.format == "iceberg"
    assert Path(entry.location, "metadata", "version-hint.text").is_file()
    assert not Path(entry.location, "_delta_log").exists()
    ReadsIceberg().run(local_runtime)
    doubled = storage.engine.read(spark, storage.location("features.doubled"))
    assert sorted((r.k, r.v) for r in doubled.collect()) == [("a", 2), ("b", 4)]
    assert storage.catalog.get("features.doubled").format == "delta"  # the default


def test_an_unknown_format_is_refused_when_declared() -> None:
    with pytest.raises(ConfigError, match="format 'hudi'"):
        FeatureTable(
            "features.x",
            keys=("k",),
            date_column="d",
            columns={"k": "string", "d": "date"},
            format="hudi",
        )


def test_a_vacuum_dry_run_lists_what_the_vacuum_then_deletes(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1)), path, partition_by=["d"])
    engine.write(rows(spark, ("b", "2024-01-02", 2)), path, partition_by=["d"])
    engine.write(rows(spark, ("c", "2024-01-01", 3)), path, partition_by=["d"], mode="overwrite")
    orphan = Path(path, "data", "d=2024-01-02", "crashed-run.parquet")
    orphan.write_bytes(b"not listed by any snapshot")
    dry = engine.vacuum(path, retention_hours=0, force=True, dry_run=True)
    assert dry.dry_run
    assert len(dry.files) == 3  # a's and b's files, expired; the orphan
    assert "data/d=2024-01-02/crashed-run.parquet" in dry.files
    assert orphan.exists()  # a dry run deletes nothing
    assert engine.version(path) == 2
    done = engine.vacuum(path, retention_hours=0, force=True)
    assert done.files == dry.files
    assert [r.k for r in engine.read(spark, path).collect()] == ["c"]


def test_the_cli_shows_and_maintains_an_iceberg_table_without_delta(
    local_runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from featurekit.cli import main

    DailyIceberg().run(local_runtime)
    DailyIceberg().run(local_runtime)  # a second snapshot
    wh = ["--warehouse", str(local_runtime.storage.warehouse.root), "--quiet"]
    assert main(["table", "list", "--json", *wh]) == 0
    listed = {t["name"]: t for t in json.loads(capsys.readouterr().out)}
    assert (listed["features.daily_ice"]["format"], listed["features.daily_ice"]["version"]) == (
        "iceberg",
        1,
    )
    assert main(["table", "show", "features.daily_ice", "--json", "--version", "0", *wh]) == 0
    shown = json.loads(capsys.readouterr().out)  # read by pyiceberg, no Spark
    assert (shown["format"], shown["version"], shown["rows"]) == ("iceberg", 0, 2)
    assert [r["k"] for r in shown["head"]] == ["a", "b"]
    assert main(["table", "history", "features.daily_ice", "--json", *wh]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [c["version"] for c in history] == [1, 0]
    assert history[0]["metadata"]["job"] == "daily_ice"

    assert main(["table", "optimize", "features.daily_ice", "--json", *wh]) == 0
    optimized = json.loads(capsys.readouterr().out)
    assert optimized["engine"] == "iceberg"
    assert (optimized["files_removed"], optimized["files_after"]) == (0, 2)  # one per date
    vacuum = ["table", "vacuum", "features.daily_ice", "--retain-hours", "0", "--force"]
    assert main([*vacuum, "--dry-run", "--json", *wh]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"]
    location = local_runtime.storage.location("features.daily_ice")
    assert len(dry["files"]) == 2  # the first run's files, replaced by the second run
    assert all(Path(location, f).is_file() for f in dry["files"])  # listed, not deleted
    assert main(["table", "checkpoint", "features.daily_ice", "--json", *wh]) == 0
    assert json.loads(capsys.readouterr().out)["file"].endswith(".avro")


def test_crawl_registers_an_iceberg_table_and_the_glue_emulation_reads_it(
    engine: IcebergEngine, spark: SparkSession, tmp_path: Path
) -> None:
    from featurekit.cli import main
    from featurekit.glue_local import GlueContext

    landing = tmp_path / "landing"
    data = rows(spark, ("a", "2024-01-01", 1), ("b", "2024-01-02", 2))
    engine.write(data, str(landing / "daily"), partition_by=["d"])
    wh = str(tmp_path / "wh")
    assert main(["crawl", str(landing), "--database", "raw", "--warehouse", wh, "--quiet"]) == 0
    glue = GlueContext(spark, warehouse=wh)
    entry = glue.storage.catalog.get("raw.daily")
    assert entry.format == "iceberg"
    assert entry.metadata_location == engine.metadata_location(str(landing / "daily"))
    frame = glue.create_dynamic_frame.from_catalog(database="raw", table_name="daily")
    assert_df_equality(frame.toDF(), data, ignore_row_order=True, ignore_nullable=True)


def test_without_pyiceberg_the_cli_lists_every_table_and_names_the_extra(
    local_runtime: LocalRuntime, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project with only the local extra: runs write Iceberg tables (Spark), and the
    Spark-free commands say which extra reads them instead of a traceback."""
    import json
    import sys

    from featurekit.cli import main

    DailyIceberg().run(local_runtime)
    ReadsIceberg().run(local_runtime)  # a Delta table beside it
    for name in [m for m in sys.modules if m == "pyiceberg" or m.startswith("pyiceberg.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyiceberg", None)  # import pyiceberg: ImportError
    wh = ["--warehouse", str(local_runtime.storage.warehouse.root), "--quiet"]
    assert main(["table", "list", "--json", *wh]) == 0
    listed = {t["name"]: t for t in json.loads(capsys.readouterr().out)}
    assert listed["features.daily_ice"]["version"] is None
    assert "iceberg extra" in listed["features.daily_ice"]["unread"]
    doubled = listed["features.doubled"]
    assert (doubled["version"], doubled["unread"]) == (0, None)
    assert main(["table", "show", "features.daily_ice", *wh]) == 2
    err = capsys.readouterr().err
    assert "needs the 'pyiceberg' package, from featurekit's 'iceberg' extra" in err
    assert "Traceback" not in err


# -- one write: the staged files are the table's data files -----------------------------
def local(uri: str) -> Path:
    return Path(uri.removeprefix("file:"))


def committed_files(engine: IcebergEngine, path: str) -> list[Any]:
    """The data files the latest snapshot of ``main`` added."""
    table = engine.tables.load(path)
    return list(java_list(table.currentSnapshot().addedDataFiles(table.io())))


def test_the_committed_data_files_are_the_staged_files_moved_not_rewritten(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    days = ["2024-01-01", "2024-01-02", "2024-01-03"]
    staged = engine.stage(
        rows(spark, *((f"k{i}", days[i % 3], i) for i in range(30))), path, partition_by=["d"]
    )
    contents = sorted(local(f).read_bytes() for f in staged.files)
    spark.sparkContext.setJobGroup("featurekit-commit", "the commit")
    try:
        engine.commit(staged, mode="append")
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
    tracker = spark.sparkContext.statusTracker()
    assert tracker.getJobIdsForGroup("featurekit-commit") == []  # no Spark write, no read
    files = committed_files(engine, path)
    assert sorted(local(str(f.location())).read_bytes() for f in files) == contents
    assert sorted(int(f.fileSizeInBytes()) for f in files) == sorted(map(len, contents))
    assert sum(int(f.recordCount()) for f in files) == 30
    for file in files:  # in the table's data folder, under their partition's folder only
        location = str(file.location())
        assert location.startswith(f"{path}/data/d=")
        assert STAGING not in location
    assert not list(Path(path, STAGING).glob("*"))


def test_column_metrics_are_in_the_manifest_and_prune_a_filtered_read(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    engine.write(rows(spark, ("a", "2024-01-01", 1), ("b", "2024-01-01", 5)).coalesce(1), path)
    engine.write(rows(spark, ("c", "2024-01-01", 100), ("d", "2024-01-01", 150)).coalesce(1), path)
    table = engine.tables.load(path)
    v = table.schema().findField("v").fieldId()
    k = table.schema().findField("k").fieldId()
    (file,) = committed_files(engine, path)
    conversions = engine.tables.jvm.org.apache.iceberg.types.Conversions
    long_type = table.schema().findField("v").type()
    assert conversions.fromByteBuffer(long_type, file.lowerBounds().get(v)) == 100
    assert conversions.fromByteBuffer(long_type, file.upperBounds().get(v)) == 150
    assert file.valueCounts().get(k) == 2
    assert file.nullValueCounts().get(k) == 0
    expressions = engine.tables.jvm.org.apache.iceberg.expressions.Expressions
    planned = table.newScan().filter(expressions.greaterThanOrEqual("v", 100)).planFiles()
    assert [str(t.file().location()) for t in java_list(planned)] == [str(file.location())]
    got = engine.read(spark, path).where("v >= 100")
    assert sorted(r.k for r in got.collect()) == ["c", "d"]


TYPES = (
    "s string, i int, l bigint, f float, x double, b boolean, small decimal(5, 2), "
    "mid decimal(18, 4), big decimal(38, 10), day date, ts timestamp, local timestamp_ntz, "
    "raw binary, tags array<string>, counts map<string, bigint>, "
    "point struct<a: int, b: string>, pairs array<struct<x: double, y: array<int>>>, "
    "p string, pt timestamp"
)


def every_type(spark: SparkSession) -> DataFrame:
    from decimal import Decimal

    moment = dt.datetime(2024, 3, 1, 12, 30, 15, 123456)
    full = (
        "a", 1, 2**40, 1.5, 2.25, True, Decimal("123.45"), Decimal("12345678901234.5678"),
        Decimal("1234567890123456789012345678.0123456789"), dt.date(2024, 3, 1), moment,
        moment, b"\x00\x01", ["x", None], {"k": 1, "m": None}, (1, "one"),
        [(0.5, [1, 2]), (None, None)], "p/1: x%", moment,
    )  # fmt: skip
    empty = (None,) * 17 + (None, dt.datetime(2024, 3, 2, 0, 0, 0, 1))
    return spark.createDataFrame([full, empty], TYPES)


def test_every_column_type_reads_back_equal(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    """Nested types, decimals of each parquet layout, both timestamps, nulls, and partition
    columns (a string with characters folders escape, a null, a timestamp) as written."""
    from decimal import Decimal

    df = every_type(spark)
    engine.write(df, path, partition_by=["p", "pt"])
    # ordered by hand: chispa's own row ordering cannot sort maps
    got = engine.read(spark, path).orderBy("i")
    assert_df_equality(got, df.orderBy("i"), ignore_nullable=True)
    pruned = engine.read(spark, path, partitions=[("p", "=", "p/1: x%")])
    assert [r.i for r in pruned.collect()] == [1]
    from pyiceberg.table import StaticTable

    hint = Path(path, "metadata", "version-hint.text").read_text().strip()
    table = StaticTable.from_metadata(str(Path(path, "metadata", f"v{hint}.metadata.json")))
    read = table.scan().to_arrow().to_pydict()  # by the name mapping, without Spark
    assert set(zip(read["l"], read["p"], read["small"])) == {
        (2**40, "p/1: x%", Decimal("123.45")),
        (None, None, None),
    }


def test_a_table_written_before_by_sparks_iceberg_writer_is_appended_to_and_read(
    engine: IcebergEngine, spark: SparkSession, path: str
) -> None:
    """Its data files carry Iceberg field ids and it has no name mapping: the files added
    since are read by the mapping, the old ones by their ids, a new column in both."""
    old = rows(spark, ("a", "2024-01-01", 1), ("b", "2024-01-02", 2))
    engine.tables.create(path, old.schema, ["d"])
    old.write.format("iceberg").mode("append").save(path)  # Spark's Iceberg writer
    assert engine.tables.load(path).properties().get("schema.name-mapping.default") is None
    engine.write(rows(spark, ("c", "2024-01-01", 3)), path, partition_by=["d"])
    wider = rows(spark, ("d", "2024-01-03", 4)).withColumn("extra", F.expr("nullif('e', '')"))
    engine.write(wider, path, partition_by=["d"])
    expected = spark.createDataFrame(
        [
            ("a", dt.date(2024, 1, 1), 1, None),
            ("b", dt.date(2024, 1, 2), 2, None),
            ("c", dt.date(2024, 1, 1), 3, None),
            ("d", dt.date(2024, 1, 3), 4, "e"),
        ],
        SCHEMA + ", extra string",
    )
    assert_df_equality(
        engine.read(spark, path), expected, ignore_row_order=True, ignore_nullable=True
    )
    engine.write(
        rows(spark, ("z", "2024-01-01", 9)).withColumn("extra", F.lit(None).cast("string")),
        path,
        mode="replace",
        replace={"d": ["2024-01-01"]},
        partition_by=["d"],
    )
    assert sorted(r.k for r in engine.read(spark, path).collect()) == ["b", "d", "z"]
