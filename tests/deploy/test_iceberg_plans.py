"""Plans of a job with an Iceberg output: Glue's --datalake-formats iceberg and the catalog
confs, EMR's iceberg-defaults and Spark confs, EMR Serverless's jars; botocore-valid."""

from __future__ import annotations

from pyspark.sql import DataFrame

from featurekit import FeatureJob, FeatureTable, JobContext
from featurekit.deploy.aws import validate_request
from featurekit.deploy.common import ICEBERG_EXTENSIONS, JobCall, uses_iceberg
from featurekit.deploy.emr_plan import add_step_request, cluster_configurations
from featurekit.deploy.emr_serverless_plan import ICEBERG_JARS, start_job_run_request
from featurekit.deploy.glue_plan import GluePlan, create_job_request
from featurekit.tables.iceberg_catalog import CATALOG_CONF

COLUMNS = {"id": "string", "d": "date"}


class WritesIceberg(FeatureJob):
    name = "writes_iceberg"
    output = FeatureTable(
        "features.ice", keys=("id",), date_column="d", columns=COLUMNS, format="iceberg"
    )

    def transform(self, ctx: JobContext) -> DataFrame:
        raise NotImplementedError  # planned, never run


class WritesDefault(WritesIceberg):
    name = "writes_default"
    output = FeatureTable("features.plain", keys=("id",), date_column="d", columns=COLUMNS)


def test_an_iceberg_output_or_default_needs_iceberg() -> None:
    assert uses_iceberg(WritesIceberg)
    assert not uses_iceberg(WritesDefault)
    assert uses_iceberg(WritesDefault, "iceberg")


def test_glue_runs_an_iceberg_job_with_both_formats_and_the_glue_catalog() -> None:
    plan = GluePlan(job="writes_iceberg", artifacts="s3://b/fk", warehouse="s3://b/wh")
    request = create_job_request(plan, WritesIceberg)
    validate_request("glue", "CreateJob", request)
    args = request["DefaultArguments"]
    assert args["--datalake-formats"] == "delta,iceberg"
    confs = dict(item.split("=", 1) for item in args["--conf"].split(" --conf "))
    assert confs["spark.sql.extensions"].split(",") == [
        "io.delta.sql.DeltaSparkSessionExtension",
        ICEBERG_EXTENSIONS,
    ]
    # Iceberg's GlueCatalog under the name the engine looks for (tables.iceberg_catalog)
    assert confs[CATALOG_CONF] == "org.apache.iceberg.spark.SparkCatalog"
    assert confs[f"{CATALOG_CONF}.catalog-impl"] == "org.apache.iceberg.aws.glue.GlueCatalog"
    assert confs[f"{CATALOG_CONF}.warehouse"] == "s3://b/wh"
    assert not [k for k in confs if k.startswith("spark.sql.catalog.glue_catalog")]
    default = create_job_request(
        GluePlan(job="writes_default", artifacts="s3://b/fk", table_format="iceberg"), WritesDefault
    )["DefaultArguments"]
    assert default["--featurekit_table_format"] == "iceberg"
    assert default["--datalake-formats"] == "delta,iceberg"
    delta = create_job_request(GluePlan(job="writes_default", artifacts="s3://b/fk"), WritesDefault)
    assert delta["DefaultArguments"]["--datalake-formats"] == "delta"
    assert "--featurekit_table_format" not in delta["DefaultArguments"]


def _glue_confs(plan: GluePlan) -> dict[str, str]:
    request = create_job_request(plan, WritesIceberg)
    validate_request("glue", "CreateJob", request)
    value = request["DefaultArguments"]["--conf"]
    return dict(item.split("=", 1) for item in value.split(" --conf "))


def test_glue_registers_the_engines_iceberg_catalog_only_with_the_glue_catalog() -> None:
    glue = _glue_confs(GluePlan(job="writes_iceberg", artifacts="s3://b/fk"))
    assert glue[f"{CATALOG_CONF}.catalog-impl"] == "org.apache.iceberg.aws.glue.GlueCatalog"
    assert f"{CATALOG_CONF}.warehouse" not in glue  # no S3 warehouse planned: tables say where
    local = _glue_confs(GluePlan(job="writes_iceberg", artifacts="s3://b/fk", catalog="local"))
    assert local["spark.sql.extensions"].endswith(ICEBERG_EXTENSIONS)
    assert not [k for k in local if k.startswith(CATALOG_CONF)]  # tables kept by folder


def test_emr_steps_and_clusters_carry_iceberg() -> None:
    call = JobCall("writes_default", table_format="iceberg", iceberg=True)
    request = add_step_request(call, cluster_id="j-1", artifacts="s3://b/fk")
    validate_request("emr", "AddJobFlowSteps", request)
    args = request["Steps"][0]["HadoopJarStep"]["Args"]
    confs = [args[i + 1] for i, a in enumerate(args) if a == "--conf"]
    assert (
        f"spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension,{ICEBERG_EXTENSIONS}"
        in confs
    )
    assert args[-2:] == ["--table-format", "iceberg"]
    assert f"{CATALOG_CONF}.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog" in confs
    assert f"{CATALOG_CONF}.io-impl=org.apache.iceberg.hadoop.HadoopFileIO" in confs
    local = add_step_request(
        JobCall("writes_iceberg", iceberg=True, catalog="local"),
        cluster_id="j-1",
        artifacts="s3://b/fk",
    )
    local_args = local["Steps"][0]["HadoopJarStep"]["Args"]
    assert not [a for a in local_args if a.startswith(CATALOG_CONF)]
    configs = cluster_configurations(iceberg=True)
    assert {
        "Classification": "iceberg-defaults",
        "Properties": {"iceberg.enabled": "true"},
    } in configs
    validate_request("emr", "RunJobFlow", {"Name": "c", "Instances": {}, "Configurations": configs})


def test_emr_serverless_adds_the_iceberg_runtime_and_confs() -> None:
    call = JobCall("writes_iceberg", iceberg=True)
    request = start_job_run_request(
        call,
        application_id="00fabc",
        role_arn="arn:aws:iam::123456789012:role/featurekit",
        artifacts="s3://b/fk",
    )
    validate_request("emr-serverless", "StartJobRun", request)
    submit = request["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"]
    assert ICEBERG_JARS[0] in submit
    (defaults,) = request["configurationOverrides"]["applicationConfiguration"]
    assert defaults["properties"]["spark.sql.extensions"].endswith(ICEBERG_EXTENSIONS)
    assert defaults["properties"][f"{CATALOG_CONF}.catalog-impl"] == (
        "org.apache.iceberg.aws.glue.GlueCatalog"
    )
    plain = start_job_run_request(
        JobCall("writes_default"),
        application_id="00fabc",
        role_arn="arn:aws:iam::123456789012:role/featurekit",
        artifacts="s3://b/fk",
    )
    assert ICEBERG_JARS[0] not in plain["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"]
