"""``featurekit package``: the artifacts a Glue job, an EMR step or EMR Serverless run needs.

From a source tree (the folder holding ``pyproject.toml``) it builds, into ``out``::

    featurekit-<version>-py3-none-any.whl   featurekit + the jobs package (pip-installable;
                                            Glue --additional-python-modules)
    featurekit.zip                          featurekit + jobs, pure Python: spark-submit
                                            --py-files and Glue --extra-py-files
    featurekit_jobs.zip                     the jobs package alone (with an installed featurekit)
    entrypoints/emr_step.py, glue_job.py    the entry scripts (glue_job.py when present)
    manifest.json                           versions and sha256 of every artifact

Archives are reproducible: sorted entries, fixed timestamps, so the same source
gives the same hashes. The wheel is written with the standard library (a wheel
is a zip with ``*.dist-info/METADATA``, ``WHEEL``, ``entry_points.txt`` and ``RECORD``).

Example::

    manifest = build_artifacts(Path("."), Path("dist"))
    manifest["artifacts"]["featurekit.zip"]["sha256"]

The layout under ``--artifacts`` is the same as in ``out`` (``ARTIFACTS/featurekit.zip``,
``ARTIFACTS/entrypoints/glue_job.py``), which is what the Glue and EMR plans point at.
"""

from __future__ import annotations

import base64
import hashlib
import json
import platform
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurekit.errors import ConfigError, MissingDependencyError

BUNDLE = "featurekit.zip"
JOBS_ZIP = "featurekit_jobs.zip"
EMR_SCRIPT = "entrypoints/emr_step.py"
GLUE_SCRIPT = "entrypoints/glue_job.py"
MANIFEST = "manifest.json"
ENTRY_SCRIPTS = (EMR_SCRIPT, GLUE_SCRIPT)
_EPOCH = (1980, 1, 1, 0, 0, 0)
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
    packages: tuple[str, ...]  # source folders, relative to root (e.g. src/featurekit, jobs)

    @property
    def dist_name(self) -> str:
        return self.name.replace("-", "_")

    @property
    def wheel_name(self) -> str:
        return f"{self.dist_name}-{self.version}-py3-none-any.whl"


def _load_toml(path: Path) -> dict[str, Any]:
    import importlib

    try:
        toml = importlib.import_module("tomllib")
    except ImportError:  # Python < 3.11
        try:
            toml = importlib.import_module("tomli")
        except ImportError as exc:
            raise MissingDependencyError("tomli", "dev", "Packaging on Python < 3.11") from exc
    with path.open("rb") as handle:
        doc: dict[str, Any] = toml.load(handle)
    return doc


def read_project(root: Path) -> Project:
    """Read the project metadata of the source tree at ``root``."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise ConfigError(
            f"No pyproject.toml in {root}: run 'featurekit package' in the source tree."
        )
    doc = _load_toml(pyproject)
    meta = doc.get("project", {})
    name = meta.get("name", "")
    packages = (
        doc.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    ).get("packages", [f"src/{name}"])
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


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_zip(target: Path, entries: Iterable[tuple[str, bytes]]) -> Path:
    """Write a reproducible zip of (name, content) entries, in the order given."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in entries:
            archive.writestr(_zip_info(name), data)
    return target


def _requirement_lines(project: Project) -> list[str]:
    lines = [f"Requires-Dist: {dep}" for dep in project.dependencies]
    for extra, deps in sorted(project.extras.items()):
        lines.append(f"Provides-Extra: {extra}")
        for dep in deps:
            spec, _, marker = dep.partition(";")
            cond = f'({marker.strip()}) and extra == "{extra}"' if marker else f'extra == "{extra}"'
            lines.append(f"Requires-Dist: {spec.strip()}; {cond}")
    return lines


def _metadata(project: Project) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project.name}",
        f"Version: {project.version}",
        f"Summary: {project.summary}",
        f"License: {project.license}",
        f"Requires-Python: {project.requires_python}",
        *_requirement_lines(project),
    ]
    return "\n".join(lines) + "\n"


def _entry_points_txt(project: Project) -> str:
    blocks = []
    for group, items in sorted(project.entry_points.items()):
        body = "\n".join(f"{k} = {v}" for k, v in sorted(items.items()))
        blocks.append(f"[{group}]\n{body}\n")
    return "\n".join(blocks)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_wheel(project: Project, out: Path) -> Path:
    """Build the pure-Python wheel of ``project`` into ``out``; returns its path."""
    entries = [(name, path.read_bytes()) for name, path in package_files(project, project.packages)]
    info = f"{project.dist_name}-{project.version}.dist-info"
    wheel = "Wheel-Version: 1.0\nGenerator: featurekit package\nRoot-Is-Purelib: true\n"
    entries += [
        (f"{info}/METADATA", _metadata(project).encode()),
        (f"{info}/WHEEL", (wheel + "Tag: py3-none-any\n").encode()),
        (f"{info}/entry_points.txt", _entry_points_txt(project).encode()),
    ]
    record = [f"{name},{_record_hash(data)},{len(data)}" for name, data in entries]
    record.append(f"{info}/RECORD,,")
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    return write_zip(out / project.wheel_name, entries)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _zip_of(project: Project, folders: Iterable[str], target: Path) -> Path:
    files = package_files(project, folders)
    return write_zip(target, ((name, path.read_bytes()) for name, path in files))


def build_artifacts(root: Path, out: Path) -> dict[str, Any]:
    """Build every artifact of the source tree ``root`` into ``out``; returns the manifest."""
    project = read_project(root)
    out.mkdir(parents=True, exist_ok=True)
    main = f"src/{project.dist_name}"
    others = [p for p in project.packages if p != main]
    built: dict[str, tuple[str, Path]] = {
        project.wheel_name: ("wheel", build_wheel(project, out)),
        BUNDLE: ("py-files", _zip_of(project, project.packages, out / BUNDLE)),
    }
    if others:
        built[JOBS_ZIP] = ("py-files", _zip_of(project, others, out / JOBS_ZIP))
    for script in ENTRY_SCRIPTS:
        source = project.root / script
        if source.is_file():
            (out / script).parent.mkdir(parents=True, exist_ok=True)
            (out / script).write_bytes(source.read_bytes())
            built[script] = ("entry-script", out / script)
    manifest = {
        "name": project.name,
        "version": project.version,
        "requires_python": project.requires_python,
        "built_with_python": platform.python_version(),
        "packages": [p.rsplit("/", 1)[-1] for p in project.packages],
        "artifacts": {
            name: {"kind": kind, "sha256": sha256(path), "bytes": path.stat().st_size}
            for name, (kind, path) in sorted(built.items())
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def verify(out: Path) -> dict[str, Any]:
    """Check ``out`` against its manifest (every artifact present, hashes equal)."""
    path = out / MANIFEST
    if not path.is_file():
        raise ConfigError(f"No {MANIFEST} in {out}: run 'featurekit package --out {out}' first.")
    manifest: dict[str, Any] = json.loads(path.read_text())
    for name, entry in manifest["artifacts"].items():
        artifact = out / name
        if not artifact.is_file() or sha256(artifact) != entry["sha256"]:
            raise ConfigError(
                f"Artifact {artifact} is missing or differs from {MANIFEST}; "
                f"rebuild with 'featurekit package --out {out}'."
            )
    return manifest
