"""The StartJobRun arguments ``featurekit deploy glue`` sends.

The job definition itself is :func:`featurekit.deploy.glue_plan.create_job_request`, the
same request ``featurekit plan glue`` prints, so plan and deploy cannot drift apart.
"""

from __future__ import annotations

import json

from featurekit.deploy.common import JobCall


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
    if call.catalog is not None:
        args["--featurekit_catalog"] = call.catalog
    if not call.check_quality:
        args["--featurekit_quality"] = "off"
    if call.commit_coordinator != "none":
        args["--featurekit_commit_coordinator"] = call.commit_coordinator
    return args
