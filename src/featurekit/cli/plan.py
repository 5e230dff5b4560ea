"""``featurekit plan TARGET JOB ...``: print the deployment request for a job as JSON.

    featurekit plan glue JOB --artifacts s3://BUCKET/PREFIX [--glue-version 5.1]
                             [--worker-type G.1X] [--workers N] [--role-arn ARN]
                             [--warehouse s3://BUCKET/wh] [--catalog glue|local]

Each target is one function decorated with ``@planner`` that adds its subcommand
(parser arguments and a handler); adding a target (emr, emr-serverless) means
adding one such function.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from featurekit.cli.common import add_deprecated_option
from featurekit.cli.deploy import (
    add_catalog_option,
    add_coordinator_option,
    add_table_format_options,
    coordinator_note,
    package_for,
)
from featurekit.cli.deploy import add_glue_job_options as add_glue_job_options  # re-exported
from featurekit.cli.deploy import glue_plan_from as glue_plan_from  # re-exported

AddRuntimeArgs = Callable[[argparse.ArgumentParser], None]
Planner = Callable[[Any, AddRuntimeArgs], None]
PLANNERS: list[Planner] = []


def planner(add: Planner) -> Planner:
    """Register a function that adds one ``featurekit plan`` subcommand."""
    PLANNERS.append(add)
    return add


def print_request(request: Any) -> None:
    print(json.dumps(request, indent=2, sort_keys=True))


def cmd_plan_glue(args: argparse.Namespace) -> int:
    from featurekit.deploy.glue_plan import (
        PLACEHOLDER_ROLE,
        create_job_request,
        validate_request,
    )
    from featurekit.errors import MissingDependencyError
    from featurekit.registry import get_job

    package = package_for(args)
    plan = glue_plan_from(args, package)
    request = create_job_request(plan, get_job(args.job))
    coordinator_note(args)
    try:
        validate_request(request)
    except MissingDependencyError:
        print(
            "featurekit: note: not validated (boto3 is missing: featurekit's 'aws' extra)",
            file=sys.stderr,
        )
    if request["Role"] == PLACEHOLDER_ROLE:
        print(
            "featurekit: note: pass --role-arn ARN (the Role below is a placeholder)",
            file=sys.stderr,
        )
    print_request(request)
    return 0


@planner
def add_glue(psub: Any, add_runtime_args: AddRuntimeArgs) -> None:
    p = psub.add_parser("glue", help="the Glue CreateJob request for a job")
    p.add_argument("job")
    p.add_argument("--artifacts", required=True, metavar="s3://BUCKET/PREFIX")
    p.add_argument("--dist", default="dist", help="the artifacts 'featurekit package' built")
    p.add_argument("--role-arn", help="the Glue job's IAM role ARN (default: a placeholder)")
    add_glue_job_options(p)
    p.add_argument(
        "--warehouse", help="featurekit's warehouse the Glue job uses, e.g. s3://BUCKET/wh"
    )
    add_catalog_option(p)
    add_table_format_options(p)
    add_coordinator_option(p)
    add_deprecated_option(p, "--role", new="--role-arn", dest="role_arn")
    add_deprecated_option(p, "--featurekit-warehouse", new="--warehouse", dest="warehouse")
    p.add_argument(
        "--no-quality",
        dest="check_quality",
        action="store_false",
        help="run without evaluating the job's DQDL rulesets (and without Deequ's jars)",
    )
    p.set_defaults(handler=cmd_plan_glue)


@planner
def add_emr(psub: Any, add_runtime_args: AddRuntimeArgs) -> None:
    """``plan emr`` and ``plan emr-serverless``, defined with the deploy commands."""
    from featurekit.cli.deploy import add_plan_subcommands

    add_plan_subcommands(psub)


@planner
def add_auto(psub: Any, add_runtime_args: AddRuntimeArgs) -> None:
    """``plan auto``: the target ``featurekit cost`` recommends, defined with that command."""
    from featurekit.cli.cost import add_auto_plan

    add_auto_plan(psub, add_runtime_args)


@planner
def add_workflow(psub: Any, add_runtime_args: AddRuntimeArgs) -> None:
    """``plan workflow``: a selection of jobs as one scheduled workflow."""
    from featurekit.cli.workflow import add_plan

    add_plan(psub)


def add_commands(sub: Any, add_runtime_args: AddRuntimeArgs) -> None:
    plan = sub.add_parser("plan", help="print a deployment request (Glue, EMR, ...) as JSON")
    psub = plan.add_subparsers(dest="plan_target", required=True, metavar="TARGET")
    for add in PLANNERS:
        add(psub, add_runtime_args)
