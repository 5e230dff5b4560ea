"""``featurekit plan workflow`` / ``featurekit deploy workflow``: a selection of the job graph
as one scheduled workflow, and ``featurekit cost --workflow`` (:func:`cmd_cost_workflow`).

    featurekit plan workflow +training_set [--orchestrator stepfunctions|airflow|glue]
        [--artifacts s3://B/P] [--target JOB=TARGET ...] [--schedule 'cron(0 3 * * ? *)']
        [--out DIR]
    featurekit deploy workflow +training_set ... [--endpoint-url URL] [--dags s3://B/dags]

Settings come from the project's ``[tool.featurekit.workflow]`` (``--project``, default the
current folder); the options given here override them (docs/workflows.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Optional

from featurekit.errors import ConfigError

# option -> setting, for the options that override [tool.featurekit.workflow]
OVERRIDES = (
    "artifacts",
    "name",
    "schedule",
    "interval_days",
    "default_target",
    "region",
    "account",
    "warehouse",
    "glue_role_arn",
    "emr_cluster_id",
    "serverless_application_id",
    "serverless_role_arn",
    "state_machine_role_arn",
    "scheduler_role_arn",
    "retries",
)
FILES = {"stepfunctions": "statemachine.asl.json", "glue": "glue-workflow.json"}


def add_workflow_options(p: argparse.ArgumentParser, *, cost: bool = False) -> None:
    """The selection and the settings' overrides (shared by plan, deploy and cost)."""
    if not cost:
        p.add_argument("selector", nargs="+", help="jobs to include: NAME, +NAME, NAME+, +NAME+")
        p.add_argument(
            "--orchestrator",
            choices=("stepfunctions", "airflow", "glue"),
            default="stepfunctions",
            help="Step Functions (the default), an Airflow DAG (MWAA), or a Glue workflow "
            "(all-Glue graphs)",
        )
        p.add_argument("--artifacts", help="S3 prefix of the packaged artifacts")
        p.add_argument("--dist", default="dist", help="the artifacts 'featurekit package' built")
        p.add_argument("--warehouse", help="featurekit's warehouse the jobs use, s3://B/wh")
        p.add_argument(
            "--records",
            default=os.environ.get("FEATUREKIT_WAREHOUSE", "warehouse"),
            help="the warehouse holding measured runs, for target auto (default: "
            "$FEATUREKIT_WAREHOUSE or ./warehouse)",
        )
    p.add_argument("--project", default=".", help="the project folder (its pyproject.toml)")
    p.add_argument("--name", help="the workflow's name (state machine, DAG, Glue workflow)")
    p.add_argument("--schedule", help="cron(MIN HOUR DOM MONTH DOW YEAR) or rate(N days)")
    p.add_argument("--interval-days", type=int, help="days each scheduled run builds")
    p.add_argument(
        "--target",
        action="append",
        metavar="JOB=TARGET",
        help="a job's target: glue, glue-flex, emr, emr-serverless or auto (repeatable)",
    )
    p.add_argument("--default-target", help="the target of jobs not named (default glue)")
    if cost:
        return
    p.add_argument("--region", help="AWS region of the ARNs (default us-east-1)")
    p.add_argument("--account", help="AWS account of the ARNs (default: the roles')")
    p.add_argument("--glue-role-arn", help="the Glue jobs' IAM role")
    p.add_argument("--emr-cluster-id", help="the EMR cluster of emr jobs (j-...)")
    p.add_argument("--serverless-application-id", help="the EMR Serverless application")
    p.add_argument("--serverless-role-arn", help="the EMR Serverless job execution role")
    p.add_argument("--state-machine-role-arn", help="the Step Functions state machine's role")
    p.add_argument("--scheduler-role-arn", help="the EventBridge Scheduler schedule's role")
    p.add_argument("--retries", type=int, help="retries of a failed job (default 2)")
    p.add_argument("--out", metavar="DIR", help="also write the plan's files into DIR")


def _settings(args: argparse.Namespace, keys: tuple[str, ...] = OVERRIDES) -> Any:
    from featurekit.params import split_assignments
    from featurekit.workflow.settings import read_settings, settings_from

    config = read_settings(Path(args.project))
    overrides = {key: getattr(args, key, None) for key in keys}
    overrides["targets"] = split_assignments(args.target or [])
    return settings_from(config, overrides)


