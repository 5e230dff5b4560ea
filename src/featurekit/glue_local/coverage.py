"""The awsglue API coverage table of docs/glue.md, generated so it cannot drift.

The official names come from AWSGlueDataplanePython 5.1.0 (Glue 5.1): introspected when
that exact version is installed (the ``glue`` extra on Python 3.11), else read from the
listing pinned next to this module (``awsglue_api.json``, built by :func:`introspect`
from the 5.1.0 wheel and naming its files' hashes). Each official name is looked up
in the emulation: *present*, *differs* (emulated, with the difference noted), or
*unsupported* (calling it raises UnsupportedError).

    python -m featurekit.glue_local.coverage            # print the table
    python -m featurekit.glue_local.coverage --write docs/glue.md

A second table lists the ``connection_type`` values AWS documents for Glue for Spark's
sources and sinks and what the emulation does with each (from
:data:`featurekit.glue_local.connectors.CONNECTION_TYPES`).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any, Optional

PINNED = Path(__file__).with_name("awsglue_api.json")
VERSION = "5.1.0"
START, END = "<!-- awsglue-coverage:start -->", "<!-- awsglue-coverage:end -->"
CONN_START = "<!-- glue-connection-types:start -->"
CONN_END = "<!-- glue-connection-types:end -->"
# Glue for Spark's connectionType values ("Connection types and options for ETL in AWS Glue
# for Spark", AWS Glue developer guide, 2026): what a script may pass.
GLUE_CONNECTION_TYPES = (
    "s3", "dynamodb", "postgresql", "mysql", "sqlserver", "oracle", "redshift", "documentdb",
    "mongodb", "kafka", "kinesis", "opensearch", "azurecosmos", "azuresql", "bigquery",
    "saphana", "snowflake", "teradata", "vertica", "custom.jdbc", "custom.spark",
    "custom.athena", "marketplace.jdbc", "marketplace.spark", "marketplace.athena",
)  # fmt: skip
_JDBC_NOTE = "the connections file's database, else an embedded H2 database ({mode} mode)"
CONNECTION_NOTES = {
    "s3": "the warehouse's _s3 folders (or an s3:// warehouse)",
    "dynamodb": "a local endpoint (moto's server started by glue run, or the connections "
    "file's); the export connector scans the table",
    "postgresql": _JDBC_NOTE.format(mode="PostgreSQL"),
    "redshift": _JDBC_NOTE.format(mode="PostgreSQL") + "; no S3 staging",
    "mysql": _JDBC_NOTE.format(mode="MySQL"),
    "sqlserver": _JDBC_NOTE.format(mode="MSSQLServer"),
    "oracle": _JDBC_NOTE.format(mode="Oracle"),
}

# official class -> the emulation's class ("module:attr" under featurekit.glue_local)
CLASSES = {
    "awsglue.context.GlueContext": "context:GlueContext",
    "awsglue.dynamicframe.DynamicFrame": "dynamicframe:DynamicFrame",
    "awsglue.dynamicframe.DynamicFrameCollection": "collection:DynamicFrameCollection",
    "awsglue.dynamicframe.DynamicFrameReader": "readers:Reader",
    "awsglue.dynamicframe.DynamicFrameWriter": "readers:Writer",
    "awsglue.data_sink.DataSink": "sinks:DataSink",
    "awsglue.job.Job": "job:Job",
}
TRANSFORMS = "awsglue.transforms"
DIFFERS = {
    "DynamicFrame.toDF": "an unresolved choice is its struct (make_struct)",
    "DynamicFrame.schema": "returns Spark's StructType; a choice field is a ChoiceType",
    "DynamicFrame.resolveChoice": "choices of csv/json sources only (no nested choices)",
    "DynamicFrame.map": "new schema inferred through JSON (ints are long, dates strings)",
    "DynamicFrame.filter": "AttributeError also drops a record",
    "DynamicFrame.errorsAsDynamicFrame": "fields transformation_ctx, error_message, record",
    "DynamicFrame.relationalize": "staging_path is not written; options refused",
    "DynamicFrame.unnest_ddb_json": "numbers long or double, binary base64 text (no choice)",
    "DynamicFrameReader.from_options": "connection types: see the table below",
    "DynamicFrameReader.from_catalog": "the local catalog; catalog_id refused",
    "DynamicFrameWriter.from_options": "connection types: see the table below",
    "DynamicFrameWriter.from_jdbc_conf": "the connections file, else an embedded database",
    "GlueContext.write_dynamic_frame_from_jdbc_conf": "as DynamicFrameWriter.from_jdbc_conf",
    "GlueContext.write_from_jdbc_conf": "as DynamicFrameWriter.from_jdbc_conf",
    "GlueContext.extract_jdbc_conf": "the connections file, else an embedded database; adds driver",
    "DynamicFrameWriter.from_catalog": "the local catalog; catalog_id refused",
    "GlueContext.getSink": "connection_type s3 only",
    "GlueContext.purge_s3_path": "excludeStorageClasses refused",
    "GlueContext.write_dynamic_frame_from_options": "connection types: see the table below",
    "GlueContext.create_dynamic_frame_from_options": "connection types: see the table below",
    "DataSink.setAccumulableSize": "accepted; tunes Glue's metrics only",
    "transforms.ResolveChoice": "as DynamicFrame.resolveChoice",
    "transforms.Map": "as DynamicFrame.map",
    "transforms.Filter": "as DynamicFrame.filter",
    "transforms.Relationalize": "as DynamicFrame.relationalize",
    "transforms.Union": "awsglue 5.1's Union.apply raises NameError; this one unions",
}


def _public(cls: type) -> list[str]:
    return sorted(n for n in vars(cls) if not n.startswith("_"))


def introspect() -> dict[str, Any]:
    """The official names from the installed awsglue (AWSGlueDataplanePython)."""
    from importlib.metadata import version

    api: dict[str, Any] = {
        "package": "AWSGlueDataplanePython",
        "version": version("AWSGlueDataplanePython"),
    }
    for dotted in CLASSES:
        module, _, name = dotted.rpartition(".")
        api[dotted] = _public(getattr(importlib.import_module(module), name))
    api[TRANSFORMS] = sorted(importlib.import_module(TRANSFORMS).__all__)
    return api


def official() -> dict[str, Any]:
    """Introspected when AWSGlueDataplanePython 5.1.0 is installed, else the pinned listing."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        emulated = getattr(sys.modules.get("awsglue"), "__path__", None) == []  # installed()
        installed = version("AWSGlueDataplanePython") == VERSION and not emulated
    except PackageNotFoundError:
        installed = False
    api: dict[str, Any] = introspect() if installed else json.loads(PINNED.read_text())
    return api


