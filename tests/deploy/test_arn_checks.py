"""The parts of the role ARNs, regions and accounts the plan and deploy commands take:
partition, service, region, account and resource, each named when it is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from featurekit.cli import main
from featurekit.deploy.aws import AwsSettings
from featurekit.deploy.common import arn_problem, check_account, check_region, check_role_arn
from featurekit.errors import ConfigError
from featurekit.workflow.settings import Settings

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:iam::{ACCOUNT}:role/featurekit",
        f"arn:aws-cn:iam::{ACCOUNT}:role/service-role/fk.glue+a=b,c@d",
        f"arn:aws-us-gov:iam::{ACCOUNT}:role/team/etl/fk_role",
    ],
)
def test_role_arns_of_every_partition_pass(arn: str) -> None:
    assert check_role_arn(arn) == arn


@pytest.mark.parametrize(
    ("arn", "problem"),
    [
        ("featurekit", "it is not of the form arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE"),
        (f"arn:aws-eu:iam::{ACCOUNT}:role/fk", "its partition 'aws-eu' is none of aws, aws-cn"),
        (f"arn:awsx:iam::{ACCOUNT}:role/fk", "its partition 'awsx' is none of"),
        (f"arn:aws:sts::{ACCOUNT}:role/fk", "its service is 'sts', not iam"),
        (f"arn:aws:iam:us-east-1:{ACCOUNT}:role/fk", "iam ARNs have no region: leave 'us-east-1'"),
        ("arn:aws:iam::12345:role/fk", "its account '12345' is not 12 digits"),
        ("arn:aws:iam::1234567890123:role/fk", "its account '1234567890123' is not 12 digits"),
        ("arn:aws:iam::12345678901a:role/fk", "its account '12345678901a' is not 12 digits"),
        (f"arn:aws:iam::{ACCOUNT}:user/fk", "its resource is not role/NAME"),
        (f"arn:aws:iam::{ACCOUNT}:role/", "its resource is not role/NAME"),
        (f"arn:aws:iam::{ACCOUNT}:role/{'n' * 65}", "its resource is not role/NAME"),
    ],
)
def test_each_wrong_part_of_a_role_arn_is_named(arn: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_role_arn(arn, "--serverless-role-arn")
    message = str(caught.value)
    assert message.startswith("--serverless-role-arn must be an IAM role ARN like arn:aws:iam::")
    assert f"got {arn!r}: {problem}" in message


@pytest.mark.parametrize(
    ("arn", "problem"),
    [
        (f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:m", None),
        (f"arn:aws-us-gov:states:us-gov-west-1:{ACCOUNT}:stateMachine:m", None),
        (f"arn:aws-cn:states:cn-north-1:{ACCOUNT}:stateMachine:m", None),
        (f"arn:aws:states::{ACCOUNT}:stateMachine:m", "its region '' is not a region name"),
        (f"arn:aws:states:us-east:{ACCOUNT}:stateMachine:m", "its region 'us-east' is not"),
        (f"arn:aws:states:US-EAST-1:{ACCOUNT}:stateMachine:m", "its region 'US-EAST-1' is not"),
        (
            f"arn:aws:states:cn-north-1:{ACCOUNT}:stateMachine:m",
            "its region cn-north-1 is in partition aws-cn, not aws",
        ),
        ("arn:aws:states:us-east-1:123:stateMachine:m", "its account '123' is not 12 digits"),
    ],
)
def test_a_regional_arn_needs_a_region_of_its_partition(arn: str, problem: str | None) -> None:
    found = arn_problem(arn, "states", regional=True)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-5"])
def test_region_names(region: str) -> None:
    assert check_region(region) == region


@pytest.mark.parametrize("region", ["us-east", "useast1", "us_east_1", "us-east-1a", "", "EU-1"])
def test_what_is_no_region_is_refused(region: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"--region: {region!r} is not a region")):
        check_region(region)


@pytest.mark.parametrize("account", ["12345678901", "1234567890123", "12345678901x", " " * 12])
def test_an_account_is_12_digits(account: str) -> None:
    assert check_account(ACCOUNT) == ACCOUNT  # and no other
    with pytest.raises(ConfigError, match=re.escape(f"12 digits, got {account!r}")):
        check_account(account)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"region": "us-east"}, "--region: 'us-east' is not a region name"),
        ({"account": "1234"}, "--account: an AWS account id is 12 digits, got '1234'"),
        (
            {"state_machine_role_arn": "arn:aws:iam::123456789012:role/"},
            "--state-machine-role-arn must be an IAM role ARN",
        ),
        (
            {"scheduler_role_arn": f"arn:aws:iam:eu-west-1:{ACCOUNT}:role/s"},
            "iam ARNs have no region: leave 'eu-west-1' out",
        ),
        (
            {"glue_role_arn": f"arn:aws-iso:iam::{ACCOUNT}:role/g"},
            "its partition 'aws-iso' is none of aws, aws-cn, aws-us-gov",
        ),
    ],
)
def test_the_workflow_settings_that_make_arns_are_checked(
    given: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings(**given)  # type: ignore[arg-type]


def test_the_aws_clients_refuse_a_region_that_is_none() -> None:
    assert AwsSettings(region="eu-west-1").region == "eu-west-1"
    with pytest.raises(ConfigError, match="'eu-west' is not a region name"):
        AwsSettings(region="eu-west")


def test_plan_commands_say_what_is_wrong_with_a_role_arn(
    capsys: pytest.CaptureFixture[str], dist: Path
) -> None:
    bad = f"arn:aws:iam:us-east-1:{ACCOUNT}:role/fk"
    argv = ["plan", "emr-serverless", "user_activity_daily", "--application-id", "00f1"]
    argv += ["--dist", str(dist), "--artifacts", "s3://b/a", "--role-arn", bad]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--role-arn must be an IAM role ARN" in err
    assert "iam ARNs have no region: leave 'us-east-1' out" in err
    assert "Traceback" not in err
    argv = ["plan", "glue", "user_activity_daily", "--dist", str(dist), "--artifacts", "s3://b/a"]
    assert main([*argv, "--role-arn", f"arn:aws-eu:iam::{ACCOUNT}:role/g"]) == 2
    assert "its partition 'aws-eu' is none of aws, aws-cn, aws-us-gov" in capsys.readouterr().err


def test_plan_workflow_says_what_is_wrong_with_its_region_and_account(
    capsys: pytest.CaptureFixture[str], dist: Path
) -> None:
    argv = ["plan", "workflow", "+training_set", "--dist", str(dist), "--artifacts", "s3://b/a"]
    assert main([*argv, "--region", "us-east"]) == 2
    assert "--region: 'us-east' is not a region name like us-east-1" in capsys.readouterr().err
    assert main([*argv, "--account", "12345"]) == 2
    assert "--account: an AWS account id is 12 digits, got '12345'" in capsys.readouterr().err
