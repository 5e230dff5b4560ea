"""Which Glue release ``featurekit glue run`` emulates, and whether this Spark can be it.

``--glue-version 5.1`` is Spark 3.5 on Python 3.11, ``6.0`` Spark 4.1 on Python 3.13
(:mod:`featurekit.core.platforms`). A local pyspark of another line is refused, naming the
extra that installs the right one; without the option (or a plan's ``GlueVersion``) the
release follows the installed pyspark, and ``glue run`` says which it chose. A Python other
than the release's is a note: the script may use what that Python lacks or adds.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional

from featurekit.core.platforms import LINES, PlatformLine
from featurekit.errors import ConfigError

GLUE_VERSIONS = tuple(line.key[len("glue") :] for line in LINES if line.key.startswith("glue"))


@dataclass(frozen=True)
class Emulated:
    """The Glue release a run emulates and how it was chosen."""

    line: PlatformLine
    chosen_by: str  # "--glue-version", "the plan's GlueVersion", "the installed pyspark"
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        line = self.line
        return (
            f"emulating {line.name} (Spark {line.spark_line}, Python {', '.join(line.pythons)}; "
            f"chosen by {self.chosen_by})"
        )


def _glue_line(version: str) -> PlatformLine:
    for line in LINES:
        if line.key == f"glue{version}":
            return line
    raise ConfigError(f"Glue version {version!r}: glue run emulates {', '.join(GLUE_VERSIONS)}.")


def _local_spark() -> str:
    import pyspark

    return ".".join(pyspark.__version__.split(".")[:2])


def emulated(
    asked: Optional[str],
    plan_version: Optional[str] = None,
    *,
    spark: Optional[str] = None,
    python: Optional[str] = None,
) -> Emulated:
    """The release to emulate: ``asked`` (``--glue-version``), else the plan's, else the one
    running the installed pyspark; a ConfigError when the local Spark is of another line."""
    spark = spark or _local_spark()
    python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    if asked is not None or plan_version is not None:
        version = str(asked if asked is not None else plan_version)
        by = "--glue-version" if asked is not None else "the plan's GlueVersion"
        line = _glue_line(version)
        if line.spark_line != spark:
            pythons = " or ".join(line.pythons)
            raise ConfigError(
                f"{line.name} runs Spark {line.spark_line} and this Python has pyspark {spark}: "
                f"a script may behave differently on it (ANSI mode, Deequ). Install "
                f"{line.name}'s line in a fresh Python {pythons} venv: pip install "
                f"'featurekit[{line.extra}]' (or pip install 'pyspark{line.pyspark_range}'), or "
                f"choose --glue-version {_version_for(spark) or '...'} to match this pyspark."
            )
    else:
        found = _version_for(spark)
        if found is None:
            lines = [_glue_line(v) for v in GLUE_VERSIONS]
            known = ", ".join(f"{x.name}: Spark {x.spark_line}" for x in lines)
            raise ConfigError(
                f"pyspark {spark} is not the Spark of a Glue release glue run emulates "
                f"({known}): pip install 'featurekit[glue5]' (Spark 3.5) or "
                "'featurekit[glue6]' (Spark 4.1) in a fresh venv."
            )
        line, by = _glue_line(found), "the installed pyspark"
    notes: tuple[str, ...] = ()
    if python not in line.pythons:
        notes = (f"{line.name} runs Python {', '.join(line.pythons)}; this is Python {python}",)
    return Emulated(line, by, notes)


def _version_for(spark: str) -> Optional[str]:
    for version in GLUE_VERSIONS:
        if _glue_line(version).spark_line == spark:
            return version
    return None
