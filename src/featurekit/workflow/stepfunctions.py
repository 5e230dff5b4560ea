"""The Step Functions state machine of a workflow (ASL, JSONata), its EventBridge Scheduler
schedule and the IAM policies of both roles.

The machine::

    Dates (Choice)  -- {start, end} given ---------> Given dates (Pass: $start, $end)
                    -- {scheduled_time} given -----> Scheduled dates (Pass: the interval)
                    -- otherwise ------------------> No dates (Fail)
    Jobs: the graph's independent parts side by side (Parallel), each part level by level
          (a level's jobs side by side); every job a ``.sync`` task, retried with backoff
          on throttling and service errors (and ``retries`` times when the job fails), its
          failure caught into a Fail state naming the job and its error.

A job waits for its whole previous level, not only for its own inputs: Parallel states
join all their branches. The dates come from the execution input (``{"start": "2026-12-01",
"end": "2026-12-05"}``) or from the schedule (``{"scheduled_time":
"<aws.scheduler.scheduled-time>"}``, which EventBridge Scheduler fills in).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from featurekit.errors import ConfigError
from featurekit.workflow.requests import JobRequests, with_dates
from featurekit.workflow.spec import Workflow

DAY_MS = 86_400_000
# each service's optimized integration, as an ARN of the region's partition
# (arn:aws:..., arn:aws-cn:..., arn:aws-us-gov:...)
RESOURCES = {
    "glue": "arn:{partition}:states:::glue:startJobRun.sync",
    "emr": "arn:{partition}:states:::elasticmapreduce:addStep.sync",
    "emr-serverless": "arn:{partition}:states:::emr-serverless:startJobRun.sync",
}
# Errors of the service calls themselves (not of the job): throttling, limits, outages.
TRANSIENT_ERRORS = {
    "glue": [
        "Glue.AWSGlueException",
        "Glue.ThrottlingException",
        "Glue.ConcurrentRunsExceededException",
        "Glue.InternalServiceException",
        "Glue.OperationTimeoutException",
    ],
    "emr": [
        "ElasticMapReduce.AmazonElasticMapReduceException",
        "ElasticMapReduce.InternalServerErrorException",
        "ElasticMapReduce.ThrottlingException",
    ],
    "emr-serverless": [
        "EMRServerless.ThrottlingException",
        "EMRServerless.InternalServerException",
        "EMRServerless.ServiceQuotaExceededException",
    ],
}
_DAY = "'[Y0001]-[M01]-[D01]'"


def date_expressions(interval_days: int) -> dict[str, str]:
    """JSONata for ``$start`` and ``$end`` from a schedule's time: the interval that ended."""
    time = "$toMillis($states.input.scheduled_time)"
    return {
        "start": f"{{% $fromMillis({time} - {interval_days * DAY_MS}, {_DAY}) %}}",
        "end": f"{{% $fromMillis({time} - {DAY_MS}, {_DAY}) %}}",
    }


def _serverless_arguments(run: Mapping[str, Any]) -> dict[str, Any]:
    """The ``emr-serverless:startJobRun`` task's Arguments (the API's names, capitalised;
    Spark conf names, which are values of a map, stay as they are)."""
    driver = run["jobDriver"]["sparkSubmit"]
    overrides = run["configurationOverrides"]
    logs = overrides["monitoringConfiguration"]["s3MonitoringConfiguration"]["logUri"]
    return {
        "ApplicationId": run["applicationId"],
        "ExecutionRoleArn": run["executionRoleArn"],
        "Name": run["name"],
        "ClientToken": run["clientToken"],
        "JobDriver": {
            "SparkSubmit": {
                "EntryPoint": driver["entryPoint"],
                "EntryPointArguments": list(driver["entryPointArguments"]),
                "SparkSubmitParameters": driver["sparkSubmitParameters"],
            }
        },
        "ConfigurationOverrides": {
            "ApplicationConfiguration": [
                {"Classification": c["classification"], "Properties": dict(c["properties"])}
                for c in overrides["applicationConfiguration"]
            ],
            "MonitoringConfiguration": {"S3MonitoringConfiguration": {"LogUri": logs}},
        },
    }


def task_arguments(req: JobRequests) -> dict[str, Any]:
    """The task's Arguments, the run's dates as ``$start`` / ``$end``."""
    if req.service == "glue":
        args: dict[str, Any] = dict(req.run)
    elif req.service == "emr":
        args = {"ClusterId": req.run["JobFlowId"], "Step": req.run["Steps"][0]}
    else:
        args = _serverless_arguments(req.run)
    out: dict[str, Any] = with_dates(args, "{% $start %}", "{% $end %}", "{% $uuid() %}")
    return out


