"""The command line, called in-process through featurekit.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from featurekit.cli import main
from featurekit.demo import DemoSpec, events, labels
from featurekit.demo_run import write_source_table
from featurekit.quality.engine import available
from featurekit.runtime.local import LocalConfig, LocalRuntime


@pytest.fixture
def demo_warehouse(spark: SparkSession, warehouse: Path) -> Path:
    config = LocalConfig(warehouse=str(warehouse), quiet=True, check_quality=available())
    runtime = LocalRuntime(config, spark=spark)
    spec = DemoSpec(users=20, days=5)
    write_source_table(runtime, "raw.events", events(spark, spec), "events")
    write_source_table(runtime, "raw.labels", labels(spark, spec), "labels")
    return warehouse


def test_jobs_lists_inputs_outputs_and_params(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs"]) == 0
    out = capsys.readouterr().out
    assert "user_activity_daily:" in out
    assert "in  events: raw.events" in out
    assert "out features.user_activity_daily" in out


def test_unknown_job_exits_2_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "user_activty_daily", "--quiet"]) == 2
    assert "Did you mean 'user_activity_daily'" in capsys.readouterr().err


def test_run_json_prints_the_run_record(
    demo_warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "user_activity_daily", "--warehouse", str(demo_warehouse), "--quiet", "--json"]
    assert (
        main([*args, "--param", "min_events=2", "--start", "2026-01-02", "--end", "2026-01-03"])
        == 0
    )
    record = json.loads(capsys.readouterr().out)
    assert record["status"] == "succeeded"
    assert record["params"]["min_events"] == "2"
    assert (record["start"], record["end"]) == ("2026-01-02", "2026-01-03")
    assert record["output"]["mode"] == "replace"
    assert record["output"]["rows_written"] > 0
    assert record["inputs"][0]["rows"] > 0
    stored = demo_warehouse / "_runs" / "user_activity_daily" / f"{record['run_id']}.json"
    assert json.loads(stored.read_text())["output"] == record["output"]


@pytest.mark.slow
def test_run_prints_its_summary_once(
    demo_warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "user_activity_daily", "--warehouse", str(demo_warehouse)]
    assert main(args) == 0
    captured = capsys.readouterr()
    both = captured.out + captured.err
    assert both.count("user_activity_daily [") == 1  # the last progress line, on stderr
    assert "] succeeded in " in captured.err.splitlines()[-1]
    assert main([*args, "--quiet"]) == 0  # no progress lines: the summary on stdout
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.count("user_activity_daily [") == 1


def test_table_commands_read_without_spark(
    demo_warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wh = ["--warehouse", str(demo_warehouse)]
    assert main(["run", "user_activity_daily", "--quiet", *wh]) == 0
    capsys.readouterr()
    assert main(["table", "list", *wh]) == 0
    listing = capsys.readouterr().out
    assert "features.user_activity_daily" in listing
    assert "raw.events" in listing
    assert main(["table", "show", "features.user_activity_daily", "--limit", "3", *wh]) == 0
    shown = capsys.readouterr().out
    assert "keys: user_id" in shown
    assert "spend_30d" in shown
    assert main(["table", "history", "features.user_activity_daily", *wh]) == 0
    assert "user_activity_daily" in capsys.readouterr().out


def test_missing_table_is_a_clear_cli_error(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["table", "show", "features.nothing", "--warehouse", str(warehouse)]) == 2
    assert "not in the catalog" in capsys.readouterr().err


def test_start_without_end_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "user_activity_daily", "--start", "2026-01-01", "--quiet"]) == 2
    assert "both --start and --end" in capsys.readouterr().err


# The training set declares rulesets; Deequ has no Spark 4 build (docs/quality.md), so on
# Spark 4 these runs turn the checks off, as a user there must.
NO_QUALITY = [] if available() else ["--no-quality"]


def test_run_a_selection_runs_upstream_first(
    demo_warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wh = ["--warehouse", str(demo_warehouse), "--quiet", "--json", *NO_QUALITY]
    assert main(["run", "+training_set", "--param", "min_events=1", *wh]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["job"] for r in doc["runs"]] == ["user_activity_daily", "training_set"]
    assert [r["status"] for r in doc["runs"]] == ["succeeded", "succeeded"]
    assert (doc["failed"], doc["skipped"]) == (None, [])
    assert doc["runs"][1]["inputs"][1]["rows"] > 0  # read what the first run wrote


def test_a_failed_selection_says_what_it_skipped(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "user_activity_daily+", "--warehouse", str(warehouse), "--quiet", *NO_QUALITY]
    both = ["run", "training_set", "user_activity_daily", *args[2:]]  # two selectors
    assert main([*both, "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert (doc["failed"], doc["skipped"]) == ("user_activity_daily", ["training_set"])
    assert main([*args, "--json"]) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert (doc["failed"], doc["skipped"]) == ("user_activity_daily", ["training_set"])
    [failed] = doc["runs"]  # the failed run's record, as stored
    assert (failed["job"], failed["status"]) == ("user_activity_daily", "failed")
    assert "raw.events" in failed["error"]
    stored = warehouse / "_runs" / "user_activity_daily" / f"{failed['run_id']}.json"
    assert json.loads(stored.read_text())["status"] == "failed"
    assert "raw.events" in captured.err
    # one job: its failed record on stdout, for scripts; the error on stderr, exit 2
    one = ["run", "user_activity_daily", *args[2:]]
    assert main([*one, "--json"]) == 2
    captured = capsys.readouterr()
    record = json.loads(captured.out)
    assert (record["status"], record["error_type"]) == ("failed", failed["error_type"])
    assert "raw.events" in captured.err
    assert main(args) == 2
    assert "user_activity_daily failed; skipped: training_set" in capsys.readouterr().err


def test_jobs_graph_prints_the_lineage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "--graph"]) == 0
    assert "writes features.user_activity_daily  -> training_set" in capsys.readouterr().out
    assert main(["jobs", "--mermaid"]) == 0
    assert capsys.readouterr().out.startswith("flowchart LR\n")
    assert main(["jobs", "--json"]) == 0
    jobs = {j["name"]: j for j in json.loads(capsys.readouterr().out)["jobs"]}
    assert jobs["training_set"]["upstream"] == ["user_activity_daily"]


BACKFILL = ["backfill", "user_activity_daily", "--start", "2026-01-01", "--end", "2026-01-02"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "user_activity_daily", "--start", "2026-02-01", "--end", "2026-01-01"],
            "--start 2026-02-01 is after --end 2026-01-01.",
        ),
        (
            ["run", "user_activity_daily", "--param", "min_evnts=2"],
            "has no parameter 'min_evnts'",
        ),
        (
            ["run", "+training_set", "--param", "min_events=x"],
            "min_events",
        ),
        (
            ["backfill", "user_activity_daily", "--start", "2026-02-01", "--end", "2026-01-01"],
            "--start 2026-02-01 is after --end 2026-01-01.",
        ),
        (
            [*BACKFILL, "--param", "min_evnts=2"],
            "has no parameter 'min_evnts'",
        ),
        (
            [*BACKFILL, "--chunk-days", "0"],
            "--chunk-days must be at least 1",
        ),
    ],
)
def test_bad_dates_and_params_exit_2_before_spark_starts(
    argv: list[str],
    message: str,
    no_spark: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*argv, "--warehouse", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
