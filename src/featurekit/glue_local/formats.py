"""Glue's file formats and their ``format_options``, read and written with Spark's own sources.

Every option AWS documents for a format (the "Data format options" pages of the Glue
developer guide) is listed in :data:`DOCUMENTED`; :data:`LOCAL` says how each is honoured
here. Option names match in any case (Glue Studio writes ``multiline``); an option the
format does not take is an UnsupportedError naming the ones it does.

Example::

    opts = options("json", "w", {"Compression": "gzip"})   # {"compression": "gzip"}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional

from featurekit.errors import UnsupportedError
from featurekit.glue_local._support import flag, unsupported

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# (format, option, direction): what the Glue developer guide lists per format
# ("r" read, "w" write). "compression" of csv/json/orc is the S3 connection option,
# which scripts also pass in format_options.
SHARED = ("attachFilename", "attachTimestamp")  # any format, on read
DOCUMENTED: dict[str, tuple[tuple[str, str], ...]] = {
    "csv": (
        ("separator", "rw"), ("escaper", "rw"), ("quoteChar", "rw"), ("multiLine", "r"),
        ("withHeader", "r"), ("writeHeader", "w"), ("skipFirst", "r"),
        ("optimizePerformance", "r"), ("strictCheckForQuoting", "r"), ("compression", "w"),
        *((name, "r") for name in SHARED),
    ),
    "json": (
        ("jsonPath", "r"), ("multiLine", "r"), ("optimizePerformance", "r"),
        ("withSchema", "r"), ("compression", "w"), *((name, "r") for name in SHARED),
    ),
    "parquet": (
        ("useGlueParquetWriter", "w"), ("compression", "w"), ("blockSize", "w"),
        ("pageSize", "w"), *((name, "r") for name in SHARED),
    ),
    "orc": (("compression", "w"), *((name, "r") for name in SHARED)),
    "avro": (("version", "rw"), ("compression", "w"), *((name, "r") for name in SHARED)),
    "xml": (("rowTag", "r"), ("encoding", "r"), ("withSchema", "r"),
            *((name, "r") for name in SHARED)),
}  # fmt: skip
# Options honoured with a difference worth a note (the others behave as on Glue).
LOCAL: dict[tuple[str, str], str] = {
    ("csv", "optimizePerformance"): "accepted: the same rows as without it",
    ("csv", "strictCheckForQuoting"): "False only (True is refused)",
    ("json", "optimizePerformance"): "accepted: the same rows as without it",
    ("json", "jsonPath"): "paths of $, .field and [*] steps",
    ("json", "withSchema"): "a Spark schema (StructType JSON or DDL), not awsglue.gluetypes",
    ("xml", "withSchema"): "a Spark schema (StructType JSON or DDL), not awsglue.gluetypes",
    ("xml", "rowTag"): "Spark 4's xml source (Spark 3.5: an error naming the fix)",
    ("avro", "version"): "accepted (Spark's avro source picks the logical types); needs "
    "spark-avro on the classpath, else an error naming the package",
    ("avro", "compression"): "Spark's avro codecs; spark-avro must be on the classpath",
    ("parquet", "useGlueParquetWriter"): "accepted: Spark's parquet writer, same files",
    ("*", "attachFilename"): "the file's local URI (file:...), not its s3:// path",
    ("*", "attachTimestamp"): "a timestamp column: the file's modification time",
    ("avro", "attachFilename"): "needs spark-avro on the classpath; the file's local URI",
    ("avro", "attachTimestamp"): "needs spark-avro on the classpath; a timestamp column",
    ("xml", "encoding"): "Spark 4's xml source (Spark 3.5: an error naming the fix)",
    ("xml", "attachFilename"): "Spark 4 only; the file's local URI",
    ("xml", "attachTimestamp"): "Spark 4 only; a timestamp column",
}
FORMATS = tuple(DOCUMENTED)
PARQUET_SIZES = (("blockSize", "parquet.block.size"), ("pageSize", "parquet.page.size"))
WRITE_FORMATS = ("csv", "json", "parquet", "glueparquet", "orc", "avro")
CODECS = {
    "text": ("none", "uncompressed", "gzip", "bzip2", "deflate", "lz4", "snappy"),
    "parquet": ("none", "uncompressed", "snappy", "gzip", "lz4", "zstd"),
    "orc": ("none", "uncompressed", "snappy", "zlib", "lz4", "zstd"),
    "avro": ("uncompressed", "snappy", "deflate", "bzip2", "xz", "zstandard"),
}


def _base(fmt: str) -> str:
    return "parquet" if fmt == "glueparquet" else fmt


def names(fmt: str, direction: str) -> tuple[str, ...]:
    """The documented option names of ``fmt`` for ``direction`` ("r" or "w")."""
    return tuple(n for n, d in DOCUMENTED[_base(fmt)] if direction in d)


def options(fmt: str, direction: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` keyed by the documented spelling; UnsupportedError for another option.

    A csv sink also takes csv's read options (as Glue ignores them when writing)."""
    known = names(fmt, direction)
    if fmt == "csv" and direction == "w":
        known += tuple(n for n in names(fmt, "r") if n not in known and n not in SHARED)
    spelled = {k.lower(): k for k in known}
    out: dict[str, Any] = {}
    for key, value in given.items():
        name = spelled.get(str(key).lower())
        if name is None:
            where = "format_options" if direction == "r" else "sink format_options"
            unsupported(
                f"{where} option {key!r} of format {fmt!r}",
                ", ".join(known) or "no options",
            )
        out[name] = value
    return out


