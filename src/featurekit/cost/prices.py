"""The price table: one versioned, dated data file (``prices.json``) read, never fetched.

``prices.json`` holds us-east-1 list prices with the AWS pages they come from and
the date they were taken; ``regions.<name>`` holds overrides for another region,
merged key by key (``{"emr_ec2": {"instances": {"m5.xlarge": {"ec2_hour": 0.214}}}}``).
A region absent from the file is refused rather than priced as us-east-1.
``load_prices(path=...)`` reads another file of the same shape (negotiated rates)::

    table = load_prices("us-east-1")
    table.section("glue")["standard_dpu_hour"]   # 0.44
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from featurekit.errors import ConfigError

PRICES_FILE = Path(__file__).with_name("prices.json")


@dataclass(frozen=True)
class PriceTable:
    """Prices of one region: the base table with that region's overrides applied."""

    doc: Mapping[str, Any]
    region: str

    @property
    def version(self) -> int:
        return int(self.doc["version"])

    @property
    def as_of(self) -> str:
        return str(self.doc["as_of"])

    @property
    def sources(self) -> Mapping[str, str]:
        return dict(self.doc["sources"])

    def section(self, name: str) -> Mapping[str, Any]:
        """One platform's prices and constants (``glue``, ``emr_ec2``, ``emr_serverless``)."""
        found = self.doc.get(name)
        if not isinstance(found, Mapping):
            raise ConfigError(f"The price table has no {name!r} section.")
        return found

    def describe(self) -> str:
        return f"prices v{self.version} as of {self.as_of}, {self.region}"


def apply_overrides(doc: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` with ``overrides`` merged in, key by key; unknown keys are refused
    (a misspelt price would otherwise be silently ignored)."""
    out = copy.deepcopy(dict(doc))
    for key, value in overrides.items():
        if key not in out:
            raise ConfigError(f"Price override {key!r}: not a key of the price table.")
        if isinstance(value, Mapping) and isinstance(out[key], Mapping):
            out[key] = apply_overrides(out[key], value)
        else:
            out[key] = value
    return out


def load_prices(
    region: str = "us-east-1", *, path: Optional[Union[str, Path]] = None
) -> PriceTable:
    """The price table for ``region`` from ``path`` (default: the packaged prices.json)."""
    source = Path(path) if path is not None else PRICES_FILE
    try:
        doc = json.loads(source.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read the price table {source}: {exc}") from exc
    regions = doc.get("regions", {})
    if region not in regions:
        raise ConfigError(
            f"The price table {source.name} (v{doc.get('version')}, {doc.get('as_of')}) has no "
            f"prices for {region!r}; it has {', '.join(sorted(regions))}. Add a "
            f'"regions": {{"{region}": {{"glue": {{"standard_dpu_hour": ...}}}}}} block, '
            "or pass --prices FILE."
        )
    return PriceTable(apply_overrides(doc, regions[region]), region)
