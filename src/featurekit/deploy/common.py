"""What every plan shares: the job's command line, artifact URIs and the Delta, Iceberg and
Glue confs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Optional

from featurekit.errors import ConfigError
from featurekit.tables.commits import CommitCoordinator
from featurekit.tables.conflicts import DEFAULT_ATTEMPTS, CommitRetry
from featurekit.tables.iceberg_catalog import glue_catalog_confs

# Delta Lake's session settings (Glue: with --datalake-formats delta; EMR: delta-defaults).
DELTA_CONFS: Mapping[str, str] = MappingProxyType(
    {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    }
)
# Iceberg's session settings (Glue: with --datalake-formats iceberg; EMR: iceberg-defaults):
# its SQL extensions beside Delta's. With the Glue Data Catalog (featurekit's catalog on
# AWS unless a plan says local), :func:`iceberg_confs` also registers Iceberg's GlueCatalog
# under the name featurekit's Iceberg engine looks for, ``featurekit_iceberg``
# (tables.iceberg_catalog): the engine then keeps its tables there by name and GlueCatalog
# moves each entry's ``metadata_location`` under Glue's optimistic lock (``VersionId``).
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
ICEBERG_CONFS: Mapping[str, str] = MappingProxyType(
    {"spark.sql.extensions": f"{DELTA_CONFS['spark.sql.extensions']},{ICEBERG_EXTENSIONS}"}
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
    # the format of feature tables that declare none (--table-format); "delta" is not passed
    table_format: str = "delta"
    # the job writes or reads Iceberg tables: the plans add Iceberg's runtime and confs
    iceberg: bool = False
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
        if self.table_format not in ("delta", "iceberg"):
            raise ConfigError(
                f"--table-format must be delta or iceberg, got {self.table_format!r}."
            )

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
        if self.table_format != "delta":
            args += ["--table-format", self.table_format]
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


# a bucket name: letters, digits, dots, hyphens (and the underscores of old buckets);
# S3 checks the rest (length, lower case) when the plan is applied
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
# a region's name: us-east-1, ap-southeast-5, us-gov-west-1, cn-north-1
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
_ACCOUNT = re.compile(r"[0-9]{12}")
# an IAM role's path (printable ASCII between slashes) and name (IAM's characters, 1-64)
_ROLE = re.compile(r"role/(?:[!-~]+/)?[A-Za-z0-9_+=,.@-]{1,64}")


def check_s3_prefix(artifacts: str, option: str = "--artifacts") -> str:
    """The prefix without its trailing slash; it must be ``s3://bucket[/key]`` with a
    valid bucket name (``option`` names it in the error)."""
    bucket = artifacts[len("s3://") :].split("/", 1)[0] if artifacts.startswith("s3://") else ""
    if not _BUCKET.fullmatch(bucket):
        raise ConfigError(
            f"{option} must be an S3 prefix like s3://bucket/featurekit, got {artifacts!r}."
        )
    return artifacts.rstrip("/")


def partition_of(region: str) -> str:
    """The partition of a region: aws-cn for China's, aws-us-gov for GovCloud's, else aws."""
    for prefix, partition in (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov")):
        if region.startswith(prefix):
            return partition
    return "aws"


def region_problem(region: str) -> Optional[str]:
    """What is wrong with ``region`` as an AWS region's name (None: nothing)."""
    if not _REGION.fullmatch(region):
        return f"{region!r} is not a region name like us-east-1 or eu-west-2"
    return None


def check_region(region: str, option: str = "--region") -> str:
    """``region`` when it looks like an AWS region's name; a ConfigError naming ``option``."""
    problem = region_problem(region)
    if problem:
        raise ConfigError(f"{option}: {problem}.")
    return region


def check_account(account: str, option: str = "--account") -> str:
    """``account`` when it is an AWS account id (12 digits); a ConfigError otherwise."""
    if not _ACCOUNT.fullmatch(account):
        raise ConfigError(f"{option}: an AWS account id is 12 digits, got {account!r}.")
    return account


def arn_problem(arn: str, service: str, *, regional: bool) -> Optional[str]:
    """What is wrong with ``arn`` as an ARN of ``service`` (None: nothing): its form,
    partition, service, region (empty unless ``regional``, as IAM's) and account."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return "it is not of the form arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE"
    _, partition, named, region, account, _resource = parts
    if partition not in PARTITIONS:
        return f"its partition {partition!r} is none of {', '.join(PARTITIONS)}"
    if named != service:
        return f"its service is {named!r}, not {service}"
    if not regional and region:
        return (
            f"{service} ARNs have no region: leave {region!r} out (arn:{partition}:{service}::...)"
        )
    if regional:
        problem = region_problem(region)
        if problem:
            return f"its region {problem}"
        if partition_of(region) != partition:
            return f"its region {region} is in partition {partition_of(region)}, not {partition}"
    if not _ACCOUNT.fullmatch(account):
        return f"its account {account!r} is not 12 digits"
    return None


def check_role_arn(arn: str, option: str = "--role-arn") -> str:
    """``arn`` when it is an IAM role's ARN; a ConfigError naming ``option`` and what is
    wrong otherwise."""
    problem = arn_problem(arn, "iam", regional=False)
    if problem is None and not _ROLE.fullmatch(arn.split(":", 5)[5]):
        problem = "its resource is not role/NAME (or role/PATH/NAME)"
    if problem:
        raise ConfigError(
            f"{option} must be an IAM role ARN like arn:aws:iam::123456789012:role/NAME; "
            f"got {arn!r}: {problem}."
        )
    return arn


def artifact_uri(artifacts: str, name: str) -> str:
    """``s3://bucket/prefix/name`` for the artifact ``name``."""
    return f"{check_s3_prefix(artifacts)}/{name}"


def uses_iceberg(job: Any, table_format: str = "delta") -> bool:
    """True when ``job`` writes an Iceberg table: declared, or the default ``table_format``
    its tables take."""
    output = getattr(job, "output", None)
    return output is not None and (output.format or table_format) == "iceberg"


def iceberg_confs(warehouse: Optional[str] = None, catalog: Optional[str] = None) -> dict[str, str]:
    """Iceberg's session settings; unless ``catalog`` is ``local`` (the warehouse's own),
    Iceberg's GlueCatalog as ``featurekit_iceberg``, its warehouse the plan's S3 warehouse
    when one is given.

    Example::

        iceberg_confs("s3://b/wh")["spark.sql.catalog.featurekit_iceberg.catalog-impl"]
        # 'org.apache.iceberg.aws.glue.GlueCatalog'
    """
    confs = dict(ICEBERG_CONFS)
    if catalog != "local":
        s3 = warehouse if warehouse and warehouse.startswith("s3://") else None
        confs.update(glue_catalog_confs(warehouse=s3))
    return confs


def spark_confs(
    *,
    glue_catalog: bool,
    extra: Mapping[str, str],
    iceberg: bool = False,
    warehouse: Optional[str] = None,
    catalog: Optional[str] = None,
) -> dict[str, str]:
    """The ``--conf`` settings of a featurekit run: Delta (and Iceberg's with ``iceberg``,
    see :func:`iceberg_confs` for ``catalog``), portability, Glue catalog, extras."""
    iceberg_part = iceberg_confs(warehouse, catalog) if iceberg else {}
    confs = {**DELTA_CONFS, **iceberg_part, **PORTABLE_CONFS}
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
