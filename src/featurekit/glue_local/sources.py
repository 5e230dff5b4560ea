"""Reading and writing for the emulated GlueContext: S3 objects in the warehouse, catalog tables.

``s3://bucket/key`` maps to ``WAREHOUSE/_s3/bucket/key`` (Warehouse.resolve). Objects
are listed with their modification time so job bookmarks can tell new from seen.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import featurekit.glue_local.choices as choices
import featurekit.glue_local.formats as formats
from featurekit.errors import ConfigError, InputError
from featurekit.glue_local._support import flag, unsupported
from featurekit.warehouse import S3_SCHEMES, Warehouse

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.tables.catalog import CatalogEntry, Partition
    from featurekit.tables.catalogs import Catalog

CORRUPT = "_corrupt_record"  # Spark's column of malformed json records
READ_FORMATS = formats.FORMATS
WRITE_FORMATS = formats.WRITE_FORMATS


def list_objects(warehouse: Warehouse, uri: str, *, recurse: bool) -> dict[str, tuple[str, float]]:
    """Objects under ``uri``: {object uri: (local path, modification time)}.

    Hidden objects (names starting with ``_`` or ``.``, e.g. ``_SUCCESS``) are skipped,
    as Spark and Glue do. Without ``recurse`` only the objects directly under ``uri``.
    On an S3 warehouse the objects are listed on S3 and Spark reads their ``s3://`` URIs.
    """
    if warehouse.remote:
        return _list_s3(warehouse, uri, recurse=recurse)
    root = Path(warehouse.resolve(uri))
    if root.is_file():
        return {uri: (str(root), root.stat().st_mtime)}
    found: dict[str, tuple[str, float]] = {}
    if not root.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if recurse and not d.startswith(("_", ".")))
        for name in sorted(filenames):
            if name.startswith(("_", ".")):
                continue
            local = Path(dirpath) / name
            found[f"{uri.rstrip('/')}/{local.relative_to(root).as_posix()}"] = (
                str(local),
                local.stat().st_mtime,
            )
    return found


def table_objects(
    warehouse: Warehouse,
    catalog: Catalog,
    entry: CatalogEntry,
    prune: Optional[Callable[[list[Partition]], list[Partition]]] = None,
) -> dict[str, tuple[str, float]]:
    """The objects of a catalog files table, as Glue reads it: under its folder, or, when
    it has partition keys, under the folders of its registered partitions only (those
    ``prune`` keeps: a ``push_down_predicate``'s, so a bookmark never records the files of
    partitions the read left out)."""
    if not entry.partition_columns:
        return list_objects(warehouse, entry.location, recurse=True)
    from featurekit.tables.files import missing_partition, registered_partitions

    found: dict[str, tuple[str, float]] = {}
    partitions = registered_partitions(catalog, entry, "from_catalog: ")
    for partition in prune(partitions) if prune is not None else partitions:
        objects = list_objects(warehouse, partition.location, recurse=True)
        if not objects and not Path(warehouse.resolve(partition.location)).is_dir():
            raise missing_partition(entry, partition, "from_catalog: ")
        found.update(objects)
    return found


def prune_partitions(
    spark: SparkSession, entry: CatalogEntry, partitions: list[Partition], predicate: str
) -> list[Partition]:
    """The partitions of ``entry`` whose values satisfy ``predicate`` (a push_down_predicate,
    on the partition columns typed as the table declares them). A predicate naming other
    columns keeps every partition (the rows are filtered after reading)."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    declared = (
        {f.name: f.dataType for f in StructType.fromJson(entry.schema).fields}
        if (entry.schema.get("fields"))
        else {}
    )
    index = "__featurekit_partition"
    keys = list(entry.partition_columns)
    raw = StructType(
        [StructField(index, LongType())] + [StructField(k, StringType()) for k in keys]
    )
    rows = [(i, *p.values) for i, p in enumerate(partitions)]
    typed = spark.createDataFrame(rows, raw).select(
        index, *[F.col(_sql(k)).cast(declared.get(k, StringType())).alias(k) for k in keys]
    )
    try:
        kept = {row[0] for row in typed.where(predicate).select(index).collect()}
    except AnalysisException:
        return partitions
    return [p for i, p in enumerate(partitions) if i in kept]


