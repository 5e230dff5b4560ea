"""Test helpers for featurekit users and featurekit itself: a pytest plugin and builders.

Enable the plugin in a conftest.py with ``pytest_plugins = ["featurekit.testing.plugin"]``;
it provides a session-scoped ``spark`` fixture (fast local settings) and a
``local_runtime`` fixture on a fresh warehouse folder per test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.runtime.base import Runtime

__all__ = ["read_table", "write_table"]


def write_table(runtime: Runtime, name: str, df: DataFrame, description: str = "") -> int:
    """Replace the table ``name`` (``db.table``) of the runtime's warehouse with ``df`` and
    register it in its catalog, as a job's input; returns the rows written.

    Example::

        write_table(local_runtime, "raw.events", spark.createDataFrame(rows, schema))
    """
    return int(_replace_and_register(runtime, name, df, description).rows)


def _replace_and_register(runtime: Runtime, name: str, df: DataFrame, description: str) -> Any:
    """Write ``df`` over the table ``name`` and register it; the engine's write result."""
    location = runtime.storage.location(name)
    result = runtime.storage.engine.write(df, location, mode="overwrite")
    schema = runtime.storage.engine.schema(location)
    runtime.storage.catalog.register(
        name, location, schema=schema.jsonValue() if schema else {}, description=description
    )
    return result


def read_table(runtime: Runtime, name: str) -> DataFrame:
    """The current rows of the catalog table ``name``, e.g. a job's output."""
    return runtime.storage.engine.read(runtime.spark, runtime.storage.location(name))
