"""Which units of an input are new since its bookmark, and how to read only those.

Three strategies, one bookmark document each:

* ``files``: every file under the input's path with its size and modification
  time; a file is new when its path is unseen. A file read before whose size or mtime
  changed raises StateError: its rows were counted, and reading it again would count
  them twice (a copy that reset the time included: reset the state to rebuild).
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

from featurekit.core.unreadable import input_unreadable
from featurekit.errors import ConfigError, InputError, StateError, UnsupportedError
from featurekit.io import (
    FilesInput,
    Input,
    TableInput,
    check_strategy,
)
from featurekit.state.delta_log import added_files, read_delta_files

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.storage import Storage

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


# -- listing -----------------------------------------------------------------------
def list_files(spark: SparkSession, root: str) -> dict[str, tuple[int, int]]:
    """{relative path: (size, mtime ms)} of the data files under ``root`` (hidden skipped)."""
    if "://" in root:
        return _list_hadoop(spark, root)
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


def _list_hadoop(spark: SparkSession, root: str) -> dict[str, tuple[int, int]]:
    """The same listing through Hadoop's FileSystem (s3://, hdfs:// on Glue and EMR)."""
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


def read_files(spark: SparkSession, name: str, inp: FilesInput, root: str, rels: list[str]) -> Any:
    """Read the given files of a file input, keeping partition columns of the folders."""
    reader = spark.read.format(inp.format).options(**dict(inp.options))
    if inp.schema:
        reader = reader.schema(inp.schema)
    if not rels:
        if not inp.schema:
            raise InputError(
                f"Input {name!r}: no files to read and no schema to build an empty frame; "
                "declare FilesInput(schema=...)."
            )
        return spark.createDataFrame([], inp.schema)
    if "" not in rels:
        reader = reader.option("basePath", root)
    try:
        return reader.load([_join(root, r) for r in sorted(rels)])
    except Exception as exc:
        error = input_unreadable(exc, name, inp.path, "new files of ")
        if error is None:
            raise
        raise error from exc


# -- strategies ----------------------------------------------------------------------
def _input_location(storage: Storage, inp: Input) -> str:
    if isinstance(inp, TableInput):
        return storage.warehouse.resolve(storage.catalog.get(inp.name).location)
    return storage.warehouse.resolve(inp.path)


def _delta_location(storage: Storage, name: str, inp: Input) -> str:
    """Where the incremental Delta input ``name`` lives; a ConfigError saying what to
    declare instead when it is a catalog table of files (csv, json, parquet)."""
    if not isinstance(inp, TableInput):
        return _input_location(storage, inp)
    entry = storage.catalog.get(inp.name)
    if entry.format == "iceberg":
        raise UnsupportedError(
            f"Input {name!r}: TableInput({inp.name!r}, incremental=True) is an Iceberg table; "
            "featurekit increments over Delta tables' commits and over files, not yet over "
            "Iceberg snapshots. Drop incremental=True to read the whole table (pruned to the "
            "run's dates) every run."
        )
    if entry.format != "delta":
        options = f", options={dict(entry.options)!r}" if entry.options else ""
        raise ConfigError(
            f"Input {name!r}: TableInput({inp.name!r}, incremental=True) is a {entry.format} "
            f"files table in the catalog (at {entry.location}), and an incremental catalog "
            "input must be a Delta table (its new rows are the commits after the last one "
            "processed). Declare its files instead, whose new files are found by path, size "
            f"and modification time: FilesInput({entry.location!r}, "
            f"format={entry.format!r}{options}, incremental=True); or drop incremental=True "
            "to read the whole table every run."
        )
    return storage.warehouse.resolve(entry.location)


def plan_files(
    spark: SparkSession,
    storage: Storage,
    name: str,
    inp: FilesInput,
    bookmark: Optional[Mapping[str, Any]],
    job: str = "JOB",
) -> UnitPlan:
    root = _input_location(storage, inp)
    now = list_files(spark, root)
    seen = dict((bookmark or {}).get("files", {}))
    changed = sorted(r for r, unit in now.items() if r in seen and seen[r] != list(unit))
    if changed:
        raise StateError(_changed_files(name, inp, changed, job))
    new = sorted(r for r in now if r not in seen)
    after = {**seen, **{r: list(now[r]) for r in new}}
    return UnitPlan(
        name,
        "files",
        new,
        {"kind": "files", "files": after},
        bookmark is None,
        lambda: read_files(spark, name, inp, root, new),
    )


