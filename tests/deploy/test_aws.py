"""featurekit deploy against moto's server on 127.0.0.1: what landed in S3, Glue and EMR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from featurekit.cli import main
from featurekit.deploy.aws import Aws, AwsSettings
from featurekit.deploy.package import MANIFEST
from featurekit.errors import ConfigError, DeployError

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROLE = "arn:aws:iam::123456789012:role/featurekit"
Boto = Callable[[str], Any]


def deploy(target: str, url: str, dist: Path, *args: str) -> int:
    argv = ["deploy", target, "user_activity_daily", "--artifacts", "s3://fk-art/v1"]
    argv += ["--dist", str(dist), "--endpoint-url", url, "--region", "us-east-1", "--poll", "0"]
    return main([*argv, *args])


def bucket_keys(boto: Boto) -> set[str]:
    listed = boto("s3").list_objects_v2(Bucket="fk-art").get("Contents", [])
    return {o["Key"] for o in listed}


def planned(*names: str) -> set[str]:
    """What a deploy must upload: the artifacts its plan names, and the manifest."""
    return {f"v1/{n}" for n in [*names, MANIFEST]}


def last_json(out: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return doc


def test_upload_puts_every_artifact_under_the_prefix(aws_env: str, boto: Boto, dist: Path) -> None:
    boto("s3").create_bucket(Bucket="fk-art")
    uploaded = Aws(AwsSettings(endpoint_url=aws_env)).upload_artifacts(dist, "s3://fk-art/a/b/")
    listed = boto("s3").list_objects_v2(Bucket="fk-art", Prefix="a/b/")["Contents"]
    keys = {o["Key"] for o in listed}
    manifest = json.loads((dist / MANIFEST).read_text())
    assert keys == {f"a/b/{n}" for n in [*manifest["artifacts"], MANIFEST]}
    assert len(uploaded) == len(keys)
    body = boto("s3").get_object(Bucket="fk-art", Key="a/b/featurekit.zip")["Body"].read()
    assert body == (dist / "featurekit.zip").read_bytes()


def test_upload_to_a_missing_bucket_is_a_deploy_error(aws_env: str, dist: Path) -> None:
    with pytest.raises(DeployError, match="Uploading"):
        Aws(AwsSettings(endpoint_url=aws_env)).upload_artifacts(dist, "s3://no-such-bucket/x")


def test_deploy_emr_adds_the_planned_step(
    aws_env: str, boto: Boto, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boto("s3").create_bucket(Bucket="fk-art")
    emr = boto("emr")
    cluster = emr.run_job_flow(
        Name="c", ReleaseLabel="emr-7.12.0", Instances={"KeepJobFlowAliveWhenNoSteps": True}
    )["JobFlowId"]
    args = ["--cluster-id", cluster, "--param", "min_events=2", "--no-wait"]
    code = deploy("emr", aws_env, dist, *args)
    out = capsys.readouterr().out
    assert code == 0  # moto never finishes a step, so this test does not wait
    doc = last_json(out)
    step = emr.describe_step(ClusterId=cluster, StepId=doc["id"])["Step"]
    args = step["Config"]["Args"]
    assert step["Config"]["Jar"] == "command-runner.jar"
    assert args[0] == "spark-submit"
    assert "s3://fk-art/v1/entrypoints/emr_step.py" in args
    assert args[-4:] == ["--job", "user_activity_daily", "--param", "min_events=2"]
    assert doc["state"] == step["Status"]["State"]
    assert bucket_keys(boto) == planned("featurekit.zip", "entrypoints/emr_step.py")


def test_deploy_emr_without_wait_reports_pending(
    aws_env: str, boto: Boto, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boto("s3").create_bucket(Bucket="fk-art")
    cluster = boto("emr").run_job_flow(Name="c", Instances={})["JobFlowId"]
    code = deploy("emr", aws_env, dist, "--cluster-id", cluster, "--no-wait")
    doc = last_json(capsys.readouterr().out)
    assert (code, doc["outcome"], doc["state"]) == (0, "pending", "RUNNING")


def test_deploy_emr_timeout_is_a_failure(
    aws_env: str, boto: Boto, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boto("s3").create_bucket(Bucket="fk-art")
    cluster = boto("emr").run_job_flow(Name="c", Instances={})["JobFlowId"]
    code = deploy("emr", aws_env, dist, "--cluster-id", cluster, "--timeout", "0")
    captured = capsys.readouterr()
    assert (code, last_json(captured.out)["outcome"]) == (1, "timeout")
    assert "still RUNNING" in captured.err


def serverless_application(boto: Boto) -> tuple[Any, str]:
    """The artifacts' bucket, and an EMR Serverless client and the id of a new application."""
    boto("s3").create_bucket(Bucket="fk-art")
    client = boto("emr-serverless")
    app = client.create_application(name="fk", releaseLabel="emr-7.12.0", type="SPARK")
    return client, str(app["applicationId"])


