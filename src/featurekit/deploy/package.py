"""``featurekit package``: everything a Glue job, an EMR step or EMR Serverless run needs.

Run in a project (the folder holding ``pyproject.toml``), it builds into ``out``::

    featurekit.zip                 featurekit, the project's code and its pure-Python
                                   dependencies, each with its dist-info (so the jobs'
                                   entry points are found): spark-submit --py-files,
                                   Glue --extra-py-files
    wheels/*.whl                   the same, one wheel per distribution: pip, Glue
                                   --additional-python-modules
    emr-serverless/venv.tar.gz     a virtualenv of them for EMR Serverless (spark.archives),
                                   only when the dependency closure, minus pyspark, py4j,
                                   featurekit and --provided, is not empty
    jars/*.jar                     Deequ's DQDL engine and parser, when a job declares
                                   quality rulesets (featurekit.deploy.quality_jars)
    entrypoints/emr_step.py        the spark-submit main (EMR, EMR Serverless)
    entrypoints/glue_job.py        the Glue job script
    manifest.json                  the jobs, the distributions, sha256 of every artifact

Archives are reproducible: sorted entries, fixed timestamps, so the same source gives
the same hashes. Wheels are written with the standard library (a wheel is a zip with
``*.dist-info/METADATA``, ``WHEEL``, ``entry_points.txt`` and ``RECORD``).

It refuses, naming what to fix, a dependency with compiled code (built for this
machine, not the cluster's), an import the project does not declare and a job module
that does not import. A refusal writes nothing: everything is built in a folder next to
``out`` (``.dist.tmp-*``), which replaces ``out`` as a whole only once all of it
succeeded, so the last good package stays as it was and no staging folder is left.
``out`` must be new, empty, or a package built before (it holds ``manifest.json``).

Example::

    manifest = build_artifacts(Path("."), Path("dist"))
    manifest["jobs"]        # {"cart_session_daily": "shop.jobs.cart:CartSessionDaily"}

``plan`` and ``deploy`` read the manifest: they name exactly these artifacts, under
the same layout below ``--artifacts`` (``ARTIFACTS/featurekit.zip``, ...).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from featurekit.deploy.archives import build_wheel, bundle_entries, write_venv, write_zip
from featurekit.deploy.dists import Dist, dependency_closure, featurekit_dist
from featurekit.deploy.metadata import project_dist
from featurekit.deploy.project import Project as Project  # the three re-exported from here
from featurekit.deploy.project import package_files as package_files
from featurekit.deploy.project import read_project as read_project
from featurekit.errors import ConfigError

BUNDLE = "featurekit.zip"
WHEELS = "wheels"
VENV = "emr-serverless/venv.tar.gz"
EMR_SCRIPT = "entrypoints/emr_step.py"
GLUE_SCRIPT = "entrypoints/glue_job.py"
MANIFEST = "manifest.json"
ENTRY_SCRIPTS = (EMR_SCRIPT, GLUE_SCRIPT)
# EMR Serverless 7.x images run Python 3.9 (/usr/bin/python3); the venv's site-packages
# folder is named after it.
SERVERLESS_PYTHON = "3.9"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entry_script(fk: Dist, script: str) -> bytes:
    name = f"featurekit/_entrypoints/{script.rsplit('/', 1)[-1]}"
    for entry, data in fk.entries:
        if entry == name:
            return data
    raise ConfigError(f"This featurekit install has no {name}; reinstall featurekit.")


def _check_imports(project: Project) -> None:
    from featurekit.deploy.imports import unlisted_imports

    own = {p.rstrip("/").rsplit("/", 1)[-1] for p in project.packages}
    folders = [project.root / p for p in project.packages]
    problems = unlisted_imports(folders, own=own, declared=project.dependencies, root=project.root)
    if problems:
        raise ConfigError(
            "The project imports what it does not declare, so the cluster would not have it:\n  "
            + "\n  ".join(problems)
            + "\nAdd them to [project] dependencies in pyproject.toml (and pip install -e .)."
        )


def _jobs(project: Project) -> dict[str, str]:
    """The jobs the package holds: the project's entry points (featurekit's: its examples)."""
    if project.name != "featurekit":
        return dict(sorted(project.entry_points.get("featurekit.jobs", {}).items()))
    from featurekit.registry import EXAMPLES, _walk_package

    return {j.name: f"{j.__module__}:{j.__qualname__}" for j in _walk_package(EXAMPLES)}


def _write_code(
    out: Path, dists: list[Dist], deps: list[Dist], serverless_python: str
) -> dict[str, tuple[str, Path]]:
    """The bundle, the wheels, the venv (with dependencies) and the entry scripts."""
    out.mkdir(parents=True, exist_ok=True)
    built = {BUNDLE: ("py-files", write_zip(out / BUNDLE, bundle_entries(dists)))}
    for dist in dists:
        wheel = build_wheel(dist, out / WHEELS)
        built[f"{WHEELS}/{wheel.name}"] = ("wheel", wheel)
    if deps:
        built[VENV] = ("venv", write_venv(out / VENV, dists, serverless_python))
    for script in ENTRY_SCRIPTS:
        (out / script).parent.mkdir(parents=True, exist_ok=True)
        (out / script).write_bytes(_entry_script(dists[0], script))
        built[script] = ("entry-script", out / script)
    return built


def _check_out(out: Path) -> None:
    """``out`` is replaced as a whole: it must be new, empty, or a package built before."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the artifacts.")
    if out.is_dir() and not (out / MANIFEST).is_file():
        held = sorted(p.name for p in out.iterdir())
        if held:
            shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
            raise ConfigError(
                f"{out} holds files 'featurekit package' did not build ({shown}) and the "
                "package replaces the whole folder: give a new or empty --out folder."
            )


