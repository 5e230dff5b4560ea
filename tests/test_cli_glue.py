"""``featurekit glue run`` and ``featurekit glue bookmark``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession

from featurekit import cli
from featurekit.cli.glue import glue_argv
from featurekit.demo import DemoSpec, events, labels
from featurekit.demo_run import write_source_table
from featurekit.glue_local.bookmarks import BookmarkStore
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.warehouse import Warehouse

ROOT = Path(__file__).resolve().parent.parent


def test_glue_argv_adds_what_glue_always_passes() -> None:
    first = glue_argv("jobs/etl.py", ["--x", "1"])
    assert first[:5] == ["jobs/etl.py", "--x", "1", "--JOB_NAME", "etl"]
    assert first[5] == "--JOB_RUN_ID"
    assert first[6] != glue_argv("jobs/etl.py", [])[-1]  # a fresh run id per run
    given = glue_argv("etl.py", ["--JOB_NAME=mine", "--JOB_RUN_ID", "jr_7"])
    assert given == ["etl.py", "--JOB_NAME=mine", "--JOB_RUN_ID", "jr_7"]


def test_run_arguments_split_at_double_dash(tmp_path: Path) -> None:
    from featurekit.cli.common import add_runtime_args as _add_runtime_args
    from featurekit.cli.glue import split_run_args

    args = cli.build_parser().parse_args(
        ["glue", "run", "s.py", "--warehouse", str(tmp_path), "--", "--JOB_NAME", "x"]
    )
    args, script_args = split_run_args(args, _add_runtime_args)
    assert (args.warehouse, script_args) == (str(tmp_path), ["--JOB_NAME", "x"])


def test_bookmark_show_and_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = BookmarkStore(Warehouse(tmp_path))
    store.save("j", "r1", {"ctx": {"kind": "s3", "files": {"s3://b/a": 1.0}}}, expected_version=0)
    store.save("j", "r2", {"ctx": {"kind": "s3", "files": {"s3://b/b": 2.0}}}, expected_version=1)
    wh = ["--warehouse", str(tmp_path)]
    assert cli.main(["glue", "bookmark", "show", "j", *wh]) == 0
    assert "j: bookmark version 2, 2 committed run(s), latest r2" in capsys.readouterr().out
    assert cli.main(["glue", "bookmark", "show", "j", "--json", *wh]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in shown["runs"]] == ["r1", "r2"]
    assert cli.main(["glue", "bookmark", "reset", "j", "--run-id", "r1", *wh]) == 0
    assert store.show("j")["current"] == {"ctx": {"kind": "s3", "files": {"s3://b/a": 1.0}}}
    assert cli.main(["glue", "bookmark", "reset", "j", "--run-id", "r9", *wh]) == 2
    assert "no committed bookmark run 'r9'" in capsys.readouterr().err
    assert cli.main(["glue", "bookmark", "reset", "j", *wh]) == 0
    assert store.show("j")["runs"] == []


def featurekit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "featurekit", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.slow
def test_glue_entry_script_builds_the_same_table_as_featurekit_run(
    spark: SparkSession, tmp_path: Path
) -> None:
    spec = DemoSpec(users=50, days=10)
    homes = {"local": tmp_path / "local", "glue": tmp_path / "glue"}
    runtimes = {
        k: LocalRuntime(LocalConfig(warehouse=str(v), quiet=True), spark=spark)
        for k, v in homes.items()
    }
    for runtime in runtimes.values():
        write_source_table(runtime, "raw.events", events(spark, spec), "events")
        write_source_table(runtime, "raw.labels", labels(spark, spec), "labels")

    local = featurekit("run", "user_activity_daily", "--warehouse", str(homes["local"]))
    assert local.returncode == 0, local.stderr
    glue = featurekit(
        "glue", "run", "entrypoints/glue_job.py", "--warehouse", str(homes["glue"]),
        "--", "--JOB_NAME", "demo", "--featurekit_job", "user_activity_daily",
    )  # fmt: skip
    assert glue.returncode == 0, glue.stderr
    assert "on glue" in glue.stdout

    tables = {
        k: r.storage.engine.read(spark, r.storage.location("features.user_activity_daily"))
        for k, r in runtimes.items()
    }
    assert tables["glue"].count() > 0
    assert_df_equality(tables["glue"], tables["local"], ignore_row_order=True)
    records = list((homes["glue"] / "_runs" / "user_activity_daily").glob("jr_*.json"))
    assert len(records) == 1
    assert json.loads(records[0].read_text())["runtime"] == "glue"


@pytest.mark.slow
def test_glue_run_reports_missing_job_arguments(tmp_path: Path) -> None:
    result = featurekit(
        "glue", "run", "entrypoints/glue_job.py", "--warehouse", str(tmp_path), "--", "--x", "1"
    )
    assert result.returncode == 2
    assert "the following arguments are required: --featurekit_job" in result.stderr
