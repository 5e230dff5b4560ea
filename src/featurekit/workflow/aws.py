"""The calls ``featurekit deploy workflow`` makes, through :class:`featurekit.deploy.aws.Aws`
(boto3, lazily): the Glue jobs, then the orchestrator's own resources, each created or
updated so that a second deploy of the same plan changes nothing else.

Example::

    aws = Aws(AwsSettings(endpoint_url="http://127.0.0.1:5000"))
    arn = deploy_state_machine(aws, plan["create_state_machine"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from featurekit.deploy.aws import Aws, exists, split_s3, validate_request
from featurekit.deploy.aws import calling as _calling
from featurekit.errors import ConfigError


def deploy_glue_jobs(aws: Aws, definitions: Sequence[Mapping[str, Any]]) -> list[str]:
    """Create or update each Glue job; their names."""
    return [aws.upsert_glue_job(request) for request in definitions]


def deploy_state_machine(aws: Aws, request: Mapping[str, Any]) -> str:
    """Create the state machine, or update the one of that name; its ARN."""
    validate_request("stepfunctions", "CreateStateMachine", request)
    sfn = aws.client("stepfunctions")
    name = str(request["name"])
    with _calling("Step Functions ListStateMachines"):
        found = [
            m["stateMachineArn"]
            for page in sfn.get_paginator("list_state_machines").paginate()
            for m in page["stateMachines"]
            if m["name"] == name
        ]
    if found:
        with _calling(f"Step Functions UpdateStateMachine {name}"):
            sfn.update_state_machine(
                stateMachineArn=found[0],
                definition=request["definition"],
                roleArn=request["roleArn"],
            )
        aws.report(f"state machine {name}: updated")
        return str(found[0])
    with _calling(f"Step Functions CreateStateMachine {name}"):
        arn = str(sfn.create_state_machine(**request)["stateMachineArn"])
    aws.report(f"state machine {name}: created")
    return arn


def deploy_schedule(aws: Aws, request: Mapping[str, Any]) -> str:
    """Create the EventBridge Scheduler schedule, or update the one of that name; its ARN."""
    validate_request("scheduler", "CreateSchedule", request)
    scheduler = aws.client("scheduler")
    name = str(request["Name"])
    missing = scheduler.exceptions.ResourceNotFoundException
    found = exists(
        f"EventBridge Scheduler GetSchedule {name}",
        lambda: scheduler.get_schedule(Name=name),
        missing,
    )
    call = scheduler.update_schedule if found else scheduler.create_schedule
    with _calling(f"EventBridge Scheduler {'Update' if found else 'Create'}Schedule {name}"):
        arn = str(call(**request)["ScheduleArn"])
    aws.report(f"schedule {name}: {'updated' if found else 'created'}")
    return arn


def deploy_glue_workflow(
    aws: Aws, workflow: Mapping[str, Any], triggers: Sequence[Mapping[str, Any]]
) -> str:
    """Create (or update) the Glue workflow and replace its triggers; its name."""
    validate_request("glue", "CreateWorkflow", workflow)
    glue = aws.client("glue")
    name = str(workflow["Name"])
    missing = glue.exceptions.EntityNotFoundException
    found = exists(f"Glue GetWorkflow {name}", lambda: glue.get_workflow(Name=name), missing)
    with _calling(f"Glue {'Update' if found else 'Create'}Workflow {name}"):
        if found:
            update = {k: v for k, v in workflow.items() if k != "Tags"}
            glue.update_workflow(**update)
        else:
            glue.create_workflow(**workflow)
    for trigger in triggers:
        validate_request("glue", "CreateTrigger", trigger)
        _replace_trigger(glue, trigger)
    aws.report(
        f"glue workflow {name}: {'updated' if found else 'created'}, {len(triggers)} triggers"
    )
    return name


def _replace_trigger(glue: Any, trigger: Mapping[str, Any]) -> None:
    name = str(trigger["Name"])
    missing = glue.exceptions.EntityNotFoundException
    if exists(f"Glue GetTrigger {name}", lambda: glue.get_trigger(Name=name), missing):
        with _calling(f"Glue DeleteTrigger {name}"):
            glue.delete_trigger(Name=name)
    with _calling(f"Glue CreateTrigger {name}"):
        glue.create_trigger(**trigger)


def upload_dag(aws: Aws, source: str, dags: str, name: str) -> str:
    """Put the DAG file under the MWAA environment's dags prefix (``s3://bucket/dags``)."""
    if not dags.startswith("s3://"):
        raise ConfigError(f"--dags must be the MWAA dags prefix s3://BUCKET/dags, got {dags!r}.")
    bucket, prefix = split_s3(dags.rstrip("/"))
    key = f"{prefix}/{name}.py" if prefix else f"{name}.py"
    with _calling(f"Uploading the DAG to s3://{bucket}/{key}"):
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=source.encode())
    aws.report(f"dag {name}: s3://{bucket}/{key}")
    return f"s3://{bucket}/{key}"
