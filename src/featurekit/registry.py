"""Finding jobs: the ``featurekit.jobs`` entry point group, then featurekit's examples.

A project registers its jobs as entry points (``featurekit init`` writes them)::

    [project.entry-points."featurekit.jobs"]
    cart_session_daily = "shop_features.jobs.cart_session_daily:CartSessionDaily"

featurekit's own demo jobs live in ``featurekit.examples``; they come last, and a
project's job of the same name shadows them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Optional

from featurekit.errors import ConfigError, UnknownJobError
from featurekit.job import FeatureJob

ENTRY_POINT_GROUP = "featurekit.jobs"
EXAMPLES = "featurekit.examples"


def _entry_points() -> Iterable[object]:
    from importlib.metadata import entry_points

    if sys.version_info >= (3, 10):
        return entry_points(group=ENTRY_POINT_GROUP)
    return entry_points().get(ENTRY_POINT_GROUP, [])  # pragma: no cover - Python 3.9


def _job_classes(module: ModuleType) -> Iterable[type[FeatureJob]]:
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, FeatureJob)
            and value is not FeatureJob
            and "name" in vars(value)
        ):
            yield value


def _walk_package(package_name: str) -> Iterable[type[FeatureJob]]:
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError as exc:
        if exc.name == package_name:
            return
        raise
    yield from _job_classes(package)
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), f"{package_name}."):
        yield from _job_classes(importlib.import_module(info.name))


def discover(packages: Iterable[str] = ()) -> dict[str, type[FeatureJob]]:
    """All jobs by name: modules of ``packages``, entry points, then the examples."""
    found: dict[str, type[FeatureJob]] = {}

    def add(job: type[FeatureJob], origin: str) -> None:
        other = found.get(job.name)
        if other is not None and other is not job:
            raise ConfigError(
                f"Two jobs are named {job.name!r}: {other.__module__}.{other.__qualname__} and "
                f"{job.__module__}.{job.__qualname__} ({origin}); rename one."
            )
        found[job.name] = job

    for package in packages:
        for job in _walk_package(package):
            add(job, f"package {package}")
    for ep in _entry_points():
        loaded = ep.load()  # type: ignore[attr-defined]
        if not (isinstance(loaded, type) and issubclass(loaded, FeatureJob)):
            raise ConfigError(f"Entry point {ep!r} does not name a FeatureJob subclass.")
        add(loaded, f"entry point {ep.name}")  # type: ignore[attr-defined]
    for job in _walk_package(EXAMPLES):
        found.setdefault(job.name, job)
    return found


def get_job(name: str, packages: Optional[Iterable[str]] = None) -> type[FeatureJob]:
    """The job class called ``name``; UnknownJobError (with suggestions) when absent."""
    jobs = discover(packages if packages is not None else ())
    if name not in jobs:
        raise UnknownJobError(name, jobs)
    return jobs[name]
