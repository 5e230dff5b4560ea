"""Finding jobs: the ``featurekit.jobs`` entry point group, then featurekit's examples.

A project registers its jobs as entry points (``featurekit init`` writes them)::

    [project.entry-points."featurekit.jobs"]
    cart_session_daily = "shop_features.jobs.cart_session_daily:CartSessionDaily"

featurekit's own demo jobs live in ``featurekit.examples``; they come last, and a
project's job of the same name shadows them. Once a project registers jobs (an entry point
of the group, loaded or broken, or a package walked), the examples stay runnable by their
exact names (``featurekit demo`` runs them) but are no longer listed by ``featurekit jobs``
nor suggested for a mistyped name: :meth:`Discovery.listed` (``featurekit jobs --examples``
lists them too).

A job module that fails to import (a syntax error, a library not installed) breaks
only its own jobs: :func:`discover_all` returns it as a :class:`BrokenModule` next to
the jobs that loaded, ``featurekit jobs`` lists it, and asking for one of its jobs
(:func:`get_job`) raises :class:`~featurekit.errors.BrokenJobError` with the import
error and where it happened.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Optional, Union

from featurekit.errors import BrokenJobError, ConfigError, UnknownJobError
from featurekit.job import FeatureJob

ENTRY_POINT_GROUP = "featurekit.jobs"
EXAMPLES = "featurekit.examples"
_OWN = Path(__file__).resolve().parent


@dataclass(frozen=True)
class BrokenModule:
    """A job module that failed to import: which, why, and where.

    ``job`` is the job name its entry point promised (None for a module found by walking
    a package, whose job names are unknown until it imports).
    """

    module: str
    error: str
    where: str
    job: Optional[str] = None

    def line(self) -> str:
        """One line: ``module (job X): ErrorType: message at file:line``."""
        claimed = f" (job {self.job})" if self.job else ""
        return f"{self.module}{claimed}: {self.error} at {self.where}"

    def to_json(self) -> dict[str, Optional[str]]:
        return {"module": self.module, "job": self.job, "error": self.error, "where": self.where}


@dataclass(frozen=True)
class Discovery:
    """The jobs that loaded, by name, and the modules that did not.

    ``jobs`` holds every job that can run, the examples included; ``examples`` names those
    that come from ``featurekit.examples``; ``project`` is True when a project registers
    jobs (an entry point, loaded or broken, or a package given).
    """

    jobs: dict[str, type[FeatureJob]] = field(default_factory=dict)
    broken: tuple[BrokenModule, ...] = ()
    examples: frozenset[str] = frozenset()
    project: bool = False

    def listed(self, examples: Optional[bool] = None) -> dict[str, type[FeatureJob]]:
        """The jobs to list and suggest: the examples only when no project registers jobs
        (``examples=None``), always (True) or never (False)."""
        show = not self.project if examples is None else examples
        return {n: j for n, j in self.jobs.items() if show or n not in self.examples}

    @property
    def examples_hidden(self) -> bool:
        """True when :meth:`listed` leaves out the examples by default."""
        return self.project and bool(self.examples)


def broken_module(module: str, exc: BaseException, job: Optional[str] = None) -> BrokenModule:
    """Describe an import failure: ``ErrorType: message`` and the file:line it came from."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    error = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.filename:
        return BrokenModule(module, error, f"{exc.filename}:{exc.lineno}", job)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    # the job module's own line (e.g. the Ruleset with a typo), not featurekit's check
    # that raised, unless nothing else is in the traceback
    theirs = [f for f in frames if not _in_featurekit(f.filename)] or frames
    where = f"{theirs[-1].filename}:{theirs[-1].lineno}" if theirs else "(unknown file)"
    return BrokenModule(module, error, where, job)


def _in_featurekit(filename: str) -> bool:
    """True for a file of featurekit itself (its examples, which are jobs, excepted)."""
    path = Path(filename).resolve()
    return path.is_relative_to(_OWN) and not path.is_relative_to(_OWN / "examples")


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


Found = Union[type[FeatureJob], BrokenModule]


