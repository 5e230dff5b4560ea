"""The two graphs every workflow test plans: featurekit's demo (two jobs, one after the
other) and a user's project made by ``featurekit init`` plus two job files (three jobs: two
independent ones, then one reading both), each on its own target.

Used in-process by the tests of featurekit's venv, and as a script by the Airflow lane
(``make test-airflow``), whose venv has Airflow but neither Spark nor featurekit::

    python tests/workflow/workflow_projects.py OUT --endpoint-url URL

creates an EMR cluster and an EMR Serverless application on moto's server, deploys both
graphs on them as Airflow DAGs (artifacts uploaded, Glue jobs created) and writes
``OUT/emr.json`` (the two ids), ``OUT/{demo,user}/`` (the DAG file, plan.json, and
graph.json: ``featurekit jobs --json``'s upstream jobs) and ``OUT/schedules/I/``: the demo's
DAG file planned with the schedule of ``SCHEDULED_RUNS[I]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = "s3://acme-artifacts/fk"
GLUE_ROLE = "arn:aws:iam::123456789012:role/acme-glue"
SERVERLESS_ROLE = "arn:aws:iam::123456789012:role/acme-emr-serverless"
USER_JOBS = ("user_events_daily", "item_daily", "basket_training")
DEMO_JOBS = ("user_activity_daily", "training_set")
DEMO_TARGETS = {"user_activity_daily": "glue-flex", "training_set": "emr-serverless"}
WORKFLOW_TABLE = """
[tool.featurekit.workflow]
name = "acme-daily"
schedule = "cron(0 3 * * ? *)"
artifacts = "{artifacts}"
glue_role_arn = "{glue_role}"
serverless_role_arn = "{serverless_role}"

[tool.featurekit.workflow.targets]
user_events_daily = "glue-flex"
item_daily = "emr-serverless"
basket_training = "emr"
"""


class ScheduledRun(NamedTuple):
    """A scheduled run's dates, the same whichever orchestrator runs the schedule: Step
    Functions' JSONata (test_stepfunctions) and Airflow's timetable (the Airflow lane)."""

    schedule: str
    interval_days: Optional[int]  # None: the schedule's period
    time: str  # a time the schedule starts a run
    start: str  # the first date that run builds
    end: str  # its last date
    next_time: str  # the schedule's next run


# The rates' times fall on their Airflow runs from airflow_start_date (2026-01-01), as with
# catchup: Airflow lays a rate's runs from a start, EventBridge from the schedule's creation.
SCHEDULED_RUNS = [
    ScheduledRun(
        "cron(0 3 * * ? *)",
        None,
        "2026-12-06T03:00:00Z",
        "2026-12-05",
        "2026-12-05",
        "2026-12-07T03:00:00Z",
    ),
    ScheduledRun(
        "cron(30 1 ? * MON *)",
        None,
        "2026-12-07T01:30:00Z",
        "2026-11-30",
        "2026-12-06",
        "2026-12-14T01:30:00Z",
    ),
    ScheduledRun(
        "rate(2 days)",
        None,
        "2026-03-02T00:00:00Z",
        "2026-02-28",
        "2026-03-01",
        "2026-03-04T00:00:00Z",
    ),
    # every day, the three days before it (a window that takes in late data)
    ScheduledRun(
        "cron(0 3 * * ? *)",
        3,
        "2026-12-06T03:00:00Z",
        "2026-12-03",
        "2026-12-05",
        "2026-12-07T03:00:00Z",
    ),
    ScheduledRun(
        "rate(1 day)", 3, "2026-03-02T00:00:00Z", "2026-02-27", "2026-03-01", "2026-03-03T00:00:00Z"
    ),
    # on weekdays, one day each: Monday's run builds Sunday
    ScheduledRun(
        "cron(0 3 ? * MON-FRI *)",
        1,
        "2026-12-07T03:00:00Z",
        "2026-12-06",
        "2026-12-06",
        "2026-12-08T03:00:00Z",
    ),
]


def make_user_project(base: Path) -> Path:
    """``featurekit init`` + two more jobs (item_daily beside user_events_daily, and
    basket_training reading both), their targets in pyproject.toml; registered for this
    Python through a dist-info folder in ``src`` (put ``src`` on sys.path to use it)."""
    from featurekit.scaffold import init_project, new_job

    root = init_project(base / "acme-features")
    new_job(root, "item_daily")
    new_job(root, "basket_training")
    jobs = root / "src" / "acme_features" / "jobs"
    item = jobs / "item_daily.py"
    item.write_text(item.read_text().replace('TableInput("raw.source"', 'TableInput("raw.events"'))
    basket = jobs / "basket_training.py"
    text = basket.read_text().replace(
        '{"source": TableInput("raw.source", time_column="event_time")}',
        '{"source": TableInput("features.user_events_daily"), '
        '"items": TableInput("features.item_daily")}',
    )
    text = text.replace(
        "source: DataFrame) -> DataFrame:", "source: DataFrame, items: DataFrame) -> DataFrame:"
    )
    basket.write_text(text)
    pyproject = root / "pyproject.toml"
    table = WORKFLOW_TABLE.format(
        artifacts=ARTIFACTS, glue_role=GLUE_ROLE, serverless_role=SERVERLESS_ROLE
    )
    pyproject.write_text(pyproject.read_text() + table)
    info = root / "src" / "acme_features-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-features\nVersion: 0.1\n")
    points = [f"{job} = acme_features.jobs.{job}:{_class(job)}" for job in USER_JOBS]
    (info / "entry_points.txt").write_text("[featurekit.jobs]\n" + "\n".join(points) + "\n")
    return root


def _class(job: str) -> str:
    return "".join(part.capitalize() for part in job.split("_"))


def build_dist(root: Path) -> Path:
    from featurekit.deploy.package import build_artifacts

    build_artifacts(root, root / "dist")
    return root / "dist"


def cli(argv: list[str], cwd: Path) -> str:
    """``featurekit ARGV`` in-process in ``cwd``: its stdout (exit code 0 asserted)."""
    from featurekit.cli import main

    out = io.StringIO()
    here = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out):
            code = main(argv)
    finally:
        os.chdir(here)
    if code != 0:
        raise SystemExit(f"featurekit {' '.join(argv)} exited {code}")
    return out.getvalue()


def demo_args() -> list[str]:
    """The demo has no [tool.featurekit.workflow]: everything on the command line."""
    targets = [f"--target={job}={target}" for job, target in DEMO_TARGETS.items()]
    return [
        "+training_set",
        "--name=demo-daily",
        f"--artifacts={ARTIFACTS}",
        f"--glue-role-arn={GLUE_ROLE}",
        f"--serverless-role-arn={SERVERLESS_ROLE}",
        *targets,
    ]


def graph_of(cwd: Path) -> dict[str, list[str]]:
    """``featurekit jobs --json``: each job's upstream jobs."""
    doc = json.loads(cli(["jobs", "--json"], cwd))
    return {job["name"]: job["upstream"] for job in doc["jobs"]}


