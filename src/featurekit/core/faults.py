"""Storage faults: how S3 calls are retried, and how an outage becomes one clear error.

Two clients reach S3 in a run: boto3 (catalog, run records, state) and Spark's S3A
(the Delta tables). Both retry what is safe to retry, with backoff:

* boto3: :func:`boto_config` - botocore's ``standard`` retry mode (exponential backoff
  with jitter; retries connection errors, timeouts, HTTP 500/502/503/504 and the
  throttling codes such as ``SlowDown``), bounded timeouts;
* S3A (local runs; Glue and EMR keep their platform's settings): :data:`S3A_RETRIES`.

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

from featurekit.errors import StorageUnavailableError

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
