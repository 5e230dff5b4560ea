"""A project as packaging reads it: ``pyproject.toml``'s metadata and the files of its
package folders (``featurekit.deploy.package`` builds the artifacts from them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurekit.errors import ConfigError, MissingDependencyError

_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache"}


@dataclass(frozen=True)
class Project:
    """What packaging reads from ``pyproject.toml``."""

    root: Path
    name: str
    version: str
    summary: str
    requires_python: str
    license: str
    dependencies: tuple[str, ...]
    extras: Mapping[str, tuple[str, ...]]
    entry_points: Mapping[str, Mapping[str, str]]
    packages: tuple[str, ...]  # source folders, relative to root (e.g. src/shop_features)

    @property
    def dist_name(self) -> str:
        return self.name.replace("-", "_")

    @property
    def wheel_name(self) -> str:
        return f"{self.dist_name}-{self.version}-py3-none-any.whl"


def load_toml(path: Path) -> dict[str, Any]:
    import importlib

    try:
        toml = importlib.import_module("tomllib")
    except ImportError:  # Python < 3.11
        try:
            toml = importlib.import_module("tomli")
        except ImportError as exc:
            raise MissingDependencyError("tomli", "dev", "Packaging on Python < 3.11") from exc
    with path.open("rb") as handle:
        try:
            doc: dict[str, Any] = toml.load(handle)
        except ValueError as exc:  # TOMLDecodeError: line and column in its message
            raise ConfigError(f"{path} is not valid TOML: {exc}. Fix it and run again.") from exc
    return doc


def _default_packages(root: Path, name: str) -> list[str]:
    """The package folder of a src or flat layout: src/NAME or NAME."""
    dist = name.replace("-", "_")
    for folder in (f"src/{dist}", dist):
        if (root / folder / "__init__.py").is_file():
            return [folder]
    raise ConfigError(
        f"Cannot find the package of {name!r} in {root} (looked for src/{dist} and {dist}); "
        'name it in pyproject.toml: [tool.hatch.build.targets.wheel] packages = ["src/..."].'
    )


def read_project(root: Path) -> Project:
    """Read the project metadata of the source tree at ``root``."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise ConfigError(
            f"No pyproject.toml in {root}: run 'featurekit package' in the source tree."
        )
    doc = load_toml(pyproject)
    meta = doc.get("project", {})
    name = meta.get("name", "")
    hatch = doc.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {})
    packages = hatch.get("wheel", {}).get("packages") or _default_packages(root, name)
    entry_points = {"console_scripts": dict(meta.get("scripts", {}))}
    entry_points.update({g: dict(v) for g, v in meta.get("entry-points", {}).items()})
    license_ = meta.get("license", {})
    return Project(
        root=root.resolve(),
        name=name,
        version=str(meta.get("version", "0")),
        summary=meta.get("description", ""),
        requires_python=meta.get("requires-python", ""),
        license=license_.get("text", "") if isinstance(license_, dict) else str(license_),
        dependencies=tuple(meta.get("dependencies", [])),
        extras={k: tuple(v) for k, v in meta.get("optional-dependencies", {}).items()},
        entry_points={g: v for g, v in entry_points.items() if v},
        packages=tuple(packages),
    )


def package_files(project: Project, folders: Iterable[str]) -> list[tuple[str, Path]]:
    """(name inside the archive, file) for every file of the package folders, sorted."""
    files = []
    for folder in folders:
        base = project.root / folder
        if not (base / "__init__.py").is_file():
            raise ConfigError(f"Package folder {base} has no __init__.py; check pyproject.toml.")
        for path in base.rglob("*"):
            rel = path.relative_to(base.parent)
            if path.is_file() and not _SKIP_DIRS & set(rel.parts) and path.suffix != ".pyc":
                files.append((rel.as_posix(), path))
    return sorted(files)
