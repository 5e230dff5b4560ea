"""The Glue job definition and run arguments ``featurekit deploy glue`` sends.

Merge note: ``featurekit plan glue`` (``featurekit.deploy.glue_plan``, written in
parallel) owns the canonical CreateJob request; once both are on one branch,
:func:`create_job_request` should delegate to it so plan and deploy agree. The
artifact layout (``featurekit.zip``, ``entrypoints/glue_job.py``) and the
``--featurekit_*`` argument names already match that branch.

The job runs ``glue_job.py`` with the bundle on ``--extra-py-files`` and Delta
enabled (``--datalake-formats delta`` plus the two session confs).
"""

from __future__ import annotations

import json
from typing import Any

from featurekit.deploy.common import DELTA_CONFS, JobCall, artifact_uri
from featurekit.deploy.package import BUNDLE, GLUE_SCRIPT
from featurekit.errors import ConfigError

WORKER_TYPES = ("G.1X", "G.2X", "G.4X", "G.8X")


def create_job_request(
    job: str,
    *,
    role_arn: str,
    artifacts: str,
    glue_version: str = "5.0",
    worker_type: str = "G.1X",
    workers: int = 2,
) -> dict[str, Any]:
    """The Glue CreateJob request of the featurekit job ``job`` (job name ``featurekit-<job>``).

    Example::

        create_job_request("user_activity_daily", role_arn="arn:aws:iam::1:role/g",
                           artifacts="s3://b/fk")
    """
    if worker_type not in WORKER_TYPES:
        raise ConfigError(f"--worker-type must be one of {', '.join(WORKER_TYPES)}.")
    if workers < 2:
        raise ConfigError(f"--workers must be at least 2 for Glue Spark jobs, got {workers}.")
    confs = " --conf ".join(f"{k}={v}" for k, v in DELTA_CONFS.items())
    return {
        "Name": f"featurekit-{job}",
        "Role": role_arn,
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": artifact_uri(artifacts, GLUE_SCRIPT),
            "PythonVersion": "3",
        },
        "GlueVersion": glue_version,
        "WorkerType": worker_type,
        "NumberOfWorkers": workers,
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
        "DefaultArguments": {
            "--job-language": "python",
            "--extra-py-files": artifact_uri(artifacts, BUNDLE),
            "--datalake-formats": "delta",
            "--conf": confs,
            "--enable-glue-datacatalog": "true",
            "--featurekit_job": job,
        },
    }


def run_arguments(call: JobCall) -> dict[str, str]:
    """StartJobRun ``Arguments`` in the names ``entrypoints/glue_job.py`` reads.

    Glue takes one value per name, so parameters travel as one JSON object.

    Example::

        run_arguments(JobCall("user_activity_daily", params={"min_events": "2"}))
        # {'--featurekit_job': 'user_activity_daily', '--featurekit_params': '{"min_events": "2"}'}
    """
    args = {"--featurekit_job": call.job}
    if call.params:
        args["--featurekit_params"] = json.dumps(dict(call.params), sort_keys=True)
    if call.start is not None and call.end is not None:
        args["--featurekit_start"] = call.start.isoformat()
        args["--featurekit_end"] = call.end.isoformat()
    if call.warehouse:
        args["--featurekit_warehouse"] = call.warehouse
    if call.engine != "auto":
        args["--featurekit_engine"] = call.engine
    return args
