"""Deequ's jars in the package and in the plans of jobs that declare DQDL rulesets.

``featurekit package`` ships them when any of the package's jobs declares a ruleset (on
its output or an input); ``plan`` names them for a job that does, in the form of its
target, after checking the target's Spark line has a Deequ build::

    jars/com.amazon.deequ_deequ-2.1.0-spark-3.5.jar    Glue --extra-jars, EMR --jars,
    jars/software.amazon.glue_dqdl-1.0.0.jar           EMR Serverless spark.jars

Two jars only: the rest of Deequ's Maven tree is on every Spark 3.5 classpath already
(see :func:`featurekit.quality.engine.engine_jars`), and local sessions run on the same two.
Glue 6.0 and EMR 8 run Spark 4, for which Deequ publishes no build: planning a job with
rulesets there fails with :class:`QualityEngineError` unless ``--no-quality`` turns the
job's checks off explicitly (the run then records a warning naming its rulesets).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Optional

from featurekit.errors import ConfigError, QualityEngineError

JARS_DIR = "jars"
# Spark line of each Glue version (AWS's release notes).
GLUE_SPARK = {"4.0": "3.3", "5.0": "3.5", "5.1": "3.5", "6.0": "4.1"}
# Spark line of each EMR major release (emr-6.x: Spark 3.0-3.4; emr-7.x: 3.5; emr-8.x: 4.0).
EMR_SPARK = {6: "3.4", 7: "3.5", 8: "4.0"}


def has_rulesets(job: Any) -> bool:
    """True when the job declares DQDL rulesets on its output or an input."""
    return bool(job.output.quality) or any(inp.quality for inp in job.inputs.values())


@contextmanager
def _importable(folders: Sequence[Path]) -> Iterator[None]:
    """Import from ``folders`` first; forget the modules imported from them after, so the
    check leaves the process as it found it."""
    added = [str(f) for f in folders if str(f) not in sys.path]
    before = set(sys.modules)
    sys.path[:0] = added
    try:
        yield
    finally:
        for folder in added:
            sys.path.remove(folder)
        roots = [str(f.resolve()) for f in folders]
        for name in set(sys.modules) - before:
            source = str(getattr(sys.modules[name], "__file__", None) or "")
            if any(source.startswith(root) for root in roots):
                del sys.modules[name]


def _load(name: str, target: str) -> Any:
    from importlib.metadata import EntryPoint

    try:  # the entry point's own loader: module, then the attribute path after ':'
        obj: Any = EntryPoint(name=name, value=target, group="featurekit.jobs").load()
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"Cannot load job {name} ({target}) to see whether it declares quality rulesets: "
            f"{exc}. Fix the featurekit.jobs entry point in pyproject.toml, or install the "
            "project's dependencies (pip install -e .)."
        ) from exc
    except ConfigError as exc:  # its declaration: a ruleset's unknown rule type, ...
        raise ConfigError(f"Job {name} ({target}) is declared wrong: {exc}") from exc
    except Exception as exc:  # any other import-time failure of the job's module
        raise ConfigError(
            f"Cannot load job {name} ({target}): importing it raised "
            f"{type(exc).__name__}: {exc}. Fix the module; a cluster would fail the same way."
        ) from exc
    return obj


def quality_jobs(jobs: Mapping[str, str], source_folders: Sequence[Path]) -> list[str]:
    """The jobs (``name -> module:Class``) that declare rulesets, importing them from
    ``source_folders`` (the packaged source) before what is installed.

    Every job is loaded and its declaration checked (DQDL rule types included, no data,
    no Spark); a ConfigError lists every job that does not load or is declared wrong."""
    from featurekit.job import declaration_problems

    needing: list[str] = []
    problems: list[str] = []
    with _importable(source_folders):
        for name, target in sorted(jobs.items()):
            try:
                job = _load(name, target)
            except ConfigError as exc:
                problems.append(str(exc))
                continue
            problems += [f"Job {name}: {problem}" for problem in declaration_problems(job)]
            if has_rulesets(job):
                needing.append(name)
    if problems:
        raise ConfigError(
            "The package's jobs must load as declared before anything is built:\n  "
            + "\n  ".join(problems)
        )
    return needing


def copy_jars(out: Path, report: Callable[[str], None]) -> dict[str, Path]:
    """Deequ's two jars (for Spark 3.5) resolved through Ivy and copied under ``out/jars``."""
    from featurekit.quality.engine import DEEQU_BY_SPARK, local_jars

    (out / JARS_DIR).mkdir(parents=True, exist_ok=True)
    copied = {}
    for line in sorted(DEEQU_BY_SPARK):
        for jar in local_jars(report=report, line=line):
            target = out / JARS_DIR / Path(jar).name
            shutil.copyfile(jar, target)
            copied[f"{JARS_DIR}/{target.name}"] = target
    return copied


