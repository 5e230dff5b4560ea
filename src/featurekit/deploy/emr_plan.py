"""The EMR on EC2 plan: the ``AddJobFlowSteps`` request that runs a job as a step.

The step is ``command-runner.jar spark-submit`` with the Delta session confs, the
featurekit bundle on ``--py-files`` (Deequ's jars on ``--jars`` for a job with quality
rulesets) and ``emr_step.py`` as the main script::

    featurekit plan emr user_activity_daily --cluster-id j-ABC --artifacts s3://b/fk

The cluster itself needs Delta's jars (``delta-defaults``) and, to use the Glue
Data Catalog as metastore, ``spark-hive-site``: :func:`cluster_configurations`
gives both for RunJobFlow / the console.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional

from featurekit.deploy.common import (
    GLUE_CATALOG_FACTORY,
    JobCall,
    artifact_uri,
    conf_args,
    spark_confs,
)
from featurekit.deploy.package import BUNDLE, EMR_SCRIPT
from featurekit.errors import ConfigError

ACTIONS_ON_FAILURE = ("CONTINUE", "CANCEL_AND_WAIT", "TERMINATE_CLUSTER", "TERMINATE_JOB_FLOW")
DEPLOY_MODES = ("cluster", "client")


def spark_submit_args(
    call: JobCall,
    artifacts: str,
    *,
    deploy_mode: str = "cluster",
    glue_catalog: bool = True,
    conf: Optional[Mapping[str, str]] = None,
    jars: Sequence[str] = (),
) -> list[str]:
    """The ``spark-submit ...`` command line of the step (``jars``: artifact names for
    ``--jars``, Deequ's for a job with rulesets)."""
    if deploy_mode not in DEPLOY_MODES:
        raise ConfigError(f"--deploy-mode must be cluster or client, got {deploy_mode!r}.")
    confs = spark_confs(
        glue_catalog=glue_catalog,
        extra=conf or {},
        iceberg=call.iceberg,
        warehouse=call.warehouse,
        catalog=call.catalog,
    )
    jar_args = ["--jars", ",".join(artifact_uri(artifacts, j) for j in jars)] if jars else []
    return [
        "spark-submit",
        "--deploy-mode",
        deploy_mode,
        *conf_args(confs),
        *jar_args,
        "--py-files",
        artifact_uri(artifacts, BUNDLE),
        artifact_uri(artifacts, EMR_SCRIPT),
        *call.arguments(),
    ]


def add_step_request(
    call: JobCall,
    *,
    cluster_id: str,
    artifacts: str,
    name: Optional[str] = None,
    action_on_failure: str = "CONTINUE",
    deploy_mode: str = "cluster",
    glue_catalog: bool = True,
    conf: Optional[Mapping[str, str]] = None,
    jars: Sequence[str] = (),
) -> dict[str, Any]:
    """The AddJobFlowSteps request (boto3 keyword arguments) running ``call`` on a cluster.

    Example::

        add_step_request(JobCall("user_activity_daily"), cluster_id="j-1", artifacts="s3://b/fk")
    """
    if not cluster_id:
        raise ConfigError("--cluster-id is required (the EMR cluster id, j-...).")
    if action_on_failure not in ACTIONS_ON_FAILURE:
        raise ConfigError(
            f"--action-on-failure must be one of {', '.join(ACTIONS_ON_FAILURE)}, "
            f"got {action_on_failure!r}."
        )
    args = spark_submit_args(
        call, artifacts, deploy_mode=deploy_mode, glue_catalog=glue_catalog, conf=conf, jars=jars
    )
    step = {
        "Name": name or f"featurekit {call.job}",
        "ActionOnFailure": action_on_failure,
        "HadoopJarStep": {"Jar": "command-runner.jar", "Args": args},
    }
    return {"JobFlowId": cluster_id, "Steps": [step]}


def cluster_configurations(
    *, glue_catalog: bool = True, iceberg: bool = False
) -> list[dict[str, Any]]:
    """The EMR cluster classifications featurekit needs: Delta, Iceberg (``iceberg``: jobs
    with Iceberg tables), and the Glue catalog."""
    configs: list[dict[str, Any]] = [
        {"Classification": "delta-defaults", "Properties": {"delta.enabled": "true"}}
    ]
    if iceberg:
        configs.append(
            {"Classification": "iceberg-defaults", "Properties": {"iceberg.enabled": "true"}}
        )
    if glue_catalog:
        configs.append(
            {
                "Classification": "spark-hive-site",
                "Properties": {"hive.metastore.client.factory.class": GLUE_CATALOG_FACTORY},
            }
        )
    return configs
