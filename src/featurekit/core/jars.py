"""JVM packages for local sessions: the Delta jars and hadoop-aws, from Maven Central.

Glue (``--datalake-formats delta``) and EMR (``delta-defaults``) put Delta on the
classpath themselves. Locally featurekit resolves the same packages once, through
Spark's own Ivy resolver (``spark-submit --packages``), so the first run shows Ivy's
download lines and later runs start from the cache without touching the network:

* ``resolve(coordinates)`` runs the resolution in a short ``spark-submit`` subprocess,
  streams its progress to stderr, and remembers the resolved jar list in a manifest
  next to Ivy's cache (``~/.ivy2`` or ``FEATUREKIT_IVY``);
* a later call finds the manifest, checks every jar is still there, and returns it.

Iceberg's Spark runtime (``iceberg_coordinate``) is resolved the same way for sessions
that write Iceberg tables. The coordinates follow the installed pyspark: Delta 3.3.2 for
Spark 3.5 (as Glue 5.1 and EMR 7.12 ship), Delta 4.0.1 for Spark 4.0 (EMR 8), Delta 4.3.1
for Spark 4.1. Glue 6.0 ships Delta 4.2.0 with Spark 4.1.1, but 4.2.0 (and 4.1.0) fail on
pyspark 4.1.4 with
``NoClassDefFoundError: org/apache/spark/sql/catalyst/plans/logical/IgnoreCachedData``;
4.3.1 runs. hadoop-aws comes at the Hadoop version bundled inside pyspark.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from featurekit.errors import ConfigError, MissingDependencyError

# Delta release per Spark line, as the platforms pair them (aws-platforms.md).
DELTA_BY_SPARK = {
    "3.5": "io.delta:delta-spark_2.12:3.3.2",
    "4.0": "io.delta:delta-spark_2.13:4.0.1",
    "4.1": "io.delta:delta-spark_2.13:4.3.1",  # 4.2.0 fails on pyspark 4.1.4 (below)
}
# Iceberg's Spark runtime per Spark line: 1.10.0 for Spark 3.5 (the release Glue 5.1 and
# EMR 7.12 pair with it), 1.10.0 for Spark 4.0 (the first with a 4.0 runtime), 1.11.0 for
# Spark 4.1 (Maven Central serves no 4.1 runtime of 1.10.x). The AWS bundle (GlueCatalog,
# S3FileIO) is version-matched.
ICEBERG_BY_SPARK = {
    "3.5": "org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.0",
    "4.0": "org.apache.iceberg:iceberg-spark-runtime-4.0_2.13:1.10.0",
    "4.1": "org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:1.11.0",
}
MAVEN_CENTRAL = "https://repo1.maven.org/maven2/"
_RESOLVE_SCRIPT = (
    "import os\n"
    "jars = [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p.endswith('.jar')]\n"
    "print('FEATUREKIT_JARS=' + ','.join(jars))\n"
)


class JarResolutionError(MissingDependencyError):
    """Maven packages could not be resolved (offline, or a coordinate that does not exist)."""

    def __init__(self, message: str) -> None:  # plain message, not the pip-extra template
        Exception.__init__(self, message)


@dataclass(frozen=True)
class Packages:
    """The Maven coordinates a session needs and where Ivy keeps them."""

    coordinates: tuple[str, ...]
    ivy_dir: str
    # group:artifact pairs left out of the resolution (spark.jars.excludes)
    excludes: tuple[str, ...] = ()

    @property
    def manifest(self) -> Path:
        key = ",".join(self.coordinates) + ("|" + ",".join(self.excludes) if self.excludes else "")
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return Path(self.ivy_dir) / "featurekit" / f"{digest}.json"


def spark_line() -> str:
    """``major.minor`` of the installed pyspark."""
    try:
        import pyspark
    except ImportError as exc:
        raise MissingDependencyError("pyspark", "local", "Resolving Delta jars") from exc
    return ".".join(pyspark.__version__.split(".")[:2])


def delta_coordinate(line: Optional[str] = None) -> str:
    """The delta-spark Maven coordinate for a Spark line (default: the installed pyspark)."""
    line = line or spark_line()
    try:
        return DELTA_BY_SPARK[line]
    except KeyError:
        raise ConfigError(
            f"featurekit has no Delta release paired with Spark {line} (known: "
            f"{', '.join(sorted(DELTA_BY_SPARK))}); set FEATUREKIT_DELTA_JARS to the jars."
        ) from None


def iceberg_coordinate(line: Optional[str] = None) -> str:
    """The iceberg-spark-runtime coordinate for a Spark line (default: the installed pyspark)."""
    line = line or spark_line()
    try:
        return ICEBERG_BY_SPARK[line]
    except KeyError:
        raise ConfigError(
            f"featurekit has no Iceberg release paired with Spark {line} (known: "
            f"{', '.join(sorted(ICEBERG_BY_SPARK))})."
        ) from None


def iceberg_aws_coordinate(line: Optional[str] = None) -> str:
    """``org.apache.iceberg:iceberg-aws-bundle`` at the runtime's version (GlueCatalog and
    S3FileIO)."""
    version = iceberg_coordinate(line).rsplit(":", 1)[1]
    return f"org.apache.iceberg:iceberg-aws-bundle:{version}"


def hadoop_version() -> str:
    """The Hadoop version inside pyspark, read off its ``hadoop-client-api`` jar."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    for jar in sorted(jars.glob("hadoop-client-api-*.jar")):
        match = re.fullmatch(r"hadoop-client-api-(\d+\.\d+\.\d+)\.jar", jar.name)
        if match:
            return match.group(1)
    raise ConfigError(f"Cannot tell pyspark's Hadoop version: no hadoop-client-api jar in {jars}.")


