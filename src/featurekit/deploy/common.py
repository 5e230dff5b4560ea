"""What every plan shares: the job's command line, artifact URIs and the Delta/Glue confs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Optional

from featurekit.errors import ConfigError
from featurekit.tables.commits import CommitCoordinator
from featurekit.tables.conflicts import DEFAULT_ATTEMPTS, CommitRetry

# Delta Lake's session settings (Glue: with --datalake-formats delta; EMR: delta-defaults).
DELTA_CONFS: Mapping[str, str] = MappingProxyType(
    {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    }
)
GLUE_CATALOG_FACTORY = "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
GLUE_CATALOG_CONF = "spark.hadoop.hive.metastore.client.factory.class"
# Session settings that keep outputs identical to the local runtime.
PORTABLE_CONFS: Mapping[str, str] = MappingProxyType(
    {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "false"}
)


@dataclass(frozen=True)
class JobCall:
    """Which job to run and with what: becomes the entry script's arguments.

    Example::

        JobCall("user_activity_daily", params={"min_events": "2"}).arguments()
        # ['--job', 'user_activity_daily', '--param', 'min_events=2']
    """

    job: str
    params: Mapping[str, str] = field(default_factory=dict)
    start: Optional[dt.date] = None
    end: Optional[dt.date] = None
    warehouse: Optional[str] = None
    engine: str = "auto"
    check_quality: bool = True  # False: --no-quality, the job's rulesets are not evaluated
    catalog: Optional[str] = None  # local | glue; None: the target's default (glue on AWS)
    # how concurrent writers of one table on S3 take turns (featurekit.tables.commits)
    commit_coordinator: str = "none"
    # attempts of a conflicting commit, retried when safe (featurekit.tables.conflicts)
    commit_attempts: int = DEFAULT_ATTEMPTS

    def __post_init__(self) -> None:
        CommitCoordinator.parse(self.commit_coordinator)  # a clear error when malformed
        CommitRetry(attempts=self.commit_attempts)  # at least 1
        if not self.job.isidentifier():
            raise ConfigError(f"Job name {self.job!r} is not a valid job name (an identifier).")
        if (self.start is None) != (self.end is None):
            raise ConfigError("Give both --start and --end, or neither.")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ConfigError(f"--start {self.start} is after --end {self.end}.")
        if self.catalog not in (None, "local", "glue"):
            raise ConfigError(f"--catalog must be glue or local, got {self.catalog!r}.")

    def arguments(self) -> list[str]:
        args = ["--job", self.job]
        for name, value in sorted(self.params.items()):
            args += ["--param", f"{name}={value}"]
        if self.start is not None and self.end is not None:
            args += ["--start", self.start.isoformat(), "--end", self.end.isoformat()]
        if self.warehouse:
            args += ["--warehouse", self.warehouse]
        if self.engine != "auto":
            args += ["--engine", self.engine]
        if self.catalog is not None:
            args += ["--catalog", self.catalog]
        if not self.check_quality:
            args.append("--no-quality")
        if self.commit_coordinator != "none":
            args += ["--commit-coordinator", self.commit_coordinator]
        if self.commit_attempts != DEFAULT_ATTEMPTS:
            args += ["--commit-attempts", str(self.commit_attempts)]
        return args


def coordinator_note(spec: str) -> Optional[str]:
    """What the job's IAM role needs for the commit coordinator ``spec`` (None: nothing
    beyond reading and writing the warehouse)."""
    coordinator = CommitCoordinator.parse(spec)
    if coordinator.kind != "dynamodb":
        return None
    return (
        f"the job's role needs {', '.join(coordinator.iam_actions())} on the DynamoDB "
        f"table {coordinator.table} (arn:aws:dynamodb:REGION:ACCOUNT:table/{coordinator.table})"
    )


def check_s3_prefix(artifacts: str) -> str:
    """The artifacts prefix without its trailing slash; it must be ``s3://bucket[/key]``."""
    if not artifacts.startswith("s3://") or not artifacts[len("s3://") :].strip("/"):
        raise ConfigError(
            f"--artifacts must be an S3 prefix like s3://bucket/featurekit, got {artifacts!r}."
        )
    return artifacts.rstrip("/")


def artifact_uri(artifacts: str, name: str) -> str:
    """``s3://bucket/prefix/name`` for the artifact ``name``."""
    return f"{check_s3_prefix(artifacts)}/{name}"


def spark_confs(*, glue_catalog: bool, extra: Mapping[str, str]) -> dict[str, str]:
    """The ``--conf`` settings of a featurekit run: Delta, portability, Glue catalog, extras."""
    confs = {**DELTA_CONFS, **PORTABLE_CONFS}
    if glue_catalog:
        confs[GLUE_CATALOG_CONF] = GLUE_CATALOG_FACTORY
    confs.update(extra)
    return confs


def conf_args(confs: Mapping[str, str]) -> list[str]:
    """``["--conf", "k=v", ...]`` in a stable order."""
    args: list[str] = []
    for key, value in confs.items():
        args += ["--conf", f"{key}={value}"]
    return args
