"""docs/glue.md's awsglue coverage table is the generated one, from the official API listing."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from featurekit.glue_local import coverage

DOC = Path(__file__).parents[2] / "docs" / "glue.md"


def test_docs_coverage_table_is_the_generated_one() -> None:
    expected = coverage.table(coverage.official())
    assert coverage.section(DOC) == expected, (
        "docs/glue.md is out of date: python -m featurekit.glue_local.coverage --write docs/glue.md"
    )


def test_pinned_listing_is_what_the_official_package_defines() -> None:
    try:
        installed = version("AWSGlueDataplanePython")
    except PackageNotFoundError:
        installed = ""
    if installed != coverage.VERSION:
        pytest.skip(f"AWSGlueDataplanePython {coverage.VERSION} is not installed")
    pinned = json.loads(coverage.PINNED.read_text())
    live = coverage.introspect()
    assert {k: v for k, v in pinned.items() if k != "source"} == live


def test_every_official_name_gets_a_status() -> None:
    rows = coverage.rows(coverage.official())
    assert {status for _, status, _ in rows} <= {"present", "differs", "unsupported"}
    assert ("transforms.Relationalize", "differs", "as DynamicFrame.relationalize") in rows
    assert ("DynamicFrame.unbox", "unsupported", "") in rows


def test_docs_connection_types_table_is_the_generated_one() -> None:
    expected = coverage.connection_table()
    assert coverage.section(DOC, coverage.CONN_START, coverage.CONN_END) == expected, (
        "docs/glue.md is out of date: python -m featurekit.glue_local.coverage --write docs/glue.md"
    )
    rows = {kind: status for kind, status, _ in coverage.connection_rows()}
    assert rows["redshift"] == "differs"
    assert rows["dynamodb"] == "differs"
    assert rows["kafka"] == "unsupported"
