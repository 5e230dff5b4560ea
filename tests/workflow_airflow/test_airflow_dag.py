"""The Airflow DAG files of the demo's and a user project's workflows, checked by Airflow
itself: they import in a DagBag with no errors, their task graphs are featurekit's graphs,
``dag.test()`` runs them against moto's server (and a failed EMR step's retry adds the step
again), and their timetables start runs at the schedule's times over the same dates as
Step Functions (``SCHEDULED_RUNS``).

Airflow has its own venv (``make test-airflow``: apache-airflow 3.3.2 and the Amazon
provider 9.39.0, no Spark): featurekit makes the DAG files in its own venv
(``FEATUREKIT_PYTHON``), deploying them on moto (artifacts uploaded, Glue jobs created).
In featurekit's venv these tests are skipped because Airflow is not importable there.

Against moto: GlueJobOperator starts and waits for the Glue run (moto ends it SUCCEEDED);
EmrServerlessStartJobOperator starts and waits for the job run (moto ends it SUCCESS);
EmrAddStepsOperator adds the step and waits for it, but moto leaves steps RUNNING forever,
so the test marks each new step COMPLETED (or FAILED) in moto's backend, as EMR would when
the step ends.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow", reason="Airflow runs in its own venv: make test-airflow")

pytestmark = pytest.mark.airflow
ROOT = Path(__file__).resolve().parents[2]
HELPER = ROOT / "tests" / "workflow" / "workflow_projects.py"
LOGICAL = dt.datetime(2026, 12, 6, 3, tzinfo=dt.timezone.utc)  # builds 2026-12-05
BUILT = "2026-12-05"
GRAPHS = ("demo", "user")
sys.path.insert(0, str(HELPER.parent))  # the schedules' table (the module needs no featurekit)
from workflow_projects import SCHEDULED_RUNS, ScheduledRun  # noqa: E402


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    extra = {"endpoint_url": url, "region_name": "us-east-1"}
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps({"conn_type": "aws", "extra": extra})
    yield url
    server.stop()


def client(url: str, service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=url, region_name="us-east-1")


@pytest.fixture(scope="module")
def plans(moto: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """Both workflows deployed as Airflow DAGs by featurekit (its own venv) on moto."""
    python = os.environ.get("FEATUREKIT_PYTHON")
    if not python:
        pytest.fail("Set FEATUREKIT_PYTHON to featurekit's venv python (make test-airflow does).")
    client(moto, "s3").create_bucket(Bucket="acme-artifacts")
    out = tmp_path_factory.mktemp("plans")
    done = subprocess.run(
        [python, str(HELPER), str(out), "--endpoint-url", moto],
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    emr = json.loads((out / "emr.json").read_text())  # made by the script on moto
    # dag.test() runs a DAG of the configured dags folder (the bundle Airflow syncs)
    from airflow.configuration import conf

    dags = Path(conf.get("core", "dags_folder"))
    dags.mkdir(parents=True, exist_ok=True)
    for graph in GRAPHS:
        for dag_file in (out / graph).glob("*.py"):
            shutil.copy(dag_file, dags / dag_file.name)
    return out, emr["cluster"], emr["app"]


def dag_of(folder: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder))
    assert bag.import_errors == {}
    assert len(bag.dags) == 1
    return next(iter(bag.dags.values()))


def job_graph(dag: Any) -> dict[str, list[str]]:
    """Each job's upstream jobs (one task per job, named after it)."""
    return {task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks}


@pytest.mark.parametrize("graph", GRAPHS)
def test_the_dag_imports_and_its_tasks_are_the_job_graph(
    plans: tuple[Path, str, str], graph: str
) -> None:
    folder = plans[0] / graph
    dag = dag_of(folder)
    expected = json.loads((folder / "graph.json").read_text())  # featurekit jobs --json
    assert job_graph(dag) == {job: sorted(ups) for job, ups in expected.items()}
    assert dag.default_args["retries"] == 0  # --retries=0 in the plans
    assert len(dag.tasks) == len(expected)


def _completed(step: Any) -> str:
    return "COMPLETED"


def _finish_emr_steps(stop: threading.Event, outcome: Callable[[Any], str] = _completed) -> None:
    """End each step moto leaves RUNNING (COMPLETED, or ``outcome(step)``), as EMR does."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.emr.models import emr_backends

    backend = emr_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    while not stop.wait(0.2):
        for cluster in list(backend.clusters.values()):
            for step in cluster.steps:
                if step.state in ("PENDING", "RUNNING"):
                    step.state = outcome(step)


def _test_run(dag: Any, outcome: Callable[[Any], str] = _completed) -> Any:
    """``dag.test()`` at LOGICAL, moto's EMR steps ended by ``outcome``."""
    stop = threading.Event()
    finisher = threading.Thread(target=_finish_emr_steps, args=(stop, outcome), daemon=True)
    finisher.start()
    try:
        return dag.test(logical_date=LOGICAL)
    finally:
        stop.set()
        finisher.join()


