"""New rows of an append-only Delta table since a version, from its ``_delta_log``.

Each commit ``N`` is ``_delta_log/<N, 20 digits>.json``: one JSON action per line.
The ``add`` actions with ``dataChange`` are the new data files; ``remove`` actions
with ``dataChange`` (deletes, overwrites, merges) cannot be expressed as "new
rows" and are refused. Local logs are read with Python, remote ones (``s3://``
on Glue/EMR) through Spark.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from featurekit.core.names import sql_name
from featurekit.errors import StateError, UnsupportedError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from featurekit.storage import Storage


def _join(root: str, rel: str) -> str:
    return root if not rel else f"{root.rstrip('/')}/{rel}"


def _log_actions(spark: SparkSession, location: str, version: int) -> list[dict[str, Any]]:
    """The actions of one Delta commit, from ``_delta_log/<version>.json``."""
    path = f"{location.rstrip('/')}/_delta_log/{version:020d}.json"
    try:
        if "://" in location:
            lines = [r[0] for r in spark.read.text(path).collect()]
        else:
            lines = Path(path).read_text().splitlines()
    except Exception as exc:
        raise StateError(
            f"Cannot read Delta commit {version} of {location} ({exc}); the log may have been "
            "cleaned up since the last run. Run 'featurekit state reset JOB --input NAME' to "
            "rebuild from the whole table."
        ) from exc
    return [json.loads(line) for line in lines if line.strip()]


def added_files(spark: SparkSession, name: str, location: str, first: int, last: int) -> list[str]:
    """Data files added by commits ``first..last`` of an append-only Delta table."""
    files = []
    for version in range(first, last + 1):
        for action in _log_actions(spark, location, version):
            add, remove = action.get("add"), action.get("remove")
            if remove and remove.get("dataChange", True):
                raise UnsupportedError(
                    f"Input {name!r}: Delta commit {version} of {location} deletes or rewrites "
                    "rows; incremental Delta inputs must be append-only. Run 'featurekit state "
                    "reset JOB --input NAME' to rebuild from the whole table."
                )
            if add and add.get("dataChange", True):
                if add.get("deletionVector"):
                    raise UnsupportedError(
                        f"Input {name!r}: deletion vectors are not supported incrementally."
                    )
                rel = unquote(str(add["path"]))
                files.append(rel if "://" in rel else _join(location, rel))
    return files


def read_delta_files(spark: SparkSession, storage: Storage, location: str, files: list[str]) -> Any:
    """Rows of the given data files of a Delta table, with the table's schema."""
    schema = storage.engine.schema(location)
    if schema is None:
        raise StateError(f"No Delta table at {location}.")
    if not files:
        return spark.createDataFrame([], schema)
    frame = spark.read.schema(schema).option("basePath", location).parquet(*files)
    return frame.select(*map(sql_name, schema.fieldNames()))
