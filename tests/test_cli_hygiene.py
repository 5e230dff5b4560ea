"""The command line as a whole: --json and --quiet everywhere, no command ends in a traceback."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from featurekit.cli import build_parser, main
from featurekit.tables.catalog import LocalCatalog
from featurekit.warehouse import Warehouse

# Commands without --json (and --quiet), and why. Every other command must offer --json.
EXEMPT = {
    "glue run": "runs a user's Glue script; what it prints is the script's own",
    "plan": "prints the deployment request, always JSON (cli.plan)",
    "deploy": "prints one JSON document of the run it started, always (cli.deploy)",
}


def exempt(name: str) -> bool:
    return name in EXEMPT or name.split()[0] in EXEMPT


def leaf_commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, set[str]]]:
    """Every runnable command ("table show") with the option strings it accepts."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield " ".join(path), {o for a in parser._actions for o in a.option_strings}
        return
    for name, child in subs[0].choices.items():
        yield from leaf_commands(child, (*path, name))


def test_every_command_offers_json_or_says_why_not() -> None:
    commands = dict(leaf_commands(build_parser()))
    assert {"jobs", "run", "table show", "state show", "glue bookmark show"} <= set(commands)
    missing = [
        name for name, options in commands.items() if "--json" not in options and not exempt(name)
    ]
    assert missing == [], f"add --json to {missing} (or an EXEMPT entry saying why)"


def test_every_command_that_starts_a_runtime_can_be_quiet() -> None:
    noisy = [
        name
        for name, options in leaf_commands(build_parser())
        if "--warehouse" in options and "--quiet" not in options and not exempt(name)
    ]
    assert noisy == []


def _many_jobs(root: Path, count: int) -> None:
    """A fake distribution registering ``count`` jobs, for output longer than a pipe holds."""
    (root / "fkmany.py").write_text(
        textwrap.dedent(
            f"""
            from featurekit import FeatureJob, FeatureTable, TableInput
            for i in range({count}):
                globals()[f"Job{{i}}"] = type(f"Job{{i}}", (FeatureJob,), {{
                    "name": f"many_{{i:04d}}",
                    "description": "a job among many, to fill the pipe " * 3,
                    "inputs": {{"events": TableInput("raw.events")}},
                    "output": FeatureTable(f"features.many_{{i}}", keys=("k",),
                        date_column="d", columns={{"k": "string", "d": "date"}}),
                    "transform": lambda self, ctx, events: events,
                }})
            """
        )
    )
    info = root / "fkmany-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fkmany\nVersion: 0.1\n")
    lines = [f"many_{i:04d} = fkmany:Job{i}" for i in range(count)]
    (info / "entry_points.txt").write_text("[featurekit.jobs]\n" + "\n".join(lines) + "\n")


def test_a_reader_leaving_the_pipe_early_ends_quietly(tmp_path: Path) -> None:
    _many_jobs(tmp_path, 1500)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "featurekit", "jobs"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert first.startswith(b"many_0000: ")
    assert err == ""


@pytest.fixture
def table_warehouse(warehouse: Path) -> Path:
    """raw.t written by delta-rs (two versions: 0 and 1) and registered; no Spark."""
    import pyarrow as pa
    from deltalake import write_deltalake

    location = warehouse / "raw" / "t"
    data = pa.table({"k": ["a", "b"]})
    write_deltalake(str(location), data)
    write_deltalake(str(location), data, mode="append")
    LocalCatalog(Warehouse(warehouse)).register("raw.t", str(location), schema={})
    return warehouse


