"""Every plan carries the commit coordinator to the job, and names the IAM actions it needs."""

from __future__ import annotations

import pytest

from featurekit.deploy.aws import validate_request
from featurekit.deploy.common import JobCall, coordinator_note
from featurekit.deploy.emr_plan import add_step_request
from featurekit.deploy.emr_serverless_plan import start_job_run_request
from featurekit.deploy.glue_deploy import run_arguments
from featurekit.deploy.glue_plan import GluePlan, create_job_request
from featurekit.errors import ConfigError
from featurekit.registry import get_job
from featurekit.runtime.emr import parse_step_args

CALL = JobCall("user_activity_daily", warehouse="s3://b/wh", commit_coordinator="dynamodb:locks")
ROLE = "arn:aws:iam::123456789012:role/featurekit"


def test_emr_step_passes_the_coordinator_to_the_step() -> None:
    request = add_step_request(CALL, cluster_id="j-ABC", artifacts="s3://b/fk")
    validate_request("emr", "AddJobFlowSteps", request)
    args = request["Steps"][0]["HadoopJarStep"]["Args"]
    assert args[args.index("--commit-coordinator") + 1] == "dynamodb:locks"
    script = next(i for i, a in enumerate(args) if a.endswith(".py"))
    step = parse_step_args(args[script + 1 :])  # what the step itself parses
    assert step.config.commit_coordinator == "dynamodb:locks"


def test_emr_serverless_passes_the_coordinator() -> None:
    request = start_job_run_request(
        CALL, application_id="00fabc", role_arn=ROLE, artifacts="s3://b/fk"
    )
    validate_request("emr-serverless", "StartJobRun", request)
    args = request["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    assert args[args.index("--commit-coordinator") + 1] == "dynamodb:locks"


def test_glue_job_and_run_pass_the_coordinator() -> None:
    plan = GluePlan("user_activity_daily", "s3://b/fk", commit_coordinator="s3-conditional")
    request = create_job_request(plan, get_job("user_activity_daily"))
    assert request["DefaultArguments"]["--featurekit_commit_coordinator"] == "s3-conditional"
    assert run_arguments(CALL)["--featurekit_commit_coordinator"] == "dynamodb:locks"


def test_default_passes_nothing() -> None:
    assert "--commit-coordinator" not in JobCall("user_activity_daily").arguments()
    plan = GluePlan("user_activity_daily", "s3://b/fk")
    request = create_job_request(plan, get_job("user_activity_daily"))
    assert "--featurekit_commit_coordinator" not in request["DefaultArguments"]


def test_iam_note_names_the_dynamodb_actions() -> None:
    note = coordinator_note("dynamodb:locks")
    assert note is not None
    assert "dynamodb:PutItem" in note
    assert "table/locks" in note
    assert coordinator_note("s3-conditional") is None


@pytest.mark.parametrize("bad", ["dynamodb", "etcd"])
def test_a_malformed_coordinator_is_refused_at_plan_time(bad: str) -> None:
    with pytest.raises(ConfigError, match="coordinator"):
        JobCall("user_activity_daily", commit_coordinator=bad)
    with pytest.raises(ConfigError, match="coordinator"):
        GluePlan("user_activity_daily", "s3://b/fk", commit_coordinator=bad)