def _import(name: str) -> Union[ModuleType, BrokenModule]:
    try:
        return importlib.import_module(name)
    except Exception as exc:  # any import-time failure breaks only this module
        return broken_module(name, exc)


def _walk_found(package_name: str) -> Iterator[Found]:
    """Job classes of a package's modules, and a BrokenModule for each that fails to import."""
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError as exc:
        if exc.name == package_name:
            return
        yield broken_module(package_name, exc)
        return
    except Exception as exc:
        yield broken_module(package_name, exc)
        return
    yield from _job_classes(package)
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), f"{package_name}."):
        module = _import(info.name)
        if isinstance(module, BrokenModule):
            yield module
        else:
            yield from _job_classes(module)


def _walk_package(package_name: str) -> Iterator[type[FeatureJob]]:
    """Job classes of a package's modules; ConfigError when one fails to import (for callers
    that need them all, such as packaging)."""
    for item in _walk_found(package_name):
        if isinstance(item, BrokenModule):
            raise ConfigError(f"A job module of {package_name} failed to import: {item.line()}")
        yield item


def _load_entry_point(ep: object) -> Found:
    name: str = getattr(ep, "name", "?")
    value: str = getattr(ep, "value", "?")
    module = value.partition(":")[0].strip()
    try:
        loaded = ep.load()  # type: ignore[attr-defined]
    except Exception as exc:  # the module (or its imports) failed: only this job is broken
        return broken_module(module, exc, job=name)
    if not (isinstance(loaded, type) and issubclass(loaded, FeatureJob)):
        error = f"TypeError: entry point {name} = {value} does not name a FeatureJob subclass"
        return BrokenModule(module, error, f"entry point {name!r}", job=name)
    return loaded


def discover_all(packages: Iterable[str] = ()) -> Discovery:
    """Jobs of ``packages``, entry points, then the examples; broken modules set aside."""
    found: dict[str, type[FeatureJob]] = {}
    broken: list[BrokenModule] = []
    examples: set[str] = set()
    project = False

    def add(item: Found, origin: str, shadow: bool = False) -> None:
        if isinstance(item, BrokenModule):
            broken.append(item)
            return
        other = found.get(item.name)
        if shadow and other is not None:
            return
        if other is not None and other is not item:
            raise ConfigError(
                f"Two jobs are named {item.name!r}: {other.__module__}.{other.__qualname__} "
                f"and {item.__module__}.{item.__qualname__} ({origin}); rename one."
            )
        found[item.name] = item

    for package in packages:
        project = True
        for item in _walk_found(package):
            add(item, f"package {package}")
    for ep in _entry_points():
        project = True
        add(_load_entry_point(ep), f"entry point {getattr(ep, 'name', '?')}")
    for item in _walk_found(EXAMPLES):
        if not isinstance(item, BrokenModule) and item.name not in found:
            examples.add(item.name)
        add(item, EXAMPLES, shadow=True)
    return Discovery(found, tuple(broken), frozenset(examples), project)


def discover(packages: Iterable[str] = ()) -> dict[str, type[FeatureJob]]:
    """All jobs that import, by name (see :func:`discover_all` for the broken ones)."""
    return discover_all(packages).jobs


def check_known(name: str, found: Discovery) -> None:
    """Raise BrokenJobError or UnknownJobError unless ``name`` is a job that loaded."""
    if name in found.jobs:
        return
    claimed = [b for b in found.broken if b.job == name]
    if claimed:
        raise BrokenJobError(name, [b.line() for b in claimed])
    raise UnknownJobError(
        name,
        found.listed(),
        broken=[b.line() for b in found.broken],
        examples_hidden=found.examples_hidden,
    )


def get_job(name: str, packages: Optional[Iterable[str]] = None) -> type[FeatureJob]:
    """The job class called ``name``; BrokenJobError when its module failed to import,
    UnknownJobError (with suggestions, and the modules that failed) when absent."""
    found = discover_all(packages if packages is not None else ())
    check_known(name, found)
    return found.jobs[name]
