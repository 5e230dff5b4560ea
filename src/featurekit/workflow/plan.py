"""One workflow planned for one orchestrator: the document ``featurekit plan workflow``
prints and ``featurekit deploy workflow`` applies.

Example::

    doc = plan_workflow(flow, job_classes, Package.load(Path("dist")), "stepfunctions")
    doc["stepfunctions"]["definition"]     # the ASL
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from featurekit.errors import ConfigError
from featurekit.workflow import airflow, glue_workflow, stepfunctions
from featurekit.workflow.requests import job_requests
from featurekit.workflow.settings import ORCHESTRATORS
from featurekit.workflow.spec import Workflow, graph_json


def plan_workflow(
    flow: Workflow, job_classes: Mapping[str, Any], package: Any, orchestrator: str
) -> dict[str, Any]:
    """The workflow's graph, its jobs' requests and the orchestrator's own requests (or
    DAG file), every request checked against botocore's model."""
    if orchestrator not in ORCHESTRATORS:
        raise ConfigError(f"--orchestrator must be one of {', '.join(ORCHESTRATORS)}.")
    requests = job_requests(flow, job_classes, package)
    doc: dict[str, Any] = {
        "workflow": flow.name,
        "orchestrator": orchestrator,
        "artifacts": flow.settings.artifacts,
        "schedule": flow.settings.parsed_schedule().expression,
        "jobs": graph_json(flow),
        "glue_jobs": [dict(r.definition) for r in requests.values() if r.definition],
        # each job's run request with stand-in dates (the orchestrator fills in the real ones)
        "runs": {
            name: {"service": r.service, "request": dict(r.run)} for name, r in requests.items()
        },
    }
    if orchestrator == "stepfunctions":
        sfn = stepfunctions.plan(flow, requests)
        stepfunctions.validate(sfn)
        doc["stepfunctions"] = sfn
    elif orchestrator == "airflow":
        doc["airflow"] = {"dag_id": flow.name, "dag_file": airflow.dag_source(flow, requests)}
    else:
        glue = glue_workflow.plan(flow, requests)
        glue_workflow.validate(glue)
        doc["glue"] = glue
    return doc
