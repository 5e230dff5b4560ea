"""The EMR runtime: the SparkSession that ``spark-submit`` set up (EMR step, EMR Serverless).

The session comes from the submit context with ``getOrCreate()``: master,
deploy mode, jars and cluster confs are spark-submit's business. featurekit only
adds the few session settings that make outputs identical on every runtime
(UTC session time zone, microsecond parquet timestamps, ANSI off as on Spark
3.5), and sets Spark's log level to WARN (``--log-level``): EMR's log4j configuration
logs at INFO, tens of thousands of lines a step. Arguments are parsed by argparse with
the same names and meaning as ``featurekit run``::

    spark-submit --py-files featurekit.zip emr_step.py \\
        --job user_activity_daily --param min_events=2 \\
        --start 2026-01-01 --end 2026-01-07 --warehouse /mnt/warehouse

Tables: delta-spark when the Delta jars are on the classpath (EMR with the
``delta-defaults`` classification, EMR Serverless with the Delta jars), delta-rs
otherwise (``--engine`` forces one). The Glue Data Catalog as Hive metastore is a
cluster setting (classification ``spark-hive-site``, or
``spark.hadoop.hive.metastore.client.factory.class`` on Serverless); the plans
in :mod:`featurekit.deploy` set it, see docs/emr.md. featurekit's own catalog follows
(``--catalog auto``): with that integration on, tables are read from and registered in the
Glue Data Catalog; without it, in the warehouse's own catalog.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import inspect
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Optional

from featurekit.errors import ConfigError, FeatureKitError, MissingDependencyError, UnsupportedError
from featurekit.params import split_assignments
from featurekit.runtime.base import Runtime, RuntimeConfig
from featurekit.tables.catalogs import glue_metastore_enabled
from featurekit.tables.commits import CommitCoordinator
from featurekit.tables.conflicts import DEFAULT_ATTEMPTS, CommitRetry
from featurekit.tables.glue_catalog import GlueCatalogConfig
from featurekit.warehouse import DEFAULT_WAREHOUSE, S3_SCHEMES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from featurekit.runs import RunRecord

# Settings that make the output identical to the local and Glue runtimes.
SESSION_DEFAULTS: Mapping[str, str] = MappingProxyType(
    {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.ansi.enabled": "false",
    }
)
ENGINES = ("auto", "delta-spark", "delta-rs")
# Spark's log levels (SparkContext.setLogLevel); WARN unless the step asks for more
LOG_LEVELS = ("ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF")
DEFAULT_LOG_LEVEL = "WARN"
REMOTE_SCHEMES = ("s3://", "s3a://", "s3n://", "hdfs://", "gs://", "abfs://")


@dataclass(frozen=True)
class EmrConfig(RuntimeConfig):
    """EMR runtime settings; ``spark_conf`` overrides :data:`SESSION_DEFAULTS`."""

    app_name: str = "featurekit"
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    log_level: str = DEFAULT_LOG_LEVEL

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"--engine must be one of {', '.join(ENGINES)}, got {self.engine!r}.")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(
                f"--log-level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}."
            )
        if self.warehouse.startswith(REMOTE_SCHEMES) and not self.warehouse.startswith(S3_SCHEMES):
            raise UnsupportedError(
                f"--warehouse {self.warehouse!r}: a featurekit warehouse is a local or mounted "
                "folder or an s3://bucket/prefix."
            )


@dataclass(frozen=True)
class StepArgs:
    """The parsed command line of an EMR step: which job, with what, where."""

    job: str
    params: Mapping[str, str]
    start: Optional[dt.date]
    end: Optional[dt.date]
    config: EmrConfig
    json: bool = False


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-01-31, got {text!r}") from exc


def build_parser(default_warehouse: str = DEFAULT_WAREHOUSE) -> argparse.ArgumentParser:
    """The step's argument parser: ``featurekit run``'s options, with the job as ``--job``."""
    p = argparse.ArgumentParser(prog="emr_step.py", description="Run a featurekit job.")
    p.add_argument("--job", required=True, help="name of the job to run")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="job parameter")
    p.add_argument("--start", type=_date, help="first date to (re)build, inclusive")
    p.add_argument("--end", type=_date, help="last date to (re)build, inclusive")
    p.add_argument("--json", action="store_true", help="print the run record as JSON")
    p.add_argument("--warehouse", default=default_warehouse, help="warehouse folder")
    p.add_argument("--engine", choices=ENGINES, default="auto", help="Delta table engine")
    p.add_argument("--state", help="incremental state store (default: WAREHOUSE/_state)")
    p.add_argument(
        "--table-format",
        choices=("delta", "iceberg"),
        default="delta",
        help="the format of feature tables that declare none (default delta)",
    )
    p.add_argument(
        "--commit-coordinator",
        default="none",
        help="how concurrent writers of one table on S3 take turns: none, s3-conditional "
        "or dynamodb:TABLE (docs/s3.md)",
    )
    p.add_argument(
        "--commit-attempts",
        type=int,
        default=DEFAULT_ATTEMPTS,
        help="attempts of a commit that conflicts with another writer, retried with "
        "backoff when safe to repeat (default 5; docs/s3.md)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=DEFAULT_LOG_LEVEL,
        help=f"Spark's log level for the step (default {DEFAULT_LOG_LEVEL}; INFO is EMR's "
        "own default, tens of thousands of lines)",
    )
    p.add_argument(
        "--no-quality",
        dest="check_quality",
        action="store_false",
        help="do not evaluate the job's DQDL rulesets (the run records a warning naming them)",
    )
    p.add_argument(
        "--catalog",
        choices=("auto", "local", "glue"),
        default="auto",
        help="auto: the Glue Data Catalog when Spark's metastore is (EMR's Glue catalog "
        "integration), else the warehouse's own",
    )
    p.add_argument("--catalog-region", help="the Glue Data Catalog's region")
    p.add_argument("--catalog-id", help="the Glue Data Catalog's account id")
    return p


def parse_step_args(argv: Sequence[str], *, default_warehouse: str = DEFAULT_WAREHOUSE) -> StepArgs:
    """Parse a step's arguments once, at the edge, into frozen settings.

    Example::

        parse_step_args(["--job", "user_activity_daily", "--param", "min_events=2"])
    """
    ns = build_parser(default_warehouse).parse_args(list(argv))
    if (ns.start is None) != (ns.end is None):
        raise ConfigError("Give both --start and --end, or neither.")
    glue = GlueCatalogConfig(region=ns.catalog_region, catalog_id=ns.catalog_id)
    config = EmrConfig(
        warehouse=ns.warehouse,
        engine=ns.engine,
        quiet=ns.quiet,
        state=ns.state,
        catalog=ns.catalog,
        glue_catalog=glue,
        check_quality=ns.check_quality,
        log_level=ns.log_level,
        table_format=ns.table_format,
        commit_coordinator=str(CommitCoordinator.parse(ns.commit_coordinator)),
        commit_attempts=CommitRetry(attempts=ns.commit_attempts).attempts,  # checked here
    )
    params = split_assignments(ns.param or [])
    return StepArgs(ns.job, params, ns.start, ns.end, config, json=ns.json)


def get_session(config: EmrConfig) -> SparkSession:
    """The submit context's SparkSession (``getOrCreate``) with featurekit's session settings
    and Spark's log level ``config.log_level`` (what Spark logs while it starts, before
    there is a session to set it on, still follows the cluster's log4j configuration)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise MissingDependencyError("pyspark", "local", "The EMR runtime") from exc
    builder = SparkSession.builder.appName(config.app_name)
    for key, value in {**SESSION_DEFAULTS, **config.spark_conf}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(config.log_level)
    return session


