"""Step Functions: the demo's and a user project's graphs as state machines, checked by the
asl-validator npm package, by JSONata itself for the dates, and deployed on moto."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
from workflow_projects import (
    ROOT,
    SCHEDULED_RUNS,
    ScheduledRun,
    cli,
    demo_args,
    emr_resources,
)

from conftest import ASL_VALIDATOR
from featurekit.deploy.aws import Aws, AwsSettings
from featurekit.workflow.aws import deploy_schedule, deploy_state_machine

pytestmark = pytest.mark.integration
SYNC = {
    "glue": "arn:aws:states:::glue:startJobRun.sync",
    "emr": "arn:aws:states:::elasticmapreduce:addStep.sync",
    "emr-serverless": "arn:aws:states:::emr-serverless:startJobRun.sync",
}
USER_IDS = ["--emr-cluster-id=j-ACME", "--serverless-application-id=00facme"]


@pytest.fixture(scope="module")
def demo_plan(
    demo_dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    """The demo's plan (and the folder of its files)."""
    out = tmp_path_factory.mktemp("demo-plan")
    args = [*demo_args(), "--serverless-application-id=00fdemo", f"--dist={demo_dist}"]
    return json.loads(cli(["plan", "workflow", *args, f"--out={out}"], ROOT)), out


