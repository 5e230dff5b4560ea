"""A run that waited for a run of the same job and dates writes nothing only when that run
had its parameters: with other parameters its rows differ, so it runs its own."""

from __future__ import annotations

from typing import Any, Optional

from featurekit.run.keeper import RunKeeper
from featurekit.runs import RunRecord


class OneWaitLease:
    """Held by ``first`` at the first look, free at the second."""

    scope = {"table": "features.t", "start": "2026-01-01", "end": "2026-01-02"}
    seconds = 600.0

    def __init__(self) -> None:
        self.looks = 0

    def try_claim(self) -> Optional[dict[str, Any]]:
        self.looks += 1
        if self.looks == 1:
            return {"run_id": "first", "scope": dict(self.scope), "holder": {"host": "h"}}
        return None


class Records:
    def __init__(self, first: dict[str, Any]) -> None:
        self.first = first

    def run_record(self, job: str, run_id: str) -> Optional[dict[str, Any]]:
        return self.first if run_id == "first" else None


def record(params: dict[str, str]) -> RunRecord:
    return RunRecord(job="j", run_id="second", runtime="local", params=params,
                     start="2026-01-01", end="2026-01-02")  # fmt: skip


def claim(first_params: dict[str, str], params: dict[str, str]) -> Optional[str]:
    storage = Records({"run_id": "first", "status": "succeeded", "params": first_params})
    keeper = RunKeeper(storage, record(params), OneWaitLease(), lambda _line: None)  # type: ignore[arg-type]
    return keeper.claim(poll=0)


def test_the_same_parameters_make_a_duplicate() -> None:
    assert claim({"min_amount": "5.0"}, {"min_amount": "5.0"}) == "first"


def test_other_parameters_run_their_own_rows() -> None:
    assert claim({"min_amount": "0.0"}, {"min_amount": "50.0"}) is None
