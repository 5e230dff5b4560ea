"""The platform lines featurekit targets, and what each one runs.

One table, read by ``featurekit init --platform`` (the generated project's pyspark pin)
and ``featurekit doctor`` (which line this environment matches). pyproject.toml has a pip
extra per line, named by :attr:`PlatformLine.extra`, that installs what the line runs;
tests/core/test_platforms.py holds the two together. The facts are AWS's release notes
(docs/install.md lists them)::

    line      Spark   Python       awsglue (AWSGlueDataplanePython)   Delta   Java
    glue5.1   3.5.6   3.11         5.1.0                              3.3.2   17
    glue6.0   4.1.1   3.13         6.0.0                              4.2.0   17
    emr7.12   3.5.6   3.9, 3.11    -                                  3.3.2   17
    emr8.0    4.0.2   3.11-3.13    -                                  4.0.0   17

Deequ, the data-quality engine, is built for Spark 3.5 only: rulesets run on the 3.5 lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from featurekit.errors import ConfigError

# The local pyspark range of each Spark line (3.5.3 is the first 3.5 the project tests).
_PYSPARK_RANGE = {"3.5": ">=3.5.3,<3.6", "4.0": ">=4.0.0,<4.1", "4.1": ">=4.1.0,<4.2"}


@dataclass(frozen=True)
class PlatformLine:
    """One platform release and the versions it runs."""

    key: str  # "glue5.1": what --platform takes
    name: str  # "Glue 5.1"
    extra: str  # featurekit's pip extra installing this line: "glue5"
    spark: str  # the pyspark it runs: "3.5.6"
    pythons: tuple[str, ...]  # the Pythons it runs: ("3.11",)
    delta: str  # its Delta Lake release
    java: int = 17
    awsglue: Optional[str] = None  # the AWSGlueDataplanePython it runs (Glue only)

    @property
    def spark_line(self) -> str:
        """``3.5.6`` -> ``3.5``."""
        return ".".join(self.spark.split(".")[:2])

    @property
    def pyspark_range(self) -> str:
        """The pyspark versions of this line a local environment may have: ``>=3.5.3,<3.6``."""
        return _PYSPARK_RANGE[self.spark_line]

    @property
    def local_extra(self) -> str:
        """featurekit's extra for local runs on this line's Spark: ``local`` (3.5), ``spark4``."""
        return "local" if self.spark_line == "3.5" else "spark4"


LINES: tuple[PlatformLine, ...] = (
    PlatformLine("glue5.1", "Glue 5.1", "glue5", "3.5.6", ("3.11",), "3.3.2", awsglue="5.1.0"),
    PlatformLine("glue6.0", "Glue 6.0", "glue6", "4.1.1", ("3.13",), "4.2.0", awsglue="6.0.0"),
    PlatformLine("emr7.12", "EMR 7.12", "emr7", "3.5.6", ("3.9", "3.11"), "3.3.2"),
    PlatformLine("emr8.0", "EMR 8.0", "emr8", "4.0.2", ("3.11", "3.12", "3.13"), "4.0.0"),
)
# Glue's default for new jobs, and the line featurekit's own development runs on.
DEFAULT_LINE = "glue5.1"


def platform_line(key: str) -> PlatformLine:
    """The line named ``key`` (``glue5.1``); ConfigError naming the known ones otherwise."""
    for line in LINES:
        if line.key == key:
            return line
    raise ConfigError(
        f"Unknown platform line {key!r}: use one of {', '.join(x.key for x in LINES)}."
    )
