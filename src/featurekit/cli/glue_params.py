"""Glue's special job parameters under ``featurekit glue run``, applied as Glue applies them.

Glue reads some job arguments itself before the script starts; ``glue run`` does the same,
before the local SparkSession is built:

    --extra-jars A,B               the session's jars
    --extra-py-files A,B           the Python path (driver and workers)
    --conf "k=v --conf k2=v2"      session confs (Glue takes one --conf key; the value chains)
    --datalake-formats delta       Delta's jars and session confs
    --datalake-formats iceberg     Iceberg's Spark runtime (``delta,iceberg``: both)
    --user-jars-first true         --extra-jars ahead of Spark's own jars on the classpath
    --additional-python-modules    checked: each must be installed here (never pip-installed)
    --TempDir s3://b/tmp/          its folder is created (under the warehouse's _s3 folder)
    --enable-glue-datacatalog      tables are looked up in the catalog glue run chose

``s3://`` paths map as Spark's do locally: ``s3://BUCKET/KEY`` is ``WAREHOUSE/_s3/BUCKET/KEY``;
a path under a plan's artifacts prefix (``s3://b/prefix/NAME``) is ``DIST/NAME`` when the
package folder holds it. Flags that only matter on AWS (metrics, the Spark UI, continuous
logs...) are accepted and named in one note as not emulated. Every argument is still passed
to the script, as Glue passes them.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from featurekit.errors import ConfigError, UnsupportedError

S3_PREFIXES = ("s3://", "s3a://", "s3n://")
DATACATALOG = "--enable-glue-datacatalog"
# Parameters that change only what AWS records or how it scales: accepted, not emulated.
AWS_ONLY = (
    "--spark-event-logs-path",
    "--continuous-log-logGroup",
    "--continuous-log-logStreamPrefix",
    "--continuous-log-conversionPattern",
    "--python-modules-installer-option",
    "--executor-cores",
    "--write-shuffle-files-to-s3",
    "--write-shuffle-spills-to-s3",
    "--auto-scale-within-microbatch",
    "--disable-proxy-v2",
)
UNSUPPORTED = {
    "--extra-files": "copy the files where the script reads them instead",
    "--class": "glue run runs Python scripts only",
    "--scriptLocation": "give the script (or --plan) to glue run instead",
}
CONF_CHAIN = re.compile(r"\s+--conf\s+")
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")


def pairs(args: Sequence[str]) -> list[tuple[str, Optional[str]]]:
    """Glue's ``--key value`` / ``--key=value`` arguments as pairs; a key followed by another
    key (or nothing) has no value. Tokens that are not keys stay as ``("", token)``."""
    out: list[tuple[str, Optional[str]]] = []
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--"):
            out.append(("", token))
        elif "=" in token:
            key, value = token.split("=", 1)
            out.append((key, value))
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            out.append((token, args[i + 1]))
            i += 1
        else:
            out.append((token, None))
        i += 1
    return out


def flatten(items: Sequence[tuple[str, Optional[str]]]) -> list[str]:
    argv: list[str] = []
    for key, value in items:
        argv += [a for a in (key, value) if a is not None and a != ""]
    return argv


def merged_arguments(defaults: Mapping[str, str], extra: Sequence[str]) -> list[str]:
    """A job's DefaultArguments overridden by a run's arguments, key by key, as Glue merges
    them (several ``--conf`` among ``extra`` chain into one)."""
    merged: dict[str, Optional[str]] = dict(defaults)
    loose: list[tuple[str, Optional[str]]] = []
    confs: list[str] = []
    for key, value in pairs(extra):
        if not key:
            loose.append((key, value))
        elif key == "--conf" and value:
            confs.append(value)
        else:
            merged[key] = value
    if confs:
        merged["--conf"] = " --conf ".join(confs)
    return flatten([*merged.items(), *loose])


@dataclass(frozen=True)
class Locations:
    """Where the ``s3://`` paths of a job's arguments are on this machine."""

    warehouse: Optional[Path]  # a local warehouse folder; None for an s3:// warehouse
    dist: Optional[Path] = None  # the folder 'featurekit package' built
    artifacts: Optional[str] = None  # the S3 prefix the plan names the package's files under

    def mapped(self, uri: str) -> Optional[Path]:
        """The local path of ``uri`` (None: an S3 path with an S3 warehouse, no dist copy)."""
        if not uri.startswith(S3_PREFIXES):
            return Path(uri).expanduser()
        prefix = (self.artifacts or "").rstrip("/") + "/"
        if self.dist is not None and self.artifacts and uri.startswith(prefix):
            candidate = self.dist / uri[len(prefix) :]
            if candidate.exists() or self.warehouse is None:
                return candidate
        if self.warehouse is None:
            return None
        return self.warehouse / "_s3" / uri.split("://", 1)[1]

    def existing(self, uri: str, what: str) -> Path:
        """The local file of ``uri``; a ConfigError naming where it was looked for."""
        path = self.mapped(uri)
        if path is None:
            raise ConfigError(
                f"{what} {uri}: glue run reads artifacts from a local folder only; pass --dist "
                "DIR (the folder 'featurekit package' built) and --artifacts s3://BUCKET/PREFIX "
                "(or --plan), or give a local path."
            )
        if not path.is_file():
            dist = (
                f" (--dist {self.dist}, --artifacts {self.artifacts})"
                if self.dist is not None and self.artifacts
                else "; pass --dist DIR and --artifacts s3://BUCKET/PREFIX (or --plan) to take "
                "the package's files from the folder 'featurekit package' built"
            )
            raise ConfigError(f"{what} {uri}: no file {path}{dist}.")
        return path.resolve()


