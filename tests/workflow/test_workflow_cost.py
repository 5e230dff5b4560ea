"""A workflow's cost per scheduled run: sums, the critical path, the cheapest assignment,
the deadline; and ``featurekit cost --workflow`` on stored run records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from featurekit.cli import main
from featurekit.cost.model import Workload
from featurekit.cost.prices import load_prices
from featurekit.cost.targets import Scenario, emr_ec2_options
from featurekit.graph import JobGraph, JobNode
from featurekit.workflow.cost import (
    COST_TARGET,
    Choice,
    assign,
    critical_path,
    job_choices,
    workflow_cost,
)
from featurekit.workflow.settings import TARGETS, Settings
from featurekit.workflow.spec import build_workflow

TABLE = load_prices()
# a (short) and b (long) side by side, then c
GRAPH = JobGraph(
    [
        JobNode("a", ("raw.x",), ("t.a",)),
        JobNode("b", ("raw.y",), ("t.b",)),
        JobNode("c", ("t.a", "t.b"), ("t.c",)),
    ]
)
FLOW = build_workflow(
    GRAPH, GRAPH.order(), Settings(targets={"a": "glue", "b": "emr-serverless", "c": "emr"})
)


def workload(job: str, task_seconds: float) -> Workload:
    return Workload(
        job=job,
        run_id="r",
        wall_seconds=task_seconds / 2,
        task_seconds=task_seconds,
        cpu_seconds=task_seconds * 0.8,
        cores=2,
        tasks=80,
        stages=10,
        shuffle_bytes=10**8,
        input_bytes=10**9,
    )


WORKLOADS = {"a": workload("a", 60), "b": workload("b", 3600), "c": workload("c", 600)}


def test_every_workflow_target_has_a_price() -> None:
    assert set(COST_TARGET) == set(TARGETS)


def test_an_emr_step_is_priced_as_on_the_running_cluster_without_start_up() -> None:
    # `featurekit cost` prices the running cluster (emr-ec2-long-running) with no start-up
    running = {
        o.shape: o
        for o in emr_ec2_options(WORKLOADS["c"], Scenario(), TABLE, spot=False, long_running=True)
    }
    steps = [c for c in job_choices("c", WORKLOADS["c"], Scenario(), TABLE) if c.target == "emr"]
    assert steps
    for step in steps:
        same = running[step.shape]
        assert step.seconds == same.duration_seconds == same.run_seconds
        # the cluster's price per hour, for the step's seconds only (no start-up, shutdown)
        cluster_hour = same.cost_per_day / 24
        assert step.cost_per_run == pytest.approx(cluster_hour * step.seconds / 3600, rel=0.02)


def test_the_critical_path_is_the_longest_chain() -> None:
    path, total = critical_path(FLOW, {"a": 100.0, "b": 900.0, "c": 50.0})
    assert (path, total) == (("b", "c"), 950.0)


def test_planned_and_cheapest_sum_their_jobs() -> None:
    priced = workflow_cost(FLOW, WORKLOADS, Scenario(), TABLE)
    planned, cheapest = priced["planned"], priced["cheapest"]
    assert {j: c.target for j, c in planned.choices.items()} == {
        "a": "glue",
        "b": "emr-serverless",
        "c": "emr",
    }
    assert planned.cost_per_run == pytest.approx(
        sum(c.cost_per_run for c in planned.choices.values())
    )
    assert cheapest.cost_per_run <= planned.cost_per_run
    assert planned.critical_path[-1] == "c"
    assert planned.meets_deadline  # no deadline given


def test_a_deadline_buys_speed_on_the_critical_path_only() -> None:
    relaxed = workflow_cost(FLOW, WORKLOADS, Scenario(), TABLE)["cheapest"]
    fastest = {
        job: min(c.seconds for c in job_choices(job, w, Scenario(), TABLE))
        for job, w in WORKLOADS.items()
    }
    floor = critical_path(FLOW, fastest)[1]
    assert floor < relaxed.critical_seconds
    tight = (floor + relaxed.critical_seconds) / 2  # reachable, but not by the cheapest
    rushed = workflow_cost(FLOW, WORKLOADS, Scenario(deadline_seconds=tight), TABLE)["cheapest"]
    assert rushed.meets_deadline
    assert rushed.critical_seconds <= tight
    assert rushed.cost_per_run >= relaxed.cost_per_run
    assert rushed.choices["a"] == relaxed.choices["a"]  # off the critical path: untouched


def test_an_impossible_deadline_is_reported_missed() -> None:
    options = {
        "a": [Choice("a", "glue", "G.1X x 2", 100.0, 1.0)],
        "b": [Choice("b", "glue", "G.1X x 2", 100.0, 1.0)],
        "c": [Choice("c", "glue", "G.1X x 2", 100.0, 1.0)],
    }
    priced = assign(FLOW, options, Scenario(deadline_seconds=150.0))
    assert not priced.meets_deadline
    assert priced.critical_seconds == 200.0
    assert priced.cost_per_run == 3.0


def _record(job: str, task_seconds: float) -> dict[str, object]:
    return {
        "job": job,
        "run_id": f"20261201T000000Z-{job[:8]}",
        "runtime": "local",
        "status": "succeeded",
        "phases": {"read": 5.0, "transform": 1.0, "write": task_seconds / 4},
        "usage": {
            "jobs": 4,
            "stages": 8,
            "tasks": 40,
            "executor_run_seconds": task_seconds,
            "executor_cpu_seconds": task_seconds * 0.8,
            "input_bytes": 10**8,
            "output_bytes": 10**7,
            "shuffle_read_bytes": 10**7,
            "shuffle_write_bytes": 10**7,
            "spilled_bytes": 0,
            "peak_execution_memory_bytes": 10**8,
            "executors": 1,
            "cores": 2,
            "memory_bytes": 10**9,
            "spark_seconds": task_seconds / 2,
        },
    }


@pytest.fixture
def measured(warehouse: Path) -> Path:
    for job, seconds in (("user_activity_daily", 120.0), ("training_set", 40.0)):
        folder = warehouse / "_runs" / job
        folder.mkdir(parents=True)
        (folder / "r.json").write_text(json.dumps(_record(job, seconds)))
    return warehouse


def test_cost_of_the_demo_workflow_per_scheduled_run(
    measured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["cost", "--workflow", "+training_set", f"--warehouse={measured}"]
    targets = ["--target=user_activity_daily=glue-flex", "--target=training_set=emr"]
    assert main([*args, *targets, "--schedule=rate(2 days)", "--deadline=1h", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs_per_day"] == 0.5
    planned = doc["planned"]
    assert planned["jobs"]["user_activity_daily"]["target"] == "glue-flex"
    assert planned["jobs"]["training_set"]["target"] == "emr"
    assert planned["critical_path"] == ["user_activity_daily", "training_set"]
    assert planned["cost_per_day"] == pytest.approx(planned["cost_per_run"] / 2, rel=1e-3)
    assert doc["cheapest"]["cost_per_run"] <= planned["cost_per_run"]
    # runs a day follow the schedule's times, not the days each run builds
    weekdays = ["--schedule=cron(0 3 ? * MON-FRI *)", "--interval-days=3", "--json"]
    assert main([*args, *targets, *weekdays]) == 0
    assert json.loads(capsys.readouterr().out)["runs_per_day"] == pytest.approx(5 / 7, abs=1e-3)
    assert main([*args, *targets]) == 0
    text = capsys.readouterr().out
    assert "as planned:" in text
    assert "cheapest:" in text
    # one job's chart and types have no workflow counterpart: refused, not ignored
    assert main([*args, *targets, f"--chart={measured / 'c.png'}", "--by-type"]) == 2
    assert "--chart and --by-type price one job" in capsys.readouterr().err
    assert not (measured / "c.png").exists()


def test_plan_auto_targets_come_from_the_measured_runs(
    measured: Path, demo_dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "plan", "workflow", "+training_set", "--default-target=auto", f"--records={measured}",
        "--artifacts=s3://b/fk", f"--dist={demo_dist}", "--emr-cluster-id=j-1",
        "--serverless-application-id=00f1", "--glue-role-arn=arn:aws:iam::123456789012:role/g",
        "--serverless-role-arn=arn:aws:iam::123456789012:role/s",
    ]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    for job in ("user_activity_daily", "training_set"):
        target = doc["jobs"][job]["target"]
        assert f"auto: {job} on {target}" in captured.err
        # the cheapest target of the job's measured run, per daily run
        w = Workload.from_record(json.loads((measured / "_runs" / job / "r.json").read_text()))
        choices = job_choices(job, w, Scenario(), TABLE)
        assert target == min(choices, key=lambda c: c.cost_per_run).target