def _auto(records: Callable[[], Any], runs_per_day: float) -> Callable[[str], str]:
    """The cost model's choice for a job: its cheapest target and size per scheduled run."""
    from featurekit.cli.records import find_records, workload_of
    from featurekit.cost.prices import load_prices
    from featurekit.cost.targets import Scenario
    from featurekit.workflow.cost import job_choices

    table = load_prices()
    scenario = Scenario(runs_per_day=runs_per_day)

    def choose(job: str) -> str:
        docs, _note = find_records(records(), job)
        w, _doc = workload_of(docs)
        best = min(job_choices(job, w, scenario, table), key=lambda c: c.cost_per_run)
        print(f"featurekit: auto: {job} on {best.target} ({best.shape})", file=sys.stderr)
        return best.target

    return choose


def build(
    args: argparse.Namespace,
    selectors: list[str],
    records: Optional[str],
    keys: tuple[str, ...] = OVERRIDES,
) -> Any:
    """The workflow of ``selectors`` (job classes, the flow); ``keys``: the options that
    override the project's settings."""
    from featurekit.cli.jobs import _selected
    from featurekit.graph import JobGraph
    from featurekit.registry import discover_all
    from featurekit.warehouse import open_warehouse
    from featurekit.workflow.spec import build_workflow

    settings = _settings(args, keys)
    jobs = {job.name: job for job in _selected(selectors)}
    graph = JobGraph.from_jobs(discover_all().jobs)
    auto = None
    if records is not None:
        where = records
        auto = _auto(lambda: open_warehouse(where), settings.parsed_schedule().runs_per_day)
    return jobs, build_workflow(graph, list(jobs), settings, auto)


def _plan(args: argparse.Namespace) -> dict[str, Any]:
    from featurekit.deploy.artifacts import Package
    from featurekit.workflow.plan import plan_workflow

    jobs, flow = build(args, args.selector, args.records)
    return plan_workflow(flow, jobs, Package.load(Path(args.dist)), args.orchestrator)


def _write(doc: dict[str, Any], out: str) -> list[Path]:
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the plan's files.")
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "plan.json"]
    written[0].write_text(json.dumps(doc, indent=2) + "\n")
    if "airflow" in doc:
        written.append(folder / f"{doc['workflow']}.py")
        written[-1].write_text(doc["airflow"]["dag_file"])
    if "stepfunctions" in doc:
        written.append(folder / FILES["stepfunctions"])
        written[-1].write_text(json.dumps(doc["stepfunctions"]["definition"], indent=2) + "\n")
    if "glue" in doc:
        written.append(folder / FILES["glue"])
        written[-1].write_text(json.dumps(doc["glue"], indent=2) + "\n")
    return written


def _notes(doc: dict[str, Any]) -> None:
    """Say which roles of the plan are placeholders (as ``plan glue`` does)."""
    for option in doc.get("stepfunctions", {}).get("placeholder_roles", []):
        print(f"featurekit: note: pass {option} (the plan names a placeholder)", file=sys.stderr)


def cmd_plan_workflow(args: argparse.Namespace) -> int:
    doc = _plan(args)
    _notes(doc)
    if args.out:
        for path in _write(doc, args.out):
            print(f"featurekit: wrote {path}", file=sys.stderr)
    print(json.dumps(doc, indent=2))
    return 0


def _aws(args: argparse.Namespace, doc: dict[str, Any]) -> Any:
    """Upload the artifacts the plan names; the AWS client."""
    from featurekit.deploy.artifacts import Package, named_artifacts
    from featurekit.deploy.aws import Aws, AwsSettings

    names = named_artifacts([doc["glue_jobs"], doc["runs"]], doc["artifacts"])
    Package.load(Path(args.dist)).check_named(names)
    aws = Aws(AwsSettings(region=args.region, endpoint_url=args.endpoint_url))
    aws.upload_artifacts(Path(args.dist), doc["artifacts"], names)
    return aws


def _deploy_airflow(args: argparse.Namespace, aws: Any, doc: dict[str, Any]) -> dict[str, str]:
    from featurekit.workflow import aws as calls

    if not (args.dags or args.out):
        raise ConfigError("An Airflow deploy needs --dags s3://BUCKET/dags (MWAA) or --out DIR.")
    out = {}
    if args.out:
        out["dag_file"] = str(_write(doc, args.out)[1])
    if args.dags:
        out["dag"] = calls.upload_dag(aws, doc["airflow"]["dag_file"], args.dags, doc["workflow"])
    return out


