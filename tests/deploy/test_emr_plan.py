"""The EMR AddJobFlowSteps plan: valid for botocore's model, and the step it describes."""

from __future__ import annotations

import datetime as dt

import pytest

from featurekit.deploy.aws import validate_request
from featurekit.deploy.common import JobCall
from featurekit.deploy.emr_plan import add_step_request, cluster_configurations
from featurekit.errors import ConfigError

CALL = JobCall(
    "user_activity_daily",
    params={"min_events": "2"},
    start=dt.date(2026, 1, 1),
    end=dt.date(2026, 1, 7),
    warehouse="/mnt/warehouse",
)


def plan(**kwargs: object) -> dict:
    options = {"cluster_id": "j-ABC", "artifacts": "s3://bucket/fk/", **kwargs}
    return add_step_request(CALL, **options)  # type: ignore[arg-type]


def conf_values(args: list[str]) -> dict[str, str]:
    pairs = [args[i + 1] for i, a in enumerate(args) if a == "--conf"]
    return dict(p.split("=", 1) for p in pairs)


def test_plan_passes_botocore_validation() -> None:
    validate_request("emr", "AddJobFlowSteps", plan())


def test_step_is_spark_submit_of_the_entry_script_with_the_bundle() -> None:
    step = plan()["Steps"][0]
    assert step["HadoopJarStep"]["Jar"] == "command-runner.jar"
    args = step["HadoopJarStep"]["Args"]
    assert args[:3] == ["spark-submit", "--deploy-mode", "cluster"]
    assert args[args.index("--py-files") + 1] == "s3://bucket/fk/featurekit.zip"
    script = args.index("s3://bucket/fk/entrypoints/emr_step.py")
    assert args[script + 1 :] == [
        "--job", "user_activity_daily", "--param", "min_events=2",
        "--start", "2026-01-01", "--end", "2026-01-07", "--warehouse", "/mnt/warehouse",
    ]  # fmt: skip


def test_step_sets_delta_and_glue_catalog_confs() -> None:
    confs = conf_values(plan()["Steps"][0]["HadoopJarStep"]["Args"])
    assert confs["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert confs["spark.sql.catalog.spark_catalog"].endswith("DeltaCatalog")
    assert confs["spark.hadoop.hive.metastore.client.factory.class"].endswith(
        "AWSGlueDataCatalogHiveClientFactory"
    )
    no_catalog = conf_values(plan(glue_catalog=False)["Steps"][0]["HadoopJarStep"]["Args"])
    assert "spark.hadoop.hive.metastore.client.factory.class" not in no_catalog


def test_extra_conf_overrides() -> None:
    args = plan(conf={"spark.sql.ansi.enabled": "true"})["Steps"][0]["HadoopJarStep"]["Args"]
    assert conf_values(args)["spark.sql.ansi.enabled"] == "true"


def test_cluster_configurations_enable_delta_and_the_glue_catalog() -> None:
    configs = {c["Classification"]: c["Properties"] for c in cluster_configurations()}
    assert configs["delta-defaults"] == {"delta.enabled": "true"}
    assert "hive.metastore.client.factory.class" in configs["spark-hive-site"]
    validate_request(
        "emr",
        "RunJobFlow",
        {"Name": "c", "Instances": {}, "Configurations": cluster_configurations()},
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"artifacts": "bucket/fk"}, "S3 prefix"),
        ({"cluster_id": ""}, "--cluster-id"),
        ({"action_on_failure": "IGNORE"}, "--action-on-failure"),
        ({"deploy_mode": "yarn"}, "--deploy-mode"),
    ],
)
def test_bad_options_fail_with_the_option_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        plan(**kwargs)


def test_validation_rejects_a_broken_request() -> None:
    broken = plan()
    broken["Steps"][0]["HadoopJarStep"]["Args"] = "spark-submit main.py"
    with pytest.raises(ConfigError, match="AddJobFlowSteps request is invalid"):
        validate_request("emr", "AddJobFlowSteps", broken)
