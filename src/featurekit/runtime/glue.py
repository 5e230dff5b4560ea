"""The Glue runtime: a featurekit job inside a Glue job run (or its local emulation).

Built from a GlueContext. Arguments come from the real
``awsglue.utils.getResolvedOptions``: ``--JOB_NAME`` and ``--featurekit_job`` are
required; featurekit's optional arguments (``--featurekit_params a=1,b=2``,
``--featurekit_start``/``--featurekit_end`` dates, ``--featurekit_warehouse``,
``--featurekit_engine``, ``--featurekit_quality off``) are requested only when present
in ``sys.argv``, because getResolvedOptions makes every listed name required.

Around the featurekit lifecycle: ``Job.init(JOB_NAME, args)`` before, ``job.commit()``
after a successful output commit, and no commit after a failure (so Glue's bookmarks
do not advance). An input declared ``incremental=True`` is read through
``create_dynamic_frame`` with ``transformation_ctx=<input name>`` when the run has
job bookmarks on, so Glue hands over only new files; such a run must have a date
range (it replaces those dates; overwriting the table with new data only would lose
rows). On real Glue tables use the delta-spark engine (``--datalake-formats delta``).

Example (the uploaded entry script)::

    import sys
    from featurekit.runtime.glue import main
    sys.exit(main(sys.argv))
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from featurekit.errors import ConfigError, FeatureKitError, InputError, UnsupportedError
from featurekit.io import DeltaInput, FilesInput, Input, TableInput
from featurekit.params import split_assignments
from featurekit.run.inputs import prune_dates
from featurekit.runs import InputRecord
from featurekit.runtime.base import Runtime, RuntimeConfig
from featurekit.tables.commits import CommitCoordinator
from featurekit.tables.conflicts import DEFAULT_ATTEMPTS, CommitRetry

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.job import FeatureJob, JobContext

REQUIRED = ("JOB_NAME", "featurekit_job")
OPTIONAL = (
    "featurekit_params",
    "featurekit_start",
    "featurekit_end",
    "featurekit_warehouse",
    "featurekit_engine",
    "featurekit_state",
    "featurekit_catalog",
    "featurekit_quality",
    "featurekit_table_format",
    "featurekit_commit_coordinator",
    "featurekit_commit_attempts",
)
DISABLE = "job-bookmark-disable"
# Spark reader option -> Glue format option, for FilesInput read through a DynamicFrame.
_GLUE_FORMAT_OPTIONS = {
    "header": "withHeader",
    "sep": "separator",
    "delimiter": "separator",
    "quote": "quoteChar",
    "escape": "escaper",
    "multiLine": "multiLine",
}


def given(argv: Sequence[str], name: str) -> bool:
    """True when ``--name`` (or ``--name=value``) is among the arguments."""
    flag = f"--{name}"
    return any(a == flag or a.startswith(flag + "=") for a in argv[1:])


@dataclass(frozen=True)
class GlueArgs:
    """featurekit's view of a Glue run's arguments (parsed once, at the edge)."""

    job_name: str
    featurekit_job: str
    params: Mapping[str, str] = field(default_factory=dict)
    start: Optional[dt.date] = None
    end: Optional[dt.date] = None
    warehouse: Optional[str] = None
    engine: Optional[str] = None
    state: Optional[str] = None
    run_id: Optional[str] = None
    catalog: Optional[str] = None  # local | glue; default: glue on Glue, glue run's locally
    check_quality: bool = True  # --featurekit_quality off: rulesets not evaluated
    # --featurekit_table_format: the format of feature tables that declare none
    table_format: str = "delta"
    commit_coordinator: str = "none"  # --featurekit_commit_coordinator (docs/s3.md)
    commit_attempts: int = DEFAULT_ATTEMPTS  # --featurekit_commit_attempts (docs/s3.md)
    resolved: Mapping[str, Any] = field(default_factory=dict)


def _parse_params(text: Optional[str]) -> dict[str, str]:
    if not text:
        return {}
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"--featurekit_params is not valid JSON: {exc}") from exc
        return {str(k): str(v) for k, v in doc.items()}
    return split_assignments([p for p in text.split(",") if p])


def _parse_date(name: str, text: Optional[str]) -> Optional[dt.date]:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"--{name} expects a date like 2026-01-31, got {text!r}.") from exc


def _parse_quality(text: Optional[str]) -> bool:
    if text not in (None, "on", "off"):
        raise ConfigError(f"--featurekit_quality takes on or off, got {text!r}.")
    return text != "off"


def _parse_attempts(text: Optional[str]) -> int:
    if text is None:
        return CommitRetry().attempts
    if not text.strip().isdigit():
        raise ConfigError(f"--featurekit_commit_attempts takes a whole number, got {text!r}.")
    return CommitRetry(attempts=int(text)).attempts  # at least 1


def _parse_format(text: Optional[str]) -> str:
    from featurekit.io import TABLE_FORMATS

    if text is None:
        return "delta"
    if text not in TABLE_FORMATS:
        raise ConfigError(
            f"--featurekit_table_format takes {' or '.join(TABLE_FORMATS)}, got {text!r}."
        )
    return text


def resolve_args(argv: Sequence[str]) -> GlueArgs:
    """Parse a Glue run's ``sys.argv`` with the real getResolvedOptions."""
    from featurekit.glue_local.install import real_utils

    utils = real_utils()
    names = [*REQUIRED, *[n for n in OPTIONAL if given(argv, n)]]
    try:
        resolved: dict[str, Any] = utils.getResolvedOptions(list(argv), names)
    except utils.GlueArgumentError as exc:
        raise ConfigError(f"Glue job arguments: {exc}") from exc
    start = _parse_date("featurekit_start", resolved.get("featurekit_start"))
    end = _parse_date("featurekit_end", resolved.get("featurekit_end"))
    return GlueArgs(
        job_name=resolved["JOB_NAME"],
        featurekit_job=resolved["featurekit_job"],
        params=_parse_params(resolved.get("featurekit_params")),
        start=start,
        end=end,
        warehouse=resolved.get("featurekit_warehouse"),
        engine=resolved.get("featurekit_engine"),
        state=resolved.get("featurekit_state"),
        catalog=resolved.get("featurekit_catalog"),
        check_quality=_parse_quality(resolved.get("featurekit_quality")),
        table_format=_parse_format(resolved.get("featurekit_table_format")),
        commit_coordinator=str(
            CommitCoordinator.parse(resolved.get("featurekit_commit_coordinator"))
        ),
        commit_attempts=_parse_attempts(resolved.get("featurekit_commit_attempts")),
        run_id=resolved.get("JOB_RUN_ID"),
        resolved=resolved,
    )