class EmrRuntime(Runtime):
    """Runs jobs on the session of a spark-submit (EMR step, EMR Serverless, local)."""

    name = "emr"

    def __init__(self, config: Optional[EmrConfig] = None, spark: Optional[SparkSession] = None):
        config = config or EmrConfig()
        session = spark or get_session(config)
        if config.catalog == "auto":
            conf = dict(session.sparkContext.getConf().getAll())
            kind = "glue" if glue_metastore_enabled(conf) else "local"
            config = dataclasses.replace(config, catalog=kind)
        super().__init__(session, config)


def run_step(args: StepArgs, spark: Optional[SparkSession] = None) -> RunRecord:
    """Run the job named in ``args`` on an :class:`EmrRuntime`; returns the run record."""
    from featurekit.registry import get_job

    job = get_job(args.job)  # before Spark starts: a typo fails in a second
    runtime = EmrRuntime(args.config, spark=spark)
    import featurekit

    runtime.report(f"featurekit {featurekit.__version__} from {featurekit.__file__}")
    runtime.report(f"job {args.job} from {inspect.getfile(job)}")  # which bundle shipped it
    return job().run(runtime, params=args.params, start=args.start, end=args.end)


def main(argv: Sequence[str], *, default_warehouse: str = DEFAULT_WAREHOUSE) -> int:
    """The step's main: parse, run, print the summary; 2 on a featurekit error."""
    try:
        args = parse_step_args(argv, default_warehouse=default_warehouse)
        record = run_step(args)
    except FeatureKitError as exc:
        print(f"featurekit: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(record.to_json(), indent=2, default=str))
    else:
        print(record.summary())
    return 0
