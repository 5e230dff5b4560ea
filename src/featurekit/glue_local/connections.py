"""Glue connections on this machine: what a JDBC connection name or a DynamoDB source means here.

On Glue a script names a *connection* (``catalog_connection="redshift"``,
``connectionName``) and Glue looks up its JDBC URL and credentials in the Data Catalog.
Locally ``featurekit glue run --connections FILE`` (default ``glue-connections.toml`` in the
current folder, when present) maps those names::

    [connections.redshift]                 # a Glue connection name
    url = "jdbc:postgresql://127.0.0.1:5432/dev"
    user = "etl"
    password = "secret"

    [connections.orders-db]                # no url: the embedded database, MySQL's dialect
    type = "mysql"

    [urls]                                 # a script's literal JDBC URL -> the one to use here
    "jdbc:postgresql://prod.example.com:5432/sales" = "jdbc:postgresql://127.0.0.1:5432/sales"

    [dynamodb]
    endpoint_url = "http://127.0.0.1:8000" # else glue run starts moto's server on 127.0.0.1

A name the file does not map (or one without ``url``) is served by an embedded H2
database, a file under ``WAREHOUSE/_jdbc/`` that needs no server, in the compatibility
mode of the connection's engine. The file may also be JSON with the same keys; ``glue run
--connection NAME=jdbc:URL`` (or ``NAME=ENGINE``) adds or replaces one connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from featurekit.errors import ConfigError

DEFAULT_FILE = "glue-connections.toml"
# Glue's JDBC connection types, and the H2 compatibility mode that stands in for each.
H2_MODES = {
    "postgresql": "PostgreSQL",
    "redshift": "PostgreSQL",
    "mysql": "MySQL",
    "sqlserver": "MSSQLServer",
    "oracle": "Oracle",
}
JDBC_TYPES = tuple(H2_MODES)
CONNECTION_KEYS = ("url", "user", "password", "type")


@dataclass(frozen=True)
class JdbcConnection:
    """One Glue connection: its engine and, when mapped, the JDBC URL and credentials."""

    name: str
    type: Optional[str] = None  # postgresql, mysql, ...: None when only the url tells
    url: Optional[str] = None  # None: the embedded H2 database
    user: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class Connections:
    """The connections file, read once at the edge; ``jdbc_root`` is where embedded
    databases live (``WAREHOUSE/_jdbc``; None for an S3 warehouse)."""

    jdbc: Mapping[str, JdbcConnection] = field(default_factory=dict)
    urls: Mapping[str, str] = field(default_factory=dict)
    dynamodb_endpoint: Optional[str] = None
    jdbc_root: Optional[Path] = None
    source: Optional[str] = None  # the file read, for messages

    def connection(self, name: str) -> JdbcConnection:
        """The mapping of connection ``name``; an unmapped name is the embedded database."""
        return self.jdbc.get(name) or JdbcConnection(name=name)


def _parse(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        doc: Any = json.loads(text)
    else:
        try:
            import tomllib as toml  # Python 3.11+
        except ImportError:  # pragma: no cover - Python < 3.11
            try:
                import tomli as toml  # type: ignore[no-redef,import-not-found,unused-ignore]
            except ImportError as exc:
                raise ConfigError(
                    f"{path}: reading TOML on this Python needs tomli (pip install tomli), "
                    "or write the connections file as JSON (a .json file)."
                ) from exc
        doc = toml.loads(text)
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a table of connections, urls and dynamodb.")
    return doc


def _connection(source: str, name: str, doc: Any) -> JdbcConnection:
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: connections.{name} must be a table (url, user, ...).")
    unknown = sorted(set(doc) - set(CONNECTION_KEYS))
    if unknown:
        raise ConfigError(
            f"{source}: connections.{name} has unknown key {unknown[0]!r}; "
            f"known: {', '.join(CONNECTION_KEYS)}."
        )
    kind = doc.get("type")
    if kind is not None and str(kind).lower() not in H2_MODES:
        raise ConfigError(
            f"{source}: connections.{name}.type {kind!r}: use one of {', '.join(JDBC_TYPES)}."
        )
    url = doc.get("url")
    if url is not None and not str(url).startswith("jdbc:"):
        raise ConfigError(f"{source}: connections.{name}.url must be a jdbc: URL, got {url!r}.")
    return JdbcConnection(
        name=name,
        type=str(kind).lower() if kind is not None else None,
        url=str(url) if url is not None else None,
        user=str(doc.get("user", "")),
        password=str(doc.get("password", "")),
    )


def with_flags(conns: Connections, flags: Sequence[str]) -> Connections:
    """``conns`` with ``NAME=jdbc:...`` (credentials in the URL, as its driver reads them) or
    ``NAME=ENGINE`` (the embedded database in that engine's dialect) added or replaced."""
    jdbc = dict(conns.jdbc)
    for flag in flags:
        name, sep, value = flag.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ConfigError(
                f"--connection {flag!r}: expected NAME=jdbc:URL or NAME=ENGINE "
                f"({', '.join(JDBC_TYPES)})."
            )
        key = "url" if value.startswith("jdbc:") else "type"
        jdbc[name.strip()] = _connection("--connection", name.strip(), {key: value.strip()})
    return replace(conns, jdbc=jdbc)


def load_connections(path: Optional[str], *, jdbc_root: Optional[Path]) -> Connections:
    """The connections of ``path`` (None: ``glue-connections.toml`` here when present, else
    none mapped). A ConfigError names a missing file or a key it does not know."""
    chosen = Path(path) if path is not None else Path(DEFAULT_FILE)
    if path is None and not chosen.is_file():
        return Connections(jdbc_root=jdbc_root)
    try:
        doc = _parse(chosen)
    except OSError as exc:
        raise ConfigError(f"--connections {chosen}: cannot read it: {exc}") from exc
    except ValueError as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ConfigError(f"--connections {chosen}: not valid TOML/JSON: {exc}") from exc
    source = str(chosen)
    unknown = sorted(set(doc) - {"connections", "urls", "dynamodb"})
    if unknown:
        raise ConfigError(
            f"{source}: unknown section {unknown[0]!r}; known: connections, urls, dynamodb."
        )
    jdbc = {n: _connection(source, n, d) for n, d in dict(doc.get("connections", {})).items()}
    dynamodb = dict(doc.get("dynamodb", {}))
    extra = sorted(set(dynamodb) - {"endpoint_url"})
    if extra:
        raise ConfigError(f"{source}: dynamodb has unknown key {extra[0]!r}; known: endpoint_url.")
    return Connections(
        jdbc=jdbc,
        urls={str(k): str(v) for k, v in dict(doc.get("urls", {})).items()},
        dynamodb_endpoint=dynamodb.get("endpoint_url"),
        jdbc_root=jdbc_root,
        source=source,
    )
