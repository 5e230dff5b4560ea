"""featurekit package: what is in each artifact, hashes, reproducibility, installability."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from featurekit.deploy.package import (
    BUNDLE,
    EMR_SCRIPT,
    JOBS_ZIP,
    MANIFEST,
    build_artifacts,
    read_project,
    verify,
)
from featurekit.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
WHEEL = "featurekit-0.1.0-py3-none-any.whl"


def names(archive: Path) -> set[str]:
    with zipfile.ZipFile(archive) as z:
        return set(z.namelist())


def test_manifest_hashes_match_the_files(dist: Path) -> None:
    manifest = json.loads((dist / MANIFEST).read_text())
    assert manifest["version"] == read_project(ROOT).version
    assert set(manifest["artifacts"]) >= {WHEEL, BUNDLE, JOBS_ZIP, EMR_SCRIPT}
    for name, entry in manifest["artifacts"].items():
        data = (dist / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert entry["bytes"] == len(data)


def test_bundle_holds_featurekit_and_jobs_sources_only(dist: Path) -> None:
    inside = names(dist / BUNDLE)
    assert {"featurekit/__init__.py", "featurekit/runtime/emr.py", "featurekit/py.typed"} <= inside
    assert "jobs/user_activity_daily.py" in inside
    assert not [n for n in inside if n.endswith(".pyc") or "__pycache__" in n]
    assert names(dist / JOBS_ZIP) == {n for n in inside if n.startswith("jobs/")}


def test_wheel_record_lists_every_file_with_its_hash(dist: Path) -> None:
    with zipfile.ZipFile(dist / WHEEL) as z:
        record = z.read("featurekit-0.1.0.dist-info/RECORD").decode().splitlines()
        rows = dict((line.split(",")[0], line.split(",")[1:]) for line in record)
        assert set(rows) == set(z.namelist())
        for name, (digest, size) in rows.items():
            if name.endswith("RECORD"):
                continue
            data = z.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode(), name
            assert int(size) == len(data)
        entry_points = z.read("featurekit-0.1.0.dist-info/entry_points.txt").decode()
    assert "featurekit = featurekit.cli:main" in entry_points
    assert "user_activity_daily = jobs.user_activity_daily:UserActivityDaily" in entry_points


def test_same_source_gives_same_hashes(dist: Path, tmp_path: Path) -> None:
    again = build_artifacts(ROOT, tmp_path)
    first = json.loads((dist / MANIFEST).read_text())
    assert again["artifacts"] == first["artifacts"]


def test_verify_catches_a_changed_artifact(dist: Path, tmp_path: Path) -> None:
    build_artifacts(ROOT, tmp_path)
    assert verify(tmp_path)["name"] == "featurekit"
    (tmp_path / EMR_SCRIPT).write_text("print('tampered')\n")
    with pytest.raises(ConfigError, match="differs"):
        verify(tmp_path)


def test_no_pyproject_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"pyproject\.toml"):
        build_artifacts(tmp_path, tmp_path / "dist")


def _python_with_only(path: str, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": path}
    # -S: no site-packages, so the editable install of featurekit cannot leak in.
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@pytest.mark.slow
def test_bundle_imports_from_the_zip_alone(dist: Path) -> None:
    code = "import featurekit, featurekit.cli.deploy, featurekit.deploy.emr_plan\n"
    code += "print(featurekit.__file__)"
    assert _python_with_only(str(dist / BUNDLE), code).startswith(str(dist / BUNDLE))


@pytest.mark.slow
def test_wheel_installs_with_pip(dist: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(dist / WHEEL),
        ],
        check=True,
    )
    assert (target / "featurekit-0.1.0.dist-info" / "METADATA").is_file()
    assert (target / "bin" / "featurekit").is_file()
    printed = _python_with_only(str(target), "import featurekit; print(featurekit.__file__)")
    assert printed == str(target / "featurekit" / "__init__.py")