def _ours(spec: str) -> Optional[type]:
    module, _, attr = spec.partition(":")
    try:
        found: type = getattr(importlib.import_module(f"featurekit.glue_local.{module}"), attr)
    except (ImportError, AttributeError):
        return None
    return found


def _status(key: str, present: bool) -> tuple[str, str]:
    if not present:
        return "unsupported", ""
    return ("differs", DIFFERS[key]) if key in DIFFERS else ("present", "")


def rows(api: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(name, status, note) for every official name."""
    out = []
    for dotted, spec in CLASSES.items():
        cls, short = _ours(spec), dotted.rpartition(".")[2]
        for method in api[dotted]:
            key = f"{short}.{method}"
            out.append((key, *_status(key, cls is not None and hasattr(cls, method))))
    transforms = importlib.import_module("featurekit.glue_local.transforms")
    base = getattr(transforms, "GlueTransform", None)
    for name in api[TRANSFORMS]:
        cls = getattr(transforms, name, None)
        emulated = cls is not None and base is not None and cls.__call__ is not base.__call__
        out.append((f"transforms.{name}", *_status(f"transforms.{name}", emulated)))
    return out


def format_rows() -> list[tuple[str, str, str, str, str]]:
    """(format, option, read/write, status, note) for every format option Glue documents."""
    from featurekit.glue_local import formats

    out = []
    for fmt, documented in formats.DOCUMENTED.items():
        for option, directions in documented:
            for d in directions:
                status, note = formats.status(fmt, option, d)
                out.append((fmt, option, {"r": "read", "w": "write"}[d], status, note))
    return out


def _format_table() -> list[str]:
    found = format_rows()
    counts = {s: sum(1 for *_, st, _ in found if st == s) for s in ("present", "differs")}
    unsupported = len(found) - counts["present"] - counts["differs"]
    return [
        "",
        f"Format options (`format_options` of sources and sinks, the formats and options the "
        f"Glue developer guide lists): {len(found)} cells, {counts['present']} present, "
        f"{counts['differs']} differ, {unsupported} unsupported.",
        "",
        "| format | option | on | local | note |",
        "|---|---|---|---|---|",
        *[f"| {f} | `{o}` | {d} | {st} | {n} |" for f, o, d, st, n in found],
    ]


def table(api: dict[str, Any]) -> str:
    """The markdown section: counts, then one row per official name, then format options."""
    found = rows(api)
    counts = {
        s: sum(1 for _, st, _ in found if st == s) for s in ("present", "differs", "unsupported")
    }
    lines = [
        START,
        f"Generated by `python -m featurekit.glue_local.coverage --write docs/glue.md` from "
        f"{api['package']} {api['version']}: {len(found)} names, {counts['present']} present, "
        f"{counts['differs']} differ, {counts['unsupported']} unsupported.",
        "",
        "| awsglue | local | note |",
        "|---|---|---|",
        *[f"| `{name}` | {status} | {note} |" for name, status, note in found],
        *_format_table(),
        END,
    ]
    return "\n".join(lines)


def connection_rows() -> list[tuple[str, str, str]]:
    """(connection_type, status, note) for every Glue connection type: the types
    :mod:`featurekit.glue_local.connectors` serves differ (local stand-ins), others raise."""
    from featurekit.glue_local.connectors import CONNECTION_TYPES

    out = []
    for kind in GLUE_CONNECTION_TYPES:
        if kind not in CONNECTION_TYPES:
            out.append((kind, "unsupported", ""))
        else:
            out.append((kind, "present" if kind == "s3" else "differs", CONNECTION_NOTES[kind]))
    return out


def connection_table() -> str:
    """The markdown section of connection types (sources and sinks alike)."""
    found = connection_rows()
    served = sum(1 for _, status, _ in found if status != "unsupported")
    lines = [
        CONN_START,
        f"Generated by `python -m featurekit.glue_local.coverage --write docs/glue.md`: "
        f"{len(found)} connection types, {served} served locally (sources and sinks), "
        f"{len(found) - served} unsupported.",
        "",
        "| connection_type | local | how |",
        "|---|---|---|",
        *[f"| `{kind}` | {status} | {note} |" for kind, status, note in found],
        CONN_END,
    ]
    return "\n".join(lines)


def _replace(text: str, start: str, end: str, body: str) -> str:
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    return head + body + tail


def write(doc: Path, api: dict[str, Any]) -> None:
    text = _replace(doc.read_text(), START, END, table(api))
    doc.write_text(_replace(text, CONN_START, CONN_END, connection_table()))


def section(doc: Path, start: str = START, end: str = END) -> str:
    """The coverage section (or the one between ``start`` and ``end``) as it stands in ``doc``."""
    text = doc.read_text()
    return start + text.partition(start)[2].partition(end)[0] + end


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        write(Path(sys.argv[2]), official())
    else:
        print(table(official()))
