"""``featurekit glue run|bookmark``: run unmodified Glue scripts locally, inspect bookmarks.

    featurekit glue run SCRIPT [--warehouse DIR] [--dist DIR --artifacts s3://B/P] -- ARGS...
    featurekit glue run --plan PLAN.json [--dist DIR] [--warehouse DIR] [-- ARGS...]
    featurekit glue bookmark show JOB [--warehouse DIR]
    featurekit glue bookmark reset JOB [--run-id ID] [--warehouse DIR]

``glue run`` starts a local SparkSession, installs featurekit's awsglue emulation
in place of ``awsglue`` (``awsglue.utils`` stays the real one) and runs the script
as ``__main__`` with ``sys.argv = [SCRIPT, *SCRIPT_ARGS]``, adding what Glue always
passes when missing: ``--JOB_NAME`` (the script's name) and a fresh ``--JOB_RUN_ID``.
Glue's special job parameters among the arguments (``--extra-jars``, ``--conf``, ...) are
applied before the session is built (:mod:`featurekit.cli.glue_params`). ``--plan`` runs
the job a ``featurekit plan glue`` JSON defines: its script and DefaultArguments, the
package's files taken from ``--dist``. ``--glue-version`` (or the plan's GlueVersion) names
the Glue release emulated (:mod:`featurekit.cli.glue_version`); ``--connections`` maps Glue
connection names (:mod:`featurekit.glue_local.connections`); moto's server stands in for
the script's boto3 S3 and DynamoDB calls (:mod:`featurekit.cli.glue_services`).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import runpy
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Optional

from featurekit.cli.glue_version import GLUE_VERSIONS
from featurekit.core.unreadable import data_unreadable
from featurekit.errors import ConfigError, FeatureKitError
from featurekit.glue_local.connections import DEFAULT_FILE as DEFAULT_CONNECTIONS
from featurekit.warehouse import open_warehouse

# A script naming a JDBC engine gets H2's driver on the session's classpath from the start,
# so its own spark.read.jdbc(...) finds the embedded database's driver as Glue's would.
JDBC_SCRIPT = re.compile(r"jdbc|postgresql|mysql|sqlserver|oracle|redshift", re.IGNORECASE)


def glue_argv(script: str, script_args: Sequence[str]) -> list[str]:
    """``sys.argv`` for the script: its args, plus JOB_NAME / a fresh JOB_RUN_ID when missing.

    >>> glue_argv("etl.py", ["--JOB_NAME", "x"])[:3]
    ['etl.py', '--JOB_NAME', 'x']
    """
    from featurekit.runtime.glue import given

    argv = [script, *script_args]
    if not given(argv, "JOB_NAME"):
        argv += ["--JOB_NAME", Path(script).stem]
    if not given(argv, "JOB_RUN_ID"):
        argv += ["--JOB_RUN_ID", f"jr_{uuid.uuid4().hex}"]
    return argv


def run_script(
    script: str, script_args: Sequence[str], runtime: Any, connections: Any = None
) -> int:
    """Run a Glue script with the emulation installed on ``runtime``'s warehouse and session;
    ``connections`` (:class:`featurekit.glue_local.connections.Connections`) say what the
    script's Glue connections are (None: none mapped, embedded databases in the warehouse)."""
    from featurekit.glue_local.install import installed

    path = Path(script)
    if not path.is_file():
        raise ConfigError(f"Glue script {script!r} not found.")
    saved_argv = sys.argv
    sys.argv = glue_argv(script, script_args)
    try:
        with (
            installed(storage=runtime.storage, s3=runtime.config.s3, connections=connections),
            s3_paths(runtime),
        ):
            runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as exc:
        # what the script cannot fix by itself: a bucket, or files Spark cannot read
        mapped: Optional[FeatureKitError] = unmapped_bucket(exc, runtime.storage.warehouse.uri)
        if mapped is None and not isinstance(exc, FeatureKitError):
            mapped = data_unreadable(exc, f"An input of the Glue script {path.name}")
        if mapped is None:
            raise
        raise mapped from exc
    finally:
        sys.argv = saved_argv
    return 0


