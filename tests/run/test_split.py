"""A dropping or quarantining ruleset splits the output while Spark writes it
(featurekit.run.split): the tables are the ones the split-after-writing path gives, on
every engine, and nothing of the split is left in the table or its staging area."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext
from featurekit.quality import Ruleset
from featurekit.quality.engine import available
from featurekit.quality.quarantine import read_quarantine
from featurekit.run import split
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.tables.engine import STAGING

pytestmark = pytest.mark.skipif(
    not available(), reason="Deequ has no build for this Spark line (tests/quality/test_engine)"
)

D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)
ROWS = [
    ("u1", D1, 5.0, "a"),
    ("u2", D1, -3.0, "b"),
    ("u3", D2, 7.0, None),
    ("u4", D2, -1.0, "a"),
    ("u5", D2, None, "c"),
]
# Row-level rules Deequ answers with a projection of the row; RowCount is dataset-level.
RULES = 'Rules = [ ColumnValues "spend" >= 0, IsComplete "tag", RowCount > 2 ]'
# ``in`` on a date-like text column: Deequ's row-level expression depends on the data
DATA_DEPENDENT = 'Rules = [ ColumnValues "day" in ["2024-01-01"] ]'


class _Rows(FeatureJob):
    abstract = True

    def transform(self, ctx: JobContext) -> DataFrame:
        spark = SparkSession.getActiveSession()
        assert spark is not None
        df = spark.createDataFrame(
            ROWS, "user_id string, feature_date date, spend double, tag string"
        )
        return df.withColumn("day", F.col("feature_date").cast("string"))


def job(name: str, action: str, dqdl: str = RULES, table_format: str = "delta") -> type[Any]:
    output = FeatureTable(
        f"features.{name}",
        keys=("user_id",),
        date_column="feature_date",
        columns={
            "user_id": "string",
            "feature_date": "date",
            "spend": "double",
            "tag": "string",
            "day": "string",
        },
        quality=(Ruleset(dqdl, severity="warn", on_failing_rows=action, name="rows"),),
        format=table_format,
    )
    return type(f"Job_{name}", (_Rows,), {"name": name, "output": output})


@pytest.fixture(
    params=[("delta-rs", "delta"), ("delta-spark", "delta"), ("delta-rs", "iceberg")],
    ids=["delta-rs", "delta-spark", "iceberg"],
)
def setup(
    request: pytest.FixtureRequest, spark: SparkSession, tmp_path: Path
) -> tuple[LocalRuntime, str, Path]:
    engine, table_format = request.param
    config = LocalConfig(warehouse=str(tmp_path / "wh"), engine=engine, quiet=True)
    return LocalRuntime(config, spark=spark), table_format, tmp_path / "wh"


def tables(runtime: LocalRuntime, name: str) -> tuple[DataFrame, DataFrame]:
    storage = runtime.storage
    location = storage.location(f"features.{name}")
    output = storage.engine_at(location).read(runtime.spark, location)
    quarantine = read_quarantine(runtime.spark, storage, f"features.{name}")
    rules = F.array_sort("quarantine_rules").alias("quarantine_rules")
    return (
        output.select("user_id", "feature_date", "spend", "tag", "day"),
        quarantine.select("user_id", "spend", "tag", rules),
    )


def left_behind(root: Path) -> list[str]:
    """Staging folders left in the warehouse and split folders inside its tables."""
    found = [p for p in root.rglob(f"{STAGING}/*")]
    found += [p for p in root.rglob(f"{split.FLAG}=*")]
    return sorted(str(p.relative_to(root)) for p in found)


@pytest.mark.parametrize("action", ["drop", "quarantine"])
def test_the_write_gives_the_tables_of_splitting_after_the_write(
    setup: tuple[LocalRuntime, str, Path], monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    runtime, table_format, root = setup
    lines: list[str] = []
    runtime.report = lines.append
    record = job(f"split_{action}", action, table_format=table_format)().run(runtime)
    assert not any(line.startswith("write: staging the kept rows") for line in lines)
    # a drop splits the rows as they are written; a quarantine keeps them all as staged
    kept = "write: keeping the 1 passing rows of 5 as staged (4 failing)"
    assert (kept in lines) == (action == "drop")
    files = 3 if action == "drop" else 2  # a drop's failing rows in files of their own
    assert f"write: staged 5 rows in {files} files, 2 partitions" in lines
    monkeypatch.setattr(split, "plan", lambda *_args: None)  # split after writing instead
    reference = job(f"after_{action}", action, table_format=table_format)().run(runtime)
    got, want = tables(runtime, f"split_{action}"), tables(runtime, f"after_{action}")
    assert_df_equality(got[0], want[0], ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(got[1], want[1], ignore_row_order=True, ignore_nullable=True)
    assert got[0].count() == (1 if action == "drop" else 5)
    assert sorted(r.user_id for r in got[1].collect()) == ["u2", "u3", "u4", "u5"]
    assert record.quarantine is not None
    assert reference.quarantine is not None
    assert record.quarantine["rows"] == reference.quarantine["rows"] == 4
    failing = {o["rule"]: o["failing_rows"] for o in record.quality}
    assert failing == {'ColumnValues "spend" >= 0': 3, 'IsComplete "tag"': 1, "RowCount > 2": 0}
    assert failing == {o["rule"]: o["failing_rows"] for o in reference.quality}
    assert left_behind(root) == []