def cmd_deploy_workflow(args: argparse.Namespace) -> int:
    from featurekit.workflow import aws as calls

    doc = _plan(args)
    aws = _aws(args, doc)
    calls.deploy_glue_jobs(aws, doc["glue_jobs"])
    out: dict[str, Any] = {"workflow": doc["workflow"], "orchestrator": doc["orchestrator"]}
    if "stepfunctions" in doc:
        sfn = doc["stepfunctions"]
        arn = calls.deploy_state_machine(aws, sfn["create_state_machine"])
        schedule = sfn["create_schedule"]
        out["state_machine_arn"] = arn
        out["schedule_arn"] = calls.deploy_schedule(
            aws, {**schedule, "Target": {**schedule["Target"], "Arn": arn}}
        )
    elif "glue" in doc:
        glue = doc["glue"]
        out["glue_workflow"] = calls.deploy_glue_workflow(
            aws, glue["create_workflow"], glue["create_triggers"]
        )
    else:
        out.update(_deploy_airflow(args, aws, doc))
    print(json.dumps(out))
    return 0


def add_plan(psub: Any) -> None:
    p = psub.add_parser(
        "workflow",
        help="a selection of jobs as one scheduled workflow (Step Functions, Airflow, Glue)",
    )
    add_workflow_options(p)
    p.set_defaults(handler=cmd_plan_workflow)


def add_deploy(dsub: Any) -> None:
    p = dsub.add_parser(
        "workflow", help="upload the artifacts, create the Glue jobs and the workflow"
    )
    add_workflow_options(p)
    p.add_argument("--endpoint-url", help="AWS endpoint (moto, LocalStack)")
    p.add_argument("--dags", metavar="s3://BUCKET/dags", help="Airflow: MWAA's dags prefix")
    p.set_defaults(handler=cmd_deploy_workflow)


def _money(value: float) -> str:
    from featurekit.cost.recommend import money

    return money(value)


def _cost_lines(title: str, priced: Any) -> list[str]:
    fits = "meets" if priced.meets_deadline else "MISSES"
    deadline = (
        f", {fits} the deadline ({priced.deadline_seconds:.0f}s)"
        if priced.deadline_seconds is not None
        else ""
    )
    lines = [
        f"{title}: {_money(priced.cost_per_run)}/run, {_money(priced.cost_per_day)}/day; "
        f"critical path {' -> '.join(priced.critical_path)} {priced.critical_seconds:.0f}s"
        + deadline
    ]
    for job, choice in priced.choices.items():
        lines.append(
            f"  {job:<28} {choice.target:<15} {choice.shape:<22} {choice.seconds:>7.0f}s "
            f"{_money(choice.cost_per_run):>10}"
        )
    return lines


def cmd_cost_workflow(args: argparse.Namespace) -> int:
    """``featurekit cost --workflow SELECTOR ...``: the workflow per scheduled run, as planned
    and on the cheapest assignment, each job priced from its measured runs."""
    from featurekit.cli.common import open_cli_warehouse
    from featurekit.cli.records import find_records, scenario_of, workload_of
    from featurekit.cost.prices import load_prices
    from featurekit.workflow.cost import runs_per_day, workflow_cost

    # --warehouse is where the measured runs are, not a setting of the workflow here
    keys = tuple(k for k in OVERRIDES if k != "warehouse")
    _jobs, flow = build(args, [args.run, *args.more], args.warehouse, keys)
    warehouse = open_cli_warehouse(args)
    workloads = {
        job.name: workload_of(find_records(warehouse, job.name)[0])[0] for job in flow.jobs
    }
    scenario = scenario_of(args)
    if args.runs_per_day_given is None:  # the schedule's, unless --runs-per-day was given
        scenario = type(scenario)(scenario.scale, runs_per_day(flow), scenario.deadline_seconds)
    priced = workflow_cost(flow, workloads, scenario, load_prices(args.region, path=args.prices))
    if args.json:
        doc = {"workflow": flow.name, "runs_per_day": scenario.runs_per_day}
        doc.update({name: p.to_json() for name, p in priced.items()})
        print(json.dumps(doc, indent=2))
        return 0
    print(f"workflow {flow.name}: {flow.settings.schedule}, {scenario.runs_per_day:g} run(s)/day")
    print("\n".join(_cost_lines("as planned", priced["planned"])))
    print("\n".join(_cost_lines("cheapest", priced["cheapest"])))
    return 0
