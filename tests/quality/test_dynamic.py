"""Dynamic rules (``last(k)``) resolved from earlier run records."""

from __future__ import annotations

from typing import Any

from featurekit.quality.dynamic import resolve, split_rules


def record(rows: float, status: str = "succeeded") -> dict[str, Any]:
    outcome = {
        "rule": "RowCount > avg(last(2))",
        "target": "output",
        "metrics": {"Dataset.*.RowCount": rows},
    }
    return {"status": status, "quality": [outcome]}


def test_split_rules_keeps_quoted_commas_and_lists() -> None:
    head, rules, tail = split_rules('Rules = [ ColumnValues "a,b" in [1,2], RowCount > 0 ]')
    assert head == "Rules = ["
    assert rules == ['ColumnValues "a,b" in [1,2]', "RowCount > 0"]
    assert tail == "]"


def test_last_k_is_computed_from_the_newest_succeeded_runs() -> None:
    history = [record(10), record(99, status="failed"), record(20), record(30)]
    got = resolve('Rules = [ RowCount > avg(last(2)), IsComplete "id" ]', "output", history)
    assert got.dqdl == 'Rules = [ RowCount > 15.0, IsComplete "id" ]'
    assert got.original == {"RowCount > 15.0": "RowCount > avg(last(2))"}
    assert got.skipped == {}


def test_without_history_the_rule_only_measures_and_is_skipped() -> None:
    got = resolve("Rules = [ RowCount > avg(last(2)) ]", "output", [])
    _, rules, _ = split_rules(got.dqdl)
    assert rules == ["RowCount between -999999999999999999.0 and 999999999999999999.0"]
    assert "no previous run" in got.skipped[rules[0]]
