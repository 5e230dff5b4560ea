"""Which rules the output contract settles (no Spark: the rules' text only)."""

from __future__ import annotations

import pytest

from featurekit.quality.checks import CONTRACT, contract_outcome, settled_rules
from featurekit.rulesets import Ruleset

KEYS = ("user_id", "feature_date")


@pytest.mark.parametrize(
    "rule",
    ['IsPrimaryKey "user_id" "feature_date"', 'IsPrimaryKey "feature_date"  "user_id"'],
)
def test_is_primary_key_over_exactly_the_keys_is_settled(rule: str) -> None:
    rest, proven = settled_rules(f'Rules = [ RowCount > 0, {rule}, IsComplete "x" ]', KEYS)
    assert proven == [rule]
    assert "IsPrimaryKey" not in rest
    assert rest == 'Rules = [ RowCount > 0, IsComplete "x" ]'


@pytest.mark.parametrize(
    "rule",
    [
        'IsPrimaryKey "user_id"',  # a subset: not unique by the contract
        'IsPrimaryKey "user_id" "feature_date" "x"',  # x may be null
        'IsPrimaryKey "user_id" "feature_date" where "x > 0"',
        'IsUnique "user_id"',
        'Uniqueness "user_id" "feature_date" > 0.5',
    ],
)
def test_other_rules_stay_with_deequ(rule: str) -> None:
    dqdl = f"Rules = [ {rule} ]"
    assert settled_rules(dqdl, KEYS) == (dqdl, [])


def test_nothing_is_settled_without_a_checked_contract() -> None:
    dqdl = 'Rules = [ IsPrimaryKey "user_id" "feature_date" ]'
    assert settled_rules(dqdl, ()) == (dqdl, [])


def test_a_ruleset_of_settled_rules_leaves_nothing_for_deequ() -> None:
    assert settled_rules('Rules = [ IsPrimaryKey "feature_date" "user_id" ]', KEYS) == (
        "",
        ['IsPrimaryKey "feature_date" "user_id"'],
    )


def test_a_settled_outcome_reads_like_deequs() -> None:
    rule = 'IsPrimaryKey "user_id" "feature_date"'
    outcome = contract_outcome(rule, Ruleset(f"Rules = [ {rule} ]", severity="warn"), "output", 0)
    assert outcome["outcome"] == "Passed"
    assert outcome["evaluated_by"] == CONTRACT
    assert outcome["ruleset"] == "output#0"
    assert outcome["severity"] == "warn"
    assert outcome["metrics"] == {
        "Multicolumn.user_id,feature_date.Uniqueness": 1.0,
        "Column.user_id.Completeness": 1.0,
        "Column.feature_date.Completeness": 1.0,
    }
