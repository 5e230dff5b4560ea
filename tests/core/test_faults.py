"""Storage faults: which exceptions are an S3 outage, and the retry settings."""

from __future__ import annotations

import pytest

from featurekit.core.faults import S3A_RETRIES, boto_config, outage, storage_unavailable
from featurekit.errors import StateError, StorageUnavailableError

botocore = pytest.importorskip("botocore")
from botocore.exceptions import ClientError, EndpointConnectionError  # noqa: E402


def slow_down() -> ClientError:
    return ClientError(
        {"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."},
         "ResponseMetadata": {"HTTPStatusCode": 503}},
        "PutObject",
    )  # fmt: skip


class Py4JJavaError(Exception):
    """Stands in for py4j's class: outage() goes by the class name and the Java text."""


def test_a_connection_failure_is_an_outage_even_wrapped() -> None:
    dead = EndpointConnectionError(endpoint_url="http://127.0.0.1:9/b/k")
    wrapped = StateError("Cannot write state 'x'")
    wrapped.__cause__ = dead  # as `raise StateError(...) from exc` leaves it
    assert outage(wrapped) == str(dead)
    error = storage_unavailable(wrapped, "Writing s3://b/k")
    assert isinstance(error, StorageUnavailableError)
    assert str(error).startswith("Writing s3://b/k failed: S3 is unavailable after retrying")
    assert "\n" not in str(error)


def test_throttling_that_outlasts_the_retries_is_an_outage() -> None:
    assert outage(slow_down()) is not None
    assert "SlowDown" in str(storage_unavailable(slow_down(), "Writing"))


def test_s3a_errors_are_found_in_the_java_trace() -> None:
    java = Py4JJavaError(
        "An error occurred while calling o88.parquet.\n"
        ": org.apache.hadoop.fs.s3a.AWSClientIOException: getFileStatus on s3a://b/k: "
        "com.amazonaws.SdkClientException: Unable to execute HTTP request: Connect to "
        "127.0.0.1:39001 failed: Connection refused\n\tat org.apache.hadoop.fs.s3a..."
    )
    assert "Connection refused" in (outage(java) or "")


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad value"),
        ClientError({"Error": {"Code": "AccessDenied"}}, "PutObject"),
        Py4JJavaError("org.apache.spark.sql.AnalysisException: Column x not found"),
    ],
)
def test_other_errors_are_not_outages(exc: Exception) -> None:
    assert outage(exc) is None
    assert storage_unavailable(exc, "anything") is None


def test_boto_retries_in_standard_mode_and_s3a_bounded() -> None:
    config = boto_config()
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert config.connect_timeout == 5
    assert int(S3A_RETRIES["fs.s3a.retry.limit"]) < 7  # Hadoop's default retries for minutes