def job_states(
    req: JobRequests, *, retries: int, retry_delay: int, partition: str = "aws"
) -> dict[str, Any]:
    """The job's Task state (named after the job) and its Fail state; ``partition``: the
    AWS partition of the workflow's region (aws, aws-cn, aws-us-gov)."""
    failed = f"{req.job} failed"
    if len(failed) > 80:  # Step Functions' limit on state names
        raise ConfigError(f"Job name {req.job!r} is too long for a state name (73 at most).")
    retry: list[dict[str, Any]] = [
        {
            "ErrorEquals": TRANSIENT_ERRORS[req.service],
            "IntervalSeconds": 10,
            "BackoffRate": 2.0,
            "MaxAttempts": 6,
            "MaxDelaySeconds": 600,
            "JitterStrategy": "FULL",
        }
    ]
    if retries:
        retry.append(
            {
                "ErrorEquals": ["States.TaskFailed"],
                "IntervalSeconds": retry_delay,
                "BackoffRate": 2.0,
                "MaxAttempts": retries,
            }
        )
    task = {
        "Type": "Task",
        "Comment": f"featurekit job {req.job} on {req.target}",
        "Resource": RESOURCES[req.service].format(partition=partition),
        "Arguments": task_arguments(req),
        "Retry": retry,
        "Catch": [
            {"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput %}", "Next": failed}
        ],
        "End": True,
    }
    fail = {
        "Type": "Fail",
        "Comment": f"featurekit job {req.job} failed",
        "Error": f"FeatureJobFailed.{req.job}",
        "Cause": (
            f"{{% 'featurekit job {req.job} failed: ' & $string($states.input.Error) & ': ' "
            "& $string($states.input.Cause) %}"
        ),
    }
    return {req.job: task, failed: fail}