@pytest.mark.parametrize("graph", GRAPHS)
def test_dag_test_runs_the_workflow_on_moto(plans: tuple[Path, str, str], graph: str) -> None:
    folder, cluster, app = plans
    dag = dag_of(folder / graph)
    run = _test_run(dag)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert str(run.state) == "success", states
    assert set(states.values()) == {"success"}
    plan = json.loads((folder / graph / "plan.json").read_text())
    moto = os.environ["AIRFLOW_CONN_AWS_DEFAULT"]
    url = json.loads(moto)["extra"]["endpoint_url"]
    for job, spec in plan["jobs"].items():
        assert _dates_sent(url, job, spec["target"], cluster, app) == (BUILT, BUILT), job


def test_a_retry_of_a_failed_emr_step_adds_the_step_again(
    plans: tuple[Path, str, str],
) -> None:
    """The step fails once: the job's retry adds a second step, which completes."""
    folder, cluster, _app = plans
    dag = dag_of(folder / "user")
    for task in dag.tasks:  # the plans have --retries=0: one quick retry, as retries=1 gives
        task.retries = 1
        task.retry_delay = dt.timedelta(seconds=1)
        task.retry_exponential_backoff = False
    dag.task_dict["basket_training"].waiter_delay = 1  # poll moto every second
    url = json.loads(os.environ["AIRFLOW_CONN_AWS_DEFAULT"])["extra"]["endpoint_url"]
    emr = client(url, "emr")
    before = {s["Id"] for s in emr.list_steps(ClusterId=cluster)["Steps"]}
    ended: list[str] = []

    def fail_first(step: Any) -> str:
        ended.append(step.id)
        return "FAILED" if len(ended) == 1 else "COMPLETED"

    run = _test_run(dag, fail_first)
    states = {ti.task_id: (str(ti.state), ti.try_number) for ti in run.get_task_instances()}
    assert str(run.state) == "success", states
    assert states["basket_training"] == ("success", 2)
    steps = [
        s
        for s in emr.list_steps(ClusterId=cluster)["Steps"]
        if s["Id"] not in before and s["Name"] == "featurekit basket_training"
    ]
    # list_steps lists the newest first
    assert [s["Status"]["State"] for s in steps] == ["COMPLETED", "FAILED"]
    assert steps[0]["Config"]["Args"] == steps[1]["Config"]["Args"]  # the same dates


def _scheduled_runs(dag: Any, until: dt.datetime) -> list[Any]:
    """The runs Airflow's scheduler makes of the DAG's timetable from its start date (as
    with catchup) up to ``until``."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    timetable = coerce_to_core_timetable(dag.timetable)
    restriction = TimeRestriction(earliest=dag.start_date, latest=None, catchup=True)
    runs: list[Any] = []
    while True:
        last = runs[-1].data_interval if runs else None
        info = timetable.next_dagrun_info(
            last_automated_data_interval=last, restriction=restriction
        )
        if info is None or info.run_after > until:
            return runs
        runs.append(info)


@pytest.mark.parametrize("case", range(len(SCHEDULED_RUNS)))
def test_a_scheduled_run_builds_the_dates_step_functions_builds(
    plans: tuple[Path, str, str], case: int
) -> None:
    """At the same time, the same schedule and interval_days, the DAG's run builds the
    dates that test_stepfunctions checks the state machine builds; the next run comes at
    the schedule's next time."""
    from airflow.sdk.execution_time.context import MacrosAccessor

    expected: ScheduledRun = SCHEDULED_RUNS[case]
    dag = dag_of(plans[0] / "schedules" / str(case))
    time, next_time = (dt.datetime.fromisoformat(t) for t in (expected.time, expected.next_time))
    runs = {info.run_after: info for info in _scheduled_runs(dag, next_time)}
    # a run at the time, and the next one at the schedule's next time
    assert sorted(t for t in runs if t >= time) == [time, next_time], sorted(runs)[-3:]
    task = dag.task_dict["user_activity_daily"]  # the demo's Glue job
    interval = runs[time].data_interval
    context = {
        "data_interval_start": interval.start,
        "data_interval_end": interval.end,
        "macros": MacrosAccessor(),
    }
    args = task.render_template(task.script_args, context)
    built = (args["--featurekit_start"], args["--featurekit_end"])
    assert built == (expected.start, expected.end), expected


def _dates_sent(url: str, job: str, target: str, cluster: str, app: str) -> tuple[str, str]:
    """The --start/--end the job's run on moto received."""
    if target.startswith("glue"):
        runs = client(url, "glue").get_job_runs(JobName=f"featurekit-{job}")["JobRuns"]
        args = runs[0]["Arguments"]
        return args["--featurekit_start"], args["--featurekit_end"]
    if target == "emr":
        emr = client(url, "emr")
        steps = emr.list_steps(ClusterId=cluster)["Steps"]
        argv = next(s for s in steps if s["Name"] == f"featurekit {job}")["Config"]["Args"]
    else:
        serverless = client(url, "emr-serverless")
        runs = serverless.list_job_runs(applicationId=app)["jobRuns"]
        run_id = next(r["id"] for r in runs if r["name"] == f"featurekit {job}")
        run = serverless.get_job_run(applicationId=app, jobRunId=run_id)["jobRun"]
        argv = run["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    return argv[argv.index("--start") + 1], argv[argv.index("--end") + 1]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