def glue_spark_line(glue_version: str) -> str:
    """``5.1`` -> ``3.5``."""
    return GLUE_SPARK[glue_version]


def emr_spark_line(release_label: str) -> str:
    """``emr-7.12.0`` -> ``3.5``."""
    match = re.fullmatch(r"emr-(\d+)\.\d+\.\d+", release_label)
    if not match:
        raise ConfigError(f"--release-label must look like emr-7.12.0, got {release_label!r}.")
    major = int(match.group(1))
    return EMR_SPARK.get(major, "4.x" if major > 8 else "3.x (before 3.5)")


def planned_jars(
    package: Any, job: Any, *, spark_line: str, target: str, quality: bool = True
) -> list[str]:
    """The package's Deequ jars (names under the artifacts) a job needs on ``target``.

    Empty for a job without rulesets, or with ``quality=False`` (``--no-quality``).
    """
    if not quality or not has_rulesets(job):
        return []
    from featurekit.quality.engine import coordinates

    try:
        coordinates(spark_line)
    except QualityEngineError as exc:
        raise QualityEngineError(
            f"Job {job.name} declares data quality rulesets and {target} runs Spark "
            f"{spark_line}. {exc} Or pass --no-quality to run it without evaluating them."
        ) from exc
    names = list(package.manifest.get("quality", {}).get("jars", []))
    if not names:
        raise ConfigError(
            f"Job {job.name} declares data quality rulesets but the package {package.dist} "
            "holds no Deequ jars (built with --no-quality?); rebuild it with 'featurekit "
            "package', or pass --no-quality."
        )
    return names


def ship(
    jobs: Mapping[str, str],
    source_folders: Sequence[Path],
    out: Path,
    report: Callable[[str], None] = lambda _m: None,
    needing: Optional[Sequence[str]] = None,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """The manifest's ``quality`` section and the jars copied into ``out`` (none when no
    job declares rulesets); ``needing``: :func:`quality_jobs` when already computed."""
    from featurekit.quality.engine import DEEQU_BY_SPARK, DQDL_PARSER

    needing = list(quality_jobs(jobs, source_folders) if needing is None else needing)
    if not needing:
        return {"jobs": [], "jars": []}, {}
    jars = copy_jars(out, report)
    coords = [c for line in sorted(DEEQU_BY_SPARK) for c in DEEQU_BY_SPARK[line]]
    section = {
        "jobs": needing,
        "jars": sorted(jars),
        "coordinates": [*coords, DQDL_PARSER],
        "spark_lines": sorted(DEEQU_BY_SPARK),
    }
    return section, jars


def job_jars(
    package: Any, job_name: str, *, spark_line: str, target: str, quality: bool
) -> tuple[str, ...]:
    """:func:`planned_jars` of the registered job ``job_name``."""
    from featurekit.registry import get_job

    job = get_job(job_name)
    return tuple(planned_jars(package, job, spark_line=spark_line, target=target, quality=quality))
