"""``featurekit init`` and ``featurekit new job``: a project of feature jobs, ready to test.

``init_project`` writes a project whose tests pass as generated::

    acme-features/
      pyproject.toml            the jobs as `featurekit.jobs` entry points; dev extra
      README.md, .gitignore
      src/acme_features/jobs/user_events_daily.py
      tests/conftest.py         featurekit's pytest plugin (spark, local_runtime)
      tests/jobs/test_user_events_daily.py

The project depends on featurekit by a direct reference (``featurekit @ URL``: featurekit
is on no package index), naming the featurekit that ran ``init`` or ``source``
(:mod:`featurekit.scaffold.source`), and pins pyspark to the Spark of a platform line
(:mod:`featurekit.core.platforms`; Glue 5.1's by default).

``new_job`` adds a job module, its test and its entry point to an existing project.
Nothing is overwritten: an existing file or entry point is an error.

Example::

    root = init_project(Path("acme-features"), platform="emr7.12")
    new_job(root, "cart_sessions_daily")
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from featurekit.core.platforms import DEFAULT_LINE, platform_line
from featurekit.errors import ConfigError
from featurekit.scaffold import templates as t
from featurekit.scaffold.source import featurekit_url

EXAMPLE_JOB = "user_events_daily"
ENTRY_POINTS = '[project.entry-points."featurekit.jobs"]'
_PROJECT = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*$")
_JOB = re.compile(r"^[a-z][a-z0-9_]*$")


def _class_name(job: str) -> str:
    return "".join(part.capitalize() for part in job.split("_") if part)


def _package_name(project: str) -> str:
    return re.sub(r"[-.]+", "_", project).lower()


def _write(files: Mapping[Path, str]) -> list[Path]:
    existing = [p for p in files if p.exists()]
    if existing:
        raise ConfigError(f"{existing[0]} exists; featurekit does not overwrite files.")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(files)


def init_project(
    root: Path, name: str = "", *, source: Optional[str] = None, platform: str = DEFAULT_LINE
) -> Path:
    """Write a new project into ``root`` (created; it must not hold a pyproject.toml).

    ``source`` is where its featurekit comes from (a checkout, a wheel file or a URL pip
    installs; default: where the running featurekit was installed from); ``platform`` the
    line whose Spark its tests run on (``glue5.1``, ``glue6.0``, ``emr7.12``, ``emr8.0``).
    """
    line = platform_line(platform)
    project = name or root.resolve().name
    if not _PROJECT.match(project):
        raise ConfigError(
            f"{project!r} is not a project name: use letters, digits, '-', '_' or '.', "
            "starting with a letter (e.g. acme-features)."
        )
    if (root / "pyproject.toml").exists():
        raise ConfigError(f"{root} already holds a pyproject.toml; use 'featurekit new job'.")
    package = _package_name(project)
    url = featurekit_url(source)
    subs = {
        "project": project,
        "package": package,
        "job": EXAMPLE_JOB,
        "job_class": _class_name(EXAMPLE_JOB),
        "featurekit": f"featurekit @ {url}",
        "featurekit_local": f"featurekit[{line.local_extra}] @ {url}",
        "featurekit_url": url,
        "pyspark": f"pyspark{line.pyspark_range}",
        "platform": f"{line.name}: Spark {line.spark}, Python {', '.join(line.pythons)}",
    }
    src = root / "src" / package
    _write(
        {
            root / "pyproject.toml": t.PYPROJECT.substitute(subs),
            root / "README.md": t.README.substitute(subs),
            root / ".gitignore": t.GITIGNORE,
            src / "__init__.py": t.PACKAGE_INIT.substitute(subs),
            src / "jobs" / "__init__.py": t.JOBS_INIT.substitute(subs),
            src / "jobs" / f"{EXAMPLE_JOB}.py": t.EXAMPLE_JOB.substitute(subs),
            root / "tests" / "conftest.py": t.CONFTEST,
            root / "tests" / "jobs" / "__init__.py": "",
            root / "tests" / "jobs" / f"test_{EXAMPLE_JOB}.py": t.EXAMPLE_TEST.substitute(subs),
        }
    )
    return root


def _project_package(root: Path) -> str:
    """The package of the project at ``root``: the one folder under src/ with jobs/."""
    found = sorted(p.parent.parent.name for p in (root / "src").glob("*/jobs/__init__.py"))
    if len(found) != 1:
        raise ConfigError(
            f"Cannot tell the jobs package of {root}: expected one src/PACKAGE/jobs/, found "
            f"{found or 'none'}. Run 'featurekit new job' in a project 'featurekit init' made."
        )
    return found[0]


def _add_entry_point(pyproject: Path, line: str) -> None:
    text = pyproject.read_text()
    if ENTRY_POINTS not in text:
        text = text.rstrip("\n") + f"\n\n{ENTRY_POINTS}\n"
    head, _, rest = text.partition(ENTRY_POINTS + "\n")
    pyproject.write_text(f"{head}{ENTRY_POINTS}\n{line}\n{rest}")


def new_job(root: Path, job: str) -> list[Path]:
    """Add the job ``job`` (module, test, entry point) to the project at ``root``."""
    if not _JOB.match(job):
        raise ConfigError(
            f"{job!r} is not a job name: use lower-case letters, digits and '_', starting "
            "with a letter (e.g. cart_sessions_daily)."
        )
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise ConfigError(f"No pyproject.toml in {root}: run 'featurekit init' first.")
    package = _project_package(root)
    if re.search(rf"^{job}\s*=", pyproject.read_text(), re.MULTILINE):
        raise ConfigError(f"{pyproject} already registers a job {job!r}.")
    subs = {"package": package, "job": job, "job_class": _class_name(job)}
    written = _write(
        {
            root / "src" / package / "jobs" / f"{job}.py": t.NEW_JOB.substitute(subs),
            root / "tests" / "jobs" / f"test_{job}.py": t.NEW_JOB_TEST.substitute(subs),
        }
    )
    _add_entry_point(pyproject, f'{job} = "{package}.jobs.{job}:{subs["job_class"]}"')
    return [*written, pyproject]