def test_show_of_a_version_past_the_latest_is_a_clear_error(
    table_warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wh = ["--warehouse", str(table_warehouse)]
    assert main(["table", "show", "raw.t", "--version", "0", "--json", *wh]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["version"], doc["rows"]) == (0, 2)
    assert main(["table", "show", "raw.t", "--version", "7", *wh]) == 2
    err = capsys.readouterr().err
    assert "has versions 0..1; --version 7 is not one of them" in err
    assert main(["table", "history", "raw.t", "--json", *wh]) == 0
    assert [c["version"] for c in json.loads(capsys.readouterr().out)] == [1, 0]


def test_a_table_whose_folder_is_gone_is_listed_as_missing(
    table_warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    shutil.rmtree(table_warehouse / "raw" / "t")
    wh = ["--warehouse", str(table_warehouse)]
    assert main(["table", "list", "--json", *wh]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["name"], row["version"]) == ("raw.t", None)
    assert row["missing"]
    assert main(["table", "show", "raw.t", *wh]) == 2
    assert "no Delta table is there" in capsys.readouterr().err


def test_state_reset_prints_json_and_refuses_a_job_without_state(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from featurekit.state import StateSession, open_state_store

    store = open_state_store(None, Warehouse(warehouse))
    with StateSession(store, "some_job", run_id="r1") as session:
        state = session.state
        state.inputs["events"] = {"kind": "files", "files": {}}
        session.save(state)
    wh = ["--warehouse", str(warehouse)]
    assert main(["state", "reset", "some_jbo", *wh]) == 2  # a typo: refused, nothing written
    assert capsys.readouterr().err == (
        f"featurekit: error: No incremental state for 'some_jbo' in {store.where}. Did you "
        "mean 'some_job'? Nothing to reset.\n"
    )
    assert not store.keys("some_jbo")
    assert main(["state", "show", "other", *wh]) == 0  # a question, answered
    assert f"No incremental state for 'other' in {store.where}. Jobs with state there: " in (
        capsys.readouterr().out
    )
    assert main(["state", "reset", "some_job", "--json", *wh]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "job": "some_job",
        "reset": ["events"],
        "batch": 0,
    }


def test_a_files_table_is_listed_by_format_and_has_no_delta_history(
    table_warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = LocalCatalog(Warehouse(table_warehouse))
    catalog.register("raw.orders", "s3://landing/orders/", schema={}, format="csv")
    wh = ["--warehouse", str(table_warehouse)]
    assert main(["table", "list", "--json", *wh]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["raw.orders"]["format"], rows["raw.orders"]["version"]) == ("csv", None)
    assert rows["raw.t"]["version"] == 1
    assert main(["table", "history", "raw.orders", *wh]) == 2
    assert "is a csv files table" in capsys.readouterr().err
    assert main(["table", "show", "raw.orders", "--version", "0", *wh]) == 2  # before Spark
    assert "has no versions" in capsys.readouterr().err


def test_a_pyproject_that_is_not_toml_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nx = [\n')
    assert main(["package", "--source", str(tmp_path), "--out", str(tmp_path / "dist")]) == 2
    err = capsys.readouterr().err
    assert f"featurekit: error: {tmp_path / 'pyproject.toml'} is not valid TOML: " in err
    assert not (tmp_path / "dist").exists()
    assert main(["plan", "workflow", "some_job", "--project", str(tmp_path)]) == 2
    assert "is not valid TOML" in capsys.readouterr().err


def test_cost_scales_that_are_no_positive_number_are_refused() -> None:
    from featurekit.cli.records import scenario_of
    from featurekit.errors import ConfigError

    for scale in (float("nan"), float("inf"), 0.0):
        args = argparse.Namespace(data_scale=scale, runs_per_day=1.0, deadline=None)
        with pytest.raises(ConfigError, match="must be positive numbers"):
            scenario_of(args)


def test_plan_auto_target_args_with_an_unclosed_quote_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", "auto", "some_job", "--warehouse", str(tmp_path)]
    assert main([*args, "--target-args", '--artifacts "s3://b/fk']) == 2
    assert capsys.readouterr().err == (
        "featurekit: error: --target-args '--artifacts \"s3://b/fk': No closing quotation.\n"
    )
