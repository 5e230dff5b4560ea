"""Leftovers of dead runs: stage folders under ``TABLE/_featurekit_staging/``.

A run stages its output (and quarantine) in ``TABLE/_featurekit_staging/<run id>.<hex>``
and deletes the folder after the commit or on failure; a run killed mid-write cannot,
so the folder stays: a full copy of the output that Delta never reads. Two things
remove it:

* the next run of the job, which finds the dead run's record (see
  :func:`featurekit.runs.judge`) and removes the stage folders named by its run id;
* ``featurekit table vacuum`` (:func:`stale_staging`), which removes every stage folder
  whose run is over (its record is not ``running``, or its holder is dead), and folders
  no run record names (older featurekit, records deleted) once older than
  ``min_age_hours`` (default :data:`STAGING_MIN_AGE_HOURS`).

Example::

    for leftover in stale_staging(warehouse, "/wh/features/daily", records):
        remove(warehouse, leftover)
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from featurekit.runs import is_dead
from featurekit.tables.engine import STAGING, staging_label
from featurekit.warehouse import S3Warehouse, Warehouse

#: A stage folder no run record names is removed by ``table vacuum`` once this old
#: (hours since its newest file): Glue's default job timeout is 48 hours, so no run
#: Glue still lets run can lose its staging to a vacuum with the default.
STAGING_MIN_AGE_HOURS = 48.0


@dataclass(frozen=True)
class Leftover:
    """One stage folder: where, the run id label (None for older names), its size and age."""

    folder: str
    label: Optional[str]
    files: int
    size_bytes: int
    age_hours: float
    reason: str = ""  # why it may be removed (set by stale_staging)


def _label(name: str) -> Optional[str]:
    head, dot, tail = name.rpartition(".")
    return head if dot and len(tail) == 12 else None


def _s3(warehouse: Warehouse) -> Any:
    if isinstance(warehouse, S3Warehouse):
        return warehouse.client
    import boto3

    from featurekit.core.faults import boto_config

    return boto3.client("s3", config=boto_config())


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.split("://", 1)[1].partition("/")
    return bucket, key.strip("/")


def _hours(newest: dt.datetime, now: dt.datetime) -> float:
    return round(max(0.0, (now - newest).total_seconds()) / 3600, 3)


def staging_folders(
    warehouse: Warehouse, location: str, now: Optional[dt.datetime] = None
) -> list[Leftover]:
    """Every stage folder of the table at ``location`` (a folder or an ``s3://`` URI)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if "://" in location and not location.startswith("file:"):
        return _s3_folders(warehouse, location, now)
    base = Path(location.removeprefix("file:")) / STAGING
    found = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []:
        files = [p for p in folder.rglob("*") if p.is_file()]
        stamps = [p.stat().st_mtime for p in files] or [folder.stat().st_mtime]
        newest = dt.datetime.fromtimestamp(max(stamps), dt.timezone.utc)
        size = sum(p.stat().st_size for p in files)
        found.append(
            Leftover(str(folder), _label(folder.name), len(files), size, _hours(newest, now))
        )
    return found


def _s3_folders(warehouse: Warehouse, location: str, now: dt.datetime) -> list[Leftover]:
    bucket, key = _split(location)
    prefix = f"{key}/{STAGING}/"
    groups: dict[str, list[Mapping[str, Any]]] = {}
    pages = _s3(warehouse).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for item in page.get("Contents", []):
            name = str(item["Key"])[len(prefix) :].split("/", 1)[0]
            if name:  # not S3A's marker object of the staging folder itself
                groups.setdefault(name, []).append(item)
    scheme = location.split("://", 1)[0]
    return [
        Leftover(
            f"{scheme}://{bucket}/{prefix}{name}",
            _label(name),
            len(items),
            sum(int(i.get("Size", 0)) for i in items),
            _hours(max(i["LastModified"] for i in items), now),
        )
        for name, items in sorted(groups.items())
    ]


def remove(warehouse: Warehouse, leftover: Leftover) -> None:
    """Delete one stage folder and everything in it."""
    if "://" not in leftover.folder or leftover.folder.startswith("file:"):
        shutil.rmtree(leftover.folder.removeprefix("file:"), ignore_errors=True)
        return
    bucket, key = _split(leftover.folder)
    client = _s3(warehouse)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key + "/"):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def remove_run_staging(warehouse: Warehouse, locations: Iterable[str], run_id: str) -> int:
    """Delete the stage folders run ``run_id`` left under ``locations``; how many."""
    label, removed = staging_label(run_id), 0
    for location in locations:
        for leftover in staging_folders(warehouse, location):
            if leftover.label == label:
                remove(warehouse, leftover)
                removed += 1
    return removed


def stale_staging(
    warehouse: Warehouse,
    location: str,
    records: Iterable[Mapping[str, Any]],
    *,
    min_age_hours: float = STAGING_MIN_AGE_HOURS,
    now: Optional[dt.datetime] = None,
) -> list[Leftover]:
    """The stage folders of ``location`` safe to remove, each with its reason: its run is
    over (by ``records``, the warehouse's run records), or no record names it and it is
    at least ``min_age_hours`` old. A live run's folder is never among them."""
    by_label = {staging_label(str(r["run_id"])): r for r in records if r.get("run_id")}
    stale = []
    for leftover in staging_folders(warehouse, location, now):
        record = by_label.get(leftover.label) if leftover.label else None
        if record is not None:
            status = "abandoned" if is_dead(dict(record), now) else str(record.get("status"))
            if status == "running":
                continue  # a live run is still writing it
            reason = f"run {record['run_id']} of {record.get('job')} is {status}"
        elif leftover.age_hours >= min_age_hours:
            reason = f"no run record names it; {leftover.age_hours:g} h old"
        else:
            continue
        stale.append(_with_reason(leftover, reason))
    return stale


def _with_reason(leftover: Leftover, reason: str) -> Leftover:
    from dataclasses import replace

    return replace(leftover, reason=reason)