@dataclass(frozen=True)
class GlueParameters:
    """The special parameters of a Glue job run, resolved to local paths."""

    jars: tuple[str, ...] = ()
    py_files: tuple[str, ...] = ()
    conf: Mapping[str, str] = field(default_factory=dict)
    delta: bool = False
    iceberg: bool = False
    user_jars_first: bool = False
    glue_datacatalog: bool = False
    temp_dir: Optional[Path] = None
    modules: tuple[str, ...] = ()
    not_emulated: tuple[str, ...] = ()

    def session_confs(self) -> dict[str, str]:
        """Confs for a new session: ``--conf``'s, and the classpath order of --user-jars-first."""
        confs = dict(self.conf)
        if self.user_jars_first and self.jars:
            # ahead of Spark's own jars on the JVM's classpath (driver and local executors)
            confs["spark.driver.extraClassPath"] = os.pathsep.join(self.jars)
            confs["spark.executor.extraClassPath"] = os.pathsep.join(self.jars)
        return confs


def _flag(key: str, value: Optional[str]) -> bool:
    text = (value or "true").strip().lower()
    if text not in ("true", "false"):
        raise ConfigError(f"{key} takes true or false, got {value!r}.")
    return text == "true"


def _conf(value: Optional[str]) -> dict[str, str]:
    confs: dict[str, str] = {}
    for item in CONF_CHAIN.split((value or "").strip()):
        key, sep, setting = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"--conf {value!r}: expected KEY=VALUE (Glue chains several as "
                "'k1=v1 --conf k2=v2' in one --conf value)."
            )
        confs[key.strip()] = setting.strip()
    return confs


def _formats(value: Optional[str]) -> set[str]:
    formats = {f.strip().lower() for f in (value or "").split(",") if f.strip()}
    other = sorted(formats - {"delta", "iceberg"})
    if other:
        raise UnsupportedError(
            f"--datalake-formats {', '.join(other)}: glue run sets up Delta and Iceberg only "
            "(--datalake-formats delta,iceberg)."
        )
    return formats


def _items(value: Optional[str]) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _language(value: Optional[str]) -> None:
    if (value or "python").strip().lower() != "python":
        raise UnsupportedError(f"--job-language {value}: glue run runs Python scripts only.")