def emr_resources(client: Callable[[str], Any]) -> tuple[str, str]:
    """An EMR cluster and an EMR Serverless application on moto: their ids."""
    cluster = client("emr").run_job_flow(
        Name="acme",
        ReleaseLabel="emr-7.12.0",
        Instances={
            "MasterInstanceType": "m5.xlarge",
            "SlaveInstanceType": "m5.xlarge",
            "InstanceCount": 2,
            "KeepJobFlowAliveWhenNoSteps": True,
        },
        JobFlowRole="EMR_EC2_DefaultRole",
        ServiceRole="EMR_DefaultRole",
    )["JobFlowId"]
    app = client("emr-serverless").create_application(
        name="acme", releaseLabel="emr-7.12.0", type="SPARK"
    )["applicationId"]
    return cluster, app


def _airflow_plans(args: argparse.Namespace) -> None:
    """Deploy both graphs as Airflow DAGs on moto (the Airflow lane's setup)."""
    import boto3

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=args.endpoint_url, region_name="us-east-1")

    cluster, app = emr_resources(client)
    (out / "emr.json").write_text(json.dumps({"cluster": cluster, "app": app}))
    aws = [  # deploy's options (plan's but the first)
        f"--endpoint-url={args.endpoint_url}",
        f"--emr-cluster-id={cluster}",
        f"--serverless-application-id={app}",
        "--orchestrator=airflow",
        "--retries=0",
    ]
    demo_dist = out / "demo-dist"
    from featurekit.deploy.package import build_artifacts

    build_artifacts(ROOT, demo_dist)
    cli(
        ["deploy", "workflow", *demo_args(), *aws, f"--dist={demo_dist}", f"--out={out / 'demo'}"],
        ROOT,
    )
    (out / "demo" / "graph.json").write_text(json.dumps(_subgraph(graph_of(ROOT), DEMO_JOBS)))
    for i, run in enumerate(SCHEDULED_RUNS):  # the demo's DAG file of each schedule
        days = [f"--interval-days={run.interval_days}"] if run.interval_days else []
        plan = ["plan", "workflow", *demo_args(), *aws[1:], f"--schedule={run.schedule}", *days]
        cli([*plan, f"--dist={demo_dist}", f"--out={out / 'schedules' / str(i)}"], ROOT)
    root = make_user_project(out / "user-project")
    sys.path.insert(0, str(root / "src"))
    dist = build_dist(root)
    user = [
        "deploy",
        "workflow",
        "+basket_training",
        *aws,
        f"--dist={dist}",
        f"--out={out / 'user'}",
    ]
    cli(user, root)
    (out / "user" / "graph.json").write_text(json.dumps(_subgraph(graph_of(root), USER_JOBS)))


def _subgraph(graph: dict[str, Any], jobs: tuple[str, ...]) -> dict[str, Any]:
    return {job: graph[job] for job in jobs}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--endpoint-url", required=True)
    _airflow_plans(parser.parse_args())
