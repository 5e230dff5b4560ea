"""``featurekit crawl``: find the datasets under a path and register them, as a Glue crawler does.

Under ``PATH`` every folder is one dataset (``PATH`` itself when it holds data files, or
only partition folders: ``dt=...`` or values such as ``2026``).
For each dataset:

* **format**: a Delta table when it has a ``_delta_log`` (schema from the log), an
  Iceberg table when it has ``metadata/*.metadata.json`` (schema from its current
  metadata; registered with ``metadata_location``, as Athena reads it), else the files'
  extension: ``.csv``, ``.tsv``, ``.json``/``.jsonl``, ``.parquet`` (``.gz``
  allowed); a folder mixing formats is reported and skipped;
* **partitions**: Hive-style folders (``dt=2026-03-01``) are named by their key; unnamed
  folders (``2026/03/01``) become ``partition_0``, ``partition_1``, ... (strings); every
  folder holding data files at the full depth is a partition, registered in the catalog
  (values and folder) unless it is there already;
* **schema**: Spark reads a sample of the files (up to ``sample_files``, spread over the
  partitions) and merges their columns; csv and tsv detect a header line as Glue does (a
  first line of names over a body that is not all names), and csv its delimiter (the
  first of Glue's ``,`` ``|`` tab ``;`` Ctrl-A that splits the first lines alike);
* **re-crawl**: a table already in the catalog is compared: new columns or partitions are
  a change, applied under ``on_change="update"`` (Glue's ``UPDATE_IN_DATABASE``) or only
  reported under ``"log"`` (Glue's ``LOG``); columns that vanished are never dropped; new
  partitions are added under either policy, as a crawler does.

Files are listed through Hadoop's FileSystem, so the path may be a local folder, an
``s3://`` path mapped into a local warehouse, or a bucket when the warehouse is on S3.

Example::

    plan = crawl(spark, storage, "s3://landing/", database="raw", dry_run=True)
    [(p.table, p.action) for p in plan]     # [('raw.orders', 'create'), ...]
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from featurekit.core.unreadable import unreadable
from featurekit.errors import ConfigError
from featurekit.tables.catalog import Partition, new_partitions
from featurekit.tables.files import HadoopFs

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from featurekit.storage import Storage
    from featurekit.warehouse import Warehouse

EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "json",
    ".parquet": "parquet",
}
ON_CHANGE = ("update", "log")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]*$")
_VALUE = re.compile(r"^\d+([-_.]\d+)*$")  # an unnamed partition folder: 2026, 03, 2026-03-01


@dataclass
class Dataset:
    """One dataset folder: its files, partition folders and format."""

    location: str
    files: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    formats: set[str] = field(default_factory=set)
    delta: bool = False
    iceberg: bool = False
    folders: set[tuple[str, ...]] = field(default_factory=set)  # those holding data files

    @property
    def table_format(self) -> Optional[str]:
        """``delta`` or ``iceberg`` for a table format's folder (which keeps its own schema
        and partitioning), None for plain files."""
        return "delta" if self.delta else ("iceberg" if self.iceberg else None)

    def partition_list(self) -> list[Partition]:
        """The partitions: folders with data files at the depth of every partition key,
        with their values (``dt=2026-03-01`` -> ``2026-03-01``) and location."""
        depth = len(self.partitions)
        base = self.location.rstrip("/")
        return sorted(
            Partition(tuple(_value(n) for n in f), f"{base}/{'/'.join(f)}")
            for f in self.folders
            if depth and len(f) == depth
        )


def _value(folder: str) -> str:
    """A partition folder's value: Hive's ``key=value`` (unescaped), or the folder name."""
    return urllib.parse.unquote(folder.split("=", 1)[1]) if "=" in folder else folder


@dataclass
class TablePlan:
    """What the crawl found for one table and what it does (create, update, unchanged, ...)."""

    table: str
    location: str
    format: str
    partitions: list[str]
    columns: list[tuple[str, str]]
    action: str
    changes: list[str] = field(default_factory=list)
    new_partitions: list[Partition] = field(default_factory=list)  # added (dry run: would be)

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table, "location": self.location, "format": self.format,
            "partitions": self.partitions, "columns": [list(c) for c in self.columns],
            "action": self.action, "changes": self.changes,
            "new_partitions": [p.to_json() for p in self.new_partitions],
        }  # fmt: skip


def _format_of(name: str) -> Optional[str]:
    stem = name[:-3] if name.endswith(".gz") else name
    for ext, fmt in EXTENSIONS.items():
        if stem.endswith(ext):
            return fmt
    return None


def _is_iceberg(fs: HadoopFs, location: str) -> bool:
    """True when ``location`` holds an Iceberg table: ``metadata/*.metadata.json``."""
    metadata = f"{location.rstrip('/')}/metadata"
    if ("metadata", True) not in fs.children(location):
        return False
    return any(n.endswith(".metadata.json") and not f for n, f in fs.children(metadata))


def _scan(fs: HadoopFs, location: str, dataset: Dataset, folders: tuple[str, ...] = ()) -> None:
    if not folders and _is_iceberg(fs, location):
        dataset.iceberg = True  # its data files are listed by its metadata, not its folders
        return
    for name, folder in fs.children(location):
        child = f"{location.rstrip('/')}/{name}"
        if name == "_delta_log":
            dataset.delta = True
        elif folder:
            key = name.split("=", 1)[0] if "=" in name else f"partition_{len(folders)}"
            if key not in dataset.partitions:
                dataset.partitions.append(key)
            _scan(fs, child, dataset, (*folders, name))
        elif _format_of(name):
            dataset.files.append(child)
            dataset.formats.add(str(_format_of(name)))
            if folders:
                dataset.folders.add(folders)


def scan_dataset(spark: SparkSession, warehouse: Warehouse, path: str) -> Dataset:
    """The files, partition keys and partitions of the one dataset at ``path`` (what
    ``table register --partition-columns`` and the Glue emulation's sinks register)."""
    dataset = Dataset(location=path)
    _scan(HadoopFs(spark), warehouse.resolve(path), dataset)
    return dataset


def datasets(spark: SparkSession, storage: Storage, path: str) -> Iterator[tuple[str, Dataset]]:
    """(table name, dataset) for every dataset under ``path``."""
    fs = HadoopFs(spark)
    root = storage.warehouse.resolve(path)
    entries = fs.children(root)
    partition_like = entries and all("=" in n or _VALUE.match(n) for n, _ in entries)
    table_root = any(not folder or name == "_delta_log" for name, folder in entries)
    if partition_like or table_root or _is_iceberg(fs, root):
        folders = [(path.rstrip("/").rsplit("/", 1)[-1], path, root)]
    else:
        folders = [(n, f"{path.rstrip('/')}/{n}", f"{root.rstrip('/')}/{n}") for n, _ in entries]
    for name, given, local in folders:
        dataset = Dataset(location=given)
        _scan(fs, local, dataset)
        if dataset.table_format or dataset.files:
            yield re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_"), dataset


def _sample(files: list[str], limit: int) -> list[str]:
    step = max(1, len(files) // limit)
    return files[::step][:limit]


def _looks_like_names(fields: list[str]) -> bool:
    return bool(fields) and all(_NAME.match(f.strip().strip('"')) for f in fields)


# the delimiters Glue's built-in csv classifier tries, in its order
DELIMITERS = (",", "|", "\t", ";", "\x01")


def _first_lines(spark: SparkSession, file: str, n: int = 5) -> list[str]:
    return [r.value for r in spark.read.text(file).limit(n).collect()]


def _delimiter(lines: list[str]) -> str:
    """The first of Glue's delimiters that splits every line into the same number (2 or
    more) of fields (quotes respected); a comma when none does."""
    import csv

    for sep in DELIMITERS:
        widths = {len(row) for row in csv.reader(lines, delimiter=sep) if row}
        if len(widths) == 1 and widths.pop() > 1:
            return sep
    return ","


def _has_header(lines: list[str], sep: str) -> bool:
    """Glue's rule: a first line of names over a second line that is not all names."""
    if not lines or not _looks_like_names(lines[0].split(sep)):
        return False
    return len(lines) < 2 or not _looks_like_names(lines[1].split(sep))


def _files_schema(spark: SparkSession, fmt: str, files: list[str]) -> tuple[Any, dict[str, str]]:
    reader = spark.read
    if fmt == "parquet":
        try:
            return reader.option("mergeSchema", "true").parquet(*files).schema, {}
        except Exception as exc:  # the Spark job merging the files' schemas failed
            error = unreadable(exc, f"{files[0].rsplit('/', 1)[0]} (parquet)")
            if error is None:
                raise
            raise error from exc
    if fmt == "json":
        return reader.json(files).schema, {}
    lines = _first_lines(spark, files[0])
    sep = "\t" if fmt == "tsv" else _delimiter(lines)
    header = _has_header(lines[:2], sep)
    df = reader.csv(files, sep=sep, header=header, inferSchema=True)
    if not header:  # Glue names headerless columns col0, col1, ...
        df = df.toDF(*[f"col{i}" for i in range(len(df.columns))])
    return df.schema, {"header": str(header).lower(), "sep": sep}


def _schema(
    spark: SparkSession, storage: Storage, dataset: Dataset, sample_files: int
) -> tuple[str, Any, dict[str, str]]:
    """(format, Spark schema with the partition columns, reader options) of a dataset."""
    from pyspark.sql.types import StringType, StructField, StructType

    if dataset.table_format:
        location = storage.warehouse.resolve(dataset.location)
        return dataset.table_format, storage.engine_of(dataset.table_format).schema(location), {}
    fmt = next(iter(dataset.formats))
    schema, options = _files_schema(spark, fmt, _sample(dataset.files, sample_files))
    names = set(schema.fieldNames())
    extra = [StructField(p, StringType()) for p in dataset.partitions if p not in names]
    return ("csv" if fmt == "tsv" else fmt), StructType([*schema.fields, *extra]), options


def _changes(existing: Any, columns: list[tuple[str, str]], partitions: list[str]) -> list[str]:
    known = {f["name"] for f in existing.schema.get("fields", [])}
    changes = [f"new column {n} {t}" for n, t in columns if n not in known]
    changes += [f"new partition key {p}" for p in partitions if p not in existing.partition_columns]
    return changes


def _merged(existing: Any, schema: Any, partitions: list[str]) -> dict[str, Any]:
    """The existing schema plus the new columns, partition columns last: a re-crawl never
    drops a column."""
    fields = list(existing.schema.get("fields", []))
    known = {f["name"] for f in fields}
    fields += [f for f in schema.jsonValue()["fields"] if f["name"] not in known]
    data = [f for f in fields if f["name"] not in partitions]
    return {"type": "struct", "fields": data + [f for f in fields if f["name"] in partitions]}


def crawl(
    spark: SparkSession,
    storage: Storage,
    path: str,
    *,
    database: str,
    table_prefix: str = "",
    dry_run: bool = False,
    on_change: str = "update",
    sample_files: int = 20,
) -> list[TablePlan]:
    """Discover the datasets under ``path`` and register them in ``storage.catalog``."""
    if on_change not in ON_CHANGE:
        raise ConfigError(f"--on-change must be one of {', '.join(ON_CHANGE)}, got {on_change!r}.")
    plans = []
    for name, dataset in datasets(spark, storage, path):
        table = f"{database}.{table_prefix}{name}"
        if len(dataset.formats) > 1 and not dataset.table_format:
            kinds = ", ".join(sorted(dataset.formats))
            why = f"files of several formats ({kinds}): one table per format"
            plans.append(TablePlan(table, dataset.location, "mixed", [], [], "skipped", [why]))
            continue
        plans.append(_plan_one(spark, storage, table, dataset, dry_run, on_change, sample_files))
    return plans


def _plan_one(
    spark: SparkSession,
    storage: Storage,
    table: str,
    dataset: Dataset,
    dry_run: bool,
    on_change: str,
    sample: int,
) -> TablePlan:
    fmt, schema, options = _schema(spark, storage, dataset, sample)
    partitions = [] if dataset.table_format else list(dataset.partitions)
    columns = [(f.name, f.dataType.simpleString()) for f in schema.fields]
    existing = storage.catalog.find(table)
    plan = TablePlan(table, dataset.location, fmt, partitions, columns, "create")
    if existing is not None:
        plan.changes = _changes(existing, columns, partitions)
        plan.action = (
            "unchanged" if not plan.changes else ("update" if on_change == "update" else "logged")
        )
    keys = [*existing.partition_columns] if existing is not None else []
    keys = list(dict.fromkeys([*keys, *partitions]))
    if plan.action not in ("create", "update") and existing is not None:
        keys = list(existing.partition_columns)
    plan.new_partitions = _partitions_to_add(storage, plan, dataset, keys, existing is not None)
    if not dry_run and plan.action in ("create", "update"):
        merged = schema.jsonValue() if existing is None else _merged(existing, schema, keys)
        metadata = storage.metadata_location(fmt, storage.warehouse.resolve(dataset.location))
        storage.catalog.register(
            table, dataset.location, schema=merged, partition_columns=keys, format=fmt,
            options=options, description=f"crawled from {dataset.location}",
            metadata_location=metadata,
        )  # fmt: skip
    if not dry_run and plan.new_partitions:
        storage.catalog.add_partitions(table, plan.new_partitions)
    return plan


def _partitions_to_add(
    storage: Storage, plan: TablePlan, dataset: Dataset, keys: list[str], exists: bool
) -> list[Partition]:
    """The dataset's partitions the catalog lacks, when its folders have the table's keys
    (a crawler adds new partitions whatever the schema change policy)."""
    if dataset.table_format or not dataset.partitions:
        return []
    if keys != dataset.partitions:
        plan.changes.append(
            f"partitions not added: the folders' keys ({', '.join(dataset.partitions)}) "
            f"are not the table's ({', '.join(keys) or 'none'})"
        )
        return []
    known = storage.catalog.partitions(plan.table) if exists else []
    return new_partitions(known, dataset.partition_list())