def s3_conf(runtime: Any) -> dict[str, str]:
    """Hadoop settings for the script's own ``s3://`` paths: into the runtime's warehouse
    (one mount per bucket folder present now), or S3A for an S3 warehouse."""
    from featurekit.runtime.s3 import SCHEMES, local_s3_conf

    if runtime.config.s3 is not None:
        conf: dict[str, str] = runtime.config.s3.hadoop_conf()
    else:
        conf = local_s3_conf(Path(runtime.storage.warehouse.uri).expanduser().resolve())
    # A fresh FileSystem per use: one cached for an earlier warehouse would keep its mounts.
    conf.update({f"fs.{scheme}.impl.disable.cache": "true" for scheme in SCHEMES})
    return conf


@contextmanager
def s3_paths(runtime: Any) -> Iterator[None]:
    """Spark's ``s3://`` goes to the runtime's warehouse while the script runs; the session's
    previous Hadoop settings are restored afterwards (tests share one session)."""
    hadoop = runtime.spark.sparkContext._jsc.hadoopConfiguration()
    conf: Mapping[str, str] = s3_conf(runtime)
    saved = {key: hadoop.get(key) for key in conf}
    for key, value in conf.items():
        hadoop.set(key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                hadoop.unset(key)
            else:
                hadoop.set(key, value)


def unmapped_bucket(exc: Exception, warehouse: str) -> Optional[ConfigError]:
    """A ConfigError for Spark's ``s3://`` path of a bucket the local warehouse does not map."""
    text = str(exc)
    marks = (
        "No overload scheme fs configured",
        "Could not initialize target File System",
        'No FileSystem for scheme "s3',
    )
    if not any(mark in text for mark in marks):
        return None
    found = re.search(r"s3[an]?://([^/\s'\"]+)", text)
    bucket = found.group(1) if found else "BUCKET"
    return ConfigError(
        f"s3://{bucket}/... is not in the local warehouse: Spark's s3:// paths map to "
        f"{warehouse}/_s3/BUCKET for the bucket folders present when the script starts. "
        f"Create {warehouse}/_s3/{bucket} (as you would create the bucket), or use an "
        "s3:// warehouse with an S3 endpoint."
    )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """``glue run``'s own options besides the runtime's."""
    parser.add_argument(
        "--plan", metavar="PLAN.json", help="run the Glue job 'featurekit plan glue' printed"
    )
    parser.add_argument(
        "--dist",
        metavar="DIR",
        help="the folder 'featurekit package' built: s3:// paths under the artifacts prefix "
        "(the plan's, or --artifacts) are read from it (default with --plan: dist)",
    )
    parser.add_argument(
        "--artifacts", metavar="s3://BUCKET/PREFIX", help="the S3 prefix --dist stands for"
    )
    parser.add_argument(
        "--glue-version",
        choices=GLUE_VERSIONS,
        help="the Glue release to emulate (5.1: Spark 3.5 / Python 3.11, 6.0: Spark 4.1 / "
        "Python 3.13); a local Spark of another line is refused (default: the plan's "
        "GlueVersion, else the release of the installed pyspark)",
    )
    parser.add_argument(
        "--connections",
        metavar="FILE",
        help="Glue connection names -> JDBC URLs and credentials, DynamoDB's endpoint (TOML "
        f"or JSON; default: ./{DEFAULT_CONNECTIONS} when present); unmapped JDBC "
        "connections use an embedded H2 database under WAREHOUSE/_jdbc",
    )
    parser.add_argument(
        "--connection",
        action="append",
        default=[],
        metavar="NAME=jdbc:URL|NAME=ENGINE",
        help="one Glue connection (over the file's): a JDBC URL (credentials in it), or an "
        "engine (postgresql, redshift, mysql, sqlserver, oracle) for the embedded database",
    )
    parser.add_argument(
        "--aws-services",
        choices=("auto", "on", "off"),
        default="auto",
        help="moto's server on 127.0.0.1 for the script's boto3 S3 calls (the warehouse's "
        "_s3 buckets) and DynamoDB connections (auto: when the script names boto3 or dynamodb)",
    )


def split_run_args(
    args: argparse.Namespace, add_runtime_args: Callable[[argparse.ArgumentParser], None]
) -> tuple[argparse.Namespace, list[str]]:
    """Options before ``--`` are featurekit's (``--warehouse``...), the rest the script's.
    Without ``--`` every argument is the script's, and one named as featurekit's options
    are is refused: it would silently not apply (another warehouse read as empty)."""
    rest = list(args.script_args)
    own = argparse.ArgumentParser(prog="featurekit glue run SCRIPT", add_help=False)
    add_runtime_args(own)
    add_run_options(own)
    if "--" not in rest:
        flags = {f for action in own._actions for f in action.option_strings}
        misplaced = next((a for a in rest if a.split("=", 1)[0] in flags), None)
        if misplaced is not None:
            name = misplaced.split("=", 1)[0]
            raise ConfigError(
                f"{name} comes after the script with no '--', so it would be the script's "
                "own argument (as Glue passes job arguments), not featurekit's. Put "
                f"featurekit's options before the script or before '--': featurekit glue run "
                f"{args.script} {name} ... -- [SCRIPT ARGUMENTS]; if the script itself takes "
                f"{name}, pass it after '--'."
            )
        return args, rest
    cut = rest.index("--")
    own.parse_args(rest[:cut], namespace=args)
    return args, rest[cut + 1 :]


def _source(script: str) -> str:
    try:
        return Path(script).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"Cannot read the Glue script {script}: {exc}") from exc