def check_bucket(warehouse: Warehouse, uri: str) -> None:
    """A ConfigError when ``uri`` is in a bucket the local warehouse has no folder for:
    Glue fails to read a bucket that does not exist (an empty prefix of one that does
    reads as no rows), so the emulation does not read it as empty."""
    if warehouse.remote or not uri.startswith(S3_SCHEMES):
        return
    bucket = uri.split("://", 1)[1].split("/", 1)[0]
    folder = Path(warehouse.resolve(f"s3://{bucket}"))
    if bucket and not folder.is_dir():
        raise ConfigError(
            f"{uri} is in bucket {bucket!r}, which the local warehouse does not have: s3:// "
            f"paths map to {warehouse.root}/_s3/BUCKET. Create {folder} (as you would create "
            "the bucket) and put the input files there, or pass the warehouse that has it "
            "(--warehouse DIR, before the script or before '--')."
        )


def _list_s3(warehouse: Warehouse, uri: str, *, recurse: bool) -> dict[str, tuple[str, float]]:
    bucket, _, prefix = warehouse.resolve(uri)[len("s3://") :].partition("/")
    client: Any = getattr(warehouse, "client")  # noqa: B009 (S3Warehouse only)
    found: dict[str, tuple[str, float]] = {}
    start = prefix.rstrip("/") + "/" if prefix and not prefix.endswith("/") else prefix
    for page in _pages(client, bucket, prefix, uri):
        for item in page.get("Contents", []):
            key: str = item["Key"]
            rest = key[len(start) :] if key != prefix else key.rsplit("/", 1)[-1]
            parts = rest.split("/")
            hidden = any(p.startswith(("_", ".")) for p in parts)
            if hidden or not rest or (len(parts) > 1 and not recurse):
                continue
            uri = f"s3://{bucket}/{key}"
            found[uri] = (uri, item["LastModified"].timestamp())
    return found


def _pages(client: Any, bucket: str, prefix: str, uri: str) -> Iterator[dict[str, Any]]:
    """The listing's pages; a ConfigError when the bucket does not exist."""
    from botocore.exceptions import ClientError

    try:
        yield from client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise
        raise ConfigError(
            f"{uri} is in bucket {bucket!r}, which does not exist on the warehouse's S3 "
            "endpoint: create it, or fix the path."
        ) from exc


def empty_frame(spark: SparkSession) -> DataFrame:
    """What Glue returns when a source has nothing (new) to read: no rows, no fields."""
    from pyspark.sql.types import StructType

    return spark.createDataFrame([], StructType([]))


def read_files(
    spark: SparkSession,
    paths: Sequence[str],
    fmt: str,
    options: Mapping[str, Any],
    *,
    schema: Any = None,
    base_path: Optional[str] = None,
) -> DataFrame:
    """Read local files of a Glue format (csv, json, parquet, orc, avro, xml) into a
    DataFrame, with Glue's ``format_options`` (see :mod:`featurekit.glue_local.formats`).

    ``schema`` (a catalog table's) replaces inference for csv/json; ``base_path`` makes
    Spark take partition columns from ``key=value`` folders below it.
    """
    if fmt not in READ_FORMATS:
        unsupported(f"format={fmt!r}", f"formats {', '.join(READ_FORMATS)}")
    if not paths:
        formats.options(fmt, "r", options)  # a bad option fails even without new files
        return empty_frame(spark)
    return formats.read(spark, paths, fmt, options, schema=schema, base_path=base_path)


def read_records(
    spark: SparkSession,
    paths: Sequence[str],
    fmt: str,
    options: Mapping[str, Any],
    *,
    schema: Any = None,
    base_path: Optional[str] = None,
    partitions: Sequence[str] = (),
) -> tuple[DataFrame, choices.Choices]:
    """What a DynamicFrame reads: :func:`read_files`' frame, unless a csv or json column
    holds values of several types; then the frame read as text, its choice columns as
    structs (see :mod:`featurekit.glue_local.choices`), and the choices.

    A single-typed column keeps the type of the plain read (the catalog's declared one
    for a catalog table). Multi-line json and ``jsonPath`` reads have no choices.
    """
    typed = read_files(spark, paths, fmt, options, schema=schema, base_path=base_path)
    if fmt not in ("csv", "json") or not paths or not typed.columns:
        return typed, {}
    opts = formats.options(fmt, "r", options)
    if fmt == "json" and (flag(opts.get("multiLine", False)) or "jsonPath" in opts):
        return typed, {}
    skip = {*partitions, *(str(opts[k]) for k in formats.SHARED if k in opts)}
    if fmt == "csv":
        return _csv_records(spark, paths, options, typed, schema, base_path, skip)
    return _json_records(spark, paths, opts, typed, base_path, skip)


