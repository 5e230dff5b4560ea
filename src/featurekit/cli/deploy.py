"""``featurekit deploy glue|emr|emr-serverless`` and the EMR plans.

    featurekit plan emr JOB --cluster-id ID --artifacts s3://... [--param k=v ...]
    featurekit plan emr-serverless JOB --application-id ID --role-arn ARN --artifacts s3://...
    featurekit deploy emr|emr-serverless|glue JOB ... [--endpoint-url URL] [--no-wait]
    featurekit deploy workflow SELECTOR ...           (featurekit.cli.workflow)

The ``plan`` subcommands are added by :func:`add_plan_subcommands`, so one
``featurekit plan`` group can hold them next to ``plan glue`` (``featurekit.cli.plan``).
The helpers both groups share (:func:`package_for`, :func:`add_glue_job_options`,
:func:`add_catalog_option`, :func:`glue_plan_from`) live here; ``featurekit.cli.plan``
imports them.

One spelling per concept on every target, the same as ``featurekit run``'s: ``--role-arn``
(the IAM role), ``--warehouse`` (featurekit's warehouse on AWS), ``--catalog glue|local``
(where the job finds and registers tables). The old spellings (``plan glue --role``,
``plan glue --featurekit-warehouse``, ``--no-glue-catalog``) still work, hidden, with a
one-line warning naming the new one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from featurekit.deploy.common import JobCall
from featurekit.params import split_assignments
from featurekit.tables.conflicts import DEFAULT_ATTEMPTS

STATE_EXIT = {"succeeded": 0, "failed": 1, "pending": 0, "timeout": 1}


def _job_args(p: argparse.ArgumentParser) -> None:
    from featurekit.cli.common import parse_date

    p.add_argument("job", help="the featurekit job to run")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="job parameter")
    p.add_argument("--start", type=parse_date, help="first date to (re)build, inclusive")
    p.add_argument("--end", type=parse_date, help="last date to (re)build, inclusive")
    p.add_argument(
        "--warehouse", help="featurekit's warehouse where the job runs, e.g. s3://BUCKET/wh"
    )
    p.add_argument("--engine", choices=("auto", "delta-spark", "delta-rs"), default="auto")
    p.add_argument("--artifacts", required=True, help="S3 prefix of the packaged artifacts")
    p.add_argument("--dist", default="dist", help="the artifacts 'featurekit package' built")
    p.add_argument("--name", help="step / job run name (default: 'featurekit JOB')")
    p.add_argument("--conf", action="append", metavar="KEY=VALUE", help="extra Spark conf")
    _no_quality_arg(p)
    add_catalog_option(p)
    add_table_format_options(p)
    add_coordinator_option(p)


def add_table_format_options(p: argparse.ArgumentParser) -> None:
    """--table-format (the project default) and --iceberg (Iceberg inputs), for every plan."""
    p.add_argument(
        "--table-format",
        choices=("delta", "iceberg"),
        default=None,
        help="the format of feature tables that declare none (default: "
        "$FEATUREKIT_TABLE_FORMAT, else table_format in [tool.featurekit] of the nearest "
        "pyproject.toml, else delta); an Iceberg output adds Iceberg's runtime "
        "and confs to the plan (Glue --datalake-formats iceberg, EMR iceberg-defaults)",
    )
    p.add_argument(
        "--iceberg",
        action="store_true",
        help="add Iceberg's runtime and confs even if the job writes no Iceberg table (it "
        "reads one)",
    )


def add_coordinator_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--commit-coordinator",
        default="none",
        metavar="HOW",
        help="how concurrent writers of one table on S3 take turns: none (a second writer is "
        "refused), s3-conditional or dynamodb:TABLE (the job's role then needs DynamoDB "
        "access to TABLE; docs/s3.md)",
    )
    p.add_argument(
        "--commit-attempts",
        type=int,
        default=DEFAULT_ATTEMPTS,
        metavar="N",
        help="attempts of a commit that conflicts with another writer, retried with backoff "
        "when safe to repeat (default 5; 1: never retried; docs/s3.md)",
    )


def coordinator_note(args: argparse.Namespace) -> None:
    """A note on stderr naming the IAM actions the commit coordinator needs."""
    from featurekit.deploy.common import coordinator_note as note

    text = note(args.commit_coordinator)
    if text is not None:
        print(f"featurekit: note: {text}", file=sys.stderr)


def add_catalog_option(p: argparse.ArgumentParser) -> None:
    """``--catalog glue|local`` (default glue), and the old ``--no-glue-catalog``."""
    from featurekit.cli.common import add_deprecated_option

    p.add_argument(
        "--catalog",
        choices=("glue", "local"),
        default="glue",
        help="where the job finds and registers tables: the Glue Data Catalog (glue, the "
        "default; on EMR also Spark's Hive metastore) or the warehouse's own catalog (local)",
    )
    add_deprecated_option(p, "--no-glue-catalog", new="--catalog", dest="catalog", fixed="local")


def _no_quality_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-quality",
        dest="check_quality",
        action="store_false",
        help="run without evaluating the job's DQDL rulesets (and without Deequ's jars)",
    )


def _release_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--release-label",
        default="emr-7.12.0",
        help="the EMR release the job runs on (its Spark line decides whether Deequ can)",
    )


def _emr_args(p: argparse.ArgumentParser) -> None:
    _job_args(p)
    _release_arg(p)
    p.add_argument("--cluster-id", required=True, help="EMR cluster id (j-...)")
    p.add_argument("--action-on-failure", default="CONTINUE")
    p.add_argument("--deploy-mode", choices=("cluster", "client"), default="cluster")


def _serverless_args(p: argparse.ArgumentParser) -> None:
    _job_args(p)
    _release_arg(p)
    p.add_argument("--application-id", required=True, help="EMR Serverless application id")
    p.add_argument("--role-arn", required=True, help="job execution role ARN")
    p.add_argument("--client-token", help="idempotency token (default: a new UUID)")
    p.add_argument("--log-uri", help="S3 log location (default: ARTIFACTS/logs/)")


def _call(args: argparse.Namespace) -> JobCall:
    """The job's call, its parameters and dates checked as ``featurekit run`` checks them
    (an unknown or malformed parameter would only fail on the cluster)."""
    from featurekit.job import make_context
    from featurekit.registry import get_job

    params = split_assignments(args.param or [])
    make_context(get_job(args.job), "plan", params=params, start=args.start, end=args.end)
    return JobCall(
        args.job,
        params=params,
        start=args.start,
        end=args.end,
        warehouse=args.warehouse,
        engine=args.engine,
        check_quality=args.check_quality,
        commit_coordinator=args.commit_coordinator,
        commit_attempts=args.commit_attempts,
        # glue is every AWS target's default (the plans set it up); only local is passed on
        catalog=None if args.catalog == "glue" else args.catalog,
        table_format=args.table_format,
        iceberg=args.iceberg or _writes_iceberg(args),
    )


def _writes_iceberg(args: argparse.Namespace) -> bool:
    """True when the job (found in the installed jobs) writes an Iceberg table."""
    from featurekit.deploy.common import uses_iceberg
    from featurekit.registry import get_job

    return uses_iceberg(get_job(args.job), args.table_format)


def package_for(args: argparse.Namespace) -> Any:
    """The package of ``--dist``, checked: every artifact as built, the job inside."""
    from featurekit.deploy.artifacts import Package
    from featurekit.deploy.common import check_s3_prefix

    check_s3_prefix(args.artifacts)
    package = Package.load(Path(args.dist))
    package.check_job(args.job)
    return package


def emr_jars(args: argparse.Namespace, package: Any) -> tuple[str, ...]:
    """Deequ's jars in the package when the job declares rulesets (and --no-quality is not
    given); an error when the release's Spark line has no Deequ build."""
    from featurekit.deploy.quality_jars import emr_spark_line, job_jars

    line = emr_spark_line(args.release_label)
    return job_jars(
        package, args.job, spark_line=line, target=args.release_label, quality=args.check_quality
    )