def hadoop_aws_coordinate() -> str:
    """``org.apache.hadoop:hadoop-aws`` at pyspark's Hadoop version (pulls its AWS SDK)."""
    return f"org.apache.hadoop:hadoop-aws:{hadoop_version()}"


def default_ivy_dir(env: Optional[dict[str, str]] = None) -> str:
    """``FEATUREKIT_IVY``, else ``~/.ivy2`` (Spark's own default on 3.5)."""
    env = dict(os.environ) if env is None else env
    return env.get("FEATUREKIT_IVY") or str(Path("~/.ivy2").expanduser())


def cached(packages: Packages) -> Optional[list[str]]:
    """The resolved jars when a previous resolution left all of them in place, else None."""
    try:
        jars = json.loads(packages.manifest.read_text())["jars"]
    except (OSError, ValueError, KeyError):
        return None
    if not jars or not all(Path(j).is_file() for j in jars):
        return None
    return [str(j) for j in jars]


def resolve(
    coordinates: Sequence[str],
    *,
    ivy_dir: Optional[str] = None,
    report: Callable[[str], None] = lambda _message: None,
    ivy_settings: Optional[str] = None,
    excludes: Sequence[str] = (),
) -> list[str]:
    """Local paths of ``coordinates`` and their dependencies, resolved once and cached.

    ``excludes`` (``group:artifact``) are left out of the dependency tree, as
    ``spark.jars.excludes`` does (it drops a coordinate of the same name in this call too:
    resolve a replacement version in a separate call).
    """
    packages = Packages(tuple(coordinates), ivy_dir or default_ivy_dir(), tuple(excludes))
    jars = cached(packages)
    if jars is not None:
        return jars
    # Two first runs at once (a parallel backfill's processes, two jobs started together)
    # would download the same files into Ivy's cache side by side and one would fail: the
    # resolution takes turns, and the second finds the first's manifest.
    with _resolving(packages, report):
        jars = cached(packages)
        if jars is not None:
            return jars
        report(
            f"Resolving {', '.join(packages.coordinates)} from Maven Central into "
            f"{packages.ivy_dir} (first run only; Ivy's download lines follow)"
        )
        jars = _run_ivy(packages, ivy_settings)
        tmp = packages.manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps({"coordinates": packages.coordinates, "jars": jars}, indent=2))
        tmp.replace(packages.manifest)
    report(f"Resolved {len(jars)} jars; later runs reuse them")
    return jars


@contextlib.contextmanager
def _resolving(packages: Packages, report: Callable[[str], None]) -> Iterator[None]:
    """Held while resolving into ``packages.ivy_dir``: an exclusive lock on a file beside
    the manifests, so one process at a time resolves into the cache (where ``fcntl`` is
    missing, as on Windows, no lock)."""
    packages.manifest.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux or macOS
        yield
        return
    with open(packages.manifest.parent / "resolve.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report(f"waiting for another process resolving jars into {packages.ivy_dir}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _spark_submit() -> str:
    import pyspark

    home = Path(pyspark.__file__).parent
    script = home / "bin" / "spark-submit"
    if not script.is_file():
        raise ConfigError(f"pyspark at {home} has no bin/spark-submit; reinstall pyspark.")
    return str(script)


def _run_ivy(packages: Packages, ivy_settings: Optional[str]) -> list[str]:
    from featurekit.core.java import ensure_java

    ensure_java()
    with tempfile.TemporaryDirectory(prefix="featurekit-jars-") as tmp:
        script = Path(tmp) / "resolved.py"
        script.write_text(_RESOLVE_SCRIPT)
        cmd = [_spark_submit(), "--packages", ",".join(packages.coordinates)]
        cmd += ["--conf", f"spark.jars.ivy={packages.ivy_dir}"]
        if packages.excludes:
            cmd += ["--conf", f"spark.jars.excludes={','.join(packages.excludes)}"]
        if ivy_settings:
            cmd += ["--conf", f"spark.jars.ivySettings={ivy_settings}"]
        cmd.append(str(script))
        env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
        env.pop("PYTHONPATH", None)
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        out, err = _stream(proc)
    found = [line for line in out.splitlines() if line.startswith("FEATUREKIT_JARS=")]
    if proc.returncode != 0 or not found:
        source = f"the repositories of {ivy_settings}" if ivy_settings else MAVEN_CENTRAL
        raise JarResolutionError(_failure_message(packages, err, source))
    ivy_jars = Path(packages.ivy_dir).resolve()
    listed = [Path(j) for j in found[-1].split("=", 1)[1].split(",") if j]
    # PYTHONPATH also names pyspark's own jars; keep only what Ivy resolved.
    return [str(j) for j in listed if ivy_jars in j.resolve().parents]


def _stream(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Forward Ivy's download lines to stderr as they come; keep everything for errors."""
    if proc.stderr is None or proc.stdout is None:
        raise TypeError("spark-submit must run with stdout and stderr piped")
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "downloading" in line or "SUCCESSFUL" in line or "found " in line:
            print(f"  {line.strip()}", file=sys.stderr, flush=True)
    out = proc.stdout.read()
    proc.wait()
    return out, "".join(lines)


def _failure_message(packages: Packages, stderr: str, source: str) -> str:
    unresolved = re.findall(r"unresolved dependency: ([^\s:]+;[^\s:]+)", stderr)
    missing = ", ".join(sorted({u.replace("#", ":").replace(";", ":") for u in unresolved}))
    what = missing or ", ".join(packages.coordinates)
    return (
        f"Cannot resolve {what} from {source}: offline, or a proxy blocks it. Connect once "
        f"(the jars are then cached in {packages.ivy_dir}), or point FEATUREKIT_DELTA_JARS "
        "at the jars (comma-separated), or use --engine delta-rs."
    )
