"""``featurekit crawl PATH --database DB``: register the datasets under a path, as a crawler.

It starts Spark, even for ``--dry-run``: the files are listed through Hadoop's FileSystem
of the session (a local folder, ``s3://`` mapped into the warehouse, or a bucket through
S3A) and each dataset's schema is inferred by Spark reading a sample of its files.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable


def _has_iceberg_tables(args: argparse.Namespace) -> bool:
    """True when a local path (or the warehouse folder an s3:// path maps into) holds an
    Iceberg table's metadata: the session then needs Iceberg's runtime to read its schema.
    A path in an S3 warehouse is not listed here (--table-format iceberg adds the runtime)."""
    from pathlib import Path

    from featurekit.warehouse import S3_SCHEMES, Warehouse

    if args.warehouse.startswith(S3_SCHEMES):
        return False
    root = Path(Warehouse(args.warehouse).resolve(args.path))
    return root.is_dir() and any(root.glob("**/metadata/*.metadata.json"))


def cmd_crawl(args: argparse.Namespace) -> int:
    from featurekit.cli.common import local_runtime
    from featurekit.storage.crawl import crawl

    if not args.quiet:
        print(
            "featurekit: starting Spark (the crawl lists files through Hadoop's FileSystem "
            "and infers schemas by reading samples)",
            file=sys.stderr,
            flush=True,
        )
    runtime = local_runtime(args, iceberg=_has_iceberg_tables(args))
    plans = crawl(
        runtime.spark, runtime.storage, args.path, database=args.database,
        table_prefix=args.table_prefix, dry_run=args.dry_run, on_change=args.on_change,
        sample_files=args.sample_files,
    )  # fmt: skip
    if args.json:
        print(
            json.dumps({"dry_run": args.dry_run, "tables": [p.to_json() for p in plans]}, indent=2)
        )
        return 0
    verb = "would " if args.dry_run else ""
    for plan in plans:
        parts = f" partitions {', '.join(plan.partitions)}" if plan.partitions else ""
        print(f"{plan.table}: {verb}{plan.action} ({plan.format}{parts}) at {plan.location}")
        for change in plan.changes:
            print(f"  {change}")
        for line in _schema(plan):
            print(line)
        if plan.new_partitions:
            print(f"  {verb}add {len(plan.new_partitions)} partition(s): {_shown(plan)}")
    if not plans:
        print(f"No datasets under {args.path}.")
    return 0


def _schema(plan: Any) -> list[str]:
    """``  columns:`` and one ``    name: type`` line per column (partition keys marked)."""
    if not plan.columns:
        return []
    keys = set(plan.partitions)
    return ["  columns:"] + [
        f"    {name}: {kind}{' (partition)' if name in keys else ''}" for name, kind in plan.columns
    ]


def _shown(plan: Any, limit: int = 5) -> str:
    """``dt=2026-03-01, dt=2026-03-02, ...`` (the first ``limit``)."""
    names = [
        "/".join(f"{k}={v}" for k, v in zip(plan.partitions, p.values))
        for p in plan.new_partitions[:limit]
    ]
    more = len(plan.new_partitions) - limit
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "crawl",
        help="find the datasets under a path and register them (starts Spark, also for "
        "--dry-run: files are listed through Hadoop's FileSystem and schemas inferred by Spark)",
    )
    p.add_argument("path", help="a folder, s3:// mapped into the warehouse, or a bucket")
    p.add_argument("--database", required=True, help="the catalog database to register into")
    p.add_argument("--table-prefix", default="", help="prefix of every table name")
    p.add_argument(
        "--on-change",
        choices=("update", "log"),
        default="update",
        help="a re-crawl that finds new columns or partitions: update the catalog (Glue's "
        "UPDATE_IN_DATABASE) or only report it (LOG)",
    )
    p.add_argument("--sample-files", type=int, default=20, help="files read per dataset")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="show the plan (tables, columns and types, partitions), register nothing",
    )
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_crawl)
