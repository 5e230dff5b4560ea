"""The Glue CreateJob request for a featurekit job, as data.

Every featurekit job runs the same uploaded script (``entrypoints/glue_job.py``);
the job is picked by ``--featurekit_job``. Artifacts live under one S3 prefix::

    s3://BUCKET/PREFIX/entrypoints/glue_job.py   the entry script (ScriptLocation)
    s3://BUCKET/PREFIX/featurekit.zip            featurekit + jobs (--extra-py-files)
    s3://BUCKET/PREFIX/jars/*.jar                Deequ, for jobs with rulesets (--extra-jars)
    s3://BUCKET/PREFIX/tmp/                      --TempDir

Example::

    plan = GluePlan(job="user_activity_daily", artifacts="s3://my-bucket/featurekit")
    request = create_job_request(plan, get_job("user_activity_daily"))
    validate_request(request)   # botocore's own checks for glue.CreateJob
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from featurekit.deploy.common import check_role_arn, check_s3_prefix, iceberg_confs, uses_iceberg
from featurekit.errors import ConfigError, MissingDependencyError
from featurekit.io import DeltaInput, FilesInput, TableInput
from featurekit.runtime.local import DELTA_CONFS
from featurekit.tables.commits import CommitCoordinator
from featurekit.tables.conflicts import DEFAULT_ATTEMPTS, CommitRetry

if TYPE_CHECKING:
    from featurekit.job import FeatureJob

GLUE_VERSIONS = ("4.0", "5.0", "5.1", "6.0")
WORKER_DPUS: Mapping[str, int] = {"G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}
EXECUTION_CLASSES = ("STANDARD", "FLEX")
FLEX_WORKERS = ("G.1X", "G.2X")  # Glue's Flex execution class takes these only
CATALOGS = ("glue", "local")
PLACEHOLDER_ROLE = "arn:aws:iam::123456789012:role/REPLACE-WITH-GLUE-JOB-ROLE"
ENTRY_SCRIPT = "entrypoints/glue_job.py"
CODE_ZIP = "featurekit.zip"


@dataclass(frozen=True)
class GluePlan:
    """What to deploy and on what capacity. Validated at construction."""

    job: str
    artifacts: str
    glue_version: str = "5.1"
    worker_type: str = "G.1X"
    workers: int = 2
    role: Optional[str] = None
    bookmarks: Optional[str] = None  # enable | disable | pause; None: enable iff incremental inputs
    warehouse: Optional[str] = None
    execution_class: str = "STANDARD"
    jars: tuple[str, ...] = ()  # artifact names for --extra-jars (Deequ's, for rulesets)
    check_quality: bool = True  # False: --featurekit_quality off (--no-quality)
    catalog: str = "glue"  # --featurekit_catalog: the Glue Data Catalog, or local (warehouse's)
    # --featurekit_table_format: the format of feature tables that declare none
    table_format: str = "delta"
    # the job reads Iceberg tables it does not write (writing one is seen from the job)
    iceberg: bool = False
    # --featurekit_commit_coordinator: how concurrent writers of a table on S3 take turns
    commit_coordinator: str = "none"
    # --featurekit_commit_attempts: attempts of a conflicting commit (tables.conflicts)
    commit_attempts: int = DEFAULT_ATTEMPTS

    def __post_init__(self) -> None:
        check_s3_prefix(self.artifacts)
        if self.role is not None:
            check_role_arn(self.role)
        if self.glue_version not in GLUE_VERSIONS:
            raise ConfigError(f"--glue-version must be one of {', '.join(GLUE_VERSIONS)}.")
        if self.worker_type not in WORKER_DPUS:
            raise ConfigError(f"--worker-type must be one of {', '.join(WORKER_DPUS)}.")
        if self.workers < 2:
            raise ConfigError(
                f"--workers must be at least 2 for Glue Spark jobs, got {self.workers}."
            )
        if self.bookmarks not in (None, "enable", "disable", "pause"):
            raise ConfigError("--bookmarks must be enable, disable or pause.")
        if self.execution_class not in EXECUTION_CLASSES:
            raise ConfigError(f"--execution-class must be one of {', '.join(EXECUTION_CLASSES)}.")
        if self.execution_class == "FLEX" and self.worker_type not in FLEX_WORKERS:
            raise ConfigError(
                f"--execution-class FLEX runs on {' or '.join(FLEX_WORKERS)} workers only, "
                f"not {self.worker_type}."
            )
        if self.catalog not in CATALOGS:
            raise ConfigError(f"--catalog must be one of {', '.join(CATALOGS)}.")
        if self.table_format not in ("delta", "iceberg"):
            raise ConfigError("--table-format must be delta or iceberg.")
        CommitCoordinator.parse(self.commit_coordinator)  # a clear error when malformed
        CommitRetry(attempts=self.commit_attempts)  # at least 1

    @property
    def prefix(self) -> str:
        return self.artifacts.rstrip("/")


def delta_conf_argument(
    iceberg: bool = False, warehouse: Optional[str] = None, catalog: str = "glue"
) -> str:
    """The ``--conf`` value carrying Delta's session confs, and Iceberg's with ``iceberg``
    (its GlueCatalog unless ``catalog`` is local); Glue takes one --conf key: the rest
    chain as ``k=v --conf k=v``."""
    confs = {**DELTA_CONFS, **(iceberg_confs(warehouse, catalog) if iceberg else {})}
    return " --conf ".join(f"{k}={v}" for k, v in confs.items())


def bookmark_option(plan: GluePlan, job: type[FeatureJob]) -> str:
    """``job-bookmark-<option>``: as planned, else enable iff the job has incremental inputs."""
    if plan.bookmarks is not None:
        return f"job-bookmark-{plan.bookmarks}"
    incremental = [
        i
        for i in job.inputs.values()
        if i.incremental
        and isinstance(i, (FilesInput, TableInput))
        and not isinstance(i, DeltaInput)
    ]
    return "job-bookmark-enable" if incremental else "job-bookmark-disable"


def default_arguments(plan: GluePlan, job: type[FeatureJob]) -> dict[str, str]:
    """The job's DefaultArguments (Glue passes them to every run)."""
    iceberg = plan.iceberg or uses_iceberg(job, plan.table_format)
    args = {
        "--job-language": "python",
        "--extra-py-files": f"{plan.prefix}/{CODE_ZIP}",
        "--datalake-formats": "delta,iceberg" if iceberg else "delta",
        "--conf": delta_conf_argument(iceberg, plan.warehouse, plan.catalog),
        "--enable-glue-datacatalog": "true",
        "--job-bookmark-option": bookmark_option(plan, job),
        "--TempDir": f"{plan.prefix}/tmp/",
        "--featurekit_job": job.name,
        # where the job finds and registers tables; stated, so the definition says it
        "--featurekit_catalog": plan.catalog,
    }
    if plan.warehouse:
        args["--featurekit_warehouse"] = plan.warehouse
    if plan.jars:
        args["--extra-jars"] = ",".join(f"{plan.prefix}/{name}" for name in plan.jars)
    if not plan.check_quality:
        args["--featurekit_quality"] = "off"
    if plan.table_format != "delta":
        args["--featurekit_table_format"] = plan.table_format
    if plan.commit_coordinator != "none":
        args["--featurekit_commit_coordinator"] = plan.commit_coordinator
    if plan.commit_attempts != DEFAULT_ATTEMPTS:
        args["--featurekit_commit_attempts"] = str(plan.commit_attempts)
    return args