def add_glue_job_options(p: argparse.ArgumentParser) -> None:
    """The Glue job definition options shared by ``plan glue`` and ``deploy glue``."""
    p.add_argument("--glue-version", default="5.1")
    p.add_argument("--worker-type", default="G.1X")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--bookmarks", choices=("enable", "disable", "pause"))
    p.add_argument("--execution-class", default="STANDARD", choices=("STANDARD", "FLEX"))


def glue_plan_from(args: argparse.Namespace, package: Any) -> Any:
    """The GluePlan of parsed ``plan glue`` / ``deploy glue`` arguments: with Deequ's jars
    from ``package`` when the job declares rulesets (unless --no-quality)."""
    from featurekit.deploy.glue_plan import GLUE_VERSIONS, GluePlan
    from featurekit.deploy.quality_jars import glue_spark_line, job_jars

    jars: tuple[str, ...] = ()
    if args.glue_version in GLUE_VERSIONS:  # else GluePlan names the bad version
        jars = job_jars(
            package,
            args.job,
            spark_line=glue_spark_line(args.glue_version),
            target=f"Glue {args.glue_version}",
            quality=args.check_quality,
        )
    return GluePlan(
        job=args.job,
        artifacts=args.artifacts,
        glue_version=args.glue_version,
        worker_type=args.worker_type,
        workers=args.workers,
        role=args.role_arn,
        bookmarks=args.bookmarks,
        warehouse=args.warehouse,
        catalog=args.catalog,
        execution_class=args.execution_class,
        jars=jars,
        check_quality=args.check_quality,
        table_format=args.table_format,
        iceberg=args.iceberg,
        commit_coordinator=args.commit_coordinator,
        commit_attempts=args.commit_attempts,
    )