def _inputs(
    args: argparse.Namespace, add_runtime_args: Callable[[argparse.ArgumentParser], None]
) -> tuple[argparse.Namespace, str, list[str], Any]:
    """The script, its arguments and the Locations of their s3:// paths."""
    from featurekit.cli.glue_params import load_plan, merged_arguments

    if args.plan is not None:  # argparse took '--' and gave its first argument to `script`
        extra = [*([args.script] if args.script is not None else []), *args.script_args]
        plan = load_plan(args.plan, args.artifacts)
        args.plan_glue_version = plan.glue_version
        where = _locations(args, args.dist or "dist", plan.artifacts)
        script = str(where.existing(plan.script, "The plan's ScriptLocation"))
        return (
            args,
            script,
            merged_arguments({"--JOB_NAME": plan.name, **plan.arguments}, extra),
            where,
        )
    if args.script is None:
        raise ConfigError("Give the Glue script to run, or --plan PLAN.json.")
    args, script_args = split_run_args(args, add_runtime_args)
    if args.plan is not None:
        raise ConfigError(f"Give a script ({args.script}) or --plan, not both.")
    return args, args.script, script_args, _locations(args, args.dist, args.artifacts)


def _locations(args: argparse.Namespace, dist: Optional[str], artifacts: Optional[str]) -> Any:
    from featurekit.cli.glue_params import Locations
    from featurekit.warehouse import S3_SCHEMES

    if artifacts is not None and not artifacts.startswith("s3://"):
        raise ConfigError(f"--artifacts must be s3://BUCKET/PREFIX, got {artifacts!r}.")
    local = not args.warehouse.startswith(S3_SCHEMES)
    return Locations(
        warehouse=Path(args.warehouse).expanduser().resolve() if local else None,
        dist=Path(dist).expanduser().resolve() if dist else None,
        artifacts=artifacts.rstrip("/") if artifacts else None,
    )


