"""Each job's requests on its target, built by the single-job planners
(:mod:`featurekit.deploy.glue_plan`, :mod:`~featurekit.deploy.emr_plan`,
:mod:`~featurekit.deploy.emr_serverless_plan`) and checked against botocore's models.

The run's dates are not known when the plan is made: the requests are built and validated
with two stand-in dates (:data:`START`, :data:`END`), which each orchestrator then replaces
with its own expression (:func:`with_dates`): JSONata in Step Functions, Jinja templates in
Airflow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from featurekit.deploy.aws import validate_request
from featurekit.deploy.common import JobCall
from featurekit.deploy.emr_plan import add_step_request
from featurekit.deploy.emr_serverless_plan import start_job_run_request
from featurekit.deploy.glue_deploy import run_arguments
from featurekit.deploy.glue_plan import GluePlan, create_job_request
from featurekit.deploy.quality_jars import emr_spark_line, glue_spark_line, job_jars
from featurekit.errors import ConfigError
from featurekit.workflow.settings import Settings
from featurekit.workflow.spec import Workflow, WorkflowJob

START = dt.date(1999, 1, 1)
END = dt.date(1999, 12, 31)
CLIENT_TOKEN = "featurekit-workflow-client-token"  # replaced per run by the orchestrator


@dataclass(frozen=True)
class JobRequests:
    """One job's requests: the Glue job definition (Glue targets only) and the run."""

    job: str
    target: str
    service: str  # glue | emr | emr-serverless
    operation: str  # StartJobRun | AddJobFlowSteps
    run: Mapping[str, Any]
    definition: Optional[Mapping[str, Any]] = None  # glue CreateJob

    @property
    def glue_job_name(self) -> str:
        if self.definition is None:
            raise ConfigError(f"Job {self.job} runs on {self.target}, not on Glue.")
        return str(self.definition["Name"])


def _call(job: str, settings: Settings) -> JobCall:
    return JobCall(
        job,
        start=START,
        end=END,
        warehouse=settings.warehouse,
        catalog=None if settings.catalog == "glue" else settings.catalog,
    )


def _require(value: Optional[str], key: str, flag: str, job: WorkflowJob) -> str:
    if not value:
        raise ConfigError(
            f"Job {job.name} runs on {job.target}: set {key} in [tool.featurekit.workflow] "
            f"or pass {flag}."
        )
    return value


def _glue(job: WorkflowJob, settings: Settings, package: Any, job_class: Any) -> JobRequests:
    version = settings.glue_version
    jars = job_jars(
        package,
        job.name,
        spark_line=glue_spark_line(version),
        target=f"Glue {version}",
        quality=True,
    )
    plan = GluePlan(
        job=job.name,
        artifacts=str(settings.artifacts),
        glue_version=version,
        worker_type=settings.glue_worker_type,
        workers=settings.glue_workers,
        role=_require(settings.glue_role_arn, "glue_role_arn", "--glue-role-arn", job),
        warehouse=settings.warehouse,
        catalog=settings.catalog,
        execution_class="FLEX" if job.target == "glue-flex" else "STANDARD",
        jars=jars,
    )
    definition = create_job_request(plan, job_class)
    run = {"JobName": definition["Name"], "Arguments": run_arguments(_call(job.name, settings))}
    return JobRequests(job.name, job.target, "glue", "StartJobRun", run, definition)


def _emr(job: WorkflowJob, settings: Settings, package: Any) -> JobRequests:
    release = settings.emr_release_label
    run = add_step_request(
        _call(job.name, settings),
        cluster_id=_require(settings.emr_cluster_id, "emr_cluster_id", "--emr-cluster-id", job),
        artifacts=str(settings.artifacts),
        glue_catalog=settings.catalog == "glue",
        jars=job_jars(
            package, job.name, spark_line=emr_spark_line(release), target=release, quality=True
        ),
    )
    return JobRequests(job.name, job.target, "emr", "AddJobFlowSteps", run)


def _serverless(job: WorkflowJob, settings: Settings, package: Any) -> JobRequests:
    release = settings.serverless_release_label
    app = settings.serverless_application_id
    role = settings.serverless_role_arn
    run = start_job_run_request(
        _call(job.name, settings),
        application_id=_require(
            app, "serverless_application_id", "--serverless-application-id", job
        ),
        role_arn=_require(role, "serverless_role_arn", "--serverless-role-arn", job),
        artifacts=str(settings.artifacts),
        client_token=CLIENT_TOKEN,
        glue_catalog=settings.catalog == "glue",
        venv=package.venv,
        jars=job_jars(
            package, job.name, spark_line=emr_spark_line(release), target=release, quality=True
        ),
    )
    return JobRequests(job.name, job.target, "emr-serverless", "StartJobRun", run)


def job_requests(
    flow: Workflow, job_classes: Mapping[str, Any], package: Any
) -> dict[str, JobRequests]:
    """Every job's requests, in run order, each validated against botocore's model.

    ``package`` is the artifacts ``featurekit package`` built (it must hold every job).
    """
    if not flow.settings.artifacts:
        raise ConfigError(
            "No artifacts prefix: pass --artifacts s3://BUCKET/PREFIX or set artifacts in "
            "[tool.featurekit.workflow]."
        )
    out: dict[str, JobRequests] = {}
    for job in flow.jobs:
        package.check_job(job.name)
        if job.target.startswith("glue"):
            req = _glue(job, flow.settings, package, job_classes[job.name])
        elif job.target == "emr":
            req = _emr(job, flow.settings, package)
        else:
            req = _serverless(job, flow.settings, package)
        if req.definition is not None:
            validate_request("glue", "CreateJob", req.definition)
        validate_request(req.service, req.operation, req.run)
        out[job.name] = req
    return out


def with_dates(value: Any, start: str, end: str, token: Optional[str] = None) -> Any:
    """``value`` with the stand-in dates (and client token) replaced by expressions."""
    swap = {START.isoformat(): start, END.isoformat(): end}
    if token is not None:
        swap[CLIENT_TOKEN] = token
    if isinstance(value, str):
        return swap.get(value, value)
    if isinstance(value, Mapping):
        return {k: with_dates(v, start, end, token) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [with_dates(v, start, end, token) for v in value]
    return value


def uses_stand_ins(value: Any) -> bool:
    """True when ``value`` still holds a stand-in date (a check on the orchestrators)."""
    if isinstance(value, str):
        return value in (START.isoformat(), END.isoformat(), CLIENT_TOKEN)
    if isinstance(value, Mapping):
        return any(uses_stand_ins(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(uses_stand_ins(v) for v in value)
    return False