def status(fmt: str, option: str, direction: str) -> tuple[str, str]:
    """(present / differs, note) of a documented option, for the coverage table."""
    note = LOCAL.get((fmt, option), LOCAL.get(("*", option), ""))
    return ("differs", note) if note else ("present", "")


def _codec(fmt: str, value: Any) -> str:
    family = fmt if fmt in CODECS else "text"
    codec = str(value).lower()
    codec = {"gz": "gzip", "bz2": "bzip2", "bzip": "bzip2"}.get(codec, codec)
    if codec not in CODECS[family]:
        unsupported(f"{fmt} compression {value!r}", ", ".join(CODECS[family]))
    return codec


# -- reading ------------------------------------------------------------------------
def read(
    spark: SparkSession,
    paths: Sequence[str],
    fmt: str,
    given: Mapping[str, Any],
    *,
    schema: Any = None,
    base_path: Optional[str] = None,
    strings: bool = False,
) -> DataFrame:
    """Read local files of a Glue format into a DataFrame (``strings``: csv as text)."""
    if fmt not in FORMATS:
        unsupported(f"format={fmt!r}", f"formats {', '.join(FORMATS)}")
    opts = options(fmt, "r", given)
    reader = spark.read if base_path is None else spark.read.option("basePath", base_path)
    if fmt == "csv":
        df = _read_csv(reader, paths, opts, schema, strings)
    elif fmt == "json":
        df = _read_json(reader, paths, opts, schema)
    elif fmt == "xml":
        xml = reader.options(**_xml_options(opts))
        df = _load(xml, "xml", paths, _schema(opts, schema), spark.version)
    else:
        df = _load(reader, fmt, paths, None, spark.version)
    return attach(df, opts)


def _schema(opts: Mapping[str, Any], schema: Any) -> Any:
    given = opts.get("withSchema")
    if given is None or schema is not None:
        return schema
    import json

    from pyspark.sql.types import StructType

    text = str(given)
    return StructType.fromJson(json.loads(text)) if text.lstrip().startswith("{") else text


def _xml_options(opts: Mapping[str, Any]) -> dict[str, str]:
    if "rowTag" not in opts:
        raise ValueError("format='xml' needs format_options={'rowTag': 'ELEMENT'}.")
    out = {"rowTag": str(opts["rowTag"])}
    if "encoding" in opts:
        out["encoding"] = str(opts["encoding"])
    return out


def _load(reader: Any, fmt: str, paths: Sequence[str], schema: Any, version: str) -> DataFrame:
    if schema is not None:
        reader = reader.schema(schema)
    try:
        df: DataFrame = reader.format(fmt).load(list(paths))
    except Exception as exc:  # AnalysisException / Py4JJavaError: the source is missing
        raise _missing_source(fmt, exc, version) from exc
    return df


def _missing_source(fmt: str, exc: Exception, version: str) -> Exception:
    """UnsupportedError naming the fix when Spark has no source for ``fmt``, else ``exc``."""
    text = str(exc)
    if "DATA_SOURCE_NOT_FOUND" not in text and "Failed to find" not in text:
        return exc
    scala = "2.12" if version.startswith("3.") else "2.13"
    if fmt == "avro":
        fix = (
            "add Spark's avro package to the session: featurekit glue run ... -- --conf "
            f"spark.jars.packages=org.apache.spark:spark-avro_{scala}:{version} "
            "(Glue ships it; plain pyspark does not)"
        )
    else:
        fix = (
            "run on Spark 4, which reads xml natively (pip install 'pyspark>=4'), or add "
            f"com.databricks:spark-xml_{scala}:0.18.0 with --conf spark.jars.packages=..."
        )
    return UnsupportedError(f"format={fmt!r}: Spark {version} has no {fmt} source here: {fix}.")


def _read_json(
    reader: Any, paths: Sequence[str], opts: Mapping[str, Any], schema: Any
) -> DataFrame:
    # optimizePerformance picks Glue's vectorized reader: same rows, so it is accepted.
    reader = reader.option("multiLine", flag(opts.get("multiLine", False)))
    reader = reader.schema(_schema(opts, schema)) if _schema(opts, schema) is not None else reader
    df: DataFrame = reader.json(list(paths))
    return _json_path(df, str(opts["jsonPath"])) if "jsonPath" in opts else df