def _note(message: str) -> None:
    print(f"featurekit: note: {message}", file=sys.stderr)


def _check_catalog(args: argparse.Namespace, script_args: Sequence[str], params: Any) -> None:
    """The job's own catalog choice must be one this run can serve."""
    from featurekit.cli.glue_params import pairs

    wanted = dict(pairs(script_args)).get("--featurekit_catalog")
    if wanted == "glue" and args.catalog != "glue":
        raise ConfigError(
            "The job's arguments say --featurekit_catalog glue (the Glue Data Catalog) and this "
            "run's catalog is the warehouse's own: pass --catalog glue (with --catalog-endpoint "
            "URL for moto or LocalStack) to use a Glue Data Catalog, or add "
            "'-- --featurekit_catalog local' (or plan with --catalog local)."
        )
    if params.glue_datacatalog and args.catalog != "glue":
        _note(
            "--enable-glue-datacatalog: tables are looked up in the warehouse's own catalog "
            "here, which stands in for the Glue Data Catalog (--catalog glue uses one)"
        )


def _running_session() -> Any:
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def _emulated(args: argparse.Namespace) -> Any:
    from featurekit.cli.glue_version import emulated

    found = emulated(args.glue_version, getattr(args, "plan_glue_version", None))
    _note(found.summary())
    for note in found.notes:
        _note(note)
    return found


def _connections(args: argparse.Namespace, where: Any) -> Any:
    from featurekit.glue_local.connections import load_connections, with_flags

    root = where.warehouse / "_jdbc" if where.warehouse is not None else None
    return with_flags(load_connections(args.connections, jdbc_root=root), args.connection)


def _jdbc_jars(source: str) -> tuple[str, ...]:
    from featurekit.core import jars
    from featurekit.glue_local.jdbc import H2_COORDINATE

    if JDBC_SCRIPT.search(source) is None:
        return ()
    try:
        return tuple(jars.resolve([H2_COORDINATE], report=_note))
    except jars.JarResolutionError as exc:  # the script may not need it: JDBC calls will say
        _note(f"H2's driver for the embedded JDBC database could not be resolved: {exc}")
        return ()


def _with_classpath(confs: dict[str, str], jars: Sequence[str]) -> dict[str, str]:
    """``jars`` on the JVM's own classpath (a JDBC driver must be there for
    java.sql.DriverManager to hand it to Spark's reader without a ``driver`` option)."""
    import os

    for key in ("spark.driver.extraClassPath", "spark.executor.extraClassPath"):
        paths = [p for p in confs.get(key, "").split(os.pathsep) if p]
        confs[key] = os.pathsep.join([*paths, *(j for j in jars if j not in paths)])
        if not confs[key]:
            del confs[key]
    return confs


def cmd_run(
    args: argparse.Namespace, add_runtime_args: Callable[[argparse.ArgumentParser], None]
) -> int:
    from dataclasses import replace

    from featurekit.cli.common import local_config
    from featurekit.cli.glue_params import applied, check_modules, check_running, parse
    from featurekit.cli.glue_services import started, with_endpoint
    from featurekit.core import jars
    from featurekit.runtime.local import LocalRuntime

    args, script, script_args, where = _inputs(args, add_runtime_args)
    _emulated(args)
    params = parse(script_args, where)
    _check_catalog(args, script_args, params)
    check_modules(params.modules, params.py_files)
    connections = _connections(args, where)
    if params.not_emulated:
        _note(f"not emulated (they matter on AWS only): {', '.join(params.not_emulated)}")
    if params.temp_dir is not None:
        params.temp_dir.mkdir(parents=True, exist_ok=True)
    source = _source(script)
    # a script with Glue Studio's data-quality node needs Deequ's engine on the classpath
    # (Glue provides it); featurekit's rulesets get it from --extra-jars, as on Glue
    config = local_config(args, quality="awsgluedq" in source, iceberg=params.iceberg)
    delta = (jars.delta_coordinate(),) if params.delta and not config.delta_jars else ()
    running = _running_session()
    config = replace(
        config,
        jars=params.jars,
        py_files=params.py_files,
        packages=(*config.packages, *delta),
        spark_conf=_with_classpath(
            {**config.spark_conf, **params.session_confs()},
            _jdbc_jars(source) if running is None else (),
        ),
    )
    confs: dict[str, str] = {}
    if running is not None:  # tests share one session: it must have what the run asks
        confs = check_running(running, params, _note)
        runtime = LocalRuntime(replace(config, spark_conf={}), spark=running)
    else:  # builds the SparkSession the script's getOrCreate() finds
        runtime = LocalRuntime(config)
    with (
        started(
            args.aws_services, source, where.warehouse, connections.dynamodb_endpoint
        ) as services,
        applied(runtime.spark, confs, params.py_files),
    ):
        return run_script(script, script_args, runtime, with_endpoint(connections, services))


