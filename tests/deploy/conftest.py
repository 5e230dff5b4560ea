"""Fixtures of the deploy tests: the built artifacts and a moto server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from featurekit.deploy.package import build_artifacts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The artifacts of this source tree, built once."""
    out = tmp_path_factory.mktemp("dist")
    build_artifacts(ROOT, out)
    return out


@pytest.fixture(scope="module")
def moto_url(moto_endpoint: str) -> str:
    """The session's moto server (featurekit.testing.plugin); tests reset it."""
    return moto_endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_url: str) -> str:
    """Dummy credentials and region, so boto3 never looks for real ones."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    return moto_url


@pytest.fixture
def boto(aws_env: str) -> Callable[[str], Any]:
    """boto3 clients on the moto server: ``boto("s3")``."""
    import boto3

    def make(service: str) -> Any:
        return boto3.client(service, endpoint_url=aws_env, region_name="us-east-1")

    return make
