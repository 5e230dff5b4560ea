"""Resolving the Delta and hadoop-aws jars: pairing with pyspark, the cache, offline errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from featurekit.core import jars
from featurekit.errors import ConfigError

DEAD_REPO = """<ivysettings>
  <settings defaultResolver="dead"/>
  <resolvers>
    <ibiblio name="dead" m2compatible="true" root="http://127.0.0.1:9/maven2/"/>
  </resolvers>
</ivysettings>
"""


def test_delta_release_follows_the_spark_line() -> None:
    assert jars.delta_coordinate("3.5") == "io.delta:delta-spark_2.12:3.3.2"  # Glue 5.1, EMR 7
    assert jars.delta_coordinate("4.0") == "io.delta:delta-spark_2.13:4.0.1"  # EMR 8
    assert jars.delta_coordinate("4.1") == "io.delta:delta-spark_2.13:4.3.1"  # Spark 4.1
    with pytest.raises(ConfigError, match=r"no Delta release paired with Spark 3\.4"):
        jars.delta_coordinate("3.4")


def test_hadoop_aws_matches_the_hadoop_inside_pyspark() -> None:
    import pyspark

    version = jars.hadoop_version()
    assert (Path(pyspark.__file__).parent / "jars" / f"hadoop-client-api-{version}.jar").is_file()
    assert jars.hadoop_aws_coordinate() == f"org.apache.hadoop:hadoop-aws:{version}"


def test_a_resolution_is_reused_while_its_jars_exist(tmp_path: Path) -> None:
    packages = jars.Packages(("g:a:1",), str(tmp_path))
    jar = tmp_path / "jars" / "g_a-1.jar"
    jar.parent.mkdir()
    jar.write_bytes(b"jar")
    packages.manifest.parent.mkdir(parents=True)
    packages.manifest.write_text(json.dumps({"jars": [str(jar)]}))
    assert jars.cached(packages) == [str(jar)]
    assert jars.resolve(["g:a:1"], ivy_dir=str(tmp_path)) == [str(jar)]  # no Ivy run
    jar.unlink()
    assert jars.cached(packages) is None


def test_resolutions_at_once_take_turns_and_the_second_reuses_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first runs at once: one runs Ivy, the other waits for it and reads its manifest."""
    jar = tmp_path / "jars" / "g_a-1.jar"
    inside, most_inside, ivy_runs = [0], [0], []
    lock, other_waits = threading.Lock(), threading.Event()

    def slow_ivy(packages: jars.Packages, settings: object) -> list[str]:
        with lock:
            inside[0] += 1
            most_inside[0] = max(most_inside[0], inside[0])
            ivy_runs.append(packages.coordinates)
        assert other_waits.wait(timeout=60), "the second resolution did not wait"
        jar.parent.mkdir(exist_ok=True)
        jar.write_bytes(b"jar")
        with lock:
            inside[0] -= 1
        return [str(jar)]

    monkeypatch.setattr(jars, "_run_ivy", slow_ivy)
    lines: list[str] = []
    results: list[list[str]] = []

    def report(line: str) -> None:
        lines.append(line)
        if line.startswith("waiting for another process resolving jars"):
            other_waits.set()

    def resolve() -> None:
        results.append(jars.resolve(["g:a:1"], ivy_dir=str(tmp_path), report=report))

    threads = [threading.Thread(target=resolve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [[str(jar)], [str(jar)]]
    assert (len(ivy_runs), most_inside[0]) == (1, 1)
    assert any(line.startswith("waiting for another process resolving jars") for line in lines)


@pytest.mark.integration
def test_offline_resolution_names_the_coordinate(tmp_path: Path) -> None:
    settings = tmp_path / "ivysettings.xml"
    settings.write_text(DEAD_REPO)
    with pytest.raises(jars.JarResolutionError) as info:
        jars.resolve(
            [jars.delta_coordinate()], ivy_dir=str(tmp_path / "ivy"), ivy_settings=str(settings)
        )
    message = str(info.value)
    assert jars.delta_coordinate() in message
    assert "FEATUREKIT_DELTA_JARS" in message


@pytest.mark.integration
def test_cli_offline_is_one_line_and_exit_2(tmp_path: Path) -> None:
    settings = tmp_path / "ivysettings.xml"
    settings.write_text(DEAD_REPO)
    env = {
        **os.environ,
        "FEATUREKIT_IVY": str(tmp_path / "ivy"),
        "FEATUREKIT_IVY_SETTINGS": str(settings),
    }
    cmd = [sys.executable, "-m", "featurekit", "demo", "--engine", "delta-spark", "--quiet"]
    cmd += ["--warehouse", str(tmp_path / "wh")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("featurekit: error:")]
    assert len(errors) == 1
    assert jars.delta_coordinate() in errors[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "wh" / "raw").exists()  # nothing written
