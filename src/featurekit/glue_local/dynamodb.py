"""DynamoDB sources and sinks of the emulated GlueContext, on a local DynamoDB endpoint.

``featurekit glue run`` starts moto's server on 127.0.0.1 (or uses the connections file's
``[dynamodb] endpoint_url``); reads scan the table (paginated) and writes go through
``batch_write_item``. Types follow Glue's DynamoDB reader: ``S`` string, ``N`` long or
double (double when a column holds fractions), ``BOOL`` boolean, ``M`` struct, ``L``,
``SS`` and ``NS`` arrays, ``NULL`` null; ``B`` is its base64 text. The export connector
(``dynamodb.export``) returns items in DynamoDB JSON (one ``Item`` struct of type
descriptors) unless ``dynamodb.unnestDDBJson`` is true; locally it scans the table too.

Example::

    df = read_table(spark, client, {"dynamodb.input.tableName": "orders"})
"""

from __future__ import annotations

import base64
import decimal
import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from featurekit.errors import ConfigError, InputError
from featurekit.glue_local._support import check_keys, flag, unsupported

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Options that tune throughput, parallelism or credentials on AWS: accepted, no effect here.
TUNING = (
    "dynamodb.throughput.read.percent", "dynamodb.throughput.write.percent", "dynamodb.splits",
    "dynamodb.output.numParallelTasks", "dynamodb.output.retry", "dynamodb.sts.roleArn",
    "dynamodb.sts.roleSessionName", "dynamodb.region", "dynamodb.s3.bucket",
    "dynamodb.s3.prefix", "dynamodb.s3.bucketOwner", "dynamodb.exportTime",
)  # fmt: skip
READ_OPTIONS = (
    "dynamodb.input.tableName", "dynamodb.export", "dynamodb.tableArn",
    "dynamodb.unnestDDBJson", "dynamodb.simplifyDDBJson", *TUNING,
)  # fmt: skip
WRITE_OPTIONS = ("dynamodb.output.tableName", *TUNING)
BATCH = 25  # batch_write_item's limit


def _table(options: Mapping[str, Any]) -> tuple[str, bool]:
    """(table name, export connector?) of a read's options."""
    export = options.get("dynamodb.export")
    if export is not None:
        if str(export).lower() not in ("ddb", "s3"):
            raise ConfigError(f"dynamodb.export={export!r}: Glue takes 'ddb' or 's3'.")
        arn = options.get("dynamodb.tableArn")
        if not arn or "/" not in str(arn):
            raise ConfigError(
                "dynamodb.export needs dynamodb.tableArn "
                "(arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)."
            )
        return str(arn).rsplit("/", 1)[1], True
    name = options.get("dynamodb.input.tableName")
    if not name:
        raise ConfigError(
            "connection_type='dynamodb' needs dynamodb.input.tableName (or dynamodb.export "
            "with dynamodb.tableArn)."
        )
    return str(name), False


