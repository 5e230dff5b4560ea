"""The Python distributions a package carries: the project, featurekit, pure dependencies.

Each :class:`Dist` is the files a wheel of it would hold (its modules and its
``*.dist-info``), read from the project's source tree or from the installed
distribution. ``featurekit package`` puts them in the ``--py-files`` zip, the wheels
and the EMR Serverless virtualenv. The dist-info travels too: on a cluster, jobs are
found through the ``featurekit.jobs`` entry points of the zip on ``sys.path``.

Only pure Python can be packaged here: a distribution with compiled code (``.so``)
was built for this machine, not for Glue's or EMR's, and is refused by name unless
the target provides it (``--provided``).

Example::

    deps = dependency_closure(["python-dateutil"], provided=frozenset())
    [d.name for d in deps]   # ['python-dateutil', 'six']
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from featurekit.errors import ConfigError

# On every Spark the cluster brings these itself; shipping them would shadow its own.
PLATFORM = frozenset({"pyspark", "py4j", "featurekit"})
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")
_SKIP_PARTS = {"__pycache__"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    """PEP 503's normalised project name: ``Python_DateUtil`` -> ``python-dateutil``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Dist:
    """One distribution as archive entries: (name inside a wheel, content)."""

    name: str
    version: str
    entries: tuple[tuple[str, bytes], ...]

    @property
    def wheel_name(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"


def requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    if not match:
        raise ConfigError(f"Cannot read the dependency {requirement!r}; use a PEP 508 name.")
    return canonical(match.group(1))


def _applies(requirement: str) -> bool:
    """Whether a Requires-Dist line applies to a plain install (no extra) here."""
    _, _, marker = requirement.partition(";")
    if not marker.strip():
        return True
    try:
        from packaging.markers import Marker
    except ImportError:  # no marker evaluation without packaging: keep all but extras
        return "extra" not in marker
    return Marker(marker.strip()).evaluate({"extra": ""})


def _installed(name: str, needed_by: str) -> metadata.Distribution:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError as exc:
        raise ConfigError(
            f"{needed_by} needs {name!r}, which is not installed here. Install the project "
            "with its dependencies (pip install -e .) before 'featurekit package'."
        ) from exc


def dependency_closure(requirements: Iterable[str], *, provided: frozenset[str]) -> list[Dist]:
    """Installed distributions of ``requirements`` and theirs, minus the platform's."""
    skip = PLATFORM | {canonical(p) for p in provided}
    seen: dict[str, Dist] = {}
    todo = [(r, "the project") for r in requirements if _applies(r)]
    while todo:
        requirement, needed_by = todo.pop()
        name = requirement_name(requirement)
        if name in skip or name in seen:
            continue
        dist = _installed(name, needed_by)
        seen[name] = installed_dist(dist, needed_by)
        todo += [(r, name) for r in dist.requires or [] if _applies(r)]
    return [seen[n] for n in sorted(seen)]


def _dist_info_entries(
    dist: metadata.Distribution, name: str, version: str
) -> list[tuple[str, bytes]]:
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    entries = []
    for file in ("METADATA", "entry_points.txt", "top_level.txt"):
        text = dist.read_text(file)
        if text is not None:
            entries.append((f"{info}/{file}", text.encode()))
    wheel = "Wheel-Version: 1.0\nGenerator: featurekit package\nRoot-Is-Purelib: true\n"
    entries.append((f"{info}/WHEEL", (wheel + "Tag: py3-none-any\n").encode()))
    return entries


def installed_dist(dist: metadata.Distribution, needed_by: str = "the project") -> Dist:
    """An installed distribution's files; ConfigError when it holds compiled code."""
    name = canonical(dist.metadata["Name"])
    version = dist.version
    entries: list[tuple[str, bytes]] = []
    for file in dist.files or []:
        parts = file.parts
        if parts[0] == ".." or ".dist-info" in parts[0] or _SKIP_PARTS & set(parts):
            continue
        if file.name.endswith(".pth") or file.suffix == ".pyc":
            continue
        if file.name.endswith(NATIVE_SUFFIXES):
            raise ConfigError(
                f"{name} {version} (needed by {needed_by}) contains compiled code ({file}) "
                "built for this machine, not for Glue or EMR. If the target provides it, "
                f"say so with --provided {name}; else build the package on the target's "
                "platform (Amazon Linux, its Python)."
            )
        entries.append((file.as_posix(), Path(str(dist.locate_file(file))).read_bytes()))
    if not any(path.endswith(".py") for path, _ in entries):
        raise ConfigError(
            f"{name} {version} (needed by {needed_by}) is installed without its files listed "
            "(an editable or egg install?); install it from a wheel to package it."
        )
    return Dist(
        name, version, tuple(sorted(entries)) + tuple(_dist_info_entries(dist, name, version))
    )


def package_tree(folder: Path, prefix: str) -> list[tuple[str, bytes]]:
    """The files under ``folder`` as entries named ``prefix/...`` (no caches, no .pyc)."""
    entries = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not _SKIP_PARTS & set(rel.parts) and path.suffix != ".pyc":
            entries.append((f"{prefix}/{rel.as_posix()}", path.read_bytes()))
    return entries


def featurekit_dist() -> Dist:
    """featurekit itself, from the running install (a wheel or an editable checkout)."""
    import featurekit

    dist = metadata.distribution("featurekit")
    package = Path(featurekit.__file__).parent
    entries = package_tree(package, "featurekit")
    names = {name for name, _ in entries}
    for script in ("emr_step.py", "glue_job.py"):  # the checkout keeps them at the top
        source = package.parents[1] / "entrypoints" / script
        name = f"featurekit/_entrypoints/{script}"
        if name not in names and source.is_file():
            entries.append((name, source.read_bytes()))
    return Dist(
        "featurekit",
        dist.version,
        tuple(entries) + tuple(_dist_info_entries(dist, "featurekit", dist.version)),
    )
