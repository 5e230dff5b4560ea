"""Which units of an input are new since its bookmark, and how to read only those.

Three strategies, one bookmark document each:

* ``files``: every file under the input's path with its size and modification
  time; a file is new when its path is unseen or its size/mtime changed.
* ``delta``: the last processed table version; the new rows are the files added
  (``dataChange``) by the commits after it, read from the ``_delta_log``.
  Incremental Delta inputs must be append-only: a commit that removes data
  raises UnsupportedError (reset the state to rebuild).
* ``dates``: date partition folders ``<time_column>=YYYY-MM-DD`` directly under
  the path (local or remote); a date is new when it was never processed (files added later to an
  already processed date are not seen: use ``files`` for late data).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.errors import ConfigError, InputError, StateError, UnsupportedError
from featurekit.io import FilesInput, Input, TableInput
from featurekit.state.delta_log import added_files, read_delta_files

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from featurekit.runtime.base import Runtime

STRATEGIES = ("files", "delta", "dates")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class UnitPlan:
    """What one incremental input contributes to a run."""

    name: str
    kind: str
    new: list[str]  # the new units, for the run record and messages
    bookmark: dict[str, Any]  # the bookmark once these units are processed
    fresh: bool  # True when the input had no bookmark (every unit is new)
    read: Callable[[], DataFrame] = field(repr=False)


def default_strategy(inp: Input) -> str:
    """``files`` for file inputs, ``delta`` for Delta tables (paths or catalog tables)."""
    if isinstance(inp, FilesInput) and inp.format != "delta":
        return "files"
    return "delta"


def check_strategy(name: str, inp: Input, strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise ConfigError(f"Input {name!r}: unknown increment {strategy!r}; use {STRATEGIES}.")
    is_files = isinstance(inp, FilesInput) and inp.format != "delta"
    if strategy in ("files", "dates") and not is_files:
        raise UnsupportedError(
            f"Input {name!r}: increments by {strategy!r} are supported for FilesInput "
            "(parquet, csv, json); Delta inputs are incremental by table version ('delta')."
        )
    if strategy == "delta" and is_files:
        raise ConfigError(f"Input {name!r} is not a Delta table; use 'files' or 'dates'.")
    if strategy == "dates" and not inp.time_column:
        raise ConfigError(f"Input {name!r}: increments by 'dates' need time_column.")


# -- listing -----------------------------------------------------------------------
def list_files(runtime: Runtime, root: str) -> dict[str, tuple[int, int]]:
    """{relative path: (size, mtime ms)} of the data files under ``root`` (hidden skipped)."""
    if "://" in root:
        return _list_hadoop(runtime, root)
    base = Path(root)
    if not base.exists():
        raise InputError(f"Input folder {root} does not exist.")
    if base.is_file():
        stat = base.stat()
        return {"": (stat.st_size, int(stat.st_mtime * 1000))}
    found = {}
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        for name in files:
            if name.startswith(("_", ".")) or name.endswith(".crc"):
                continue
            path = Path(folder) / name
            stat = path.stat()
            found[str(path.relative_to(base))] = (stat.st_size, int(stat.st_mtime * 1000))
    return found


def _list_hadoop(runtime: Runtime, root: str) -> dict[str, tuple[int, int]]:
    """The same listing through Hadoop's FileSystem (s3://, hdfs:// on Glue and EMR)."""
    spark = runtime.spark
    jvm: Any = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(root)
    listing = path.getFileSystem(conf).listFiles(path, True)
    prefix = str(path.toString()).rstrip("/") + "/"
    found = {}
    while listing.hasNext():
        status = listing.next()
        rel = str(status.getPath().toString())[len(prefix) :]
        if any(p.startswith(("_", ".")) for p in rel.split("/")) or rel.endswith(".crc"):
            continue
        found[rel] = (int(status.getLen()), int(status.getModificationTime()))
    return found


def _join(root: str, rel: str) -> str:
    return root if not rel else f"{root.rstrip('/')}/{rel}"


def read_files(runtime: Runtime, name: str, inp: FilesInput, root: str, rels: list[str]) -> Any:
    """Read the given files of a file input, keeping partition columns of the folders."""
    from pyspark.errors import AnalysisException

    reader = runtime.spark.read.format(inp.format).options(**dict(inp.options))
    if inp.schema:
        reader = reader.schema(inp.schema)
    if not rels:
        if not inp.schema:
            raise InputError(
                f"Input {name!r}: no files to read and no schema to build an empty frame; "
                "declare FilesInput(schema=...)."
            )
        return runtime.spark.createDataFrame([], inp.schema)
    if "" not in rels:
        reader = reader.option("basePath", root)
    try:
        return reader.load([_join(root, r) for r in sorted(rels)])
    except AnalysisException as exc:
        raise InputError(f"Input {name!r}: cannot read new files of {inp.path}: {exc}") from exc