def _bookmark_store(where: str) -> Any:
    """The bookmarks of the warehouse ``where``; an UnsupportedError for an S3 warehouse,
    which keeps none (``glue run`` refuses bookmarks there), rather than a local folder
    named ``s3:``."""
    from featurekit.glue_local.bookmarks import BookmarkStore

    store = BookmarkStore(open_warehouse(where))
    store.check_local()
    return store


def cmd_bookmark_show(args: argparse.Namespace) -> int:
    doc = _bookmark_store(args.warehouse).show(args.job)
    if args.json:
        print(json.dumps(doc, indent=2, sort_keys=True))
        return 0
    runs = doc["runs"]
    latest = f", latest {runs[-1]['run_id']}" if runs else ""
    print(f"{args.job}: bookmark version {doc['version']}, {len(runs)} committed run(s){latest}")
    for ctx, state in sorted(doc["current"].items()):
        print(f"  {ctx}: {state.get('kind', '?')}, {len(state.get('files', {}))} files")
    return 0


def cmd_bookmark_reset(args: argparse.Namespace) -> int:
    doc = _bookmark_store(args.warehouse).reset(args.job, args.run_id)
    if args.json:
        print(json.dumps({"job": args.job, "run_id": args.run_id, "runs_kept": len(doc["runs"])}))
        return 0
    where = f"to run {args.run_id}" if args.run_id else "to the start (next run reads everything)"
    print(f"Job bookmark of {args.job!r} reset {where}; {len(doc['runs'])} committed run(s) kept.")
    return 0


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    glue = sub.add_parser("glue", help="run Glue scripts locally; job bookmarks")
    gsub = glue.add_subparsers(dest="glue_command", required=True, metavar="ACTION")

    p = gsub.add_parser("run", help="run a Glue script locally (awsglue emulated)")
    p.add_argument("script", nargs="?", help="the Glue job script (.py); or --plan")
    p.add_argument(
        "script_args", nargs=argparse.REMAINDER, help="[--warehouse DIR ...] -- SCRIPT_ARGS"
    )
    add_runtime_args(p)
    add_run_options(p)
    p.set_defaults(handler=functools.partial(cmd_run, add_runtime_args=add_runtime_args))

    bookmark = gsub.add_parser("bookmark", help="show or reset a job's bookmark")
    bsub = bookmark.add_subparsers(dest="bookmark_command", required=True, metavar="ACTION")
    p = bsub.add_parser("show", help="the committed bookmark state and runs")
    p.add_argument("job", help="the Glue job name (JOB_NAME)")
    p.add_argument("--json", action="store_true", help="print the bookmark document")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_bookmark_show)
    p = bsub.add_parser("reset", help="rewind: everything, or to a committed run")
    p.add_argument("job", help="the Glue job name (JOB_NAME)")
    p.add_argument("--run-id", help="rewind to the state this run committed")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_bookmark_reset)
