"""The EMR Serverless plan: the ``StartJobRun`` request that runs a job on an application.

``entryPoint`` is ``emr_step.py``, ``entryPointArguments`` the job's command line,
``sparkSubmitParameters`` ships the featurekit bundle (``spark.submit.pyFiles``)
and the Delta jars EMR Serverless carries under ``/usr/share/aws/delta/lib`` (with
Deequ's from the package for a job with quality rulesets);
``configurationOverrides`` sets the Delta and Glue-catalog confs and the log URI::

    featurekit plan emr-serverless user_activity_daily --application-id 00f... \\
        --role-arn arn:aws:iam::123456789012:role/fk --artifacts s3://b/fk
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from featurekit.deploy.common import (
    JobCall,
    artifact_uri,
    check_role_arn,
    check_s3_prefix,
    spark_confs,
)
from featurekit.deploy.package import BUNDLE, EMR_SCRIPT
from featurekit.errors import ConfigError

# EMR 7.x images (Delta 3.x renamed delta-core.jar to delta-spark.jar).
DELTA_JARS = (
    "/usr/share/aws/delta/lib/delta-spark.jar",
    "/usr/share/aws/delta/lib/delta-storage.jar",
)
# Iceberg's Spark runtime as EMR Serverless images carry it (EMR 6.6 and later).
ICEBERG_JARS = ("/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar",)
# StartJobRun's clientToken (botocore's model: 1-64 of these; AWS refuses others)
CLIENT_TOKEN_MAX = 64
_CLIENT_TOKEN = re.compile(r"[A-Za-z0-9._-]+")


def check_client_token(token: str, option: str = "--client-token") -> str:
    """``token`` when EMR Serverless takes it as an idempotency token; a ConfigError
    saying what is wrong otherwise."""
    bad = sorted(set(_CLIENT_TOKEN.sub("", token)))
    problem = None
    if not token:
        problem = "it is empty"
    elif len(token) > CLIENT_TOKEN_MAX:
        problem = f"it has {len(token)} characters"
    elif bad:
        problem = f"it has characters AWS refuses: {', '.join(map(repr, bad))}"
    if problem:
        raise ConfigError(
            f"{option} must be 1-{CLIENT_TOKEN_MAX} letters, digits, '.', '_' or '-' "
            f"(EMR Serverless's idempotency token), got {token[:80]!r}: {problem}."
        )
    return token


def spark_submit_parameters(
    artifacts: str,
    *,
    delta_jars: tuple[str, ...] = DELTA_JARS,
    venv: Optional[str] = None,
    jars: Sequence[str] = (),
) -> str:
    """The ``sparkSubmitParameters`` string: the code (the virtualenv archive when the
    package has one, else the --py-files bundle), the Delta jars and ``jars`` (artifact
    names: Deequ's for a job with rulesets)."""
    if venv:
        python = "./environment/bin/python"
        params = [
            f"--conf spark.archives={artifact_uri(artifacts, venv)}#environment",
            f"--conf spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON={python}",
            f"--conf spark.emr-serverless.driverEnv.PYSPARK_PYTHON={python}",
            f"--conf spark.executorEnv.PYSPARK_PYTHON={python}",
        ]
    else:
        params = [f"--conf spark.submit.pyFiles={artifact_uri(artifacts, BUNDLE)}"]
    all_jars = [*delta_jars, *(artifact_uri(artifacts, j) for j in jars)]
    if all_jars:
        params.append(f"--conf spark.jars={','.join(all_jars)}")
    return " ".join(params)


def start_job_run_request(
    call: JobCall,
    *,
    application_id: str,
    role_arn: str,
    artifacts: str,
    name: Optional[str] = None,
    client_token: Optional[str] = None,
    glue_catalog: bool = True,
    log_uri: Optional[str] = None,
    conf: Optional[Mapping[str, str]] = None,
    venv: Optional[str] = None,
    jars: Sequence[str] = (),
) -> dict[str, Any]:
    """The StartJobRun request (boto3 keyword arguments) running ``call`` on an application.

    Example::

        start_job_run_request(JobCall("user_activity_daily"), application_id="00f1",
                              role_arn="arn:aws:iam::123456789012:role/fk",
                              artifacts="s3://b/fk")
    """
    if not application_id:
        raise ConfigError("--application-id is required (the EMR Serverless application id).")
    check_role_arn(role_arn)
    if client_token is not None:
        check_client_token(client_token)
    logs = log_uri or f"{check_s3_prefix(artifacts)}/logs/"
    if log_uri:
        check_s3_prefix(log_uri, "--log-uri")
    return {
        "applicationId": application_id,
        "executionRoleArn": role_arn,
        "clientToken": str(uuid.uuid4()) if client_token is None else client_token,
        "name": name or f"featurekit {call.job}",
        "jobDriver": {
            "sparkSubmit": {
                "entryPoint": artifact_uri(artifacts, EMR_SCRIPT),
                "entryPointArguments": call.arguments(),
                "sparkSubmitParameters": spark_submit_parameters(
                    artifacts,
                    delta_jars=(*DELTA_JARS, *(ICEBERG_JARS if call.iceberg else ())),
                    venv=venv,
                    jars=jars,
                ),
            }
        },
        "configurationOverrides": {
            "applicationConfiguration": [
                {
                    "classification": "spark-defaults",
                    "properties": spark_confs(
                        glue_catalog=glue_catalog,
                        extra=conf or {},
                        iceberg=call.iceberg,
                        warehouse=call.warehouse,
                        catalog=call.catalog,
                    ),
                }
            ],
            "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": logs}},
        },
    }