def test_deploy_emr_serverless_starts_the_run_and_waits(
    aws_env: str, boto: Boto, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client, app = serverless_application(boto)
    args = ["--application-id", app, "--role-arn", ROLE, "--client-token", "t1"]
    code = deploy("emr-serverless", aws_env, dist, *args)
    doc = last_json(capsys.readouterr().out)
    assert (code, doc["outcome"], doc["state"]) == (0, "succeeded", "SUCCESS")
    run = client.get_job_run(applicationId=app, jobRunId=doc["id"])["jobRun"]
    driver = run["jobDriver"]["sparkSubmit"]
    assert driver["entryPoint"] == "s3://fk-art/v1/entrypoints/emr_step.py"
    assert driver["entryPointArguments"] == ["--job", "user_activity_daily"]
    assert "featurekit.zip" in driver["sparkSubmitParameters"]
    assert run["executionRole"] == ROLE
    assert bucket_keys(boto) == planned("featurekit.zip", "entrypoints/emr_step.py")


def test_a_region_that_is_none_is_refused_before_anything_is_sent(
    aws_env: str, boto: Boto, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boto("s3").create_bucket(Bucket="fk-art")
    assert deploy("emr", aws_env, dist, "--cluster-id", "j-1", "--region", "eu-west") == 2
    err = capsys.readouterr().err
    assert "--region: 'eu-west' is not a region name like us-east-1" in err
    assert "Traceback" not in err
    assert bucket_keys(boto) == set()


def test_a_client_token_too_long_is_refused_before_anything_is_sent(
    aws_env: str, boto: Boto, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _client, app = serverless_application(boto)
    args = ["--application-id", app, "--role-arn", ROLE]
    assert deploy("emr-serverless", aws_env, dist, *args, "--client-token", "t" * 65) == 2
    err = capsys.readouterr().err
    assert "--client-token must be 1-64 letters" in err
    assert "it has 65 characters" in err
    assert bucket_keys(boto) == set()  # nothing uploaded, so no run started either


def test_deploy_glue_creates_then_updates_the_job(
    aws_env: str, boto: Boto, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boto("s3").create_bucket(Bucket="fk-art")
    glue = boto("glue")
    argv = ["--role-arn", ROLE, "--param", "min_events=4", "--catalog", "local"]
    code = deploy("glue", aws_env, dist, *argv)
    doc = last_json(capsys.readouterr().out)
    assert (code, doc["outcome"]) == (0, "succeeded")
    job = glue.get_job(JobName="featurekit-user_activity_daily")["Job"]
    assert job["DefaultArguments"]["--featurekit_catalog"] == "local"
    assert job["Command"]["ScriptLocation"] == "s3://fk-art/v1/entrypoints/glue_job.py"
    assert job["DefaultArguments"]["--extra-py-files"] == "s3://fk-art/v1/featurekit.zip"
    assert job["DefaultArguments"]["--datalake-formats"] == "delta"
    run = glue.get_job_run(JobName=job["Name"], RunId=doc["id"])["JobRun"]
    assert run["Arguments"]["--featurekit_params"] == '{"min_events": "4"}'
    assert run["Arguments"]["--featurekit_job"] == "user_activity_daily"
    assert bucket_keys(boto) == planned("featurekit.zip", "entrypoints/glue_job.py")
    # A second deploy updates the job. moto does not implement UpdateJob (HTTP 500), so
    # this checks that UpdateJob (not a second CreateJob) is what gets called.
    code = deploy("glue", aws_env, dist, "--role-arn", ROLE, "--workers", "5")
    assert code == 2
    assert "Glue UpdateJob featurekit-user_activity_daily failed" in capsys.readouterr().err


def test_a_missing_artifact_fails_the_deploy_before_anything_is_created(
    aws_env: str, boto: Boto, dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    broken = tmp_path / "dist"
    shutil.copytree(dist, broken)
    (broken / "entrypoints" / "glue_job.py").unlink()
    boto("s3").create_bucket(Bucket="fk-art")
    assert deploy("glue", aws_env, broken, "--role-arn", ROLE) == 2
    assert "glue_job.py is missing or differs" in capsys.readouterr().err
    assert bucket_keys(boto) == set()
    assert boto("glue").get_jobs()["Jobs"] == []


def test_invalid_request_is_refused_before_any_call(aws_env: str) -> None:
    aws = Aws(AwsSettings(endpoint_url=aws_env))
    with pytest.raises(ConfigError, match="invalid"):
        aws.add_step({"JobFlowId": "j-1", "Steps": [{"Name": "x"}]}, wait=False)


def test_deploy_glue_uploads_deequs_jars_for_a_job_with_rulesets(
    aws_env: str, boto: Boto, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boto("s3").create_bucket(Bucket="fk-art")
    argv = ["deploy", "glue", "training_set", "--artifacts", "s3://fk-art/v1", "--dist", str(dist)]
    argv += ["--endpoint-url", aws_env, "--region", "us-east-1", "--poll", "0"]
    assert main([*argv, "--role-arn", ROLE, "--no-wait"]) == 0
    jars = json.loads((dist / MANIFEST).read_text())["quality"]["jars"]
    job = boto("glue").get_job(JobName="featurekit-training_set")["Job"]
    assert job["DefaultArguments"]["--extra-jars"] == ",".join(f"s3://fk-art/v1/{j}" for j in jars)
    assert bucket_keys(boto) == planned("featurekit.zip", "entrypoints/glue_job.py", *jars)
    body = boto("s3").get_object(Bucket="fk-art", Key=f"v1/{jars[0]}")["Body"].read()
    assert body == (dist / jars[0]).read_bytes()
