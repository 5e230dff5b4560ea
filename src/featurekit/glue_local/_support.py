"""Shared helpers of the awsglue emulation: settings, unsupported calls, the logger."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from featurekit.errors import UnsupportedError


@dataclass
class Settings:
    """Process-wide emulation settings, set by ``featurekit glue run`` (or tests)."""

    warehouse: str = "warehouse"
    s3: Any = None  # featurekit.runtime.s3.S3Access of an s3:// warehouse (local runs)
    # the runtime's featurekit.storage.Storage under `featurekit glue run`: its catalog
    # (and warehouse) are the scripts'; None: the warehouse's own local catalog
    storage: Any = None
    # featurekit.glue_local.connections.Connections of `glue run` (None: none mapped)
    connections: Any = None


SETTINGS = Settings()


def configure(
    *, warehouse: str, s3: Any = None, storage: Any = None, connections: Any = None
) -> None:
    """Point every GlueContext created afterwards at ``warehouse``.

    Example: ``configure(warehouse="/tmp/wh")`` then ``GlueContext(sc)``.
    """
    SETTINGS.warehouse = warehouse
    SETTINGS.s3 = s3
    SETTINGS.storage = storage
    SETTINGS.connections = connections


def unsupported(call: str, supported: str) -> NoReturn:
    """Raise UnsupportedError for an awsglue call the local emulation does not provide."""
    raise UnsupportedError(
        f"{call} is not supported by featurekit's local awsglue emulation. Supported: "
        f"{supported}. Run this script on AWS Glue, or change it to use a supported call."
    )


def check_keys(call: str, given: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """UnsupportedError naming the first option of ``given`` that is not in ``allowed``."""
    allowed = tuple(allowed)
    for key in given:
        if key not in allowed:
            unsupported(f"{call} option {key!r}", ", ".join(allowed) or "no options")


def flag(value: Any) -> bool:
    """Glue options take booleans or the strings "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


class GlueLogger:
    """Stand-in for Glue's GlueLogger: info/warn/error/debug to the ``awsglue`` logger."""

    def __init__(self) -> None:
        self._log = logging.getLogger("awsglue")

    def info(self, msg: str) -> None:
        self._log.info(msg)

    def warn(self, msg: str) -> None:
        self._log.warning(msg)

    def error(self, msg: str) -> None:
        self._log.error(msg)

    def debug(self, msg: str) -> None:
        self._log.debug(msg)
