"""The Glue CreateJob request: content, and botocore's own validation for glue.CreateJob."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters
from pyspark.sql import DataFrame

from featurekit import FeatureJob, FeatureTable, FilesInput, JobContext, cli
from featurekit.cli import plan as cli_plan
from featurekit.deploy.glue_plan import GluePlan, create_job_request, validate_request
from featurekit.errors import ConfigError
from featurekit.registry import get_job


def botocore_validate(request: dict[str, Any]) -> None:
    model = botocore.session.get_session().get_service_model("glue")
    validate_parameters(request, model.operation_model("CreateJob").input_shape)


class Incremental(FeatureJob):
    name = "incremental_files"
    inputs = {"raw": FilesInput("s3://b/raw/", format="json", incremental=True)}
    output = FeatureTable(
        "features.inc", keys=("id",), date_column="d", columns={"id": "string", "d": "date"}
    )

    def transform(self, ctx: JobContext, raw: DataFrame) -> DataFrame:
        return raw


@pytest.mark.parametrize(
    ("version", "worker", "workers"), [("5.1", "G.1X", 2), ("5.0", "G.2X", 10), ("4.0", "G.8X", 3)]
)
def test_request_passes_botocore_validation(version: str, worker: str, workers: int) -> None:
    plan = GluePlan(
        "user_activity_daily", "s3://bucket/fk/", glue_version=version, worker_type=worker,
        workers=workers, role="arn:aws:iam::111122223333:role/glue",
    )  # fmt: skip
    request = create_job_request(plan, get_job("user_activity_daily"))
    botocore_validate(request)
    validate_request(request)
    assert request["Command"] == {
        "Name": "glueetl",
        "ScriptLocation": "s3://bucket/fk/entrypoints/glue_job.py",
        "PythonVersion": "3",
    }
    assert (request["GlueVersion"], request["WorkerType"], request["NumberOfWorkers"]) == (
        version,
        worker,
        workers,
    )
    assert request["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    args = request["DefaultArguments"]
    assert args["--extra-py-files"] == "s3://bucket/fk/featurekit.zip"
    assert args["--datalake-formats"] == "delta"
    assert "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension" in args["--conf"]
    assert " --conf spark.sql.catalog.spark_catalog=" in args["--conf"]
    assert args["--enable-glue-datacatalog"] == "true"
    assert args["--job-bookmark-option"] == "job-bookmark-disable"
    assert args["--featurekit_job"] == "user_activity_daily"


def test_bookmarks_default_to_enable_for_incremental_inputs() -> None:
    request = create_job_request(GluePlan("incremental_files", "s3://b/p"), Incremental)
    assert request["DefaultArguments"]["--job-bookmark-option"] == "job-bookmark-enable"
    paused = create_job_request(
        GluePlan("incremental_files", "s3://b/p", bookmarks="pause"), Incremental
    )
    assert paused["DefaultArguments"]["--job-bookmark-option"] == "job-bookmark-pause"


def test_botocore_rejects_a_broken_request_and_so_does_validate_request() -> None:
    request = create_job_request(GluePlan("incremental_files", "s3://b/p"), Incremental)
    request["NumberOfWorkers"] = "two"
    with pytest.raises(ParamValidationError):
        botocore_validate(request)
    with pytest.raises(ConfigError, match="CreateJob request is invalid"):
        validate_request(request)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"artifacts": "bucket/prefix"}, "--artifacts must be an S3 prefix like s3://bucket/"),
        ({"artifacts": "s3:///prefix"}, "--artifacts must be an S3 prefix"),  # no bucket
        ({"glue_version": "3.0"}, "--glue-version"),
        ({"worker_type": "G.3X"}, "--worker-type"),
        ({"workers": 1}, "at least 2"),
        ({"role": "notanarn"}, "--role-arn must be an IAM role ARN like arn:aws:iam::"),
        ({"execution_class": "FLEX", "worker_type": "G.4X"}, "FLEX runs on G.1X or G.2X"),
    ],
)
def test_bad_plans_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GluePlan(**{"job": "j", "artifacts": "s3://b/p", **kwargs})


def test_plan_glue_command_prints_the_request(
    capsys: pytest.CaptureFixture[str], dist: Path
) -> None:
    code = cli.main(
        ["plan", "glue", "user_activity_daily", "--artifacts", "s3://b/fk", "--workers", "4",
         "--dist", str(dist),
         "--worker-type", "G.2X", "--role-arn", "arn:aws:iam::111122223333:role/glue"]
    )  # fmt: skip
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    plan = GluePlan(
        "user_activity_daily", "s3://b/fk", worker_type="G.2X", workers=4,
        role="arn:aws:iam::111122223333:role/glue",
    )  # fmt: skip
    assert printed == create_job_request(plan, get_job("user_activity_daily"))


def test_the_glue_job_states_its_catalog(capsys: pytest.CaptureFixture[str], dist: Path) -> None:
    argv = ["plan", "glue", "user_activity_daily", "--artifacts", "s3://b/fk", "--dist", str(dist)]
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["DefaultArguments"]["--featurekit_catalog"] == "glue"
    assert cli.main([*argv, "--catalog", "local"]) == 0
    default_args = json.loads(capsys.readouterr().out)["DefaultArguments"]
    assert default_args["--featurekit_catalog"] == "local"


def test_a_bad_catalog_fails_at_construction() -> None:
    with pytest.raises(ConfigError, match="--catalog must be one of glue, local"):
        GluePlan("j", "s3://b/p", catalog="hive")


def test_a_plan_target_is_one_registered_function(monkeypatch: pytest.MonkeyPatch) -> None:
    def add_other(psub: Any, add_runtime_args: Any) -> None:
        p = psub.add_parser("other")
        p.set_defaults(handler=lambda args: 7)

    monkeypatch.setattr(cli_plan, "PLANNERS", [*cli_plan.PLANNERS, add_other])
    args: argparse.Namespace = cli.build_parser().parse_args(["plan", "other"])
    assert args.handler(args) == 7
