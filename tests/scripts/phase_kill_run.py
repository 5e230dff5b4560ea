"""``featurekit ARGS`` that hangs when a phase begins, for the kill-at-every-phase tests:
phase_kill_run.py PHASE MARKER ARGS...

When the run reaches PHASE (a phase of its record: read, transform, write, validate,
commit, or an incremental batch's pending, partials_committed, output_committed), the
record is stored as usual (it names PHASE), then MARKER is created and the process
sleeps, so the test kills it there with SIGKILL.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from featurekit.cli import main
from featurekit.runs import RunRecord


def hang_at(phase: str, marker: str) -> None:
    begin = RunRecord.begin

    def begin_then_hang(self: RunRecord, name: str) -> None:
        begin(self, name)
        if name == phase:
            Path(marker).touch()
            time.sleep(600)

    RunRecord.begin = begin_then_hang  # type: ignore[method-assign]


if __name__ == "__main__":
    hang_at(sys.argv[1], sys.argv[2])
    sys.exit(main(sys.argv[3:]))
