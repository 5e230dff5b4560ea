"""Typed job parameters, parsed once at the edge into a frozen mapping.

Example::

    params = {"min_events": Param(int, default=1, help="drop users below this")}
    parse_params("my_job", params, {"min_events": "3"})  # {'min_events': 3}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Optional

from featurekit.errors import ConfigError, UnknownParameterError

_REQUIRED: Any = object()


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "y", "on"):
        return True
    if lowered in ("0", "false", "no", "n", "off"):
        return False
    raise ValueError(f"expected true/false, got {text!r}")


_PARSERS: dict[type, Callable[[str], Any]] = {
    str: str,
    int: int,
    float: float,
    bool: _parse_bool,
    dt.date: dt.date.fromisoformat,
}


@dataclass(frozen=True)
class Param:
    """A declared job parameter: its type, default (omit for required) and help text."""

    type: type = str
    default: Any = _REQUIRED
    help: str = ""
    choices: Optional[tuple[Any, ...]] = None

    def __post_init__(self) -> None:
        if self.type not in _PARSERS:
            names = ", ".join(t.__name__ for t in _PARSERS)
            raise ConfigError(f"Param type {self.type!r} is not supported; use one of {names}.")

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def parse(self, name: str, raw: Any) -> Any:
        """Convert ``raw`` (usually a string from the command line) to the declared type."""
        if isinstance(raw, self.type) and not (self.type is int and isinstance(raw, bool)):
            value = raw
        else:
            try:
                value = _PARSERS[self.type](str(raw))
            except ValueError as exc:
                raise ConfigError(
                    f"Parameter {name!r} expects {self.type.__name__}, got {raw!r}: {exc}"
                ) from exc
        if self.choices is not None and value not in self.choices:
            raise ConfigError(
                f"Parameter {name!r} must be one of {list(self.choices)}, got {value!r}."
            )
        return value


def parse_params(
    job: str, declared: Mapping[str, Param], given: Mapping[str, Any]
) -> Mapping[str, Any]:
    """Validate ``given`` against ``declared`` and return a read-only mapping of typed values."""
    for name in given:
        if name not in declared:
            raise UnknownParameterError(job, name, declared)
    values: dict[str, Any] = {}
    for name, param in declared.items():
        if name in given:
            values[name] = param.parse(name, given[name])
        elif param.required:
            raise ConfigError(
                f"Job {job!r} needs parameter {name!r} ({param.help or param.type.__name__}); "
                f"pass --param {name}=VALUE."
            )
        else:
            values[name] = param.default
    return MappingProxyType(values)


def split_assignments(pairs: list[str]) -> dict[str, str]:
    """Turn ``["a=1", "b=x=y"]`` into ``{"a": "1", "b": "x=y"}``; values may contain '='."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"Parameter {pair!r} must look like NAME=VALUE.")
        out[name.strip()] = value
    return out
