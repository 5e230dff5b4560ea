"""``featurekit ARGS`` that hangs when a phase begins, for the kill-at-every-phase and
retry tests: phase_kill_run.py PHASE MARKER [--until FILE] ARGS...

When the run reaches PHASE (a phase of its record: read, transform, write, validate,
commit, or an incremental batch's pending, partials_committed, output_committed), the
record is stored as usual (it names PHASE), then MARKER is created and the process
sleeps (so a test kills it there with SIGKILL), or with ``--until FILE`` waits for FILE
to exist and goes on.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from featurekit.cli import main
from featurekit.runs import RunRecord


def hang_at(phase: str, marker: str, until: str = "") -> None:
    begin = RunRecord.begin

    def begin_then_hang(self: RunRecord, name: str) -> None:
        begin(self, name)
        if name == phase:
            Path(marker).touch()
            deadline = time.monotonic() + 1800
            while time.monotonic() < deadline and not (until and Path(until).exists()):
                time.sleep(0.2)

    RunRecord.begin = begin_then_hang  # type: ignore[method-assign]


if __name__ == "__main__":
    phase, marker, *args = sys.argv[1:]
    until = ""
    if args[:1] == ["--until"]:
        until, args = args[1], args[2:]
    hang_at(phase, marker, until)
    sys.exit(main(args))