class _Builder:
    """Names Parallel states uniquely across the machine."""

    def __init__(
        self, requests: Mapping[str, JobRequests], retries: int, delay: int, partition: str
    ) -> None:
        self.requests = requests
        self.retries = retries
        self.delay = delay
        self.partition = partition
        self.parallels = 0

    def job(self, name: str) -> tuple[str, dict[str, Any]]:
        states = job_states(
            self.requests[name],
            retries=self.retries,
            retry_delay=self.delay,
            partition=self.partition,
        )
        return name, states

    def parallel(
        self, branches: Sequence[tuple[str, dict[str, Any]]]
    ) -> tuple[str, dict[str, Any]]:
        self.parallels += 1
        name = f"Parallel {self.parallels}"
        state = {
            "Type": "Parallel",
            "Branches": [{"StartAt": start, "States": states} for start, states in branches],
            "End": True,
        }
        return name, {name: state}

    def chain(self, steps: Sequence[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
        """Steps one after the other: each step's last state (End) goes to the next."""
        states: dict[str, Any] = {}
        for (start, step), nxt in zip(steps, [*(s for s, _ in steps[1:]), None]):
            step = {name: dict(state) for name, state in step.items()}
            if nxt is not None:
                del step[start]["End"]
                step[start]["Next"] = nxt
            states.update(step)
        return steps[0][0], states

    def component(self, flow: Workflow, names: Sequence[str]) -> tuple[str, dict[str, Any]]:
        steps = []
        for level in flow.levels(names):
            jobs = [self.job(name) for name in level]
            steps.append(jobs[0] if len(jobs) == 1 else self.parallel(jobs))
        return self.chain(steps)


def definition(flow: Workflow, requests: Mapping[str, JobRequests]) -> dict[str, Any]:
    """The state machine's ASL definition (JSONata)."""
    settings = flow.settings
    build = _Builder(requests, settings.retries, settings.retry_delay_seconds, settings.partition)
    parts = [build.component(flow, names) for names in flow.components()]
    start, jobs = parts[0] if len(parts) == 1 else build.parallel(parts)
    dates = date_expressions(settings.parsed_schedule().interval_days)
    given = "$exists($states.input.start) and $exists($states.input.end)"
    states: dict[str, Any] = {
        "Dates": {
            "Type": "Choice",
            "Choices": [
                {"Condition": f"{{% {given} %}}", "Next": "Given dates"},
                {
                    "Condition": "{% $exists($states.input.scheduled_time) %}",
                    "Next": "Scheduled dates",
                },
            ],
            "Default": "No dates",
        },
        "Given dates": {
            "Type": "Pass",
            "Assign": {"start": "{% $states.input.start %}", "end": "{% $states.input.end %}"},
            "Next": start,
        },
        "Scheduled dates": {"Type": "Pass", "Assign": dates, "Next": start},
        "No dates": {
            "Type": "Fail",
            "Error": "NoDates",
            "Cause": 'Start the execution with {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"} '
            'or {"scheduled_time": "<an ISO time>"}.',
        },
        **jobs,
    }
    return {
        "Comment": f"featurekit workflow {flow.name}: {', '.join(j.name for j in flow.jobs)}",
        "QueryLanguage": "JSONata",
        "StartAt": "Dates",
        "States": states,
    }


def state_machine_arn(flow: Workflow) -> str:
    s = flow.settings
    return f"arn:{s.partition}:states:{s.region}:{s.account_id}:stateMachine:{flow.name}"


def create_state_machine_request(flow: Workflow, asl: Mapping[str, Any]) -> dict[str, Any]:
    """The ``stepfunctions.create_state_machine`` request."""
    s = flow.settings
    role = (
        s.state_machine_role_arn or f"arn:{s.partition}:iam::{s.account_id}:role/{flow.name}-states"
    )
    return {
        "name": flow.name,
        "definition": json.dumps(asl, indent=2),
        "roleArn": role,
        "type": "STANDARD",
        "tags": [{"key": "featurekit:workflow", "value": flow.name}],
    }


def schedule_request(flow: Workflow, machine_arn: str) -> dict[str, Any]:
    """The ``scheduler.create_schedule`` request starting the machine on the schedule."""
    s = flow.settings
    role = (
        s.scheduler_role_arn or f"arn:{s.partition}:iam::{s.account_id}:role/{flow.name}-scheduler"
    )
    return {
        "Name": flow.name,
        "ScheduleExpression": s.parsed_schedule().expression,
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "Description": f"featurekit workflow {flow.name}",
        "Target": {
            "Arn": machine_arn,
            "RoleArn": role,
            "Input": json.dumps({"scheduled_time": "<aws.scheduler.scheduled-time>"}),
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
        },
    }


def _statement(actions: Sequence[str], resources: Sequence[str], **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": sorted(resources), **more}


def _events_rule(s: Any, rule: str) -> dict[str, Any]:
    arn = f"arn:{s.partition}:events:{s.region}:{s.account_id}:rule/{rule}"
    return _statement(["events:PutTargets", "events:PutRule", "events:DescribeRule"], [arn])


def state_machine_policy(flow: Workflow, requests: Mapping[str, JobRequests]) -> dict[str, Any]:
    """The IAM policy of the state machine's role: start, watch and stop its jobs' runs."""
    s = flow.settings
    where = f"{s.region}:{s.account_id}"
    services = {r.service for r in requests.values()}
    out: list[dict[str, Any]] = []
    if "glue" in services:
        jobs = [
            f"arn:{s.partition}:glue:{where}:job/{r.glue_job_name}"
            for r in requests.values()
            if r.definition
        ]
        actions = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
        out.append(_statement(actions, jobs))
    if "emr" in services:
        cluster = f"arn:{s.partition}:elasticmapreduce:{where}:cluster/{s.emr_cluster_id}"
        actions = [
            f"elasticmapreduce:{a}" for a in ("AddJobFlowSteps", "DescribeStep", "CancelSteps")
        ]
        out += [
            _statement(actions, [cluster]),
            _events_rule(s, "StepFunctionsGetEventForEMRAddJobFlowStepsRule"),
        ]
    if "emr-serverless" in services:
        app = (
            f"arn:{s.partition}:emr-serverless:{where}:/applications/{s.serverless_application_id}"
        )
        actions = [f"emr-serverless:{a}" for a in ("StartJobRun", "GetJobRun", "CancelJobRun")]
        out += [
            _statement(actions, [app, f"{app}/jobruns/*"]),
            _events_rule(s, "StepFunctionsGetEventsForEMRServerlessJobRule"),
            _statement(
                ["iam:PassRole"],
                [str(s.serverless_role_arn)],
                Condition={"StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}},
            ),
        ]
    return {"Version": "2012-10-17", "Statement": out}


def scheduler_policy(machine_arn: str) -> dict[str, Any]:
    """The IAM policy of the schedule's role: start executions of the machine."""
    return {
        "Version": "2012-10-17",
        "Statement": [_statement(["states:StartExecution"], [machine_arn])],
    }


def policy_request(name: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """The ``iam.create_policy`` request of a policy document."""
    return {
        "PolicyName": name,
        "PolicyDocument": json.dumps(document),
        "Description": "featurekit workflow policy",
    }


def plan(flow: Workflow, requests: Mapping[str, JobRequests]) -> dict[str, Any]:
    """Every Step Functions request of the workflow, as ``featurekit plan workflow`` prints."""
    asl = definition(flow, requests)
    arn = state_machine_arn(flow)
    return {
        "definition": asl,
        "create_state_machine": create_state_machine_request(flow, asl),
        "create_schedule": schedule_request(flow, arn),
        "state_machine_policy": policy_request(
            f"{flow.name}-states", state_machine_policy(flow, requests)
        ),
        "scheduler_policy": policy_request(f"{flow.name}-scheduler", scheduler_policy(arn)),
        # the options whose roles this plan names by a placeholder
        "placeholder_roles": [
            option
            for option, given in (
                ("--state-machine-role-arn", flow.settings.state_machine_role_arn),
                ("--scheduler-role-arn", flow.settings.scheduler_role_arn),
            )
            if not given
        ],
    }


def validate(requests: Mapping[str, Any]) -> None:
    """botocore's checks of each request of :func:`plan`."""
    from featurekit.deploy.aws import validate_request

    validate_request("stepfunctions", "CreateStateMachine", requests["create_state_machine"])
    validate_request("scheduler", "CreateSchedule", requests["create_schedule"])
    validate_request("iam", "CreatePolicy", requests["state_machine_policy"])
    validate_request("iam", "CreatePolicy", requests["scheduler_policy"])