def plain(value: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value (``{"N": "1"}``) as a JSON-ready Python value."""
    (kind, inner), = value.items()  # fmt: skip
    if kind == "S" or kind == "BOOL":
        return inner
    if kind == "N":
        return _number(inner)
    if kind == "NULL":
        return None
    if kind == "B":
        return base64.b64encode(bytes(inner)).decode("ascii")
    if kind == "SS":
        return list(inner)
    if kind == "NS":
        return [_number(n) for n in inner]
    if kind == "BS":
        return [base64.b64encode(bytes(b)).decode("ascii") for b in inner]
    if kind == "L":
        return [plain(v) for v in inner]
    if kind == "M":
        return {k: plain(v) for k, v in inner.items()}
    raise InputError(f"DynamoDB attribute type {kind!r} is not one featurekit reads.")


def _exported(value: Mapping[str, Any]) -> Any:
    """An exported attribute (binary already base64 text) as a plain value."""
    (kind, inner), = value.items()  # fmt: skip
    if kind in ("B", "BS"):
        return inner
    if kind == "L":
        return [_exported(v) for v in inner]
    if kind == "M":
        return {k: _exported(v) for k, v in inner.items()}
    return plain(value)


def _unnest_line(line: str) -> str:
    item = json.loads(line).get("Item") or {}
    return json.dumps({k: _exported(v) for k, v in item.items() if v})


def unnest_frame(df: DataFrame) -> DataFrame:
    """``DynamicFrame.unnest_ddb_json``: the export connector's ``Item`` struct of type
    descriptors as plain top-level columns (types as a scan's)."""
    if "Item" not in df.columns:
        raise ConfigError(
            "unnest_ddb_json needs DynamoDB JSON as the export connector gives it (an 'Item' "
            f"struct); this frame has {df.columns}."
        )
    from featurekit.glue_local.sources import empty_frame

    if df.isEmpty():
        return empty_frame(df.sparkSession)
    spark = df.sparkSession
    unnested: DataFrame = spark.read.json(df.toJSON().map(_unnest_line))
    return unnested


def _number(text: str) -> Any:
    number = decimal.Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def _described(value: Mapping[str, Any]) -> Any:
    """DynamoDB JSON as the export connector writes it (binary as base64 text)."""
    (kind, inner), = value.items()  # fmt: skip
    if kind == "B":
        return {"B": base64.b64encode(bytes(inner)).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(b)).decode("ascii") for b in inner]}
    if kind == "L":
        return {"L": [_described(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _described(v) for k, v in inner.items()}}
    return {kind: inner}


def _scan(client: Any, table: str) -> Iterator[dict[str, Any]]:
    try:
        for page in client.get_paginator("scan").paginate(TableName=table):
            yield from page.get("Items", [])
    except client.exceptions.ResourceNotFoundException as exc:
        raise InputError(
            f"DynamoDB table {table!r} does not exist at the local endpoint "
            f"{client.meta.endpoint_url}: create it first (a test creates it on moto)."
        ) from exc


def read_table(spark: SparkSession, client: Any, options: Mapping[str, Any]) -> DataFrame:
    """Every item of the table the options name, as a DataFrame (schema inferred as Glue's)."""
    from featurekit.glue_local.sources import empty_frame

    check_keys("dynamodb connection_options", options, READ_OPTIONS)
    table, export = _table(options)
    unnest = flag(options.get("dynamodb.unnestDDBJson", False)) or flag(
        options.get("dynamodb.simplifyDDBJson", False)
    )
    if export and not unnest:
        lines = [
            json.dumps({"Item": {k: _described(v) for k, v in item.items()}})
            for item in _scan(client, table)
        ]
    else:
        lines = [
            json.dumps({k: plain(v) for k, v in item.items()}) for item in _scan(client, table)
        ]
    if not lines:
        return empty_frame(spark)
    df: DataFrame = spark.read.json(spark.sparkContext.parallelize(lines, 1))
    return df


def attribute(value: Any) -> dict[str, Any]:
    """A Spark value as a DynamoDB attribute value (numbers as ``N`` text)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float, decimal.Decimal)):
        return {"N": _number_text(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, (datetime, date)):
        return {"S": value.isoformat()}
    if isinstance(value, dict):
        return {"M": {str(k): attribute(v) for k, v in value.items() if v is not None}}
    if hasattr(value, "asDict"):  # a struct (pyspark Row)
        return attribute(value.asDict())
    if isinstance(value, (list, tuple)):
        return {"L": [attribute(v) if v is not None else {"NULL": True} for v in value]}
    unsupported(f"writing a {type(value).__name__} to DynamoDB", "scalars, structs, arrays, maps")


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value != value:  # NaN
        raise ConfigError("DynamoDB has no NaN number: drop or replace it before writing.")
    return str(decimal.Decimal(str(value)))


def write_table(client: Any, df: DataFrame, options: Mapping[str, Any]) -> int:
    """Put every row of ``df`` into the table (null fields left out); the rows written."""
    check_keys("dynamodb connection_options", options, WRITE_OPTIONS)
    table = options.get("dynamodb.output.tableName")
    if not table:
        raise ConfigError("A DynamoDB sink needs connection_options['dynamodb.output.tableName'].")
    written = 0
    batch: list[dict[str, Any]] = []
    for row in df.toLocalIterator():
        item = {k: attribute(v) for k, v in row.asDict().items() if v is not None}
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == BATCH:
            written += _put(client, str(table), batch)
            batch = []
    if batch:
        written += _put(client, str(table), batch)
    return written


def _put(client: Any, table: str, batch: list[dict[str, Any]]) -> int:
    pending: dict[str, Any] = {table: batch}
    for _ in range(8):
        try:
            answer = client.batch_write_item(RequestItems=pending)
        except client.exceptions.ResourceNotFoundException as exc:
            raise ConfigError(
                f"DynamoDB table {table!r} does not exist at the local endpoint "
                f"{client.meta.endpoint_url}: create it before writing (Glue's sink does not "
                "create tables either)."
            ) from exc
        pending = answer.get("UnprocessedItems") or {}
        if not pending:
            return len(batch)
    raise InputError(f"DynamoDB kept {len(pending[table])} items of {table} unprocessed.")
