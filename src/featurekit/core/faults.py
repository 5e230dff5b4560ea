"""Storage faults: how S3 calls are retried, and how an outage becomes one clear error.

Two clients reach S3 in a run: boto3 (catalog, run records, state) and Spark's S3A
(the Delta tables). Both retry what is safe to retry, with backoff:

* boto3: :func:`boto_config` - botocore's ``standard`` retry mode (exponential backoff
  with jitter; retries connection errors, timeouts, HTTP 500/502/503/504 and the
  throttling codes such as ``SlowDown``), bounded timeouts;
* S3A (local runs; Glue and EMR keep their platform's settings): :data:`S3A_RETRIES`;
* delta-rs (its Rust object store): :data:`DELTA_RS_RETRIES`, bounded retries of 5xx,
  throttling and connection errors with exponential backoff.

Every featurekit write to S3 is idempotent or conditional (a PUT of a whole object, a
put with ``If-None-Match``/``If-Match``, a Delta commit carrying its ``txn``), so a
retried call cannot apply twice. What still fails after the retries is an outage:
:func:`outage` recognises it in an exception chain (botocore's connection and
throttling errors, S3A's inside a ``Py4JJavaError``) so the run ends with one
:class:`~featurekit.errors.StorageUnavailableError` line instead of tracebacks.

Example::

    boto3.client("s3", endpoint_url=url, config=boto_config())
"""

from __future__ import annotations

from typing import Any, Optional

from featurekit.errors import ConfigError, StorageUnavailableError

#: boto3 attempts per call (the first try included), in botocore's "standard" mode
BOTO_ATTEMPTS = 5
#: seconds to open a connection / to wait for a response, per attempt
BOTO_CONNECT_TIMEOUT = 5
BOTO_READ_TIMEOUT = 60

#: S3A's retry policy for local runs: a few quick retries of connection errors, more and
#: slower ones for throttling (503 SlowDown), short connection timeouts, so a dead
#: endpoint fails a run in well under a minute instead of S3A's default of many minutes.
S3A_RETRIES = {
    "fs.s3a.attempts.maximum": "3",  # the AWS SDK's own retries per request
    "fs.s3a.retry.limit": "4",  # S3A's retries of connection errors and 5xx
    "fs.s3a.retry.interval": "500ms",
    "fs.s3a.retry.throttle.limit": "10",  # 503 SlowDown: back off longer
    "fs.s3a.retry.throttle.interval": "1000ms",
    "fs.s3a.connection.establish.timeout": "5000",
    "fs.s3a.connection.timeout": "60000",
}

#: delta-rs's retry policy on S3 (object_store's client options): exponential backoff
#: with jitter, 5 retries within 60 s, for connection errors, 5xx and 503 SlowDown.
DELTA_RS_RETRIES = {
    "max_retries": "5",
    "retry_timeout": "60s",
    "backoff_config.init_backoff": "200ms",
    "backoff_config.max_backoff": "10s",
    "backoff_config.base": "2",
}

_BOTO_OUTAGES = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ProxyConnectionError",
    }
)
_THROTTLING = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable"}
)
# what S3A (Hadoop, the AWS Java SDK) says when S3 cannot be reached or keeps throttling
_JAVA_OUTAGES = (
    "Connection refused",
    "Unable to execute HTTP request",
    "ConnectTimeoutException",
    "UnknownHostException",
    "AWSServiceThrottledException",
    "SlowDown",
    "503 Service Unavailable",
    "NoHttpResponseException",
)


# what delta-rs (object_store) says when S3 cannot be reached or keeps throttling
_RUST_OUTAGES = (
    "SlowDown",
    "503 Service Unavailable",
    "error sending request",
    "Connection refused",
    "operation timed out",
)


def _rust_line(item: BaseException) -> Optional[str]:
    """delta-rs's outage, when ``item`` is a deltalake error (or the OSError it raises for
    its object store) naming one; the retries it made are in the text."""
    module = type(item).__module__ or ""
    if not (module.startswith("deltalake") or isinstance(item, OSError)):
        return None
    text = str(item)
    if not any(marker in text for marker in _RUST_OUTAGES):
        return None
    return " ".join(text.split())[:300]


def boto_config() -> Any:
    """botocore's client settings for featurekit's S3 calls: standard retries, timeouts."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "total_max_attempts": BOTO_ATTEMPTS},
        connect_timeout=BOTO_CONNECT_TIMEOUT,
        read_timeout=BOTO_READ_TIMEOUT,
    )


def _names(exc: BaseException) -> set[str]:
    return {klass.__name__ for klass in type(exc).__mro__}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: Optional[BaseException] = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _java_line(text: str) -> Optional[str]:
    for line in text.splitlines():
        if any(marker in line for marker in _JAVA_OUTAGES):
            return line.strip()[:300]
    return None


def outage(exc: BaseException) -> Optional[str]:
    """What made S3 unavailable, when ``exc`` (or an exception it came from) is a
    connection failure, a timeout or throttling that outlasted the retries; else None."""
    for item in _chain(exc):
        names = _names(item)
        if isinstance(item, StorageUnavailableError):
            return str(item)
        if names & _BOTO_OUTAGES:
            return str(item)
        if "ClientError" in names:
            error = getattr(item, "response", {}).get("Error", {})
            if error.get("Code") in _THROTTLING:
                return f"S3 kept throttling ({error.get('Code')}): {item}"
        if "Py4JJavaError" in names or "Py4JError" in names:
            line = _java_line(str(item))
            if line is not None:
                return line
        line = _rust_line(item)
        if line is not None:
            return line
    return None


def storage_unavailable(exc: BaseException, what: str) -> Optional[StorageUnavailableError]:
    """A StorageUnavailableError for ``what`` failing with ``exc``, or None when ``exc``
    is no outage (see :func:`outage`)."""
    if isinstance(exc, StorageUnavailableError):
        return exc
    cause = outage(exc)
    if cause is None:
        return None
    return StorageUnavailableError(
        f"{what} failed: S3 is unavailable after retrying with backoff ({cause}). "
        "Nothing was committed by the failed step; check the endpoint, the network or "
        "the bucket's request rate, and run again."
    )


# what S3A (the AWS Java SDK 1 and 2) and delta-rs say of a bucket that does not exist
_NO_BUCKET = ("NoSuchBucket", "UnknownStoreException", "The specified bucket does not exist")


def missing_bucket(exc: BaseException, what: str) -> Optional[ConfigError]:
    """A ConfigError naming the bucket when ``exc`` (or an exception it came from) says
    an S3 bucket does not exist (boto3's ``NoSuchBucket``, S3A's ``UnknownStoreException``,
    delta-rs's object store); else None."""
    for item in _chain(exc):
        if isinstance(item, ConfigError):
            return None
        error = getattr(item, "response", None)
        if isinstance(error, dict) and error.get("Error", {}).get("Code") == "NoSuchBucket":
            bucket = error["Error"].get("BucketName") or ""
            return _no_bucket(what, f"the bucket {bucket} does not exist" if bucket else "")
        text = str(item)
        if any(marker in text for marker in _NO_BUCKET):
            line = next(line for line in text.splitlines() if any(m in line for m in _NO_BUCKET))
            return _no_bucket(what, " ".join(line.split())[:300])
    return None


def _no_bucket(what: str, detail: str) -> ConfigError:
    said = detail or "its bucket does not exist"
    return ConfigError(
        f"{what} failed: {said} (NoSuchBucket). Create the bucket, or check the location, "
        "--warehouse and the S3 endpoint."
    )
