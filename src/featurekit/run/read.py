"""The read step: every declared input read once, counted, and checked by its rulesets.

Where each input's rows come from is the plan's business: the platform's own reader (a
plain run), only the new units since the bookmark (an incremental batch), or the units
already processed (a range rebuild of an incremental job); ``sources`` carries the last
two, one callable per input.

An input's row count is a Spark job of its own. It runs in the background while the
phase after the read builds on the rows (the transform's plan, an incremental job's
partials) and is awaited at that phase's end: on a small input the job is mostly
scheduling, a good part of a run's fixed cost, and nothing before the write needs the
count. It stays exact (its own job, not a metric of another), it is in the run record
before anything is written, and a count that fails fails the run there.

::

    with record.phase("read", env.report):
        reading = read_inputs(job, env, ctx, record)
    with record.phase("transform", env.report), reading as frames:
        out = job.transform(ctx, **frames)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Callable, Optional

from featurekit.plans import count_rows
from featurekit.run.quality import check_input_quality

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.job import FeatureJob, JobContext
    from featurekit.run.env import RunEnv
    from featurekit.runs import InputRecord, RunRecord

#: Rows of one input and what was read, for inputs the plan reads its own way.
Source = Callable[[], "tuple[DataFrame, InputRecord]"]


class _Count:
    """``described.rows`` counted from ``df`` in a thread of its own, which carries the
    caller's Spark job group and properties (``pyspark.InheritableThread``)."""

    def __init__(self, df: DataFrame, described: InputRecord) -> None:
        from pyspark import InheritableThread

        self.described = described
        self.error: Optional[BaseException] = None
        self.thread = InheritableThread(target=self._count, args=(df,), daemon=True)
        self.thread.start()

    def _count(self, df: DataFrame) -> None:
        try:
            self.described.rows = count_rows(df)
        except BaseException as exc:  # raised in the run's own thread by wait()
            self.error = exc

    def wait(self) -> Optional[BaseException]:
        self.thread.join()
        return self.error


class ReadInputs:
    """The inputs' rows (``with reading as frames:``); their counts are awaited when the
    block ends, and a failed count raises then unless the block raised first."""

    def __init__(self, frames: dict[str, DataFrame], counts: list[_Count]) -> None:
        self.frames = frames
        self._counts = counts

    def __enter__(self) -> dict[str, DataFrame]:
        return self.frames

    def __exit__(
        self,
        kind: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.wait(raising=kind is None)

    def wait(self, *, raising: bool = True) -> None:
        """Wait for every count (all of them, even after one failed)."""
        errors = [e for e in (count.wait() for count in self._counts) if e is not None]
        if errors and raising:
            raise errors[0]


def read_inputs(
    job: FeatureJob,
    env: RunEnv,
    ctx: JobContext,
    record: RunRecord,
    sources: Mapping[str, Source] = {},
) -> ReadInputs:
    """``job``'s inputs, each described in ``record`` and checked; counted in the
    background (see the module doc)."""
    frames, counts = {}, []
    try:
        for name, inp in job.inputs.items():
            source = sources.get(name)
            df, described = source() if source else env.read_input(name, inp, ctx)
            record.inputs.append(described)
            counts.append(_Count(df, described))
            check_input_quality(env, name, inp, df, record)
            frames[name] = df
    except BaseException:
        ReadInputs(frames, counts).wait(raising=False)  # no count outlives the read
        raise
    return ReadInputs(frames, counts)
