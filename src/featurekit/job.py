"""FeatureJob: a feature pipeline written once as a class, run by any runtime.

A job declares its inputs, its one output FeatureTable and its parameters, and
implements ``transform``. The base class owns the lifecycle::

    read inputs -> transform -> check declared columns -> stage (Spark writes once)
    -> check keys on the staged rows -> commit (one atomic Delta commit) -> run record

Example::

    class DailyClicks(FeatureJob):
        name = "daily_clicks"
        inputs = {"events": TableInput("raw.events", time_column="event_time")}
        output = FeatureTable(
            "features.daily_clicks", keys=("user_id",), date_column="feature_date",
            columns={"user_id": "string", "feature_date": "date", "clicks": "bigint"},
        )

        def transform(self, ctx, events):
            return (events.withColumn("feature_date", F.to_date("event_time"))
                    .groupBy("user_id", "feature_date").agg(F.count("*").alias("clicks")))
"""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Optional, Protocol

from featurekit.errors import ConfigError
from featurekit.io import FeatureTable, Input, check_strategy, default_strategy
from featurekit.params import Param, parse_params
from featurekit.rulesets import Ruleset, dqdl_problems

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.runs import RunRecord


@dataclass(frozen=True)
class JobContext:
    """What a run knows: parsed parameters, the date range, ids. Frozen.

    ``counters`` is the one mutable part: a transform may add counts to it (e.g. rows
    dropped for a null key) and the lifecycle copies them into the run record.
    """

    job: str
    run_id: str
    runtime: str
    params: Mapping[str, Any] = field(default_factory=dict)
    start: Optional[dt.date] = None
    end: Optional[dt.date] = None
    counters: dict[str, int] = field(default_factory=dict)

    def dates(self) -> list[dt.date]:
        """Every date in [start, end]; empty without a range."""
        if self.start is None or self.end is None:
            return []
        days = (self.end - self.start).days
        return [self.start + dt.timedelta(days=i) for i in range(days + 1)]


def make_context(
    job: type[FeatureJob],
    runtime: str,
    *,
    params: Optional[Mapping[str, Any]] = None,
    start: Optional[dt.date] = None,
    end: Optional[dt.date] = None,
    run_id: Optional[str] = None,
) -> JobContext:
    """Validate parameters and dates once, at the edge, into a frozen JobContext."""
    if (start is None) != (end is None):
        raise ConfigError("Give both --start and --end, or neither.")
    if start is not None and end is not None and start > end:
        raise ConfigError(f"--start {start} is after --end {end}.")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return JobContext(
        job=job.name,
        run_id=run_id or f"{stamp}-{uuid.uuid4().hex[:8]}",
        runtime=runtime,
        params=parse_params(job.name, job.params, params or {}),
        start=start,
        end=end,
    )


class Runner(Protocol):
    """What runs a job: a runtime (``featurekit.runtime``) is one."""

    @property
    def name(self) -> str: ...

    def run_job(self, job: FeatureJob, ctx: JobContext) -> RunRecord: ...


