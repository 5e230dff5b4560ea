"""featurekit package / plan emr / plan emr-serverless from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from featurekit.cli import main
from featurekit.deploy.aws import validate_request

ROOT = Path(__file__).resolve().parents[1]
ROLE = "arn:aws:iam::123456789012:role/featurekit"


def printed_json(capsys: pytest.CaptureFixture[str]) -> dict:
    doc: dict = json.loads(capsys.readouterr().out)
    return doc


def test_plan_emr_prints_a_valid_request(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "emr", "user_activity_daily", "--cluster-id", "j-1", "--artifacts", "s3://b/a"]
    assert main([*argv, "--param", "min_events=3", "--conf", "spark.driver.memory=4g"]) == 0
    request = printed_json(capsys)
    validate_request("emr", "AddJobFlowSteps", request)
    args = request["Steps"][0]["HadoopJarStep"]["Args"]
    assert "spark.driver.memory=4g" in args
    assert args[-2:] == ["--param", "min_events=3"]


def test_plan_emr_serverless_prints_a_valid_request(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "emr-serverless", "user_activity_daily", "--application-id", "00f1"]
    argv += ["--role-arn", ROLE, "--artifacts", "s3://b/a", "--start", "2026-01-01"]
    assert main([*argv, "--end", "2026-01-02", "--no-glue-catalog"]) == 0
    request = printed_json(capsys)
    validate_request("emr-serverless", "StartJobRun", request)
    props = request["configurationOverrides"]["applicationConfiguration"][0]["properties"]
    assert "spark.hadoop.hive.metastore.client.factory.class" not in props
    assert request["jobDriver"]["sparkSubmit"]["entryPointArguments"][-4:] == [
        "--start", "2026-01-01", "--end", "2026-01-02",
    ]  # fmt: skip


def test_plan_with_a_bad_prefix_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "emr", "user_activity_daily", "--cluster-id", "j-1", "--artifacts", "b/a"]
    assert main(argv) == 2
    assert "--artifacts must be an S3 prefix" in capsys.readouterr().err


def test_plan_needs_the_cluster_id() -> None:
    with pytest.raises(SystemExit):
        main(["plan", "emr", "user_activity_daily", "--artifacts", "s3://b/a"])


def test_package_writes_the_artifacts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package", "--out", str(tmp_path), "--source", str(ROOT)]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert all((tmp_path / name).is_file() for name in manifest["artifacts"])
    assert "featurekit.zip" in capsys.readouterr().out