@dataclass(frozen=True)
class GlueConfig(RuntimeConfig):
    """Glue runtime settings: the Glue job name and the resolved Glue arguments."""

    job_name: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def bookmark_option(self) -> str:
        return str(self.args.get("job_bookmark_option") or DISABLE)


class GlueRuntime(Runtime):
    """Runs jobs inside a Glue job run, on the GlueContext's SparkSession."""

    name = "glue"

    def __init__(self, glue_context: Any, config: GlueConfig, storage: Any = None) -> None:
        super().__init__(glue_context.spark_session, config, storage)
        self.glue_context = glue_context
        self.glue_config = config
        self._job: Any = None

    def begin(self, ctx: JobContext) -> None:
        """``Job.init(JOB_NAME, args)`` with this run's id, before anything is read."""
        self._job = _job_class(self.glue_context)(self.glue_context)
        self._job.init(
            self.glue_config.job_name, {**self.glue_config.args, "JOB_RUN_ID": ctx.run_id}
        )

    def finish(self, ctx: JobContext, succeeded: bool) -> None:
        """``job.commit()`` only after a successful run: a failure leaves bookmarks unchanged."""
        if succeeded and self._job is not None:
            self._job.commit()

    def owns_increments(self, job: FeatureJob) -> bool:
        """With Glue bookmarks on, Glue tracks the incremental inputs, not featurekit's state."""
        return self.glue_config.bookmark_option != DISABLE

    def read_input(self, name: str, inp: Input, ctx: JobContext) -> tuple[DataFrame, InputRecord]:
        if not (inp.incremental and self.glue_config.bookmark_option != DISABLE):
            return super().read_input(name, inp, ctx)
        if ctx.start is None:
            raise ConfigError(
                f"Input {name!r} is read with Glue job bookmarks (only new data), so the run "
                "needs --featurekit_start/--featurekit_end: without a date range it would "
                "overwrite the whole table with the new data alone."
            )
        df = self._read_bookmarked(name, inp)
        if not df.columns:
            raise InputError(
                f"Input {name!r} ({inp.label}): no new data since the last committed job "
                "bookmark; nothing to do. Reset the bookmark to reprocess everything."
            )
        return prune_dates(df, inp, ctx), InputRecord(
            name=name, source=inp.label, kind="glue-bookmark", version=None
        )

    def _read_bookmarked(self, name: str, inp: Input) -> DataFrame:
        reader = self.glue_context.create_dynamic_frame
        if isinstance(inp, TableInput):
            db, table = inp.name.split(".")
            frame = reader.from_catalog(database=db, table_name=table, transformation_ctx=name)
        elif isinstance(inp, DeltaInput) or inp.format == "delta":
            raise UnsupportedError(
                f"Input {name!r}: Glue job bookmarks do not track Delta tables ({inp.label}). "
                "Supported: incremental FilesInput of csv, json or parquet, and catalog tables."
            )
        else:
            frame = reader.from_options(
                connection_type="s3",
                connection_options={"paths": [inp.path], "recurse": True},
                format=inp.format,
                format_options=glue_format_options(inp),
                transformation_ctx=name,
            )
        df: DataFrame = frame.toDF()
        if isinstance(inp, FilesInput) and inp.schema and df.columns:
            from featurekit.core.names import col

            declared = self.spark.createDataFrame([], inp.schema).schema
            df = df.select(*[col(f.name).cast(f.dataType) for f in declared.fields])
        return df


