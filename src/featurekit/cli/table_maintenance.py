"""``featurekit table optimize|vacuum|checkpoint``: table maintenance from the command line.

delta-rs by default (no Spark session); ``--engine delta-spark`` uses Delta's own Spark
implementation. An Iceberg table is maintained by the Iceberg engine (a Spark session
with Iceberg's runtime): optimize is ``rewrite_data_files``, vacuum ``expire_snapshots``
then ``remove_orphan_files`` (``--dry-run`` lists what they would delete), checkpoint
``rewrite_manifests``. Each prints its result, or with ``--json`` the result as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Callable

from featurekit.cli.common import open_cli_catalog
from featurekit.errors import ConfigError, UnsupportedError

if TYPE_CHECKING:
    from featurekit.tables.catalog import CatalogEntry
    from featurekit.tables.engine import PartitionFilter, TableEngine


def _maintenance_engine(args: argparse.Namespace, entry: CatalogEntry) -> TableEngine:
    """The engine of ``entry``'s format: for Delta, delta-rs (no Spark session needed)
    unless ``--engine delta-spark`` asks for Delta's own; for Iceberg, Iceberg's (Spark)."""
    if entry.format == "iceberg":
        from featurekit.cli.common import local_runtime

        engine: TableEngine = local_runtime(args, iceberg=True).storage.engine_of("iceberg")
        return engine
    if entry.format != "delta":
        raise UnsupportedError(
            f"Table {entry.name} is a {entry.format} files table: only Delta and Iceberg "
            "tables have maintenance."
        )
    if args.engine == "delta-spark":
        from featurekit.cli.common import local_runtime

        delta: TableEngine = local_runtime(args).storage.engine
        return delta
    return _delta_rs(args)


def _delta_rs(args: argparse.Namespace) -> TableEngine:
    """delta-rs, reaching a warehouse on S3 as a run does: its endpoint and credentials
    (``--s3-endpoint``, boto3's chain) and the table's commit lease (``--commit-coordinator``)
    around each commit (docs/s3.md)."""
    from featurekit.cli.common import open_cli_warehouse, s3_access
    from featurekit.runtime.base import RuntimeConfig, commit_settings
    from featurekit.storage import table_engine
    from featurekit.tables.deltars import DeltaRsEngine

    access = s3_access(args)
    if access is None:
        return DeltaRsEngine()
    commits = commit_settings(
        RuntimeConfig(
            s3=access,
            commit_coordinator=args.commit_coordinator,
            commit_attempts=args.commit_attempts,
        )
    )
    # no Spark session: table_engine asks the session only for "auto" and "delta-spark"
    no_spark: Any = None
    return table_engine(no_spark, "delta-rs", open_cli_warehouse(args), commits)


def _progress(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _finish(args: argparse.Namespace, doc: dict[str, Any], began: float, text: str) -> int:
    doc["seconds"] = round(time.perf_counter() - began, 3)
    if args.json:
        print(json.dumps(doc, indent=2, default=str))
    else:
        print(f"{text} ({doc['seconds']:.1f}s)")
    return 0


def _date_filters(args: argparse.Namespace, entry: Any) -> list[PartitionFilter]:
    if args.start is None and args.end is None:
        return []
    if entry.date_column is None or entry.date_column not in entry.partition_columns:
        raise ConfigError(
            f"{entry.name} is not partitioned by a date column (partitions: "
            f"{list(entry.partition_columns) or 'none'}); drop --start/--end to optimize it all."
        )
    filters: list[PartitionFilter] = []
    if args.start is not None:
        filters.append((entry.date_column, ">=", args.start))
    if args.end is not None:
        filters.append((entry.date_column, "<=", args.end))
    return filters


def cmd_optimize(args: argparse.Namespace) -> int:
    entry = open_cli_catalog(args).get(args.table)
    filters = _date_filters(args, entry)
    began = time.perf_counter()
    engine = _maintenance_engine(args, entry)
    where = " and ".join(f"{c} {op} {v}" for c, op, v in filters) or "all partitions"
    _progress(args, f"optimize {entry.name} ({where}) with {engine.name} ...")
    result = engine.optimize(entry.location, partitions=filters)
    doc = {"table": entry.name, "engine": engine.name, **asdict(result)}
    text = (
        f"{entry.name}: compacted {result.files_removed} files into {result.files_added}; "
        f"live files {result.files_before} -> {result.files_after} (version {result.version})"
    )
    return _finish(args, doc, began, text)


def cmd_vacuum(args: argparse.Namespace) -> int:
    entry = open_cli_catalog(args).get(args.table)
    began = time.perf_counter()
    engine = _maintenance_engine(args, entry)
    retain = "the table's retention" if args.retain_hours is None else f"{args.retain_hours}h"
    mode = " (dry run)" if args.dry_run else ""
    _progress(args, f"vacuum {entry.name}, keeping {retain}{mode}, with {engine.name} ...")
    result = engine.vacuum(
        entry.location, retention_hours=args.retain_hours, dry_run=args.dry_run, force=args.force
    )
    for name in result.files if args.dry_run and not args.json else ():
        print(f"  would delete {name}")
    staging = _vacuum_staging(args, entry.location)
    verb = "would delete" if args.dry_run else "deleted"
    doc = {"table": entry.name, "engine": engine.name, **asdict(result)}
    doc["staging"] = [asdict(s) for s in staging]
    text = (
        f"{entry.name}: {verb} {len(result.files)} files no longer needed "
        f"(retention {result.retention_hours:g} hours{', forced' if result.forced else ''}); "
        f"{'would remove' if args.dry_run else 'removed'} {len(staging)} stage folder(s) "
        "of dead runs"
    )
    return _finish(args, doc, began, text)


def _vacuum_staging(args: argparse.Namespace, location: str) -> list[Any]:
    """Stage folders of dead runs under the table (see featurekit.storage.leftovers):
    listed with --dry-run, else removed."""
    from featurekit.cli.common import open_cli_warehouse
    from featurekit.storage.leftovers import remove, staging_folders, stale_staging

    warehouse = open_cli_warehouse(args)
    folders = staging_folders(warehouse, location)
    if not folders:
        return []
    labels = {f.label for f in folders if f.label}
    names = [n for n in warehouse.list_json("_runs") if _stem(n) in labels]
    records = [dict(warehouse.read_json(n)) for n in names]
    stale = stale_staging(warehouse, location, records, min_age_hours=args.staging_age)
    for leftover in stale:
        if args.dry_run:
            if not args.json:
                print(f"  would remove {leftover.folder} ({leftover.reason})")
        else:
            remove(warehouse, leftover)
    return stale


def _stem(name: str) -> str:
    from featurekit.tables.engine import staging_label

    return staging_label(name.rsplit("/", 1)[-1].removesuffix(".json"))


def cmd_checkpoint(args: argparse.Namespace) -> int:
    entry = open_cli_catalog(args).get(args.table)
    began = time.perf_counter()
    engine = _maintenance_engine(args, entry)
    _progress(args, f"checkpoint {entry.name} with {engine.name} ...")
    result = engine.checkpoint(entry.location)
    doc = {"table": entry.name, "engine": engine.name, **asdict(result)}
    text = f"{entry.name}: checkpoint at version {result.version}: {result.file}"
    return _finish(args, doc, began, text)


def add_maintenance_commands(
    tsub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]
) -> None:
    from featurekit.cli.common import parse_date
    from featurekit.storage.leftovers import STAGING_MIN_AGE_HOURS

    def parser(name: str, help_text: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        p = tsub.add_parser(name, help=help_text)
        p.add_argument("table", metavar="DB.TABLE")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        add_runtime_args(p)
        p.set_defaults(handler=handler)
        return p

    p = parser("optimize", "compact small files into larger ones (data unchanged)", cmd_optimize)
    p.add_argument("--start", type=parse_date, help="first date partition to compact")
    p.add_argument("--end", type=parse_date, help="last date partition to compact")
    p = parser(
        "vacuum",
        "delete files older versions no longer need, and stage folders of dead runs",
        cmd_vacuum,
    )
    p.add_argument(
        "--retain-hours",
        type=int,
        default=None,
        help="keep files removed less than this many hours ago (default: the table's "
        "delta.deletedFileRetentionDuration, 7 days; Iceberg: "
        "history.expire.max-snapshot-age-ms, 5 days); less than that needs --force",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="list the files and the stage folders of dead runs, delete nothing",
    )
    p.add_argument(
        "--staging-age",
        type=float,
        default=STAGING_MIN_AGE_HOURS,
        metavar="HOURS",
        help="also remove stage folders (TABLE/_featurekit_staging/) no run record names once "
        f"this old (default {STAGING_MIN_AGE_HOURS:g}, Glue's default job timeout); folders "
        "of runs that ended or died go at any age, a live run's never",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="allow a retention under the table's: time travel to older versions, and "
        "writers still running, lose their files",
    )
    parser(
        "checkpoint",
        "write a Delta checkpoint of the latest version (Iceberg: rewrite the manifests)",
        cmd_checkpoint,
    )
