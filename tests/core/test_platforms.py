"""The platform lines' table, and pyproject.toml's extras that install each line."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from featurekit.core.platforms import DEFAULT_LINE, LINES, PlatformLine, platform_line
from featurekit.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
EXTRAS: dict[str, list[str]] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
    "optional-dependencies"
]


def test_the_lines_are_what_aws_runs() -> None:
    table = {line.key: (line.spark, line.pythons, line.awsglue, line.delta) for line in LINES}
    assert table == {
        "glue5.1": ("3.5.6", ("3.11",), "5.1.0", "3.3.2"),
        "glue6.0": ("4.1.1", ("3.13",), "6.0.0", "4.2.0"),
        "emr7.12": ("3.5.6", ("3.9", "3.11"), None, "3.3.2"),
        "emr8.0": ("4.0.2", ("3.11", "3.12", "3.13"), None, "4.0.0"),
    }
    assert DEFAULT_LINE == "glue5.1"
    assert all(line.java == 17 for line in LINES)


@pytest.mark.parametrize("line", LINES, ids=lambda line: line.key)
def test_each_line_has_an_extra_pinning_what_it_runs(line: PlatformLine) -> None:
    extra = EXTRAS[line.extra]
    assert f"pyspark=={line.spark}" in extra
    assert f"featurekit[{line.local_extra}]" in extra  # the rest of a local run's packages
    glue = [r for r in extra if r.startswith("AWSGlueDataplanePython")]
    # unconditional: AWSGlueDataplanePython's own Requires-Python pins Glue's Python
    assert glue == ([f"AWSGlueDataplanePython=={line.awsglue}"] if line.awsglue else [])


def test_self_references_carry_no_marker() -> None:
    """hatchling inlines a self-referencing extra and drops its marker, so a marker there
    would apply everywhere."""
    for extra, requirements in EXTRAS.items():
        for requirement in requirements:
            if requirement.startswith("featurekit["):
                assert ";" not in requirement, (extra, requirement)


def test_local_is_spark_35_and_spark4_is_spark_4() -> None:
    spark = [r for r in EXTRAS["local"] if r.startswith("pyspark")]
    assert spark == [
        f"pyspark{platform_line('glue5.1').pyspark_range}; python_version < '3.13'",
        # Python 3.13 runs only on Spark 4 (Glue 6.0, EMR 8), and numpy 1.x has no wheels
        "pyspark>=4.0,<4.2; python_version >= '3.13'",
    ]
    assert [r for r in EXTRAS["spark4"] if r.startswith("pyspark")] == ["pyspark>=4.0,<4.2"]
    assert platform_line("glue5.1").pyspark_range == ">=3.5.3,<3.6"
    assert platform_line("glue6.0").pyspark_range == ">=4.1.0,<4.2"
    assert platform_line("emr8.0").local_extra == "spark4"


def test_the_makefile_venvs_take_the_extras_of_their_spark() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"pip install --quiet -e '\.\[([a-z0-9,]+)\]' '([^']+)'", makefile)
    assert installs == [
        ("local,aws,dev,glue,iceberg", "$(SPARK35)"),
        ("spark4,aws,dev,glue,iceberg", "pyspark==$(SPARK4)"),
    ]
    assert "SPARK35 := pyspark>=3.5.3,<3.6" in makefile


def test_an_unknown_line_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"glue5\.1, glue6\.0, emr7\.12, emr8\.0"):
        platform_line("glue7")
