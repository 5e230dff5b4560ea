"""featurekit's own test settings, on top of its pytest plugin."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["featurekit.testing.plugin"]

# Every JVM a test starts in a subprocess (featurekit runs, spark-submit, the standalone
# cluster) compiles with C1 only, as the in-process test session does (TEST_CONF): these
# JVMs live for a minute on tiny data, where C2's compiler threads only compete for the
# two cores. One S3 run measured 140 s -> 54 s at load 10-15. Tests only, never benchmarks.
_TEST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
ROOT = Path(__file__).resolve().parents[1]


# Every Spark JVM of a test session (the shared session, the runs tests start) keeps its
# temp folders in one root: each run copies its jars there (280 MB with the AWS SDK bundle
# that S3A needs), which Spark deletes at exit but a killed run leaves behind. The tests
# that kill runs at every phase filled CI's disk that way; each test's leftovers are
# removed when it ends (_spark_leftovers), the root when the session ends.
_SPARK_ROOT: dict[str, Path] = {}


def pytest_configure() -> None:
    import tempfile

    if "SPARK_LOCAL_DIRS" not in os.environ:
        root = Path(tempfile.mkdtemp(prefix="featurekit-tests-spark-"))
        _SPARK_ROOT["path"] = root
        os.environ["SPARK_LOCAL_DIRS"] = str(root)
    current = os.environ.get("JAVA_TOOL_OPTIONS", "")
    if "TieredStopAtLevel" not in current:
        current = f"{current} {_TEST_JVM}".strip()
    if "SharedArchiveFile" not in current:
        archive = _class_archive()
        if archive is not None:
            current = f"{current} -XX:SharedArchiveFile={archive} -Xlog:cds*=off"
    os.environ["JAVA_TOOL_OPTIONS"] = current


def pytest_unconfigure() -> None:
    import shutil

    root = _SPARK_ROOT.pop("path", None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _spark_leftovers() -> Iterator[None]:
    """Removes what the test's Spark JVMs left in the session's Spark root. The in-process
    JVM makes its folders there when it starts, once: a test that starts it keeps all."""
    import shutil

    from pyspark import SparkContext

    root = _SPARK_ROOT.get("path")
    if root is None:
        yield
        return
    before = set(os.listdir(root))
    had_jvm = SparkContext._gateway is not None
    yield
    if not had_jvm and SparkContext._gateway is not None:
        return
    for name in set(os.listdir(root)) - before:
        shutil.rmtree(root / name, ignore_errors=True)


def _class_archive() -> Path | None:
    """This venv's class-data sharing archive of a test session's Spark JVM, written once
    by tests/scripts/jvm_archive.py (~30 s) into .cache/jvm and reused after. The JVM
    classes it holds are mapped instead of loaded and verified: the slow tests, a JVM or
    two each, measured 20-24% faster (tests/state/test_crash_recovery.py's 7, two paired
    runs). A JVM whose JDK or class path differs from the archive's ignores it, silently
    (``-Xlog:cds*=off``). None when the archive cannot be made (a JDK before 13)."""
    import hashlib
    import shutil
    import subprocess
    import sys

    try:
        import fcntl

        import pyspark
    except ImportError:
        return None
    java = os.environ.get("JAVA_HOME") or shutil.which("java") or ""
    # a reinstalled pyspark (new jar times) would make the JVM refuse the old archive
    jars = Path(pyspark.__file__).parent / "jars"
    stamp = jars.stat().st_mtime_ns if jars.is_dir() else 0
    key = f"{sys.prefix}|{pyspark.__version__}|{java}|{stamp}"
    key = hashlib.sha256(key.encode()).hexdigest()[:16]
    folder = ROOT / ".cache" / "jvm"
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"spark-{pyspark.__version__}-{key}.jsa"
    with open(folder / f"{archive.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # CI's two lanes start together: one writes it
        if archive.is_file():
            return archive
        partial = archive.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        print("featurekit tests: writing a JVM class archive once (~30 s)", file=sys.stderr)
        try:
            made = subprocess.run(
                [sys.executable, str(ROOT / "tests" / "scripts" / "jvm_archive.py"), str(partial)],
                env={**os.environ, "JAVA_TOOL_OPTIONS": _TEST_JVM},
                capture_output=True,
                text=True,
                timeout=900,
            )
        except subprocess.TimeoutExpired:
            made = None
        if made is None or made.returncode != 0 or not partial.is_file():
            why = "timed out" if made is None else made.stderr.strip()[-600:]
            print(f"featurekit tests: no JVM class archive ({why})", file=sys.stderr)
            partial.unlink(missing_ok=True)
            return None
        partial.replace(archive)
        return archive


@pytest.fixture
def no_spark(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if anything builds a SparkSession (checks that must run before Spark
    starts): getOrCreate raises, and the test fails even if that error was caught."""
    from pyspark.sql import SparkSession

    built: list[str] = []

    def refuse(self: object) -> None:
        built.append("getOrCreate")
        raise AssertionError("a SparkSession was built")

    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", refuse)
    yield
    assert not built, "a SparkSession was built"