def _changed_files(name: str, inp: FilesInput, changed: list[str], job: str) -> str:
    shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    return (
        f"Input {name!r} ({inp.path}): {len(changed)} file(s) read by an earlier run have "
        f"changed since (size or modification time): {shown}. Their rows are in the output "
        "already, and featurekit cannot take them back, so reading the files again would "
        "count them twice. Restore the files, put new rows in new files, or rebuild from "
        f"every file: featurekit state reset {job}, then run."
    )


def files_by_date(spark: SparkSession, root: str, column: str) -> dict[str, list[str]]:
    """{date: files under ``<column>=<date>/``} directly below ``root`` (any file system)."""
    found: dict[str, list[str]] = {}
    for rel in list_files(spark, root):
        key, _, value = rel.split("/", 1)[0].partition("=")
        if key == column and _DATE.match(value) and "/" in rel:
            found.setdefault(value, []).append(rel)
    return found


def plan_dates(
    spark: SparkSession,
    storage: Storage,
    name: str,
    inp: FilesInput,
    bookmark: Optional[Mapping[str, Any]],
) -> UnitPlan:
    root = _input_location(storage, inp)
    by_date = files_by_date(spark, root, str(inp.time_column))
    done = set((bookmark or {}).get("dates", []))
    new = sorted(set(by_date) - done)
    rels = [rel for day in new for rel in by_date[day]]
    return UnitPlan(
        name,
        "dates",
        new,
        {"kind": "dates", "dates": sorted(done | set(new))},
        bookmark is None,
        lambda: read_files(spark, name, inp, root, rels),
    )


def plan_delta(
    spark: SparkSession,
    storage: Storage,
    name: str,
    inp: Input,
    bookmark: Optional[Mapping[str, Any]],
) -> UnitPlan:
    location = _delta_location(storage, name, inp)
    latest = storage.engine.version(location)
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
            return storage.engine.read(spark, location, version=latest)
        return read_delta_files(
            spark, storage, location, added_files(spark, name, location, done + 1, latest)
        )

    return UnitPlan(name, "delta", new, {"kind": "delta", "version": latest}, done is None, read)


def plan_input(
    spark: SparkSession,
    storage: Storage,
    name: str,
    inp: Input,
    strategy: str,
    bookmark: Optional[Mapping[str, Any]],
    job: str = "JOB",
) -> UnitPlan:
    """The plan of one incremental input of ``job`` against its bookmark (None: never
    processed)."""
    check_strategy(name, inp, strategy)
    if bookmark is not None and bookmark.get("kind") != strategy:
        raise StateError(
            f"Input {name!r}: the state was kept by {bookmark.get('kind')!r}, the job now "
            f"increments by {strategy!r}. Reset the input's state."
        )
    if strategy == "delta":
        return plan_delta(spark, storage, name, inp, bookmark)
    if not isinstance(inp, FilesInput):  # check_strategy guarantees it; for mypy
        raise TypeError(f"Input {name!r} is not a FilesInput")
    if strategy == "dates":
        return plan_dates(spark, storage, name, inp, bookmark)
    return plan_files(spark, storage, name, inp, bookmark, job)


def read_processed(
    spark: SparkSession, storage: Storage, name: str, inp: Input, bookmark: Mapping[str, Any]
) -> Any:
    """Exactly the units a bookmark says were processed (a range run's consistent view)."""
    kind = bookmark.get("kind")
    if kind == "delta":
        location = _delta_location(storage, name, inp)
        return storage.engine.read(spark, location, version=int(bookmark["version"]))
    if not isinstance(inp, FilesInput):
        raise StateError(f"Input {name!r}: a {kind!r} bookmark on a non-file input; reset it.")
    root = _input_location(storage, inp)
    if kind == "dates":
        by_date = files_by_date(spark, root, str(inp.time_column))
        rels = [r for day in bookmark.get("dates", []) for r in by_date.get(day, [])]
        return read_files(spark, name, inp, root, rels)
    now = list_files(spark, root)
    seen = bookmark.get("files", {})
    return read_files(spark, name, inp, root, [r for r in seen if r in now])
