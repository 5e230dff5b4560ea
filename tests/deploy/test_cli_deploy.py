"""featurekit package / plan emr / plan emr-serverless from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from featurekit.cli import main
from featurekit.deploy.aws import validate_request

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
    assert "shop-features 0.3.0 holds customer_orders_daily" in err


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
