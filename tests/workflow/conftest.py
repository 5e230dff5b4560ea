"""Fixtures of the workflow tests: the demo's and a user project's artifacts, a moto
server with an EMR cluster and an EMR Serverless application, and the ASL validator."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from workflow_projects import ROOT, build_dist, make_user_project

from featurekit.deploy.package import build_artifacts
from featurekit.testing.plugin import boto_client

ASL_VALIDATOR = ROOT / ".cache" / "asl-validator"
ASL_VERSION = "4.0.0"


@pytest.fixture(scope="session")
def demo_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-dist")
    build_artifacts(ROOT, out)
    return out


@pytest.fixture(scope="module")
def user_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The scaffolded project, importable (its src on sys.path) while the module runs."""
    root = make_user_project(tmp_path_factory.mktemp("user"))
    src = str(root / "src")
    sys.path.insert(0, src)
    try:
        build_dist(root)
        yield root
    finally:
        sys.path.remove(src)
        for name in [
            m for m in sys.modules if m == "acme_features" or m.startswith("acme_features.")
        ]:
            del sys.modules[name]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> Callable[[str], Any]:
    """boto3 clients on a reset moto server (dummy credentials), with the artifacts bucket."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    reset = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset)

    def client(service: str) -> Any:
        return boto_client(moto_endpoint, service)

    client("s3").create_bucket(Bucket="acme-artifacts")
    return client


@pytest.fixture(scope="session")
def asl_validator() -> Path:
    """The asl-validator command of the npm package, installed under .cache on first use
    (make asl-validator does the same); skipped only where npm is missing."""
    command = ASL_VALIDATOR / "node_modules" / ".bin" / "asl-validator"
    if not command.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: the asl-validator npm package cannot run")
        subprocess.run(
            [
                npm,
                "install",
                "--silent",
                "--prefix",
                str(ASL_VALIDATOR),
                f"asl-validator@{ASL_VERSION}",
            ],
            check=True,
            timeout=300,
        )
    return command
