"""A job with a slow write, for the SIGKILL test: slow_write_job.py WAREHOUSE MARKER MODE.

MODE "slow": the transform's UDF creates MARKER (so the test knows the write is under
way) and then sleeps, so the process is killed in the middle of Spark's write.
MODE "fast": the same job without sleeping.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import LongType

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.runtime.local import LocalConfig, LocalRuntime


def main(warehouse: str, marker: str, mode: str) -> None:
    def slow_identity(value: int) -> int:
        if mode == "slow":
            Path(marker).touch()
            time.sleep(2)
        return value

    slow = F.udf(slow_identity, LongType())

    class Numbers(FeatureJob):
        name = "numbers"
        inputs = {"events": TableInput("raw.numbers")}
        output = FeatureTable(
            "features.numbers",
            keys=("k",),
            date_column="d",
            columns={"k": "bigint", "d": "date", "v": "bigint"},
        )

        def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
            return events.select("k", "d", slow(F.col("v")).alias("v"))

    runtime = LocalRuntime(LocalConfig(warehouse=warehouse, quiet=True))
    Numbers().run(runtime)


if __name__ == "__main__":
    main(*sys.argv[1:4])
