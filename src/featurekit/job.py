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
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from featurekit.errors import ConfigError
from featurekit.io import FeatureTable, Input
from featurekit.params import Param, parse_params

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.runs import RunRecord
    from featurekit.runtime.base import Runtime


@dataclass(frozen=True)
class JobContext:
    """What a run knows: parsed parameters, the date range, ids. Frozen."""

    job: str
    run_id: str
    runtime: str
    params: Mapping[str, Any] = field(default_factory=dict)
    start: Optional[dt.date] = None
    end: Optional[dt.date] = None

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


class FeatureJob:
    """Base class of every feature job. Subclasses set the class attributes and ``transform``."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    inputs: ClassVar[Mapping[str, Input]] = MappingProxyType({})
    output: ClassVar[FeatureTable]
    params: ClassVar[Mapping[str, Param]] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls) or cls.__dict__.get("abstract", False):
            return
        _check_declaration(cls)

    def transform(self, ctx: JobContext, **inputs: DataFrame) -> DataFrame:
        """Return the output DataFrame, built from the inputs (one keyword per input name)."""
        raise NotImplementedError(f"{type(self).__name__} must implement transform().")

    def run(
        self,
        runtime: Runtime,
        *,
        params: Optional[Mapping[str, Any]] = None,
        start: Optional[dt.date] = None,
        end: Optional[dt.date] = None,
        run_id: Optional[str] = None,
    ) -> RunRecord:
        """Run the whole lifecycle on ``runtime``; returns the stored run record."""
        from featurekit.lifecycle import execute

        ctx = make_context(
            type(self), runtime.name, params=params, start=start, end=end, run_id=run_id
        )
        return execute(self, runtime, ctx)


def _check_declaration(cls: type[FeatureJob]) -> None:
    where = f"Job class {cls.__name__}"
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"{where} needs a 'name' that is a valid identifier, got {name!r}.")
    if not isinstance(getattr(cls, "output", None), FeatureTable):
        raise ConfigError(f"{where} must declare 'output = FeatureTable(...)'.")
    for key, value in cls.params.items():
        if not isinstance(value, Param):
            raise ConfigError(f"{where}: params[{key!r}] must be a Param, got {value!r}.")
    if cls.transform is FeatureJob.transform:
        raise ConfigError(f"{where} must implement transform(self, ctx, ...).")
    signature = inspect.signature(cls.transform)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    names = [p for p in signature.parameters if p not in ("self", "ctx")]
    if not accepts_any and set(names) != set(cls.inputs):
        raise ConfigError(
            f"{where}: transform() takes inputs {sorted(names)} but the job declares "
            f"inputs {sorted(cls.inputs)}; the keyword names must match."
        )
