"""Glue workflows for all-Glue graphs: triggers planned, botocore-valid, applied on moto;
a mixed graph is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from workflow_projects import ROOT, cli, demo_args

from featurekit.cli import main

pytestmark = pytest.mark.integration
ALL_GLUE = ["--target=item_daily=glue", "--target=basket_training=glue"]


@pytest.mark.slow
def test_the_user_graph_is_a_scheduled_trigger_then_a_conditional_one(
    user_project: Path, aws: Callable[[str], Any], moto_endpoint: str
) -> None:
    args = ["+basket_training", "--orchestrator=glue", *ALL_GLUE]
    doc = json.loads(cli(["plan", "workflow", *args], user_project))
    start, after = doc["glue"]["create_triggers"]
    assert start["Type"] == "SCHEDULED"
    assert start["Schedule"] == "cron(0 3 * * ? *)"
    assert sorted(a["JobName"] for a in start["Actions"]) == [
        "featurekit-item_daily",
        "featurekit-user_events_daily",
    ]
    assert after["Type"] == "CONDITIONAL"
    assert after["Actions"] == [{"JobName": "featurekit-basket_training"}]
    assert after["Predicate"]["Logical"] == "AND"
    assert sorted((c["JobName"], c["State"]) for c in after["Predicate"]["Conditions"]) == [
        ("featurekit-item_daily", "SUCCEEDED"),
        ("featurekit-user_events_daily", "SUCCEEDED"),
    ]
    out = json.loads(
        cli(["deploy", "workflow", *args, f"--endpoint-url={moto_endpoint}"], user_project)
        .strip()
        .splitlines()[-1]
    )
    glue = aws("glue")
    assert glue.get_workflow(Name=out["glue_workflow"])["Workflow"]["Name"] == "acme-daily"
    trigger = glue.get_trigger(Name=after["Name"])["Trigger"]
    assert trigger["WorkflowName"] == "acme-daily"
    assert len(trigger["Predicate"]["Conditions"]) == 2
    assert glue.get_job(JobName="featurekit-basket_training")["Job"]["ExecutionClass"] == "STANDARD"


@pytest.mark.slow
def test_the_demo_graph_as_a_glue_workflow(
    demo_dist: Path, aws: Callable[[str], Any], moto_endpoint: str
) -> None:
    args = [
        *demo_args(),
        "--target=training_set=glue",
        "--orchestrator=glue",
        f"--dist={demo_dist}",
    ]
    doc = json.loads(cli(["plan", "workflow", *args], ROOT))
    start, after = doc["glue"]["create_triggers"]
    assert start["Actions"] == [{"JobName": "featurekit-user_activity_daily"}]
    assert after["Predicate"]["Conditions"] == [
        {
            "LogicalOperator": "EQUALS",
            "JobName": "featurekit-user_activity_daily",
            "State": "SUCCEEDED",
        }
    ]
    cli(["deploy", "workflow", *args, f"--endpoint-url={moto_endpoint}"], ROOT)
    names = aws("glue").list_triggers(DependentJobName="featurekit-training_set")["TriggerNames"]
    assert names == [after["Name"]]


def test_a_mixed_graph_is_no_glue_workflow(
    demo_dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*demo_args(), "--serverless-application-id=00f1", f"--dist={demo_dist}"]
    assert main(["plan", "workflow", *args, "--orchestrator=glue"]) == 2
    err = capsys.readouterr().err
    assert "training_set (emr-serverless)" in err
    assert "Glue jobs only" in err


def test_an_out_that_is_a_file_is_refused_and_left_as_it_is(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "pyproject.toml"
    target.write_text("[project]\n")
    args = [*demo_args(), "--serverless-application-id=00f1", f"--dist={demo_dist}"]
    assert main(["plan", "workflow", *args, f"--out={target}"]) == 2
    assert f"--out {target} is a file; give a folder" in capsys.readouterr().err
    assert target.read_text() == "[project]\n"
