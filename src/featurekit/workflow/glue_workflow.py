"""A Glue workflow for an all-Glue graph: ``CreateWorkflow``, a SCHEDULED trigger that
starts the jobs reading no selected job, and one CONDITIONAL trigger per other job that
starts it when every job it reads has SUCCEEDED.

Glue triggers start a job with its DefaultArguments: they pass no dates. Each job runs as
``featurekit run JOB`` does without ``--start/--end`` (an incremental job processes what is
new since its last commit); a workflow that must build given dates uses Step Functions or
Airflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from featurekit.errors import UnsupportedError
from featurekit.workflow.requests import JobRequests
from featurekit.workflow.spec import Workflow


def _check(flow: Workflow) -> None:
    if not flow.all_glue:
        others = [f"{j.name} ({j.target})" for j in flow.jobs if not j.target.startswith("glue")]
        raise UnsupportedError(
            f"A Glue workflow runs Glue jobs only; {', '.join(others)} run elsewhere. Use "
            "--orchestrator stepfunctions or airflow, or put every job on glue/glue-flex."
        )


def trigger_name(flow: Workflow, job: str) -> str:
    return f"{flow.name}-{job}"[:255]


def plan(flow: Workflow, requests: Mapping[str, JobRequests]) -> dict[str, Any]:
    """``create_workflow`` and the ``create_trigger`` requests, start trigger first."""
    _check(flow)
    names = {name: req.glue_job_name for name, req in requests.items()}
    roots = [j.name for j in flow.jobs if not j.upstream]
    triggers: list[dict[str, Any]] = [
        {
            "Name": f"{flow.name}-start"[:255],
            "WorkflowName": flow.name,
            "Type": "SCHEDULED",
            "Schedule": flow.settings.parsed_schedule().glue_cron,
            "Actions": [{"JobName": names[r]} for r in roots],
            "StartOnCreation": True,
            "Description": "featurekit: start the jobs that read no selected job",
        }
    ]
    for job in flow.jobs:
        if not job.upstream:
            continue
        conditions = [
            {"LogicalOperator": "EQUALS", "JobName": names[up], "State": "SUCCEEDED"}
            for up in job.upstream
        ]
        triggers.append(
            {
                "Name": trigger_name(flow, job.name),
                "WorkflowName": flow.name,
                "Type": "CONDITIONAL",
                "Predicate": {"Logical": "AND", "Conditions": conditions},
                "Actions": [{"JobName": names[job.name]}],
                "StartOnCreation": True,
                "Description": f"featurekit: {job.name} after {', '.join(job.upstream)}",
            }
        )
    workflow = {
        "Name": flow.name,
        "Description": f"featurekit workflow {flow.name}",
        "MaxConcurrentRuns": 1,
        "Tags": {"featurekit:workflow": flow.name},
    }
    return {"create_workflow": workflow, "create_triggers": triggers}


def validate(requests: Mapping[str, Any]) -> None:
    from featurekit.deploy.aws import validate_request

    validate_request("glue", "CreateWorkflow", requests["create_workflow"])
    for trigger in requests["create_triggers"]:
        validate_request("glue", "CreateTrigger", trigger)
