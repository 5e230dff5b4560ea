"""``featurekit table list|show|history|optimize|vacuum|checkpoint``.

Delta tables are read through deltalake (delta-rs) and Iceberg tables through pyiceberg,
so these commands start in a second, without Spark, and work on tables written by any
engine. ``show`` of a files table (csv,
json, parquet: what ``featurekit crawl`` registers) starts Spark and reads it as a run
does (``read_files_table``: the registered schema, options and partitions). The maintenance commands
(optimize, vacuum, checkpoint, in :mod:`featurekit.cli.table_maintenance`) use
delta-rs too, unless ``--engine delta-spark`` asks for Delta's own Spark
implementation; on an Iceberg table they start Spark with Iceberg's runtime. Every
command prints JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import asdict
from typing import Any, Callable, Optional

from featurekit.errors import (
    ConfigError,
    MissingDependencyError,
    TableError,
    TableNotFoundError,
    UnsupportedError,
)
from featurekit.tables.catalog import CatalogEntry

# Table formats with versions (time travel, history); others are files tables.
VERSIONED = ("delta", "iceberg")


def catalog_of(args: argparse.Namespace) -> Any:
    """The catalog ``--catalog`` names (local: the warehouse's own; or Glue's)."""
    from featurekit.cli.common import open_cli_catalog

    return open_cli_catalog(args)


def _open(args: argparse.Namespace, entry: CatalogEntry, version: Optional[int] = None) -> Any:
    """The table through delta-rs (on S3 with the warehouse's endpoint and credentials);
    TableNotFoundError when its folder is gone, ConfigError for a version it does not have."""
    from featurekit.cli.common import s3_access
    from featurekit.tables.deltars import _deltalake

    if entry.format != "delta":
        raise UnsupportedError(
            f"Table {entry.name} is a {entry.format} files table at {entry.location}; this "
            "command reads Delta tables ('featurekit table show' previews a files table)."
        )
    deltalake = _deltalake()
    access = s3_access(args)
    options = access.storage_options() if access is not None else None
    try:
        table = deltalake.DeltaTable(entry.location, storage_options=options)
    except deltalake.exceptions.TableNotFoundError as exc:
        raise TableNotFoundError(
            f"Table {entry.name} is in the catalog at {entry.location}, but no Delta table is "
            f"there ({exc}). Run the job that writes it again, or check --warehouse."
        ) from exc
    if version is None or version == table.version():
        return table
    if not 0 <= version <= table.version():
        raise ConfigError(
            f"Table {entry.name} has versions 0..{table.version()}; --version {version} is "
            "not one of them (see 'featurekit table history')."
        )
    try:
        table.load_as_version(version)
    except deltalake.exceptions.DeltaError as exc:
        raise TableError(
            f"Table {entry.name}: version {version} cannot be read ({exc}); its log or files "
            "may have been cleaned up (vacuum, log retention)."
        ) from exc
    return table


def _open_iceberg(args: argparse.Namespace, entry: CatalogEntry) -> Any:
    """The Iceberg table through pyiceberg (no Spark)."""
    from featurekit.cli.common import s3_access
    from featurekit.tables.iceberg_reader import IcebergSnapshotReader

    access = s3_access(args)
    try:
        return IcebergSnapshotReader.open(
            entry.location,
            metadata_location=entry.metadata_location,
            storage_options=access.storage_options() if access is not None else None,
        )
    except TableNotFoundError as exc:
        raise TableNotFoundError(
            f"Table {entry.name} is in the catalog at {entry.location}, but no Iceberg table "
            f"is there ({exc}). Run the job that writes it again, or check --warehouse."
        ) from exc


def _dump(doc: Any) -> None:
    print(json.dumps(doc, indent=2, default=str))


def _listing(args: argparse.Namespace, entry: CatalogEntry) -> dict[str, Any]:
    version: Optional[int] = None
    missing = unread = None
    try:
        if entry.format == "delta":
            version = _open(args, entry).version()
        elif entry.format == "iceberg":
            version = _open_iceberg(args, entry).version()
    except TableNotFoundError:
        missing = f"no {entry.format.capitalize()} table at this location"
    except MissingDependencyError:  # one table's reader missing: the others still listed
        unread = "version not read: pyiceberg is not installed (featurekit's iceberg extra)"
    return {
        "name": entry.name,
        "format": entry.format,
        "version": version,
        "location": entry.location,
        "description": entry.description,
        "missing": missing,
        "unread": unread,
    }


def cmd_list(args: argparse.Namespace) -> int:
    rows = [_listing(args, e) for e in catalog_of(args).list()]
    if args.json:
        _dump(rows)
        return 0
    if not rows:
        print(f"No tables in {args.warehouse}. Try 'featurekit demo'.")
    for row in rows:
        version = f"v{row['version']:<4d}" if row["version"] is not None else "v-   "
        version = version if row["format"] in VERSIONED else f"{row['format']:6s}"
        note = f"  (missing: {row['missing']})" if row["missing"] else ""
        note += f"  ({row['unread']})" if row["unread"] else ""
        print(f"{row['name']:40s} {version} {row['location']}  {row['description']}{note}")
    return 0


def _show_doc(args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    entry = catalog_of(args).get(args.table)
    if entry.format not in VERSIONED:
        return _show_files(args, entry)
    if entry.format == "iceberg":
        iceberg = _open_iceberg(args, entry)
        data = iceberg.to_arrow(args.version)
        version = iceberg.version() if args.version is None else args.version
    else:
        table = _open(args, entry, args.version)
        try:
            data = table.to_pyarrow_table()
        except FileNotFoundError as exc:  # the version's files were vacuumed
            from featurekit.errors import TableError

            at = "its latest version" if args.version is None else f"version {args.version}"
            raise TableError(
                f"Cannot read {entry.name} at {at}: a data file it lists is gone "
                f"({str(exc).splitlines()[0]}). Files removed by 'featurekit table vacuum' "
                "are gone for good: read a version younger than the vacuum's retention."
            ) from exc
        version = table.version()
    sort = [(c, "ascending") for c in (entry.date_column, *entry.keys) if c in data.column_names]
    head = data.sort_by(sort).slice(0, args.limit) if sort else data.slice(0, args.limit)
    doc = {
        "table": entry.name,
        "format": entry.format,
        "version": version,
        "location": entry.location,
        "description": entry.description,
        "keys": list(entry.keys),
        "date_column": entry.date_column,
        "partition_columns": list(entry.partition_columns),
        "columns": entry.column_types,
        "rows": data.num_rows,
    }
    return doc, head


def _show_files(args: argparse.Namespace, entry: CatalogEntry) -> tuple[dict[str, Any], Any]:
    """A files table read with Spark as a run reads it: its rows counted, the first
    ``--limit`` (sorted by date and keys when it declares them) as an Arrow table."""
    import pyarrow as pa

    from featurekit.cli.common import local_runtime
    from featurekit.tables.files import read_files_table

    if args.version is not None:
        raise UnsupportedError(
            f"Table {entry.name} is a {entry.format} files table: it has no versions, so "
            "--version (Delta time travel) does not apply. Leave it out."
        )
    if not args.quiet:
        print(
            f"featurekit: starting Spark to read the {entry.format} files table {entry.name}",
            file=sys.stderr,
            flush=True,
        )
    runtime = local_runtime(args)
    storage = runtime.storage
    df = read_files_table(runtime.spark, storage.warehouse, storage.catalog, entry.name, entry)
    sort = [c for c in (entry.date_column, *entry.keys) if c and c in df.columns]
    rows = df.count()
    head = (df.orderBy(*sort) if sort else df).limit(args.limit).collect()
    doc = {
        "table": entry.name,
        "format": entry.format,
        "version": None,
        "location": entry.location,
        "description": entry.description,
        "keys": list(entry.keys),
        "date_column": entry.date_column,
        "partition_columns": list(entry.partition_columns),
        "columns": entry.column_types or dict(df.dtypes),
        "rows": rows,
    }
    return doc, pa.Table.from_pylist([r.asDict(recursive=True) for r in head])


def cmd_show(args: argparse.Namespace) -> int:
    doc, head = _show_doc(args)
    if args.json:
        _dump({**doc, "head": head.to_pylist()})
        return 0
    stamp = f"{doc['format']} files"
    if doc["format"] in VERSIONED:  # "version 3" (Delta), "iceberg version 3"
        kind = "" if doc["format"] == "delta" else f"{doc['format']} "
        stamp = f"{kind}version {doc['version']}"
    print(f"{doc['table']}  {stamp}  {doc['location']}")
    if doc["description"]:
        print(f"  {doc['description']}")
    print(
        f"  keys: {', '.join(doc['keys']) or '-'}   date: {doc['date_column'] or '-'}   "
        f"partitions: {', '.join(doc['partition_columns']) or '-'}"
    )
    print(f"  rows: {doc['rows']}")
    for name, type_name in doc["columns"].items():
        print(f"    {name}: {type_name}")
    print(head.to_pandas().to_string(index=False) if head.num_rows else "  (empty)")
    return 0


def _commit(item: dict[str, Any]) -> dict[str, Any]:
    millis = int(item.get("timestamp", 0))
    stamp = dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc)
    known = {"version", "timestamp", "operation", "operationParameters"}
    return {
        "version": int(item["version"]),
        "timestamp": stamp.isoformat(timespec="milliseconds"),
        "operation": str(item.get("operation", "")),
        "parameters": dict(item.get("operationParameters") or {}),
        "metadata": {k: v for k, v in item.items() if k not in known},
    }


def cmd_history(args: argparse.Namespace) -> int:
    entry = catalog_of(args).get(args.table)
    if entry.format == "iceberg":
        commits = [asdict(c) for c in _open_iceberg(args, entry).history(args.limit)]
    else:
        commits = [_commit(item) for item in _open(args, entry).history(args.limit)]
    if args.json:
        _dump(commits)
        return 0
    from featurekit.quality.quarantine import commit_metadata

    for c in commits:
        # featurekit's keys, at the top level or in userMetadata (where "job" goes, a
        # field of Delta's own commitInfo)
        meta = commit_metadata(c["metadata"])
        extra = {k: v for k, v in meta.items() if k in ("job", "run_id", "engine")}
        mode = c["parameters"].get("mode", "")
        print(f"v{c['version']:<4d} {c['timestamp']}  {c['operation']:14s} {mode:14s} {extra}")
    return 0


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    from featurekit.cli.table_maintenance import add_maintenance_commands

    table = sub.add_parser("table", help="list, show, inspect and maintain tables")
    tsub = table.add_subparsers(dest="table_command", required=True, metavar="ACTION")

    def parser(name: str, help_text: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        p = tsub.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true", help="print it as JSON")
        add_runtime_args(p)
        p.set_defaults(handler=handler)
        return p

    parser("list", "tables in the catalog", cmd_list)
    p = parser(
        "show",
        "schema, size and first rows of a table (a csv/json/parquet files table is read with "
        "Spark, which takes a while to start)",
        cmd_show,
    )
    p.add_argument("table", metavar="DB.TABLE")
    p.add_argument("--limit", type=int, default=10, help="rows to print (default 10)")
    p.add_argument(
        "--version", type=int, help="show this version (time travel; Delta and Iceberg tables)"
    )
    p = parser("history", "the table's commits (Delta) or snapshots (Iceberg)", cmd_history)
    p.add_argument("table", metavar="DB.TABLE")
    p.add_argument("--limit", type=int, default=None)

    add_maintenance_commands(tsub, add_runtime_args)
    from featurekit.cli.register import add_register_command

    add_register_command(tsub, add_runtime_args)
