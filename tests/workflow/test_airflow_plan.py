"""The Airflow DAG file as featurekit writes it (Airflow itself checks it in the Airflow
lane: tests/workflow_airflow, make test-airflow): Python that compiles, imports only
Airflow, one operator per job (two for an EMR step), the data interval's dates."""

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
    calls = {
        kw.value.value: node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        for kw in node.keywords
        if kw.arg == "task_id" and isinstance(kw.value, ast.Constant)
    }
    assert calls == {
        "user_events_daily": "GlueJobOperator",
        "item_daily": "EmrServerlessStartJobOperator",
        "basket_training": "EmrAddStepsOperator",
        "basket_training__wait": "EmrStepSensor",
    }
    assert "task_user_events_daily >> task_basket_training" in source
    assert "task_item_daily >> task_basket_training" in source
    assert "task_basket_training >> task_basket_training__wait" in source
    assert "data_interval_start.strftime('%Y-%m-%d')" in source
    assert "1999-" not in source  # no stand-in date left
    assert """schedule=CronDataIntervalTimetable('0 3 * * *', timezone="UTC")""" in source
