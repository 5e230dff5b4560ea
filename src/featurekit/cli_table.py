"""``featurekit table list|show|history``: read the catalog and tables without Spark.

Tables are read through deltalake (delta-rs), so these commands start in a
second and work on tables written by either engine.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from featurekit.tables.catalog import LocalCatalog


def _catalog(args: argparse.Namespace) -> LocalCatalog:
    from featurekit.cli import open_cli_warehouse

    return LocalCatalog(open_cli_warehouse(args))


def _delta(args: argparse.Namespace, location: str, version: Any = None) -> Any:
    """The table through delta-rs; on S3 with the warehouse's endpoint and credentials."""
    from featurekit.cli import s3_access
    from featurekit.tables.deltars import _deltalake

    access = s3_access(args)
    options = access.storage_options() if access is not None else None
    return _deltalake().DeltaTable(location, version=version, storage_options=options)


def cmd_list(args: argparse.Namespace) -> int:
    entries = _catalog(args).list()
    if not entries:
        print(f"No tables in {args.warehouse}. Try 'featurekit demo'.")
    for e in entries:
        version = _delta(args, e.location).version()
        print(f"{e.name:40s} v{version:<4d} {e.location}  {e.description}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    entry = _catalog(args).get(args.table)
    table = _delta(args, entry.location, args.version)
    print(f"{entry.name}  version {table.version()}  {entry.location}")
    if entry.description:
        print(f"  {entry.description}")
    keys = ", ".join(entry.keys) or "-"
    print(
        f"  keys: {keys}   date: {entry.date_column or '-'}   partitions: "
        f"{', '.join(entry.partition_columns) or '-'}"
    )
    data = table.to_pyarrow_table()
    print(f"  rows: {data.num_rows}")
    for name, type_name in entry.column_types.items():
        print(f"    {name}: {type_name}")
    sort = [(c, "ascending") for c in (entry.date_column, *entry.keys) if c in data.column_names]
    head = data.sort_by(sort).slice(0, args.limit) if sort else data.slice(0, args.limit)
    print(head.to_pandas().to_string(index=False) if head.num_rows else "  (empty)")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from featurekit.tables.deltars import DeltaRsEngine

    entry = _catalog(args).get(args.table)
    if entry.location.startswith("s3://"):
        for doc in _delta(args, entry.location).history(args.limit):
            print(f"v{doc.get('version')!s:<4} {doc.get('timestamp')}  {doc.get('operation')}")
        return 0
    for h in DeltaRsEngine().history(entry.location, args.limit):
        extra = {k: v for k, v in h.metadata.items() if k in ("job", "run_id", "engine")}
        mode = h.parameters.get("mode", "")
        print(f"v{h.version:<4d} {h.timestamp}  {h.operation:14s} {mode:14s} {extra}")
    return 0


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    table = sub.add_parser("table", help="list, show and inspect the history of tables")
    tsub = table.add_subparsers(dest="table_command", required=True, metavar="ACTION")

    p = tsub.add_parser("list", help="tables in the catalog")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_list)

    p = tsub.add_parser("show", help="schema, size and first rows of a table")
    p.add_argument("table", metavar="DB.TABLE")
    p.add_argument("--limit", type=int, default=10, help="rows to print (default 10)")
    p.add_argument("--version", type=int, help="show this version (time travel)")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_show)

    p = tsub.add_parser("history", help="the table's Delta commits")
    p.add_argument("table", metavar="DB.TABLE")
    p.add_argument("--limit", type=int, default=None)
    add_runtime_args(p)
    p.set_defaults(handler=cmd_history)
