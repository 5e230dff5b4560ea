"""The EMR Serverless StartJobRun plan: valid for botocore's model, and what it runs."""

from __future__ import annotations

import pytest

from featurekit.deploy.aws import validate_request
from featurekit.deploy.common import JobCall
from featurekit.deploy.emr_serverless_plan import start_job_run_request
from featurekit.errors import ConfigError

ROLE = "arn:aws:iam::123456789012:role/featurekit"


def plan(**kwargs: object) -> dict:
    options = {"application_id": "00fabc", "role_arn": ROLE, "artifacts": "s3://b/fk", **kwargs}
    call = JobCall("user_activity_daily", params={"min_events": "3"})
    return start_job_run_request(call, **options)  # type: ignore[arg-type]


def test_plan_passes_botocore_validation() -> None:
    validate_request("emr-serverless", "StartJobRun", plan())


def test_driver_runs_the_entry_script_with_the_bundle_and_delta_jars() -> None:
    driver = plan()["jobDriver"]["sparkSubmit"]
    assert driver["entryPoint"] == "s3://b/fk/entrypoints/emr_step.py"
    assert driver["entryPointArguments"] == [
        "--job", "user_activity_daily", "--param", "min_events=3",
    ]  # fmt: skip
    params = driver["sparkSubmitParameters"]
    assert "--conf spark.submit.pyFiles=s3://b/fk/featurekit.zip" in params
    assert "/usr/share/aws/delta/lib/delta-spark.jar" in params


def test_overrides_set_delta_glue_catalog_and_logs() -> None:
    overrides = plan()["configurationOverrides"]
    (defaults,) = overrides["applicationConfiguration"]
    assert defaults["classification"] == "spark-defaults"
    props = defaults["properties"]
    assert props["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert props["spark.hadoop.hive.metastore.client.factory.class"].endswith("HiveClientFactory")
    logs = overrides["monitoringConfiguration"]["s3MonitoringConfiguration"]["logUri"]
    assert logs == "s3://b/fk/logs/"


def test_client_token_is_kept_or_fresh() -> None:
    assert plan(client_token="t-1")["clientToken"] == "t-1"
    assert plan()["clientToken"] != plan()["clientToken"]
    longest = "A1._-" * 12 + "abcd"  # 64 characters, all of those AWS takes
    assert plan(client_token=longest)["clientToken"] == longest


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("t" * 65, "it has 65 characters"),
        ("nightly run/2026-01-01", "it has characters AWS refuses: ' ', '/'"),
        ("run:1", "it has characters AWS refuses: ':'"),
        ("", "it is empty"),
    ],
)
def test_a_client_token_aws_would_refuse_is_refused_first(token: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        plan(client_token=token)
    message = str(caught.value)
    assert message.startswith("--client-token must be 1-64 letters, digits, '.', '_' or '-'")
    assert message.endswith(f": {problem}.")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role_arn": "featurekit"}, "--role-arn"),
        ({"application_id": ""}, "--application-id"),
        ({"artifacts": "s3://"}, "S3 prefix"),
        ({"role_arn": "arn:aws:iam::12:role/fk"}, "--role-arn must be an IAM role ARN"),
        ({"log_uri": "/tmp/logs"}, "--log-uri must be an S3 prefix"),
        ({"log_uri": "s3://"}, "--log-uri must be an S3 prefix"),
    ],
)
def test_bad_options_fail_with_the_option_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        plan(**kwargs)
