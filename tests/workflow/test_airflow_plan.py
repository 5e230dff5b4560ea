"""The Airflow DAG file as featurekit writes it (Airflow itself checks it in the Airflow
lane: tests/workflow_airflow, make test-airflow): Python that compiles, imports only
Airflow, one operator per job (each waits for its run, so a retry runs the job again),
the data interval's dates."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from workflow_projects import cli

pytestmark = pytest.mark.integration
IDS = ["--emr-cluster-id=j-ACME", "--serverless-application-id=00facme"]


def test_the_user_graph_as_a_dag_file(user_project: Path, tmp_path: Path) -> None:
    args = ["plan", "workflow", "+basket_training", "--orchestrator=airflow", *IDS]
    doc = json.loads(cli([*args, f"--out={tmp_path}"], user_project))
    source = (tmp_path / "acme-daily.py").read_text()
    assert source == doc["airflow"]["dag_file"]
    tree = ast.parse(source)
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {m.split(".")[0] for m in modules if m} == {"__future__", "airflow"}
    tasks = {
        kw.value.value: node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        for kw in node.keywords
        if kw.arg == "task_id" and isinstance(kw.value, ast.Constant)
    }
    assert {task: ast.unparse(call.func) for task, call in tasks.items()} == {
        "user_events_daily": "GlueJobOperator",
        "item_daily": "EmrServerlessStartJobOperator",
        "basket_training": "EmrAddStepsOperator",
    }
    # each task waits for its job's run: a retry of the task starts the job again
    for call in tasks.values():
        waits = [kw.value for kw in call.keywords if kw.arg == "wait_for_completion"]
        assert [w.value for w in waits if isinstance(w, ast.Constant)] == [True]
    # as long as a sensor's default timeout (7 days), not the provider's 25-30 minutes after
    # which the task fails with the run still going
    for job in ("item_daily", "basket_training"):
        polls = {
            kw.arg: ast.literal_eval(kw.value)
            for kw in tasks[job].keywords
            if kw.arg in ("waiter_delay", "waiter_max_attempts")
        }
        assert polls["waiter_delay"] * polls["waiter_max_attempts"] == 7 * 24 * 3600, job
    assert "task_user_events_daily >> task_basket_training" in source
    assert "task_item_daily >> task_basket_training" in source
    assert "data_interval_start.strftime('%Y-%m-%d')" in source
    assert "1999-" not in source  # no stand-in date left
    timetable = (
        """CronTriggerTimetable('0 3 * * *', timezone="UTC", interval=dt.timedelta(days=1))"""
    )
    assert f"schedule={timetable}" in source


@pytest.mark.parametrize(
    ("schedule", "days", "timetable"),
    [
        (
            "cron(0 3 * * ? *)",
            3,
            """CronTriggerTimetable('0 3 * * *', timezone="UTC", interval=dt.timedelta(days=3))""",
        ),
        (
            "rate(2 days)",
            None,
            "DeltaTriggerTimetable(dt.timedelta(days=2), interval=dt.timedelta(days=2))",
        ),
        (
            "rate(1 day)",
            3,
            "DeltaTriggerTimetable(dt.timedelta(days=1), interval=dt.timedelta(days=3))",
        ),
    ],
)
def test_runs_start_on_the_schedule_and_build_interval_days(
    user_project: Path, schedule: str, days: int | None, timetable: str
) -> None:
    """The schedule's times start the runs (EventBridge's), ``interval_days`` is each run's
    interval, as in the state machine (the Airflow lane runs these timetables)."""
    args = ["plan", "workflow", "+basket_training", "--orchestrator=airflow", *IDS]
    more = [f"--interval-days={days}"] if days else []
    doc = json.loads(cli([*args, f"--schedule={schedule}", *more], user_project))
    assert f"schedule={timetable}," in doc["airflow"]["dag_file"]
