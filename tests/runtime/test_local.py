"""The local runtime's session."""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession


def test_a_failed_task_is_not_logged_twice(spark: SparkSession) -> None:
    """A failed task's Java trace is in the run's error; the session's executor and task
    scheduler do not print it before (the run then ends with one featurekit line)."""
    jvm: Any = spark.sparkContext._jvm
    for name in ("org.apache.spark.executor.Executor", "org.apache.spark.scheduler.TaskSetManager"):
        level = jvm.org.apache.logging.log4j.LogManager.getLogger(name).getLevel()
        assert level.toString() == "OFF"
    other = jvm.org.apache.logging.log4j.LogManager.getLogger("org.apache.spark.SparkContext")
    assert other.getLevel().toString() == "ERROR"