def parse(args: Sequence[str], where: Locations) -> GlueParameters:
    """The special parameters among a run's arguments (the last of a key wins, as in Glue's
    argument map; several ``--conf`` chain)."""
    found: dict[str, Optional[str]] = {}
    confs: dict[str, str] = {}
    not_emulated: list[str] = []
    for key, value in pairs(args):
        if key == "--conf":
            confs.update(_conf(value))
        elif key in UNSUPPORTED:
            raise UnsupportedError(f"{key} is not emulated by glue run: {UNSUPPORTED[key]}.")
        elif key == "--job-language":
            _language(value)
        elif key in AWS_ONLY or (key.startswith("--enable-") and key != DATACATALOG):
            not_emulated.append(key)
        else:
            found[key] = value
    temp = found.get("--TempDir")
    return GlueParameters(
        jars=tuple(
            str(where.existing(j, "--extra-jars")) for j in _items(found.get("--extra-jars"))
        ),
        py_files=tuple(
            str(where.existing(p, "--extra-py-files"))
            for p in _items(found.get("--extra-py-files"))
        ),
        conf=confs,
        delta="delta" in _formats(found.get("--datalake-formats")),
        iceberg="iceberg" in _formats(found.get("--datalake-formats")),
        user_jars_first=_flag("--user-jars-first", found["--user-jars-first"])
        if "--user-jars-first" in found
        else False,
        glue_datacatalog=_flag(DATACATALOG, found[DATACATALOG]) if DATACATALOG in found else False,
        temp_dir=where.mapped(temp) if temp else None,
        modules=tuple(_items(found.get("--additional-python-modules"))),
        not_emulated=tuple(dict.fromkeys(not_emulated)),
    )


def _distribution(entry: str) -> tuple[str, str]:
    """``(name, specifier)`` of a requirement or a wheel's file name."""
    if entry.endswith(".whl"):
        return entry.rsplit("/", 1)[-1].split("-", 1)[0], ""
    match = REQUIREMENT.match(entry)
    if match is None:
        raise ConfigError(f"--additional-python-modules: cannot read {entry!r} as a requirement.")
    return match.group(1), match.group(2).strip()


def _satisfied(version: str, specifier: str) -> bool:
    if not specifier:
        return True
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:  # no packaging: presence is what can be checked
        return True
    try:
        return version in SpecifierSet(specifier)
    except InvalidSpecifier as exc:
        raise ConfigError(f"--additional-python-modules: {specifier!r}: {exc}") from exc


def check_modules(modules: Sequence[str], py_files: Sequence[str] = ()) -> None:
    """Each of ``--additional-python-modules`` installed here (or in ``py_files``), in a
    version its specifier accepts; else a ConfigError naming the pip install to run."""
    from importlib.metadata import distributions

    path = [*py_files, *sys.path]
    installed: dict[str, str] = {}
    for dist in distributions(path=path):
        name = str(dist.metadata["Name"] or "")
        installed.setdefault(re.sub(r"[-_.]+", "-", name).lower(), dist.version)
    missing = []
    for entry in modules:
        name, specifier = _distribution(entry)
        version = installed.get(re.sub(r"[-_.]+", "-", name).lower())
        if version is None or not _satisfied(version, specifier):
            missing.append(entry if not entry.endswith(".whl") else name)
    if missing:
        quoted = " ".join(f"'{m}'" for m in missing)
        raise ConfigError(
            f"--additional-python-modules asks for {', '.join(missing)}, which this Python "
            "does not have (in the version asked for); Glue pip-installs them, glue run never "
            f"does: pip install {quoted}"
        )


def _static(spark: Any, key: str, wanted: str, what: str) -> None:
    """A setting a running session cannot change: it must already be ``wanted``."""
    current = spark.sparkContext.getConf().get(key, None)
    if current != wanted:
        raise ConfigError(
            f"The session is already running without {what} ({key}={wanted}; it has "
            f"{current!r}); run featurekit glue run in a fresh process."
        )


