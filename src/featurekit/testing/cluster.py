"""A Spark standalone cluster on this machine: one master and N workers, each its own JVM.

It is the closest local stand-in for an EMR cluster: ``spark-submit --master
spark://...`` runs the driver here and the executors in the workers' processes, so
whatever a job needs on the executors (the ``--py-files`` bundle, the ``--jars``) must
really be shipped. The daemons come from pyspark's own install (``bin/spark-class``);
every port is chosen by the OS and read back from the daemons' logs.

Example::

    with StandaloneCluster(Path("/tmp/cluster")) as cluster:
        subprocess.run(["spark-submit", "--master", cluster.master_url, ...], check=True)
        app = cluster.last_app()
        assert len(cluster.executor_logs(app["id"])) == 2

Each daemon runs in its own process group; :meth:`StandaloneCluster.stop` ends the
groups (workers take their executors with them), so nothing outlives the cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Optional

from featurekit.errors import ClusterError

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
_MASTER_URL = re.compile(r"Starting Spark master at (spark://\S+)")
_WEB_UI = re.compile(r"Bound \w+WebUI to \S+ and started at (http://\S+)")


@dataclass(frozen=True)
class ClusterConfig:
    """How big the cluster is: ``workers`` JVMs with ``cores`` and ``memory`` each."""

    workers: int = 2
    cores: int = 1
    memory: str = "1g"
    host: str = "127.0.0.1"
    daemon_memory: str = "256m"  # heap of the master and worker daemons themselves
    start_timeout: float = 90.0

    def __post_init__(self) -> None:
        if self.workers < 1 or self.cores < 1:
            raise ValueError(
                f"A cluster needs at least one worker with one core, got workers={self.workers}, "
                f"cores={self.cores}."
            )


@dataclass
class _Daemon:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    work_dir: Optional[Path] = None


def spark_home() -> Path:
    """The Spark installation inside the pyspark package (it ships ``bin/spark-class``)."""
    try:
        import pyspark
    except ImportError as exc:
        raise ClusterError(
            "A standalone cluster needs pyspark: install featurekit's local extra "
            "(pip install -e '/path/to/featurekit[local]')."
        ) from exc
    return Path(pyspark.__file__).parent


class StandaloneCluster:
    """Start, inspect and stop a Spark standalone cluster whose files live under ``base``."""

    def __init__(self, base: Path, config: Optional[ClusterConfig] = None) -> None:
        self.base = base
        self.config = config or ClusterConfig()
        self.master_url = ""
        self.ui_url = ""
        self._daemons: list[_Daemon] = []

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> StandaloneCluster:
        """Start the master, then the workers; return once every worker is ALIVE."""
        self.base.mkdir(parents=True, exist_ok=True)
        try:
            master = self._spawn("master", MASTER_CLASS, "--port", "0", "--webui-port", "0")
            self.master_url = self._wait_for(master, _MASTER_URL)
            self.ui_url = self._wait_for(master, _WEB_UI)
            for i in range(self.config.workers):
                work = self.base / f"worker-{i}"
                work.mkdir(exist_ok=True)
                args = ["--cores", str(self.config.cores), "--memory", self.config.memory]
                args += ["--port", "0", "--webui-port", "0", "--work-dir", str(work)]
                self._spawn(f"worker-{i}", WORKER_CLASS, *args, self.master_url, work_dir=work)
            self._wait_for_workers()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """End every daemon's process group (executors included); safe to call twice."""
        for daemon in reversed(self._daemons):
            _end_group(daemon.process)
        self._daemons.clear()

    def __enter__(self) -> StandaloneCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    # -- inspection ----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The master's JSON status (``/json/``): workers, active and completed apps."""
        with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=10) as response:
            doc: dict[str, Any] = json.load(response)
        return doc

    def last_app(self) -> dict[str, Any]:
        """The most recently started application the master knows (active or completed)."""
        doc = self.state()
        apps = [*doc.get("activeapps", []), *doc.get("completedapps", [])]
        if not apps:
            raise ClusterError(f"No application has run on {self.master_url} yet.")
        latest: dict[str, Any] = max(apps, key=lambda app: app["starttime"])
        return latest

    def executor_logs(self, app_id: str) -> dict[str, Path]:
        """``{worker: stderr}`` of every executor the workers launched for ``app_id``."""
        logs = {}
        for daemon in self._daemons:
            if daemon.work_dir is None:
                continue
            for stderr in sorted((daemon.work_dir / app_id).glob("*/stderr")):
                logs[f"{daemon.name}/{stderr.parent.name}"] = stderr
        return logs

    def pids(self) -> list[int]:
        """Process ids of the running daemons (each leads its own process group)."""
        return [d.process.pid for d in self._daemons]

    # -- helpers -------------------------------------------------------------------
    def _spawn(self, name: str, main: str, *args: str, work_dir: Optional[Path] = None) -> _Daemon:
        from featurekit.core.java import ensure_java

        ensure_java()
        home = spark_home()
        local = self.base / "local"  # the executors' scratch folders, under base too
        local.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "SPARK_HOME": str(home),
            "SPARK_LOCAL_IP": self.config.host,
            "SPARK_DAEMON_MEMORY": self.config.daemon_memory,
            "SPARK_LOCAL_DIRS": str(local),
        }
        env.pop("PYTHONPATH", None)
        log = self.base / f"{name}.log"
        command = [str(home / "bin" / "spark-class"), main, "--host", self.config.host, *args]
        with log.open("wb") as out:
            # A new session per daemon: stop() ends its whole group, children included.
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        daemon = _Daemon(name, process, log, work_dir)
        self._daemons.append(daemon)
        return daemon

    def _wait_for(self, daemon: _Daemon, pattern: re.Pattern[str]) -> str:
        deadline = time.monotonic() + self.config.start_timeout
        while time.monotonic() < deadline:
            match = pattern.search(daemon.log.read_text(errors="replace"))
            if match:
                return match.group(1).rstrip(".,")
            if daemon.process.poll() is not None:
                raise ClusterError(_died(daemon))
            time.sleep(0.2)
        raise ClusterError(
            f"The Spark {daemon.name} did not report {pattern.pattern!r} within "
            f"{self.config.start_timeout:.0f} s; see {daemon.log} (a slow machine: raise "
            "ClusterConfig.start_timeout)."
        )

    def _wait_for_workers(self) -> None:
        deadline = time.monotonic() + self.config.start_timeout
        alive = 0
        while time.monotonic() < deadline:
            for daemon in self._daemons:
                if daemon.process.poll() is not None:
                    raise ClusterError(_died(daemon))
            alive = sum(w.get("state") == "ALIVE" for w in self.state().get("workers", []))
            if alive >= self.config.workers:
                return
            time.sleep(0.3)
        raise ClusterError(
            f"Only {alive} of {self.config.workers} workers registered with {self.master_url} "
            f"within {self.config.start_timeout:.0f} s; see the worker logs in {self.base}."
        )


def _died(daemon: _Daemon) -> str:
    tail = _tail(daemon.log)
    return (
        f"The Spark {daemon.name} exited with code {daemon.process.returncode} while starting; "
        f"its log {daemon.log} ends with:\n{tail}\nCheck that Java 17+ runs and that "
        "pyspark's bin/spark-class is intact (reinstall pyspark)."
    )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _end_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the process group of ``process``, SIGKILL it after ``grace`` seconds."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    _signal_group(process, signal.SIGKILL)  # leftovers of the group (executors)
    process.wait()
    deadline = time.monotonic() + grace
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)  # killed members vanish once their parent (or init) reaps them


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or the id now names another's group
        return False
    return True


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


__all__ = ["ClusterConfig", "StandaloneCluster", "spark_home"]
