"""The Runtime port: the platform a run happens on, and nothing else.

A runtime owns the SparkSession, the parsed settings and one
:class:`~featurekit.storage.Storage` (warehouse, catalog, table engine, state store, run
records), which it hands to the run; everything that stores or reads goes through that
storage, never through the runtime. Subclasses supply the session (and may hand over a
storage already open, as the Glue runtime does with its GlueContext's) and override only
the hooks where a platform really differs: ``begin``/``finish`` (Glue's Job.init /
job.commit), ``owns_increments`` and ``read_input`` (Glue reads bookmarked inputs through
DynamicFrames). A runtime is the :class:`featurekit.run.env.Platform` the run asks for.

Members: ``name``, ``spark``, ``config``, ``storage``, ``report``, ``begin``, ``finish``,
``owns_increments``, ``read_input``, ``on_phase``, ``run_job``.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, TextIO

from featurekit.run.inputs import date_partitions, date_window, prune_dates
from featurekit.runtime.s3 import S3Access
from featurekit.storage import Commits, Storage, open_storage
from featurekit.tables.commits import CommitCoordinator
from featurekit.tables.conflicts import DEFAULT_ATTEMPTS, CommitRetry
from featurekit.tables.glue_catalog import GlueCatalogConfig

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.io import Input
    from featurekit.job import FeatureJob, JobContext
    from featurekit.runs import InputRecord, RunRecord


@dataclass(frozen=True)
class RuntimeConfig:
    """Settings every runtime shares. Built once, at the edge (CLI, entry script)."""

    warehouse: str = "warehouse"
    engine: str = "auto"
    quiet: bool = False
    # Where incremental state lives: None = WAREHOUSE/_state; "s3://bucket/prefix" = S3.
    state: Optional[str] = None
    # How to reach S3 (endpoint, credentials), resolved at the edge for local runs with an
    # s3:// warehouse or state; None = the platform's default chain (Glue, EMR).
    s3: Optional[S3Access] = None
    # The catalog: "local" (in the warehouse) or "glue" (the Glue Data Catalog, where
    # ``glue_catalog`` says: region, endpoint, catalog id).
    catalog: str = "local"
    glue_catalog: Optional[GlueCatalogConfig] = None
    # False: declared quality rulesets are not evaluated (e.g. on a Spark line Deequ has no
    # build for); every run then records a warning naming the rulesets it did not check.
    check_quality: bool = True
    # The format of feature tables that declare none (FeatureTable.format): "delta" or
    # "iceberg" (a project's [tool.featurekit] table_format).
    table_format: str = "delta"
    # How concurrent writers of one table on S3 take turns: "none" (a second writer is
    # refused), "s3-conditional" or "dynamodb:TABLE" (featurekit.tables.commits).
    commit_coordinator: str = "none"
    # Attempts of a commit that conflicts with another writer, retried with backoff when
    # safe to repeat (featurekit.tables.conflicts); 1: never retried.
    commit_attempts: int = DEFAULT_ATTEMPTS

    @property
    def on_s3(self) -> bool:
        """True when the warehouse or the state store is an S3 location."""
        schemes = ("s3://", "s3a://", "s3n://")
        return self.warehouse.startswith(schemes) or (self.state or "").startswith(schemes)


def commit_settings(config: RuntimeConfig) -> Commits:
    """How this runtime's commits to tables on S3 take turns (``--commit-coordinator``)."""
    coordinator = CommitCoordinator.parse(config.commit_coordinator)
    retry = CommitRetry(attempts=config.commit_attempts)
    access = config.s3
    if access is None:  # the platform's credentials (Glue, EMR): boto3's default chain
        return Commits(coordinator=coordinator, retry=retry)
    return Commits(
        coordinator=coordinator,
        retry=retry,
        storage_options=access.storage_options(),
        dynamodb_client=lambda: access.client("dynamodb"),
    )


class Reporter:
    """Progress lines on stderr, each with the seconds since the runtime started."""

    def __init__(self, stream: Optional[TextIO] = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.began = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.perf_counter() - self.began
            print(f"[featurekit {elapsed:6.1f}s] {message}", file=self.stream, flush=True)


__all__ = [
    "Reporter", "Runtime", "RuntimeConfig", "date_partitions", "date_window", "prune_dates",
]  # fmt: skip


class Runtime:
    """Base runtime: the session, the settings, the storage and the platform's hooks."""

    name = "base"

    def __init__(
        self, spark: SparkSession, config: RuntimeConfig, storage: Optional[Storage] = None
    ) -> None:
        self.spark = spark
        self.config = config
        client = config.s3.client() if config.s3 is not None else None
        self.storage = storage or open_storage(
            spark, warehouse=config.warehouse, catalog=config.catalog,
            glue_catalog=config.glue_catalog, engine=config.engine, s3_client=client,
            state=config.state, table_format=config.table_format,
            commits=commit_settings(config),
        )  # fmt: skip
        self.report: Callable[[str], None] = Reporter(quiet=config.quiet)

    # -- hooks ---------------------------------------------------------------------
    def begin(self, ctx: JobContext) -> None:
        """Called before the run starts."""

    def finish(self, ctx: JobContext, succeeded: bool) -> None:
        """Called after the output commit (succeeded) or after a failure."""

    def on_phase(self, ctx: JobContext, phase: str) -> None:
        """Called at each boundary of an incremental batch: ``pending`` (state staged,
        nothing committed), ``partials_committed``, ``output_committed``,
        ``state_committed``."""

    def owns_increments(self, job: FeatureJob) -> bool:
        """True when the platform itself tracks the job's incremental inputs (Glue bookmarks).

        featurekit's own incremental state then stays out of the way, so every input
        is tracked by exactly one mechanism.
        """
        return False

    def read_input(self, name: str, inp: Input, ctx: JobContext) -> tuple[DataFrame, InputRecord]:
        """Read one declared input (pruned to the run's dates) and describe what was read."""
        from featurekit.run.inputs import read_input

        return read_input(self.spark, self.storage, name, inp, ctx)

    def run_job(self, job: FeatureJob, ctx: JobContext) -> RunRecord:
        """Run ``job`` for ``ctx`` here (what ``FeatureJob.run`` calls)."""
        from featurekit.run import execute

        return execute(job, self, ctx)

    # -- deprecated: the storage's parts, reached through the runtime --------------------
    def __getattr__(self, name: str) -> Any:
        if name in _MOVED_TO_STORAGE and "storage" in self.__dict__:
            warnings.warn(
                f"runtime.{name} is deprecated: use runtime.storage.{name}",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(self.__dict__["storage"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "state_store":
            warnings.warn(
                "runtime.state_store is deprecated: set runtime.storage.state_store",
                DeprecationWarning,
                stacklevel=2,
            )
            self.storage.state_store = value
            return
        super().__setattr__(name, value)


# Members the runtime had before its storage held them; kept for one release.
_MOVED_TO_STORAGE = frozenset(
    {
        "warehouse", "catalog", "engine", "state_store", "location", "output_location",
        "register_output", "save_record",
    }
)  # fmt: skip