def _held_jars(spark: Any, params: GlueParameters) -> list[str]:
    """What of the classpath parameters the running session has; a ConfigError for the rest."""
    from featurekit.runtime.local import DELTA_CONFS

    held = []
    running = spark.sparkContext.getConf().get("spark.jars", "") or ""
    names = {j.rstrip("/").rsplit("/", 1)[-1] for j in running.split(",") if j}
    missing = sorted({Path(j).name for j in params.jars} - names)
    if missing:
        raise ConfigError(
            f"The session is already running without {', '.join(missing)} (--extra-jars); "
            "run featurekit glue run in a fresh process."
        )
    if params.jars:
        held.append("--extra-jars")
    if params.delta:
        for key, value in DELTA_CONFS.items():
            _static(spark, key, value, "Delta (--datalake-formats delta)")
        held.append("--datalake-formats delta")
    if params.iceberg:
        from featurekit.tables.iceberg_java import iceberg_available

        if not iceberg_available(spark):
            raise ConfigError(
                "The session is already running without Iceberg's Spark runtime "
                "(--datalake-formats iceberg); run featurekit glue run in a fresh process."
            )
        held.append("--datalake-formats iceberg")
    if params.user_jars_first:
        for key, value in params.session_confs().items():
            if key.endswith("extraClassPath"):
                _static(spark, key, value, "--user-jars-first")
        held.append("--user-jars-first")
    return held


def check_running(
    spark: Any, params: GlueParameters, note: Callable[[str], None]
) -> dict[str, str]:
    """On an already running session (tests share one): what the parameters ask must be
    there already, else a ConfigError; returns the runtime confs to set for the run."""
    held = _held_jars(spark, params)
    runtime: dict[str, str] = {}
    for key, value in params.conf.items():
        if spark.conf.isModifiable(key):
            runtime[key] = value
        else:
            _static(spark, key, value, f"--conf {key}={value}")
            held.append(f"--conf {key}")
    if held:
        note(f"the running session already has what {', '.join(held)} ask for")
    if params.py_files:
        note("--extra-py-files: on the driver's sys.path only (the session was already running)")
    return runtime


@contextmanager
def applied(spark: Any, confs: Mapping[str, str], py_files: Sequence[str]) -> Iterator[None]:
    """``confs`` set and ``py_files`` first on ``sys.path`` while the script runs; both put
    back afterwards (tests share one session and one interpreter)."""
    saved = {key: spark.conf.get(key, None) for key in confs}
    added = [p for p in py_files if p not in sys.path]
    for key, value in confs.items():
        spark.conf.set(key, value)
    sys.path[:0] = added
    try:
        yield
    finally:
        for path in added:
            if path in sys.path:
                sys.path.remove(path)
        for key, old in saved.items():
            if old is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, old)


@dataclass(frozen=True)
class GluePlanRun:
    """What ``glue run --plan`` runs: the job's script and its DefaultArguments."""

    name: str
    script: str
    arguments: Mapping[str, str]
    artifacts: Optional[str]
    glue_version: Optional[str] = None  # the job's GlueVersion


def load_plan(path: str, artifacts: Optional[str] = None) -> GluePlanRun:
    """The Glue job of ``featurekit plan glue``'s JSON (or ``aws glue get-job``'s)."""
    from featurekit.deploy.glue_plan import ENTRY_SCRIPT

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--plan {path}: cannot read it as JSON: {exc}") from exc
    job = doc.get("Job", doc) if isinstance(doc, dict) else None
    script = job.get("Command", {}).get("ScriptLocation") if isinstance(job, dict) else None
    defaults = job.get("DefaultArguments", {}) if isinstance(job, dict) else None
    if not isinstance(script, str) or not isinstance(defaults, dict):
        raise ConfigError(
            f"--plan {path} is not a Glue job definition (Command.ScriptLocation and "
            "DefaultArguments): write one with 'featurekit plan glue JOB ... > plan.json'."
        )
    assert isinstance(job, dict)
    suffix = "/" + ENTRY_SCRIPT
    if artifacts is None and script.endswith(suffix):
        artifacts = script[: -len(suffix)]
    return GluePlanRun(
        name=str(job.get("Name") or Path(script).stem),
        script=script,
        arguments={str(k): str(v) for k, v in defaults.items()},
        artifacts=artifacts,
        glue_version=str(job["GlueVersion"]) if job.get("GlueVersion") else None,
    )