def _job_class(glue_context: Any) -> Any:
    """awsglue's Job for a real GlueContext; the emulation's for featurekit's own."""
    if getattr(glue_context, "featurekit_emulation", False):
        from featurekit.glue_local.job import Job as LocalJob

        return LocalJob
    from awsglue.job import Job

    return Job


def glue_format_options(inp: FilesInput) -> dict[str, Any]:
    """Spark reader options of a FilesInput as Glue ``format_options``."""
    out: dict[str, Any] = {}
    for key, value in inp.options.items():
        if key not in _GLUE_FORMAT_OPTIONS:
            raise UnsupportedError(
                f"Input {inp.label}: option {key!r} has no Glue format_options equivalent; "
                f"supported: {', '.join(_GLUE_FORMAT_OPTIONS)}."
            )
        out[_GLUE_FORMAT_OPTIONS[key]] = value
    return out


def build_runtime(args: GlueArgs, glue_context: Any, *, quiet: bool = False) -> GlueRuntime:
    """The runtime for ``args`` on ``glue_context`` (delta-spark on real Glue)."""
    emulated = bool(getattr(glue_context, "featurekit_emulation", False))
    warehouse = args.warehouse or (glue_context.warehouse.uri if emulated else None)
    if warehouse is None:
        raise ConfigError("Pass --featurekit_warehouse: where featurekit keeps tables and records.")
    config = GlueConfig(
        warehouse=warehouse,
        engine=args.engine or ("auto" if emulated else "delta-spark"),
        state=args.state,
        quiet=quiet,
        job_name=args.job_name,
        args=args.resolved,
        check_quality=args.check_quality,
        table_format=args.table_format,
        commit_coordinator=args.commit_coordinator,
        commit_attempts=args.commit_attempts,
        # featurekit glue run's S3 endpoint and credentials; on Glue, the default chain
        s3=getattr(glue_context, "featurekit_s3", None) if emulated else None,
        **_catalog_settings(args, glue_context if emulated else None),
    )
    # the emulation's GlueContext already holds the storage glue run chose: share it (an S3
    # warehouse keeps the runtime's own, whose engine checks for delta-spark)
    shared = emulated and not (args.warehouse or args.engine or args.catalog)
    shared = shared and not glue_context.warehouse.remote
    runtime = GlueRuntime(glue_context, config, glue_context.storage if shared else None)
    if shared:  # the run's default table format, on the emulation's storage
        runtime.storage.table_format = args.table_format
    if shared and args.state:  # the shared storage keeps its warehouse; the state is elsewhere
        from featurekit.storage import open_state_store

        client = config.s3.client() if config.s3 is not None else None
        store = open_state_store(args.state, runtime.storage.warehouse, s3_client=client)
        runtime.storage.state_store = store
    return runtime


def _catalog_settings(args: GlueArgs, emulation: Any) -> dict[str, Any]:
    """On Glue the Glue Data Catalog (the job's region and account); under ``featurekit
    glue run`` the catalog its ``--catalog`` chose; ``--featurekit_catalog`` overrides."""
    from featurekit.tables.glue_catalog import GlueCatalog, GlueCatalogConfig

    emulated = emulation is not None
    port = emulation.storage.catalog if emulated else None
    glue = port.config if isinstance(port, GlueCatalog) else GlueCatalogConfig()
    kind = args.catalog or ("glue" if not emulated or isinstance(port, GlueCatalog) else "local")
    if kind not in ("local", "glue"):
        raise ConfigError(f"--featurekit_catalog must be local or glue, got {kind!r}.")
    return {"catalog": kind, "glue_catalog": glue}


def main(argv: Sequence[str]) -> int:
    """Run ``--featurekit_job`` in this Glue job run; returns the exit code."""
    from featurekit.registry import get_job

    try:
        args = resolve_args(argv)
        from awsglue.context import GlueContext
        from pyspark.context import SparkContext

        runtime = build_runtime(args, GlueContext(SparkContext.getOrCreate()))
        job = get_job(args.featurekit_job)
        record = job().run(
            runtime, params=args.params, start=args.start, end=args.end, run_id=args.run_id
        )
    except FeatureKitError as exc:
        print(f"featurekit: error: {exc}", file=sys.stderr)
        return 2
    print(record.summary())
    return 0