def emr_request(args: argparse.Namespace) -> dict[str, Any]:
    from featurekit.deploy.emr_plan import add_step_request

    package = package_for(args)
    return add_step_request(
        _call(args),
        cluster_id=args.cluster_id,
        artifacts=args.artifacts,
        name=args.name,
        action_on_failure=args.action_on_failure,
        deploy_mode=args.deploy_mode,
        glue_catalog=args.catalog == "glue",
        conf=split_assignments(args.conf or []),
        jars=emr_jars(args, package),
    )


def serverless_request(args: argparse.Namespace) -> dict[str, Any]:
    from featurekit.deploy.emr_serverless_plan import start_job_run_request

    package = package_for(args)
    return start_job_run_request(
        _call(args),
        application_id=args.application_id,
        role_arn=args.role_arn,
        artifacts=args.artifacts,
        name=args.name,
        client_token=args.client_token,
        glue_catalog=args.catalog == "glue",
        log_uri=args.log_uri,
        conf=split_assignments(args.conf or []),
        venv=package.venv,
        jars=emr_jars(args, package),
    )


def _print_plan(
    service: str, operation: str, request: dict[str, Any], args: argparse.Namespace
) -> int:
    coordinator_note(args)
    try:
        from featurekit.deploy.aws import validate_request

        validate_request(service, operation, request)
    except ImportError:
        print(f"note: botocore is not installed; {operation} not validated.", file=sys.stderr)
    print(json.dumps(request, indent=2))
    return 0


def cmd_plan_emr(args: argparse.Namespace) -> int:
    return _print_plan("emr", "AddJobFlowSteps", emr_request(args), args)


def cmd_plan_serverless(args: argparse.Namespace) -> int:
    return _print_plan("emr-serverless", "StartJobRun", serverless_request(args), args)


