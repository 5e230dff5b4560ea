"""featurekit package / plan emr / plan emr-serverless from the command line."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from featurekit.cli import build_parser, main
from featurekit.deploy.aws import validate_request
from featurekit.deploy.common import JobCall
from featurekit.deploy.glue_deploy import run_arguments

ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::123456789012:role/featurekit"


def printed_json(capsys: pytest.CaptureFixture[str]) -> dict:
    doc: dict = json.loads(capsys.readouterr().out)
    return doc


def test_plan_emr_prints_a_valid_request(capsys: pytest.CaptureFixture[str], dist: Path) -> None:
    argv = ["plan", "emr", "user_activity_daily", "--cluster-id", "j-1", "--artifacts", "s3://b/a"]
    argv += ["--dist", str(dist)]
    assert main([*argv, "--param", "min_events=3", "--conf", "spark.driver.memory=4g"]) == 0
    request = printed_json(capsys)
    validate_request("emr", "AddJobFlowSteps", request)
    args = request["Steps"][0]["HadoopJarStep"]["Args"]
    assert "spark.driver.memory=4g" in args
    assert args[-2:] == ["--param", "min_events=3"]


def test_plan_emr_serverless_prints_a_valid_request(
    capsys: pytest.CaptureFixture[str], dist: Path
) -> None:
    argv = ["plan", "emr-serverless", "user_activity_daily", "--application-id", "00f1"]
    argv += ["--dist", str(dist)]
    argv += ["--role-arn", ROLE, "--artifacts", "s3://b/a", "--start", "2026-01-01"]
    assert main([*argv, "--end", "2026-01-02", "--catalog", "local"]) == 0
    request = printed_json(capsys)
    validate_request("emr-serverless", "StartJobRun", request)
    props = request["configurationOverrides"]["applicationConfiguration"][0]["properties"]
    assert "spark.hadoop.hive.metastore.client.factory.class" not in props
    assert request["jobDriver"]["sparkSubmit"]["entryPointArguments"][-6:] == [
        "--start", "2026-01-01", "--end", "2026-01-02", "--catalog", "local",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("param", "message"),
    [("min_events=abc", "min_events"), ("nope=1", "nope")],
    ids=["malformed", "unknown"],
)
def test_plan_refuses_parameters_the_run_would_refuse(
    capsys: pytest.CaptureFixture[str], dist: Path, param: str, message: str
) -> None:
    """As `featurekit run` does: on the cluster the step would fail instead."""
    argv = ["plan", "emr", "user_activity_daily", "--cluster-id", "j-1", "--artifacts", "s3://b/a"]
    assert main([*argv, "--dist", str(dist), "--param", param]) == 2
    printed = capsys.readouterr()
    assert printed.err.startswith("featurekit: error: ")
    assert message in printed.err
    assert not printed.out  # no request printed


def test_plan_with_a_bad_prefix_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "emr", "user_activity_daily", "--cluster-id", "j-1", "--artifacts", "b/a"]
    assert main(argv) == 2
    assert "--artifacts must be an S3 prefix" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["emr", "emr-serverless", "glue"])
def test_every_plan_needs_the_built_package(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["plan", target, "user_activity_daily", "--artifacts", "s3://b/a"]
    argv += ["--dist", str(tmp_path), *TARGET_ARGS[target]]
    assert main(argv) == 2
    assert f"No {tmp_path / 'manifest.json'}: build the artifacts first" in capsys.readouterr().err


TARGET_ARGS = {
    "emr": ["--cluster-id", "j-1"],
    "emr-serverless": ["--application-id", "00f1", "--role-arn", ROLE],
    "glue": [],
}


def test_a_job_outside_the_package_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["package", "--out", str(tmp_path), "--source", str(ROOT / "tests/userproject")]) == 0
    )
    capsys.readouterr()
    argv = ["plan", "emr", "user_activity_daily", "--artifacts", "s3://b/a", "--cluster-id", "j"]
    assert main([*argv, "--dist", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Job 'user_activity_daily' is not in the package" in err
    assert "shop-features 0.3.0 holds customer_orders_daily, customer_orders_daily_iceberg" in err


def test_serverless_runs_from_the_venv_archive_when_the_package_has_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from featurekit.deploy.emr_serverless_plan import spark_submit_parameters

    params = spark_submit_parameters("s3://b/a", venv="emr-serverless/venv.tar.gz")
    assert "--conf spark.archives=s3://b/a/emr-serverless/venv.tar.gz#environment" in params
    assert "spark.executorEnv.PYSPARK_PYTHON=./environment/bin/python" in params
    assert "spark.submit.pyFiles" not in params


def test_plan_needs_the_cluster_id() -> None:
    with pytest.raises(SystemExit):
        main(["plan", "emr", "user_activity_daily", "--artifacts", "s3://b/a"])


def test_package_writes_the_artifacts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package", "--out", str(tmp_path), "--source", str(ROOT)]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert all((tmp_path / name).is_file() for name in manifest["artifacts"])
    assert "featurekit.zip" in capsys.readouterr().out
    assert main(["package", "--out", str(tmp_path), "--source", str(ROOT), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == manifest


METASTORE = "spark.hadoop.hive.metastore.client.factory.class"
PLAN_ARGS = {
    "glue": [],
    "emr": ["--cluster-id", "j-1"],
    "emr-serverless": ["--application-id", "00f1", "--role-arn", ROLE, "--client-token", "t"],
}


def _emr_local(request: dict[str, Any]) -> bool:
    args = request["Steps"][0]["HadoopJarStep"]["Args"]
    return args[-2:] == ["--catalog", "local"] and not any(METASTORE in a for a in args)


def _serverless_local(request: dict[str, Any]) -> bool:
    props = request["configurationOverrides"]["applicationConfiguration"][0]["properties"]
    arguments = request["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    return arguments[-2:] == ["--catalog", "local"] and METASTORE not in props


# (target, old spelling, new spelling, the new one as the warning names it, its effect)
SPELLINGS: list[tuple[str, list[str], list[str], str, Callable[[dict[str, Any]], bool]]] = [
    ("glue", ["--role", ROLE], ["--role-arn", ROLE], "--role-arn", lambda r: r["Role"] == ROLE),
    (
        "glue",
        ["--featurekit-warehouse", "s3://b/wh"],
        ["--warehouse", "s3://b/wh"],
        "--warehouse",
        lambda r: r["DefaultArguments"]["--featurekit_warehouse"] == "s3://b/wh",
    ),
    (
        "glue",
        ["--no-glue-catalog"],
        ["--catalog", "local"],
        "--catalog local",
        lambda r: r["DefaultArguments"]["--featurekit_catalog"] == "local",
    ),
    ("emr", ["--no-glue-catalog"], ["--catalog", "local"], "--catalog local", _emr_local),
    (
        "emr-serverless",
        ["--no-glue-catalog"],
        ["--catalog", "local"],
        "--catalog local",
        _serverless_local,
    ),
]


@pytest.mark.parametrize(("target", "old", "new", "named", "effect"), SPELLINGS)
def test_an_old_flag_spelling_plans_the_same_request_and_names_the_new_one(
    target: str,
    old: list[str],
    new: list[str],
    named: str,
    effect: Callable[[dict[str, Any]], bool],
    dist: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["plan", target, "user_activity_daily", "--artifacts", "s3://b/a", "--dist", str(dist)]
    argv += PLAN_ARGS[target]
    assert main([*argv, *new]) == 0
    planned = capsys.readouterr()
    assert effect(json.loads(planned.out))
    assert "deprecated" not in planned.err
    assert main([*argv, *old]) == 0
    again = capsys.readouterr()
    assert json.loads(again.out) == json.loads(planned.out)
    warnings = [line for line in again.err.splitlines() if "deprecated" in line]
    assert warnings == [f"featurekit: warning: {old[0]} is deprecated; use {named}"]


@pytest.mark.parametrize("target", ["glue", "emr", "emr-serverless"])
def test_deploy_takes_both_catalog_spellings(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["deploy", target, "user_activity_daily", "--artifacts", "s3://b/a"]
    argv += {**PLAN_ARGS, "glue": ["--role-arn", ROLE]}[target]
    assert build_parser().parse_args(argv).catalog == "glue"
    assert build_parser().parse_args([*argv, "--catalog", "local"]).catalog == "local"
    assert capsys.readouterr().err == ""
    assert build_parser().parse_args([*argv, "--no-glue-catalog"]).catalog == "local"
    err = capsys.readouterr().err
    assert err == "featurekit: warning: --no-glue-catalog is deprecated; use --catalog local\n"


@pytest.mark.parametrize(
    "command", [["plan", "glue"], ["plan", "emr"], ["plan", "emr-serverless"], ["deploy", "glue"]]
)
def test_old_spellings_are_hidden_from_help(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--help"])
    shown = capsys.readouterr().out
    assert "--catalog {glue,local}" in shown
    assert "--warehouse" in shown
    for old in ("--no-glue-catalog", "--featurekit-warehouse", "--role "):
        assert old not in shown


def test_a_local_catalog_travels_in_the_run_arguments() -> None:
    call = JobCall("user_activity_daily", catalog="local")
    assert call.arguments() == ["--job", "user_activity_daily", "--catalog", "local"]
    assert run_arguments(call)["--featurekit_catalog"] == "local"
    assert "--catalog" not in JobCall("user_activity_daily").arguments()


def _visible_flags(command: str, target: str) -> set[str]:
    """The options ``featurekit COMMAND TARGET --help`` shows (not the hidden old spellings)."""

    def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return dict(action.choices)

    parser = subparsers(subparsers(build_parser())[command])[target]
    return {o for a in parser._actions if a.help != argparse.SUPPRESS for o in a.option_strings}


def test_the_docs_spell_every_plan_and_deploy_flag_as_the_cli_does() -> None:
    pattern = re.compile(r"featurekit (plan|deploy) (glue|emr-serverless|emr)(?![-|\w])(.*)")
    found = []
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in md.read_text().replace("\\\n", " ").splitlines():
            for m in pattern.finditer(line):
                rest = re.split(r"`|  #", m.group(3))[0]
                flags = re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", rest)
                found += [(md.name, m.group(1), m.group(2), f) for f in flags]
    assert ("glue.md", "plan", "glue", "--role-arn") in found  # the scan sees the docs
    unknown = [f for f in found if f[3] not in _visible_flags(f[1], f[2])]
    assert unknown == []


def test_a_projects_table_format_default_travels_with_the_step(
    capsys: pytest.CaptureFixture[str],
    dist: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """[tool.featurekit] table_format in the project's pyproject.toml (found from a
    subfolder) is the default --table-format; the environment and the flag override it."""
    monkeypatch.delenv("FEATUREKIT_TABLE_FORMAT", raising=False)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "acme"\n\n[tool.featurekit]\ntable_format = "iceberg"\n'
    )
    (tmp_path / "jobs").mkdir()
    monkeypatch.chdir(tmp_path / "jobs")
    argv = ["plan", "emr", "user_activity_daily", "--cluster-id", "j-1", "--artifacts", "s3://b/a"]
    argv += ["--dist", str(dist)]

    def step_args(*extra: str) -> list[str]:
        assert main([*argv, *extra]) == 0
        request = printed_json(capsys)
        validate_request("emr", "AddJobFlowSteps", request)
        return list(request["Steps"][0]["HadoopJarStep"]["Args"])

    args = step_args()
    assert args[args.index("--table-format") + 1] == "iceberg"
    assert "--table-format" not in step_args("--table-format", "delta")
    monkeypatch.setenv("FEATUREKIT_TABLE_FORMAT", "delta")
    assert "--table-format" not in step_args()


def test_a_bad_table_format_in_the_project_is_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEATUREKIT_TABLE_FORMAT", raising=False)
    (tmp_path / "pyproject.toml").write_text('[tool.featurekit]\ntable_format = "hudi"\n')
    monkeypatch.chdir(tmp_path)
    argv = ["plan", "emr", "user_activity_daily", "--cluster-id", "j-1", "--artifacts", "s3://b/a"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    where = tmp_path.resolve() / "pyproject.toml"
    assert err == [
        f"featurekit: error: table_format in {where} must be one of delta, iceberg, got 'hudi'."
    ]