def states_of(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state of the machine by name, those of Parallel branches included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in asl["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(states_of(branch))
    return found


def validate_asl(command: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(command), "--json-path", str(path)], capture_output=True, text=True, timeout=120
    )


def test_the_demo_graph_is_one_machine_of_sync_tasks_in_order(
    demo_plan: tuple[dict[str, Any], Path], asl_validator: Path
) -> None:
    doc, out = demo_plan
    asl = doc["stepfunctions"]["definition"]
    states = states_of(asl)
    assert states["user_activity_daily"]["Resource"] == SYNC["glue"]
    assert states["training_set"]["Resource"] == SYNC["emr-serverless"]
    # the training set reads the daily features: it runs after them
    assert states["user_activity_daily"]["Next"] == "training_set"
    assert states["training_set"]["End"] is True
    glue_args = states["user_activity_daily"]["Arguments"]["Arguments"]
    assert glue_args["--featurekit_start"] == "{% $start %}"
    serverless = states["training_set"]["Arguments"]["JobDriver"]["SparkSubmit"]
    assert serverless["EntryPointArguments"][-4:] == [
        "--start",
        "{% $start %}",
        "--end",
        "{% $end %}",
    ]
    assert "1999-" not in json.dumps(asl)  # no stand-in date left
    done = validate_asl(asl_validator, out / "statemachine.asl.json")
    assert done.returncode == 0, done.stdout + done.stderr


def test_independent_jobs_run_side_by_side_and_a_failure_names_its_job(
    user_project: Path, asl_validator: Path, tmp_path: Path
) -> None:
    doc = json.loads(
        cli(["plan", "workflow", "+basket_training", *USER_IDS, f"--out={tmp_path}"], user_project)
    )
    asl = doc["stepfunctions"]["definition"]
    states = states_of(asl)
    parallel = asl["States"]["Parallel 1"]
    assert sorted(b["StartAt"] for b in parallel["Branches"]) == ["item_daily", "user_events_daily"]
    assert parallel["Next"] == "basket_training"  # it reads both
    assert {
        states[j]["Resource"] for j in ("user_events_daily", "item_daily", "basket_training")
    } == set(SYNC.values())
    task = states["basket_training"]
    assert task["Arguments"]["ClusterId"] == "j-ACME"
    # the retried state is the one adding the step (.sync): a retry adds the step again
    assert task["Resource"] == SYNC["emr"]
    throttling, failed = task["Retry"]
    assert "ElasticMapReduce.ThrottlingException" in throttling["ErrorEquals"]
    assert throttling["BackoffRate"] == 2.0
    assert throttling["MaxAttempts"] > 1
    assert failed == {
        "ErrorEquals": ["States.TaskFailed"],
        "IntervalSeconds": 300,
        "BackoffRate": 2.0,
        "MaxAttempts": 2,
    }
    catch = task["Catch"][0]
    assert catch["ErrorEquals"] == ["States.ALL"]
    fail = states[catch["Next"]]
    assert fail["Type"] == "Fail"
    assert fail["Error"] == "FeatureJobFailed.basket_training"
    assert "featurekit job basket_training failed" in fail["Cause"]
    assert doc["glue_jobs"][0]["ExecutionClass"] == "FLEX"
    done = validate_asl(asl_validator, tmp_path / "statemachine.asl.json")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_validator_rejects_what_is_wrong(
    demo_dist: Path, asl_validator: Path, tmp_path: Path
) -> None:
    """The check can fail: a dangling Next, and a JSONata expression that does not parse."""
    args = [*demo_args(), "--serverless-application-id=00fdemo", f"--dist={demo_dist}"]
    asl = json.loads(cli(["plan", "workflow", *args], ROOT))["stepfunctions"]["definition"]
    dangling = json.loads(json.dumps(asl))
    dangling["States"]["user_activity_daily"]["Next"] = "nowhere"
    broken = json.loads(json.dumps(asl))
    broken["States"]["Given dates"]["Assign"]["start"] = "{% $states.input.start & %}"
    for name, bad in (("dangling", dangling), ("broken", broken)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(bad))
        assert validate_asl(asl_validator, path).returncode != 0, name


def _jsonata(expression: str, scheduled_time: str) -> str:
    """``expression`` (``{% ... %}``) evaluated by the jsonata npm package, with
    ``$states.input`` as Step Functions binds it."""
    script = (
        "const jsonata = require('jsonata');"
        "const [expr, time] = process.argv.slice(1);"
        "jsonata(expr).evaluate({}, {states: {input: {scheduled_time: time}}})"
        ".then(v => console.log(JSON.stringify(v)));"
    )
    body = expression.removeprefix("{%").removesuffix("%}").strip()
    done = subprocess.run(
        ["node", "-e", script, body, scheduled_time],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ASL_VALIDATOR,
        env={"NODE_PATH": str(ASL_VALIDATOR / "node_modules"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout))


@pytest.mark.parametrize("run", SCHEDULED_RUNS, ids=lambda r: f"{r.schedule}/{r.interval_days}")
def test_a_scheduled_run_builds_the_interval_that_ended(
    demo_dist: Path, asl_validator: Path, run: ScheduledRun
) -> None:
    """The dates the Airflow lane checks Airflow's runs build for the same settings."""
    args = [*demo_args(), "--serverless-application-id=00fdemo", f"--dist={demo_dist}"]
    days = [f"--interval-days={run.interval_days}"] if run.interval_days else []
    doc = json.loads(cli(["plan", "workflow", *args, f"--schedule={run.schedule}", *days], ROOT))
    dates = doc["stepfunctions"]["definition"]["States"]["Scheduled dates"]["Assign"]
    built = (_jsonata(dates["start"], run.time), _jsonata(dates["end"], run.time))
    assert built == (run.start, run.end)
    assert doc["stepfunctions"]["create_schedule"]["ScheduleExpression"] == run.schedule
    schedule_input = json.loads(doc["stepfunctions"]["create_schedule"]["Target"]["Input"])
    assert schedule_input == {"scheduled_time": "<aws.scheduler.scheduled-time>"}


@pytest.mark.slow
def test_both_graphs_deploy_on_moto(
    demo_dist: Path, user_project: Path, aws: Callable[[str], Any], moto_endpoint: str
) -> None:
    cluster, app = emr_resources(aws)
    endpoint = f"--endpoint-url={moto_endpoint}"
    demo = [*demo_args(), f"--serverless-application-id={app}", f"--dist={demo_dist}"]
    user = ["+basket_training", f"--emr-cluster-id={cluster}", f"--serverless-application-id={app}"]
    sfn, scheduler = aws("stepfunctions"), aws("scheduler")
    for args, cwd in ((demo, ROOT), (user, user_project)):
        plan = json.loads(cli(["plan", "workflow", *args], cwd))["stepfunctions"]
        out = json.loads(cli(["deploy", "workflow", *args, endpoint], cwd).splitlines()[-1])
        machine = sfn.describe_state_machine(stateMachineArn=out["state_machine_arn"])
        assert json.loads(machine["definition"]) == plan["definition"]
        schedule = scheduler.get_schedule(Name=plan["create_schedule"]["Name"])
        assert schedule["Target"]["Arn"] == out["state_machine_arn"]
        assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
        # the two policies, as IAM takes them (moto checks the documents' grammar)
        iam = aws("iam")
        for key in ("state_machine_policy", "scheduler_policy"):
            iam.create_policy(**plan[key])
        # a second deploy updates the machine and the schedule (moto has no glue UpdateJob,
        # so these two calls are made directly)
        client = Aws(AwsSettings(endpoint_url=moto_endpoint), report=lambda _line: None)
        assert (
            deploy_state_machine(client, plan["create_state_machine"]) == out["state_machine_arn"]
        )
        deploy_schedule(client, {**plan["create_schedule"], "Target": schedule["Target"]})
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert sorted(names) == ["acme-daily", "demo-daily"]
    glue = aws("glue")
    assert glue.get_job(JobName="featurekit-user_events_daily")["Job"]["ExecutionClass"] == "FLEX"
    keys = [o["Key"] for o in aws("s3").list_objects_v2(Bucket="acme-artifacts")["Contents"]]
    assert {"fk/entrypoints/emr_step.py", "fk/featurekit.zip"} <= set(keys)