class FeatureJob:
    """Base class of every feature job. Subclasses set the class attributes and ``transform``."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    inputs: ClassVar[Mapping[str, Input]] = MappingProxyType({})
    output: ClassVar[FeatureTable]
    params: ClassVar[Mapping[str, Param]] = MappingProxyType({})
    # How each incremental input is cut into units: "files", "dates" or "delta"
    # (default: "files" for file inputs, "delta" for Delta tables). See state/units.py.
    increments: ClassVar[Mapping[str, str]] = MappingProxyType({})

    @classmethod
    def incremental_inputs(cls) -> dict[str, str]:
        """{input name: strategy} of the inputs declared ``incremental=True``."""
        return {
            name: cls.increments.get(name, default_strategy(inp))
            for name, inp in cls.inputs.items()
            if inp.incremental
        }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls) or cls.__dict__.get("abstract", False):
            return
        _check_declaration(cls)

    # ``*args: Any, **inputs: Any`` is mypy's "any signature": a job names its own inputs
    # (``def transform(self, ctx, events, users)``) and still type-checks.
    def transform(self, ctx: JobContext, *args: Any, **inputs: Any) -> DataFrame:
        """Return the output DataFrame, built from the inputs (one keyword per input name)."""
        raise NotImplementedError(f"{type(self).__name__} must implement transform().")

    def run(
        self,
        runtime: Runner,
        *,
        params: Optional[Mapping[str, Any]] = None,
        start: Optional[dt.date] = None,
        end: Optional[dt.date] = None,
        run_id: Optional[str] = None,
    ) -> RunRecord:
        """Run the whole lifecycle on ``runtime``; returns the stored run record."""
        ctx = make_context(
            type(self), runtime.name, params=params, start=start, end=end, run_id=run_id
        )
        return runtime.run_job(self, ctx)


class IncrementalFeatureJob(FeatureJob):
    """A windowed job kept up to date from stored daily partial aggregates.

    Implement three steps instead of ``transform``:

    * ``partials(ctx, **inputs)``: per key and day, mergeable partial aggregates
      (e.g. counts and sums) with the output's key columns and date column;
    * ``merge_partials(ctx, partials)``: collapse rows of the same key and day into
      one (default: sum every other column);
    * ``combine(ctx, partials)``: the feature rows for dates ``ctx.start..ctx.end``
      from partials covering ``ctx.start - window_days + 1 .. ctx.end``.

    An incremental run computes partials of the new rows only, merges them into
    the stored partials table (``<output>__partials``), and recomputes the feature
    dates they affect: each new partial date ``d`` affects ``d .. d + window_days - 1``.

    Example::

        class Sums7d(IncrementalFeatureJob):
            name = "sums_7d"
            window_days = 7
            inputs = {"events": FilesInput("s3://b/events", incremental=True, ...)}
            output = FeatureTable("features.sums_7d", keys=("user_id",), ...)

            def partials(self, ctx, events):
                return events.groupBy("user_id", F.to_date("ts").alias("feature_date"))
                             .agg(F.count("*").alias("n"))

            def combine(self, ctx, partials):
                ...  # sum n over the 7 days up to each feature date
    """

    abstract = True
    window_days: ClassVar[int] = 1

    def partials(self, ctx: JobContext, **inputs: DataFrame) -> DataFrame:
        """Daily partial aggregates of ``inputs`` (keys, date column, mergeable columns)."""
        raise NotImplementedError(f"{type(self).__name__} must implement partials().")

    def merge_partials(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        """One row per key and day; the default sums every non-key column."""
        from pyspark.sql import functions as F

        from featurekit.core.names import col, sql_name

        group = [*self.output.keys, self.output.date_column]
        values = [c for c in partials.columns if c not in group]
        # names quoted: groupBy and F.sum parse a string ("user.id": a struct's field)
        return partials.groupBy(*map(sql_name, group)).agg(
            *[F.sum(col(c)).alias(c) for c in values]
        )

    def combine(self, ctx: JobContext, partials: DataFrame) -> DataFrame:
        """Feature rows for ``ctx.start..ctx.end`` from the partials of the windows."""
        raise NotImplementedError(f"{type(self).__name__} must implement combine().")

    def transform(self, ctx: JobContext, *args: Any, **inputs: Any) -> DataFrame:
        """A full recompute: the same steps over every input row."""
        return self.combine(ctx, self.merge_partials(ctx, self.partials(ctx, **inputs)))


def _check_incremental(cls: type[FeatureJob], where: str) -> None:
    for name, strategy in cls.incremental_inputs().items():
        check_strategy(name, cls.inputs[name], strategy)
    unknown = set(cls.increments) - set(cls.incremental_inputs())
    if unknown:
        raise ConfigError(
            f"{where}: increments names {sorted(unknown)}, which are not inputs declared "
            "incremental=True."
        )
    if not issubclass(cls, IncrementalFeatureJob):
        return
    if (
        cls.partials is IncrementalFeatureJob.partials
        or cls.combine is IncrementalFeatureJob.combine
    ):
        raise ConfigError(f"{where} must implement partials() and combine().")
    if not isinstance(cls.window_days, int) or cls.window_days < 1:
        raise ConfigError(f"{where}: window_days must be an int >= 1, got {cls.window_days!r}.")
    table = cls.output
    if table.columns[table.date_column] != "date" or table.date_column not in table.partitions:
        raise ConfigError(
            f"{where}: an IncrementalFeatureJob needs its date column {table.date_column!r} "
            "declared 'date' and used as a partition column."
        )


def _check_declaration(cls: type[FeatureJob]) -> None:
    where = f"Job class {cls.__name__}"
    name = getattr(cls, "name", None)
    base = " (a base class other jobs extend declares 'abstract = True' instead)"
    if not isinstance(name, str) or not name.isidentifier():
        hint = base if name is None else ""
        raise ConfigError(f"{where} needs a 'name' that is a valid identifier, got {name!r}{hint}.")
    if not isinstance(getattr(cls, "output", None), FeatureTable):
        raise ConfigError(f"{where} must declare 'output = FeatureTable(...)'{base}.")
    for key, value in cls.params.items():
        if not isinstance(value, Param):
            raise ConfigError(f"{where}: params[{key!r}] must be a Param, got {value!r}.")
    if cls.transform is FeatureJob.transform:
        raise ConfigError(f"{where} must implement transform(self, ctx, ...).")
    _check_incremental(cls, where)
    method = cls.partials if issubclass(cls, IncrementalFeatureJob) else cls.transform
    signature = inspect.signature(method)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    names = [p for p in signature.parameters if p not in ("self", "ctx")]
    if not accepts_any and set(names) != set(cls.inputs):
        raise ConfigError(
            f"{where}: {method.__name__}() takes inputs {sorted(names)} but the job declares "
            f"inputs {sorted(cls.inputs)}; the keyword names must match."
        )
    _check_rulesets(cls, where)


def _check_rulesets(cls: type[FeatureJob], where: str) -> None:
    """Each DQDL ruleset of the output and the inputs, checked statically (rule types)
    again with the job's name: a Ruleset checks itself when built, so this catches only
    one changed or made another way (``featurekit jobs --check`` re-runs it)."""
    declared = [("output", cls.output.quality)]
    declared += [(f"input {name}", inp.quality) for name, inp in cls.inputs.items()]
    for target, rulesets in declared:
        for index, ruleset in enumerate(rulesets):
            if not isinstance(ruleset, Ruleset):
                raise ConfigError(f"{where}: {target} quality holds {ruleset!r}, not a Ruleset.")
            problems = dqdl_problems(ruleset.dqdl)
            if problems:
                label = ruleset.label(target, index)
                raise ConfigError(f"{where}: ruleset {label!r}: {'; '.join(problems)}")


def declaration_problems(cls: type[FeatureJob]) -> list[str]:
    """What is wrong with a loaded job's declaration, found without data or Spark (empty:
    nothing): the checks run when the class was defined, run again in case it was changed
    since (``featurekit jobs --check``)."""
    try:
        _check_declaration(cls)
    except (ConfigError, TypeError, AttributeError) as exc:
        return [str(exc)]
    return []
