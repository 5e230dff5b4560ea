"""An S3 warehouse in a bucket that does not exist is one clear error, not a traceback."""

from __future__ import annotations

import pytest

pytest.importorskip("moto")

from moto import mock_aws  # noqa: E402

from featurekit.errors import ConfigError  # noqa: E402
from featurekit.warehouse import S3Warehouse  # noqa: E402


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.mark.parametrize(
    "call",
    [
        lambda wh: wh.read_json("_catalog/raw/events.json"),
        lambda wh: wh.list_json("_catalog"),
        lambda wh: wh.write_json("_runs/j/r.json", {}),
    ],
    ids=["read", "list", "write"],
)
def test_a_missing_bucket_is_a_config_error_naming_it(aws, call) -> None:  # type: ignore[no-untyped-def]
    warehouse = S3Warehouse("s3://no-such-bucket/wh")
    with pytest.raises(ConfigError, match="no-such-bucket does not exist"):
        call(warehouse)