@contextmanager
def _staged(out: Path) -> Iterator[Path]:
    """A new folder next to ``out`` to build in; it replaces ``out`` when the block succeeds,
    and is removed (with any parent folder made for it) when the block fails."""
    made = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        yield staging
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in made:  # innermost first
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def _replace(staging: Path, out: Path) -> None:
    """Move ``staging`` to ``out``; a previous ``out`` is moved aside first, put back when the
    move fails, and deleted after it succeeded."""
    if not out.exists():
        os.replace(staging, out)
        return
    previous = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:12]}"
    os.replace(out, previous)
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(previous, out)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def build_artifacts(
    root: Path,
    out: Path,
    *,
    provided: Iterable[str] = (),
    serverless_python: str = SERVERLESS_PYTHON,
    quality: bool = True,
) -> dict[str, Any]:
    """Build every artifact of the project at ``root`` into ``out``; returns the manifest.

    ``quality=False`` (``--no-quality``) leaves Deequ's jars out even when jobs declare
    rulesets; their plans then need ``--no-quality`` too. All or nothing: on any error
    ``out`` is left exactly as it was (see the module docstring).
    """
    if not re.fullmatch(r"3\.\d{1,2}", serverless_python):
        raise ConfigError(
            f"--serverless-python must be the image's Python as MAJOR.MINOR, e.g. 3.9; "
            f"got {serverless_python!r}."
        )
    project = read_project(root)
    _check_out(out)
    with _staged(out) as staging:
        manifest = _build(project, staging, provided, serverless_python, quality)
    return manifest


def _build(
    project: Project,
    out: Path,
    provided: Iterable[str],
    serverless_python: str,
    quality: bool,
) -> dict[str, Any]:
    """Build the artifacts of ``project`` into the empty folder ``out``."""
    from featurekit.deploy.quality_jars import quality_jobs, ship

    if project.name == "featurekit":  # featurekit's own checkout: itself, no dependencies
        dists = [featurekit_dist()]
        deps: list[Dist] = []
    else:
        deps = dependency_closure(project.dependencies, provided=frozenset(provided))
        _check_imports(project)
        dists = [featurekit_dist(), project_dist(project), *deps]
    jobs = _jobs(project)
    folders = [(project.root / p).parent for p in project.packages]
    needing = quality_jobs(jobs, folders)  # every job loads as declared, before any build
    built = _write_code(out, dists, deps, serverless_python)
    dq, jars = (
        ship(jobs, folders, out, needing=needing) if quality else ({"jobs": [], "jars": []}, {})
    )
    built.update({name: ("jar", path) for name, path in jars.items()})
    manifest = {
        "name": project.name,
        "version": project.version,
        "featurekit_version": dists[0].version,
        "requires_python": project.requires_python,
        "built_with_python": platform.python_version(),
        "serverless_python": serverless_python if deps else None,
        "jobs": jobs,
        "quality": dq,
        "distributions": {d.name: d.version for d in dists},
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
