"""The built package, as ``plan`` and ``deploy`` see it: the manifest of ``featurekit package``.

A plan names artifacts under ``--artifacts``; every one of them must be in the package,
and the job must be one the package holds, or nothing is planned or created::

    package = Package.load(Path("dist"))
    package.check_job("cart_session_daily")
    names = named_artifacts(request, "s3://bucket/fk")   # what deploy uploads
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from featurekit.deploy.package import MANIFEST, VENV, verify
from featurekit.errors import ConfigError


@dataclass(frozen=True)
class Package:
    dist: Path
    manifest: dict[str, Any]

    @classmethod
    def load(cls, dist: Path) -> Package:
        """The package in ``dist``, every artifact checked against the manifest's hashes."""
        if not (dist / MANIFEST).is_file():
            raise ConfigError(
                f"No {dist / MANIFEST}: build the artifacts first with "
                f"'featurekit package --out {dist}' in your project."
            )
        return cls(dist, verify(dist))

    @property
    def venv(self) -> Optional[str]:
        """The EMR Serverless virtualenv archive, when the package has one."""
        return VENV if VENV in self.manifest["artifacts"] else None

    def check_job(self, job: str) -> None:
        jobs = self.manifest.get("jobs", {})
        if job not in jobs:
            held = ", ".join(sorted(jobs)) or "no jobs"
            raise ConfigError(
                f"Job {job!r} is not in the package {self.dist} ({self.manifest['name']} "
                f"{self.manifest['version']} holds {held}). Run 'featurekit package' in the "
                "project that defines it."
            )

    def check_named(self, names: list[str]) -> None:
        missing = [n for n in names if n not in self.manifest["artifacts"]]
        if missing:
            raise ConfigError(
                f"The plan names {', '.join(missing)}, which {self.dist / MANIFEST} does not "
                f"list; rebuild with 'featurekit package --out {self.dist}'."
            )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def named_artifacts(request: Any, artifacts: str) -> list[str]:
    """The artifact names (relative to ``artifacts``) a request refers to, sorted."""
    prefix = artifacts.rstrip("/") + "/"
    names = set()
    for text in _strings(request):
        for token in text.replace(",", " ").replace("=", " ").split():
            uri = token.split("#", 1)[0]  # spark.archives' URI#alias
            if uri.startswith(prefix) and not uri.endswith("/"):
                names.add(uri[len(prefix) :])
    return sorted(names)


def describe(package: Package) -> str:
    """One line: what the package is and holds."""
    m = package.manifest
    return (
        f"{m['name']} {m['version']} with featurekit {m.get('featurekit_version', '?')}: "
        f"{len(m['artifacts'])} artifacts, jobs {', '.join(m.get('jobs', {})) or 'none'}"
    )