def _csv_records(
    spark: SparkSession,
    paths: Sequence[str],
    options: Mapping[str, Any],
    typed: DataFrame,
    schema: Any,
    base_path: Optional[str],
    skip: set[str],
) -> tuple[DataFrame, choices.Choices]:
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    if schema is not None:
        schema = StructType([StructField(f.name, StringType()) for f in schema.fields])
    text = formats.read(
        spark, paths, "csv", options, schema=schema, base_path=base_path, strings=True
    )
    kinds = {c: choices.csv_type(F.col(_sql(c))) for c in text.columns if c not in skip}
    found = choices.choices_of(choices.detect(text, kinds))
    if not found:
        return typed, {}
    columns = [
        choices.choice_column(F.col(_sql(c)), kinds[c], found[c]).alias(c)
        if c in found
        else choices.convert(F.col(_sql(c)), typed.schema[c].dataType.simpleString()).alias(c)
        for c in text.columns
    ]
    return text.select(*columns), found


def _json_records(
    spark: SparkSession,
    paths: Sequence[str],
    opts: Mapping[str, Any],
    typed: DataFrame,
    base_path: Optional[str],
    skip: set[str],
) -> tuple[DataFrame, choices.Choices]:
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, MapType, StringType, StructField, StructType

    nested = (StructType, ArrayType, MapType)
    fields = [
        f.name
        for f in typed.schema.fields
        if f.name not in skip and not isinstance(f.dataType, nested) and f.name != CORRUPT
    ]
    reader = spark.read if base_path is None else spark.read.option("basePath", base_path)
    text = formats.attach(reader.text(list(paths)), opts)
    kinds = choices.json_types(F.col("value"), fields)
    found = choices.choices_of(choices.detect(text, kinds))
    if not found:
        return typed, {}
    data = [f for f in typed.schema.fields if f.name not in skip]
    record = F.from_json(
        F.col("value"),
        StructType([StructField(f.name, StringType()) if f.name in found else f for f in data]),
    )
    columns = [
        choices.choice_column(record.getField(c), kinds[c], found[c]).alias(c)
        if c in found
        else (record.getField(c) if c not in skip else F.col(_sql(c))).alias(c)
        for c in typed.columns
    ]
    return text.select(*columns), found


def _sql(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def write_files(
    df: DataFrame,
    local_path: str,
    fmt: str,
    *,
    partition_keys: Sequence[str] = (),
    options: Optional[Mapping[str, Any]] = None,
) -> None:
    """Append ``df`` as new files of format ``fmt`` under ``local_path`` (Glue sinks append)."""
    formats.write(df, local_path, fmt, partition_keys=partition_keys, given=options)


def keys_filter(
    df: DataFrame,
    keys: Sequence[str],
    order: str,
    after: Optional[Sequence[Any]],
    up_to: Optional[Sequence[Any]],
) -> DataFrame:
    """Rows whose ``keys`` lie beyond ``after`` (and not beyond ``up_to``) in ``order``."""
    from pyspark.sql import functions as F

    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise InputError(f"jobBookmarkKeys {missing} are not columns of the source: {df.columns}.")

    def tuple_of(values: Sequence[Any]) -> Any:
        lits = [F.lit(v).cast(df.schema[k].dataType).alias(k) for k, v in zip(keys, values)]
        return F.struct(*lits)

    current = F.struct(*[F.col(k) for k in keys])
    if after is not None:
        df = df.where(current > tuple_of(after) if order == "asc" else current < tuple_of(after))
    if up_to is not None:
        df = df.where(current <= tuple_of(up_to) if order == "asc" else current >= tuple_of(up_to))
    return df


def last_key(df: DataFrame, keys: Sequence[str], order: str) -> Optional[list[Any]]:
    """The greatest (asc) or least (desc) key tuple of ``df`` as JSON-safe strings."""
    from pyspark.sql import functions as F

    ordered = [F.col(k).desc() if order == "asc" else F.col(k).asc() for k in keys]
    row = df.select(*keys).orderBy(*ordered).first()
    if row is None:
        return None
    return [None if v is None else str(v) for v in row]