def _aws_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--region", help="AWS region (default: boto3's)")
    p.add_argument("--endpoint-url", help="AWS endpoint (moto, LocalStack)")
    p.add_argument("--no-wait", dest="wait", action="store_false", help="do not wait for the run")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait (default 3600)")
    p.add_argument("--poll", type=float, default=10.0, help="seconds between polls (default 10)")


def _aws(args: argparse.Namespace, request: Any) -> Any:
    """Upload exactly the artifacts ``request`` names, then the AWS client."""
    from featurekit.deploy.artifacts import Package, named_artifacts
    from featurekit.deploy.aws import Aws, AwsSettings

    names = named_artifacts(request, args.artifacts)
    Package.load(Path(args.dist)).check_named(names)
    settings = AwsSettings(
        region=args.region,
        endpoint_url=args.endpoint_url,
        poll_seconds=args.poll,
        timeout_seconds=args.timeout,
    )
    aws = Aws(settings)
    aws.upload_artifacts(Path(args.dist), args.artifacts, names)
    return aws


def _outcome(state: Any, wait: bool) -> int:
    """Print the final state as JSON; 0 when it succeeded (or is running and we did not wait)."""
    if state.succeeded:
        outcome = "succeeded"
    elif state.done:
        outcome = "failed"
    else:
        outcome = "timeout" if wait else "pending"
    doc = {"service": state.service, "id": state.run_id, "state": state.state, "outcome": outcome}
    print(json.dumps(doc))
    if outcome == "timeout":
        print(f"featurekit: {state.service} {state.run_id} still {state.state}", file=sys.stderr)
    return STATE_EXIT[outcome]


def cmd_deploy_emr(args: argparse.Namespace) -> int:
    request = emr_request(args)
    state = _aws(args, request).add_step(request, wait=args.wait)
    return _outcome(state, args.wait)


def cmd_deploy_serverless(args: argparse.Namespace) -> int:
    request = serverless_request(args)
    state = _aws(args, request).start_serverless_run(request, wait=args.wait)
    return _outcome(state, args.wait)


def cmd_deploy_glue(args: argparse.Namespace) -> int:
    """Create or update the Glue job with the exact request ``featurekit plan glue`` prints."""
    from featurekit.deploy.glue_deploy import run_arguments
    from featurekit.deploy.glue_plan import create_job_request
    from featurekit.registry import get_job

    package = package_for(args)
    plan = glue_plan_from(args, package)
    request = create_job_request(plan, get_job(args.job))
    aws = _aws(args, request)
    name = aws.upsert_glue_job(request)
    state = aws.start_glue_run(name, run_arguments(_call(args)), wait=args.wait)
    return _outcome(state, args.wait)


def add_deploy_subcommands(deploy_sub: Any) -> None:
    """``deploy emr``, ``deploy emr-serverless`` and ``deploy glue``."""
    p = deploy_sub.add_parser("emr", help="upload artifacts, add the job as an EMR step, wait")
    _emr_args(p)
    _aws_args(p)
    p.set_defaults(handler=cmd_deploy_emr)
    p = deploy_sub.add_parser("emr-serverless", help="upload artifacts, start a job run, wait")
    _serverless_args(p)
    _aws_args(p)
    p.set_defaults(handler=cmd_deploy_serverless)
    p = deploy_sub.add_parser("glue", help="upload artifacts, create/update the Glue job, run it")
    _job_args(p)
    p.add_argument("--role-arn", required=True, help="the Glue job's IAM role ARN")
    add_glue_job_options(p)
    _aws_args(p)
    p.set_defaults(handler=cmd_deploy_glue)
    from featurekit.cli.workflow import add_deploy

    add_deploy(deploy_sub)


def add_plan_subcommands(plan_sub: Any) -> None:
    """Add ``emr`` and ``emr-serverless`` to an existing ``featurekit plan`` subparsers object."""
    p = plan_sub.add_parser("emr", help="print the EMR AddJobFlowSteps request of a job")
    _emr_args(p)
    p.set_defaults(handler=cmd_plan_emr)
    p = plan_sub.add_parser(
        "emr-serverless", help="print the EMR Serverless StartJobRun request of a job"
    )
    _serverless_args(p)
    p.set_defaults(handler=cmd_plan_serverless)


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    deploy = sub.add_parser("deploy", help="upload the artifacts and run a job on AWS")
    add_deploy_subcommands(deploy.add_subparsers(dest="deploy_target", required=True))
