"""featurekit's Spark-free modules import on every Python it supports (3.9 - 3.13).

Glue 5.1 runs Python 3.11, EMR 7 defaults to 3.9, Glue 6.0 runs 3.13. The check
uses whichever of those interpreters this machine has.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECK = """
import compileall, importlib, pkgutil, sys
import featurekit
assert compileall.compile_dir(featurekit.__path__[0], quiet=1, force=True, legacy=False)
for info in pkgutil.walk_packages(featurekit.__path__, "featurekit."):
    # the examples are jobs, which import pyspark as a user's jobs do
    if info.name.startswith(("featurekit.testing", "featurekit.__main__", "featurekit.examples")):
        continue
    importlib.import_module(info.name)
from featurekit.cli import build_parser
build_parser().parse_args(["jobs"])
print("ok", sys.version_info[:2])
"""


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` that runs: on PATH, or in pyenv's versions folder."""
    candidates = [shutil.which(f"python{version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob(f"{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.12", "3.13"])
def test_modules_import_without_spark(version: str, tmp_path: Path) -> None:
    python = find_python(version)
    if python is None:
        pytest.skip(f"python{version} is not installed on this machine")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONPYCACHEPREFIX": str(tmp_path)}
    done = subprocess.run(
        [python, "-c", CHECK], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if "No module named 'pyspark'" in done.stderr or "No module named 'deltalake'" in done.stderr:
        pytest.fail(f"a module imports an optional dependency at import time:\n{done.stderr}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