def _json_path(df: DataFrame, path: str) -> DataFrame:
    """The records at a JsonPath of ``$``, ``.field`` and ``[*]`` steps (``$.items[*]``)."""
    import re

    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    steps = re.findall(r"\.([^.\[]+)|\.?\[(\*)\]", path[1:]) if path.startswith("$") else None
    rest = re.sub(r"\.([^.\[]+)|\.?\[\*\]", "", path[1:]) if path.startswith("$") else path
    if steps is None or rest:
        unsupported(f"json jsonPath {path!r}", "paths of $, .field and [*] steps")
    column = F.struct(*[F.col(f"`{c}`") for c in df.columns])
    for field, star in steps:
        df = df.select((F.explode(column) if star else column.getField(field)).alias("_r"))
        column = F.col("_r")
    df = df.select(column.alias("_r")).where(F.col("_r").isNotNull())
    if isinstance(df.schema["_r"].dataType, StructType):
        return df.select("_r.*")
    return df.withColumnRenamed("_r", "value")


def _quote(opts: Mapping[str, Any]) -> str:
    quote = opts.get("quoteChar", '"')
    return "" if str(quote) == "-1" else str(quote)  # -1: no quoting, as in Glue


def _read_csv(
    reader: Any, paths: Sequence[str], opts: Mapping[str, Any], schema: Any, strings: bool
) -> DataFrame:
    if flag(opts.get("strictCheckForQuoting", False)):
        unsupported("csv strictCheckForQuoting=True", "strictCheckForQuoting=False (the default)")
    header = flag(opts.get("withHeader", False))
    skip_first = flag(opts.get("skipFirst", False))
    if header and skip_first:
        unsupported("csv withHeader together with skipFirst", "one of them")
    # optimizePerformance picks Glue's vectorized reader: same rows, so it is accepted.
    reader = (
        reader.option("header", header or skip_first)
        .option("inferSchema", schema is None and not strings)
        .option("sep", opts.get("separator", ","))
        .option("quote", _quote(opts))
        .option("multiLine", flag(opts.get("multiLine", False)))
    )
    if "escaper" in opts:
        reader = reader.option("escape", opts["escaper"])
    if schema is not None:
        reader = reader.schema(schema)
    df: DataFrame = reader.csv(list(paths))
    if header or schema is not None:
        return df
    # Glue names header-less CSV columns col0, col1, ... (Spark says _c0, _c1, ...).
    return df.toDF(*[f"col{i}" for i in range(len(df.columns))])


def attach(df: DataFrame, opts: Mapping[str, Any]) -> DataFrame:
    """Glue's shared ``attachFilename`` / ``attachTimestamp``: columns of the source file's
    path (``file:`` URI here) and modification time, named by the option's value."""
    from pyspark.sql import functions as F

    if "attachFilename" in opts:
        df = df.withColumn(str(opts["attachFilename"]), F.col("_metadata.file_path"))
    if "attachTimestamp" in opts:
        df = df.withColumn(str(opts["attachTimestamp"]), F.col("_metadata.file_modification_time"))
    return df


# -- writing ------------------------------------------------------------------------
def write(
    df: DataFrame,
    local_path: str,
    fmt: str,
    *,
    partition_keys: Sequence[str] = (),
    given: Optional[Mapping[str, Any]] = None,
) -> None:
    """Append ``df`` as new files of format ``fmt`` under ``local_path`` (Glue sinks append)."""
    if fmt not in WRITE_FORMATS:
        supported = ", ".join(WRITE_FORMATS)
        unsupported(f"write format={fmt!r}", f"formats {supported} (Glue writes no xml)")
    opts = options(fmt, "w", dict(given or {}))
    writer = df.write.mode("append")
    if partition_keys:
        writer = writer.partitionBy(*partition_keys)
    base = _base(fmt)
    if "compression" in opts:
        writer = writer.option("compression", _codec(base, opts["compression"]))
    elif base == "parquet":
        writer = writer.option("compression", "snappy")
    if base == "csv":
        writer = _csv_writer(writer, opts)
    elif base == "parquet":
        for option, conf in PARQUET_SIZES:
            if option in opts:
                writer = writer.option(conf, str(int(opts[option])))
    try:
        writer.format(base).save(local_path)
    except Exception as exc:
        raise _missing_source(base, exc, df.sparkSession.version) from exc


def _csv_writer(writer: Any, opts: Mapping[str, Any]) -> Any:
    writer = (
        writer.option("header", flag(opts.get("writeHeader", True)))
        .option("sep", opts.get("separator", ","))
        .option("quote", _quote(opts))
    )
    if "escaper" in opts:
        writer = writer.option("escape", opts["escaper"])
    return writer
