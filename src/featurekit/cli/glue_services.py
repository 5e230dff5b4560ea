"""Local AWS stand-ins for ``featurekit glue run``: DynamoDB, and S3 for the script's boto3.

Scripts call AWS themselves: ``boto3.client("s3").get_object(...)`` to read a config file,
``list_objects_v2`` to find inputs, DynamoDB sources and sinks. ``glue run`` starts moto's
server on 127.0.0.1 for the run (one server, both services) when the script's source names
``boto3`` or ``dynamodb`` (``--aws-services on|off`` decides otherwise):

* **S3 for boto3** (a local warehouse, and neither ``AWS_ENDPOINT_URL_S3`` nor
  ``AWS_ENDPOINT_URL`` set): every bucket folder of ``WAREHOUSE/_s3`` is uploaded at the
  start; the script's process gets ``AWS_ENDPOINT_URL_S3`` (and dummy credentials when it has
  none); at the end objects the script created, changed or deleted are copied back into
  the ``_s3`` folders, where Spark's ``s3://`` reads them. During the run each side sees its
  own copy: objects boto3 writes reach Spark's ``s3://`` only after the run, and files
  Spark writes are not in boto3's listing until the next run.
* **DynamoDB**: ``connection_type="dynamodb"`` goes to the server, unless the connections
  file names an ``endpoint_url``. Its tables live as long as the run; create them in the
  script (or give an endpoint that keeps them).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from featurekit.errors import ConfigError

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
NEEDS_SERVER = re.compile(r"\bboto3\b|dynamodb", re.IGNORECASE)
DUMMY = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class Services:
    """What a run's AWS stand-ins are: the server's URL and whether boto3's S3 uses it."""

    endpoint: Optional[str] = None
    s3: bool = False


def _note(message: str) -> None:
    print(f"featurekit: note: {message}", file=sys.stderr)


def wanted(choice: str, source: str) -> bool:
    """Start the server? ``on``/``off``, or ``auto``: the script names boto3 or DynamoDB."""
    if choice == "auto":
        return NEEDS_SERVER.search(source) is not None
    return choice == "on"


def _client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_keys(DUMMY))


def _keys(env: Mapping[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
    }


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def upload(client: Any, root: Path) -> dict[str, str]:
    """Every bucket folder of ``root`` (``WAREHOUSE/_s3``) into the server; {bucket/key: md5}."""
    sent: dict[str, str] = {}
    if not root.is_dir():
        return sent
    for bucket in sorted(p for p in root.iterdir() if p.is_dir()):
        client.create_bucket(Bucket=bucket.name)
        for path in sorted(p for p in bucket.rglob("*") if p.is_file()):
            key = path.relative_to(bucket).as_posix()
            client.upload_file(str(path), bucket.name, key)
            sent[f"{bucket.name}/{key}"] = _md5(path)
    return sent


def sync_back(client: Any, root: Path, sent: Mapping[str, str]) -> list[str]:
    """Objects created or changed on the server since :func:`upload` written into ``root``,
    and uploaded objects the script deleted removed; the ``bucket/key`` names changed."""
    changed: list[str] = []
    seen: set[str] = set()
    for bucket in client.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                ref = f"{name}/{item['Key']}"
                seen.add(ref)
                if sent.get(ref) == str(item.get("ETag", "")).strip('"'):
                    continue
                target = root / name / item["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(name, item["Key"], str(target))
                changed.append(ref)
    for ref in sorted(set(sent) - seen):
        (root / ref).unlink(missing_ok=True)
        changed.append(ref)
    return changed


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _moto_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("moto") is not None and find_spec("flask") is not None


def _server() -> Any:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise ConfigError(
            "glue run needs moto's server for the script's boto3 and DynamoDB calls: pip "
            "install 'moto[server]' (or pass --aws-services off and give the connections "
            "file's [dynamodb] endpoint_url)."
        ) from exc
    return ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)


@contextmanager
def started(
    choice: str, source: str, warehouse: Optional[Path], dynamodb: Optional[str] = None
) -> Iterator[Services]:
    """moto's server on 127.0.0.1 for the block when the run wants it (see the module doc):
    S3 for boto3 when the warehouse is a local folder and no endpoint is set already; the
    script's boto3 DynamoDB calls go where its DynamoDB connections do (``dynamodb``, the
    connections file's endpoint, else the server) unless an endpoint variable says otherwise."""
    if not wanted(choice, source):
        yield Services()
        return
    if choice == "auto" and not _moto_installed():
        _note(
            "the script names boto3 or DynamoDB and moto's server is not installed: its S3 "
            "and DynamoDB calls go where boto3 points (pip install 'moto[server]' for the "
            "local stand-ins)"
        )
        yield Services()
        return
    server = _server()
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        env: dict[str, str] = {}
        if not (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")):
            env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb or endpoint
        if not os.environ.get("AWS_ACCESS_KEY_ID"):
            env.update(DUMMY)
        env["AWS_DEFAULT_REGION"] = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        own_s3 = warehouse is not None and not any(os.environ.get(v) for v in ENDPOINT_VARIABLES)
        with _environment(env):
            if warehouse is None or not own_s3:
                yield Services(endpoint=endpoint)
            else:
                with _s3_route(endpoint, warehouse / "_s3") as services:
                    yield services
    finally:
        server.stop()


@contextmanager
def _s3_route(endpoint: str, root: Path) -> Iterator[Services]:
    client = _client(endpoint)
    sent = upload(client, root)
    _note(
        f"boto3's S3 calls go to a local S3 ({endpoint}) holding {root}'s buckets; what the "
        "script writes there is copied back when it ends"
    )
    with _environment({"AWS_ENDPOINT_URL_S3": endpoint}):
        try:
            yield Services(endpoint=endpoint, s3=True)
        finally:
            changed = sync_back(client, root, sent)
            if changed:
                _note(f"{len(changed)} S3 object(s) boto3 changed copied into {root}")


def with_endpoint(connections: Any, services: Services) -> Any:
    """The run's connections with the server as DynamoDB endpoint, unless the file names one."""
    if services.endpoint is None or connections.dynamodb_endpoint is not None:
        return connections
    return replace(connections, dynamodb_endpoint=services.endpoint)
