"""The read step: every declared input read once, counted, and checked by its rulesets.

Where each input's rows come from is the plan's business: the platform's own reader (a
plain run), only the new units since the bookmark (an incremental batch), or the units
already processed (a range rebuild of an incremental job); ``sources`` carries the last
two, one callable per input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Callable

from featurekit.plans import count_rows
from featurekit.run.quality import check_input_quality

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.job import FeatureJob, JobContext
    from featurekit.run.env import RunEnv
    from featurekit.runs import InputRecord, RunRecord

#: Rows of one input and what was read, for inputs the plan reads its own way.
Source = Callable[[], "tuple[DataFrame, InputRecord]"]


def read_inputs(
    job: FeatureJob,
    env: RunEnv,
    ctx: JobContext,
    record: RunRecord,
    sources: Mapping[str, Source] = {},
) -> dict[str, DataFrame]:
    """``{input name: rows}`` of ``job``; each input described in ``record`` and checked."""
    frames = {}
    for name, inp in job.inputs.items():
        source = sources.get(name)
        df, described = source() if source else env.read_input(name, inp, ctx)
        described.rows = count_rows(df)
        record.inputs.append(described)
        check_input_quality(env, name, inp, df, record)
        frames[name] = df
    return frames