def create_job_request(plan: GluePlan, job: type[FeatureJob]) -> dict[str, Any]:
    """The ``glue.create_job`` request for ``job``."""
    if job.name != plan.job:
        raise ConfigError(f"Plan is for job {plan.job!r} but job class is {job.name!r}.")
    return {
        "Name": f"featurekit-{job.name}",
        "Description": (job.description or f"featurekit job {job.name}")[:2048],
        "Role": plan.role or PLACEHOLDER_ROLE,
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": f"{plan.prefix}/{ENTRY_SCRIPT}",
            "PythonVersion": "3",
        },
        "GlueVersion": plan.glue_version,
        "WorkerType": plan.worker_type,
        "NumberOfWorkers": plan.workers,
        "ExecutionClass": plan.execution_class,
        "ExecutionProperty": {"MaxConcurrentRuns": 1},  # bookmarks need one run at a time
        "DefaultArguments": default_arguments(plan, job),
        "Tags": {"featurekit:job": job.name},
    }


def validate_request(request: Mapping[str, Any], operation: str = "CreateJob") -> None:
    """Check ``request`` with botocore's parameter validation for the glue service model."""
    try:
        import botocore.session
        from botocore.exceptions import ParamValidationError
        from botocore.validate import validate_parameters
    except ImportError as exc:
        raise MissingDependencyError("boto3", "aws", "Validating the Glue request") from exc
    model = botocore.session.get_session().get_service_model("glue")
    shape = model.operation_model(operation).input_shape
    if shape is None:
        raise ConfigError(f"botocore's glue model has no input shape for {operation}.")
    try:
        validate_parameters(dict(request), shape)
    except ParamValidationError as exc:
        raise ConfigError(f"The Glue {operation} request is invalid: {exc}") from exc