# -- strategies ----------------------------------------------------------------------
def _input_location(runtime: Runtime, inp: Input) -> str:
    if isinstance(inp, TableInput):
        return runtime.warehouse.resolve(runtime.catalog.get(inp.name).location)
    return runtime.warehouse.resolve(inp.path)


def plan_files(
    runtime: Runtime, name: str, inp: FilesInput, bookmark: Optional[Mapping[str, Any]]
) -> UnitPlan:
    root = _input_location(runtime, inp)
    now = list_files(runtime, root)
    seen = dict((bookmark or {}).get("files", {}))
    new = sorted(r for r, (size, mtime) in now.items() if seen.get(r) != [size, mtime])
    after = {**seen, **{r: list(now[r]) for r in new}}
    return UnitPlan(
        name,
        "files",
        new,
        {"kind": "files", "files": after},
        bookmark is None,
        lambda: read_files(runtime, name, inp, root, new),
    )


def files_by_date(runtime: Runtime, root: str, column: str) -> dict[str, list[str]]:
    """{date: files under ``<column>=<date>/``} directly below ``root`` (any file system)."""
    found: dict[str, list[str]] = {}
    for rel in list_files(runtime, root):
        key, _, value = rel.split("/", 1)[0].partition("=")
        if key == column and _DATE.match(value) and "/" in rel:
            found.setdefault(value, []).append(rel)
    return found


def plan_dates(
    runtime: Runtime, name: str, inp: FilesInput, bookmark: Optional[Mapping[str, Any]]
) -> UnitPlan:
    root = _input_location(runtime, inp)
    by_date = files_by_date(runtime, root, str(inp.time_column))
    done = set((bookmark or {}).get("dates", []))
    new = sorted(set(by_date) - done)
    rels = [rel for day in new for rel in by_date[day]]
    return UnitPlan(
        name,
        "dates",
        new,
        {"kind": "dates", "dates": sorted(done | set(new))},
        bookmark is None,
        lambda: read_files(runtime, name, inp, root, rels),
    )


def plan_delta(
    runtime: Runtime, name: str, inp: Input, bookmark: Optional[Mapping[str, Any]]
) -> UnitPlan:
    location = _input_location(runtime, inp)
    latest = runtime.engine.version(location)
    if latest is None:
        raise InputError(f"Input {name!r}: no Delta table at {inp.label}.")
    done = None if bookmark is None else int(bookmark["version"])
    if done is not None and done > latest:
        raise StateError(
            f"Input {name!r}: the state says version {done} was processed but {inp.label} is "
            f"at version {latest} (was the table recreated?). Reset the input's state."
        )
    new = [str(v) for v in range(0 if done is None else done + 1, latest + 1)]

    def read() -> Any:
        if done is None:
            return runtime.engine.read(runtime.spark, location, version=latest)
        return read_delta_files(
            runtime, location, added_files(runtime, name, location, done + 1, latest)
        )

    return UnitPlan(name, "delta", new, {"kind": "delta", "version": latest}, done is None, read)


def plan_input(
    runtime: Runtime, name: str, inp: Input, strategy: str, bookmark: Optional[Mapping[str, Any]]
) -> UnitPlan:
    """The plan of one incremental input against its bookmark (None: never processed)."""
    check_strategy(name, inp, strategy)
    if bookmark is not None and bookmark.get("kind") != strategy:
        raise StateError(
            f"Input {name!r}: the state was kept by {bookmark.get('kind')!r}, the job now "
            f"increments by {strategy!r}. Reset the input's state."
        )
    if strategy == "delta":
        return plan_delta(runtime, name, inp, bookmark)
    if not isinstance(inp, FilesInput):  # check_strategy guarantees it; for mypy
        raise TypeError(f"Input {name!r} is not a FilesInput")
    if strategy == "dates":
        return plan_dates(runtime, name, inp, bookmark)
    return plan_files(runtime, name, inp, bookmark)


def read_processed(runtime: Runtime, name: str, inp: Input, bookmark: Mapping[str, Any]) -> Any:
    """Exactly the units a bookmark says were processed (a range run's consistent view)."""
    kind = bookmark.get("kind")
    if kind == "delta":
        location = _input_location(runtime, inp)
        return runtime.engine.read(runtime.spark, location, version=int(bookmark["version"]))
    if not isinstance(inp, FilesInput):
        raise StateError(f"Input {name!r}: a {kind!r} bookmark on a non-file input; reset it.")
    root = _input_location(runtime, inp)
    if kind == "dates":
        by_date = files_by_date(runtime, root, str(inp.time_column))
        rels = [r for day in bookmark.get("dates", []) for r in by_date.get(day, [])]
        return read_files(runtime, name, inp, root, rels)
    now = list_files(runtime, root)
    seen = bookmark.get("files", {})
    return read_files(runtime, name, inp, root, [r for r in seen if r in now])
