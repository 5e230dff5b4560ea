"""A job whose run can hang between its quarantine commit and its output commit, for the
SIGKILL test: quarantine_kill_job.py WAREHOUSE MARKER MODE.

MODE "hang": once the quarantine commit returns, MARKER is created and the process sleeps
before the output commit, so the test kills it exactly between the two commits.
MODE "fast": the same job straight through.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.quality import Ruleset
from featurekit.runtime.local import LocalConfig, LocalRuntime


class Numbers(FeatureJob):
    name = "numbers_dq"
    inputs = {"events": TableInput("raw.numbers")}
    output = FeatureTable(
        "features.numbers_dq",
        keys=("k",),
        date_column="d",
        columns={"k": "bigint", "d": "date", "v": "bigint"},
        quality=(Ruleset('Rules = [ ColumnValues "v" >= 0 ]', on_failing_rows="drop"),),
    )

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        return events.select("k", "d", "v")


def main(warehouse: str, marker: str, mode: str) -> None:
    runtime = LocalRuntime(LocalConfig(warehouse=warehouse, quiet=True, quality=True))
    engine = runtime.storage.engine
    commit = engine.commit

    def commit_then_hang(staged: Any, **kwargs: Any) -> Any:
        result = commit(staged, **kwargs)
        if mode == "hang" and staged.path.endswith("__quarantine"):
            Path(marker).touch()
            time.sleep(600)
        return result

    engine.commit = commit_then_hang  # type: ignore[method-assign]
    Numbers().run(runtime)


if __name__ == "__main__":
    main(*sys.argv[1:4])
