"""S3 for local runs: the endpoint and credentials, and where ``s3://`` goes in Spark.

Two rules, one per kind of warehouse:

* **an ``s3://`` warehouse** (or state store): everything goes to S3. The CLI resolves
  an :class:`S3Access` once, at the edge, with boto3's default chain
  (:func:`resolve_s3_access`: credentials from the environment, ``AWS_PROFILE``, the
  config files...; the endpoint from ``--s3-endpoint``, ``AWS_ENDPOINT_URL_S3`` or
  ``AWS_ENDPOINT_URL``), and hands it to both sides: boto3 (catalog, run records,
  state) and Spark's S3A (``fs.s3a.*``, with ``s3://`` mapped to ``S3AFileSystem``,
  so Delta and ``spark.read.parquet("s3://...")`` use the same endpoint);
* **a local warehouse folder**: ``s3://bucket/key`` is ``WAREHOUSE/_s3/bucket/key``
  for featurekit and for Spark alike. Spark's side is Hadoop's own
  ``ViewFileSystemOverloadScheme`` with one mount per bucket folder found under
  ``WAREHOUSE/_s3`` when the session starts (:func:`local_s3_conf`): create the
  bucket's folder first, as you create a bucket before writing to it.

On Glue and EMR none of this applies: the platform's ``s3://`` (EMRFS, Glue's S3
connector) and its credential chain are used as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from featurekit.errors import ConfigError, MissingDependencyError

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
S3A = "org.apache.hadoop.fs.s3a.S3AFileSystem"
OVERLOAD = "org.apache.hadoop.fs.viewfs.ViewFileSystemOverloadScheme"
SCHEMES = ("s3", "s3a", "s3n")


class S3ConfigError(ConfigError):
    """S3 is needed (an s3:// warehouse or state) but its credentials or endpoint are not set."""


@dataclass(frozen=True)
class S3Access:
    """How a local run reaches S3: endpoint (None = AWS's own), region and credentials.

    Example::

        S3Access(endpoint="http://127.0.0.1:5000", access_key="k", secret_key="s")
    """

    endpoint: Optional[str] = None
    region: str = "us-east-1"
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    session_token: Optional[str] = field(default=None, repr=False)
    # DynamoDB's endpoint for a dynamodb:TABLE commit coordinator (None = AWS's own)
    dynamodb_endpoint: Optional[str] = None

    def __post_init__(self) -> None:
        if self.endpoint is not None and not self.endpoint.startswith(("http://", "https://")):
            raise S3ConfigError(
                f"S3 endpoint {self.endpoint!r} must be a URL such as http://127.0.0.1:5000."
            )
        if bool(self.access_key) != bool(self.secret_key):
            raise S3ConfigError("Give both the S3 access key and the secret key, or neither.")

    def hadoop_conf(self) -> dict[str, str]:
        """S3A settings (Hadoop keys) for this endpoint and these credentials."""
        from featurekit.core.faults import S3A_RETRIES

        conf = {f"fs.{scheme}.impl": S3A for scheme in SCHEMES}
        conf.update(S3A_RETRIES)  # bounded retries with backoff (see featurekit.core.faults)
        conf["fs.AbstractFileSystem.s3.impl"] = "org.apache.hadoop.fs.s3a.S3A"
        conf["fs.s3a.endpoint.region"] = self.region
        if self.access_key:
            conf["fs.s3a.access.key"] = self.access_key
            conf["fs.s3a.secret.key"] = self.secret_key
            provider = "SimpleAWSCredentialsProvider"
            if self.session_token:
                conf["fs.s3a.session.token"] = self.session_token
                provider = "TemporaryAWSCredentialsProvider"
            conf["fs.s3a.aws.credentials.provider"] = f"org.apache.hadoop.fs.s3a.{provider}"
        if self.endpoint:
            conf["fs.s3a.endpoint"] = self.endpoint
            conf["fs.s3a.path.style.access"] = "true"
            conf["fs.s3a.connection.ssl.enabled"] = str(self.endpoint.startswith("https://"))
        return conf

    def spark_conf(self) -> dict[str, str]:
        """:meth:`hadoop_conf` as Spark settings (``spark.hadoop.*``), e.g. for spark-submit."""
        return {f"spark.hadoop.{k}": v for k, v in self.hadoop_conf().items()}

    def client(self, service: str = "s3") -> Any:
        """A boto3 client of ``service`` (S3, or DynamoDB on ``dynamodb_endpoint``) with
        these credentials."""
        try:
            import boto3
        except ImportError as exc:
            raise MissingDependencyError("boto3", "aws", "An s3:// warehouse") from exc
        from featurekit.core.faults import boto_config

        return boto3.client(
            service,
            config=boto_config(),
            endpoint_url=self.endpoint if service == "s3" else self.dynamodb_endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key or None,
            aws_secret_access_key=self.secret_key or None,
            aws_session_token=self.session_token,
        )

    def storage_options(self) -> dict[str, str]:
        """The same access for delta-rs / object_store (``DeltaTable(uri, storage_options=)``)."""
        options = {"AWS_REGION": self.region, "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}
        if self.access_key:
            options["AWS_ACCESS_KEY_ID"] = self.access_key
            options["AWS_SECRET_ACCESS_KEY"] = self.secret_key
        if self.session_token:
            options["AWS_SESSION_TOKEN"] = self.session_token
        if self.endpoint:
            options["AWS_ENDPOINT_URL"] = self.endpoint
            options["AWS_ALLOW_HTTP"] = str(self.endpoint.startswith("http://")).lower()
        return options


def endpoint_from(env: Mapping[str, str], given: Optional[str] = None) -> Optional[str]:
    """The S3 endpoint: ``given`` (an option), else boto3's standard variables, else None."""
    if given:
        return given
    for name in ENDPOINT_VARIABLES:
        if env.get(name):
            return env[name]
    return None


def resolve_s3_access(
    what: str, env: Mapping[str, str], *, endpoint: Optional[str] = None
) -> S3Access:
    """Resolve endpoint and credentials once, at the edge (CLI, entry scripts).

    Credentials come from boto3's default chain (environment, ``AWS_PROFILE`` and the
    config files, SSO, instance roles); a missing piece is an :class:`S3ConfigError`
    naming what to set. ``what`` names the S3 location that needs them, for messages.
    """
    try:
        import boto3
    except ImportError as exc:
        raise MissingDependencyError("boto3", "aws", f"{what} on S3") from exc
    endpoint = endpoint_from(env, endpoint)
    session = boto3.Session()
    credentials = session.get_credentials()
    region = session.region_name or env.get("AWS_REGION")
    missing = []
    if credentials is None:
        missing.append("credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)")
    if endpoint is None and region is None:
        missing.append(
            "an endpoint (AWS_ENDPOINT_URL_S3 or --s3-endpoint, e.g. http://127.0.0.1:5000 "
            "for a local S3) or, for AWS's S3, a region (AWS_DEFAULT_REGION)"
        )
    if missing or credentials is None:
        raise S3ConfigError(f"{what} is on S3; set {' and '.join(missing)}.")
    frozen = credentials.get_frozen_credentials()
    return S3Access(
        dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL"),
        endpoint=endpoint,
        region=region or "us-east-1",
        access_key=frozen.access_key,
        secret_key=frozen.secret_key,
        session_token=frozen.token,
    )


def local_s3_conf(warehouse_root: Path) -> dict[str, str]:
    """Hadoop settings that make Spark's ``s3://bucket/key`` read and write
    ``WAREHOUSE/_s3/bucket/key``: one viewfs mount per bucket folder present now.

    An ``s3://`` path of any other bucket fails ("No overload scheme fs configured")
    instead of landing somewhere unexpected; no target file system is configured for
    unmounted buckets on purpose.
    """
    conf = {f"fs.{scheme}.impl": OVERLOAD for scheme in SCHEMES}
    base = warehouse_root / "_s3"
    buckets = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    for bucket in buckets:
        conf[f"fs.viewfs.mounttable.{bucket.name}.linkFallback"] = bucket.resolve().as_uri()
    return conf
