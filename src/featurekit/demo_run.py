"""``featurekit demo``: generate the demo tables, then build the demo feature tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from featurekit.demo import DemoSpec, events, labels
from featurekit.registry import get_job
from featurekit.runs import RunRecord

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.runtime.base import Runtime

DEMO_JOBS = ("user_activity_daily", "training_set")


def write_source_table(runtime: Runtime, name: str, df: DataFrame, description: str) -> int:
    """Replace raw table ``name`` with ``df`` and register it; returns the rows written."""
    from featurekit.testing import _replace_and_register

    result = _replace_and_register(runtime, name, df, description)
    runtime.report(f"{name}: {result.rows} rows, version {result.version}")
    return int(result.rows)


def run_demo(runtime: Runtime, *, users: int, days: int, seed: int) -> list[RunRecord]:
    """Write raw.events and raw.labels, then run every demo job over all dates."""
    spec = DemoSpec(users=users, days=days, seed=seed)
    runtime.report(
        f"demo: {spec.users} users, {spec.days} days ({spec.start}..{spec.end}), seed {spec.seed}"
    )
    write_source_table(runtime, "raw.events", events(runtime.spark, spec), "Demo e-commerce events")
    write_source_table(runtime, "raw.labels", labels(runtime.spark, spec), "Demo churn labels")
    records = []
    for name in DEMO_JOBS:
        job = get_job(name)
        records.append(job().run(runtime))
    return records
