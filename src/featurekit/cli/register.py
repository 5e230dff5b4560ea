"""``featurekit table register DB.TABLE --location ... --format ...``: describe a table.

Registers files (csv, tsv, json, parquet) or a Delta table in the catalog of ``--catalog``
(the warehouse's own, or the Glue Data Catalog), so a job reads it with
``TableInput("db.table")``. The schema is given (``--schema "id string, amount double"``)
or inferred by Spark from the data (Delta: from its log). With ``--partition-columns``,
the partition folders under the location are found as ``featurekit crawl`` finds them
and registered as the table's partitions::

    featurekit table register raw.orders --location s3://landing/orders/ --format csv \\
        --option header=true --partition-columns dt --catalog glue
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable

from featurekit.core.faults import missing_bucket
from featurekit.core.unreadable import illegal_parquet, unreadable
from featurekit.errors import ConfigError
from featurekit.params import split_assignments

FORMATS = ("delta", "parquet", "csv", "tsv", "json")


def _schema(args: argparse.Namespace, runtime: Any, location: str, options: dict[str, str]) -> Any:
    """Spark's StructType of ``--schema``, else of the data at ``location``."""
    from pyspark.errors import AnalysisException, ParseException

    spark = runtime.spark
    try:
        if args.schema:
            return spark.createDataFrame([], args.schema).schema
        if args.format == "delta":
            return runtime.storage.engine.schema(location)
        reader = spark.read.format(args.format).options(**options)
        if args.format == "csv":
            reader = reader.option("inferSchema", "true")
        return reader.load(location).schema
    except ParseException as exc:
        raise ConfigError(f"--schema {args.schema!r} is not a Spark DDL schema: {exc}") from exc
    except AnalysisException as exc:  # Spark 4 names an illegal parquet type here
        found = illegal_parquet(exc, f"{args.location} ({args.format})")
        if found is not None:
            raise found from exc
        raise ConfigError(f"Cannot read a schema from {args.location}: {exc}") from exc
    except Exception as exc:  # a Spark job inferring the schema failed: the files?
        what = f"{args.location} ({args.format})"
        error = unreadable(exc, what) or missing_bucket(exc, f"Reading {what}")
        if error is None:
            raise
        raise error from exc


def _add_partitions(runtime: Any, args: argparse.Namespace, keys: list[str]) -> list[Any]:
    """Register the partition folders under ``--location`` (crawl's discovery): ``k=v``
    folders must be named as ``--partition-columns``; unnamed ones take them in order."""
    from featurekit.storage.crawl import scan_dataset

    dataset = scan_dataset(runtime.spark, runtime.storage.warehouse, args.location)
    named = [k for k in dataset.partitions if not k.startswith("partition_")]
    if dataset.partitions and (len(dataset.partitions) != len(keys) or named not in ([], keys)):
        raise ConfigError(
            f"--partition-columns {','.join(keys)}: the folders under {args.location} are "
            f"partitioned by {', '.join(dataset.partitions)}; name those, in that order."
        )
    return list(runtime.storage.catalog.add_partitions(args.table, dataset.partition_list()))


def cmd_register(args: argparse.Namespace) -> int:
    from featurekit.cli.common import local_runtime

    options = split_assignments(args.option or [])
    fmt = args.format
    if fmt == "tsv":  # a csv with tabs, as Glue classifies it
        fmt, options = "csv", {"sep": "\t", **options}
    runtime = local_runtime(args)
    location = runtime.storage.warehouse.resolve(args.location)
    args.format = fmt
    schema = _schema(args, runtime, location, options)
    if schema is None:
        raise ConfigError(f"No table at {args.location} to take a schema from; pass --schema.")
    partitions = [c for c in (args.partition_columns or "").split(",") if c]
    for column in partitions:  # a partition folder's value: a string unless the schema says
        if column not in schema.fieldNames():
            schema = schema.add(column, "string")
    entry = runtime.storage.catalog.register(
        args.table, args.location, schema=schema.jsonValue(), partition_columns=partitions,
        description=args.description, format=fmt, options=options,
    )  # fmt: skip
    added = _add_partitions(runtime, args, partitions) if partitions and fmt != "delta" else []
    entry = runtime.storage.catalog.get(args.table)  # as stored (its location resolved)
    if args.json:
        doc = {**entry.to_json(), "new_partitions": [p.to_json() for p in added]}
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        columns = ", ".join(f"{f.name} {f.dataType.simpleString()}" for f in schema.fields)
        print(f"registered {entry.name} ({fmt}) at {entry.location}: {columns}")
        if added:
            print(f"  added {len(added)} partition(s)")
    return 0


def add_register_command(
    tsub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]
) -> None:
    p = tsub.add_parser("register", help="describe files or a Delta table in the catalog")
    p.add_argument("table", metavar="DB.TABLE")
    p.add_argument("--location", required=True, help="the folder (local, s3://)")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument(
        "--schema", help="Spark DDL, e.g. 'id string, amount double' (default: inferred)"
    )
    p.add_argument("--partition-columns", metavar="A,B", help="Hive-style partition folders")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="reader option")
    p.add_argument("--description", default="")
    p.add_argument("--json", action="store_true", help="print the catalog entry as JSON")
    add_runtime_args(p)
    p.set_defaults(handler=cmd_register)
