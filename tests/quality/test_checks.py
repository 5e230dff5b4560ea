"""Which rules the output contract settles (the rules' text only), and how the rows failing
each row-level rule are counted on the quarantine rows."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession

from featurekit.quality.checks import (
    CONTRACT,
    RULES_COLUMN,
    contract_outcome,
    failing_row_counts,
    record_failing_rows,
    row_level_rules,
    settled_rules,
)
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


def test_failing_rows_counted_on_quarantine_rows_as_an_exploding_count_does(
    spark: SparkSession,
) -> None:
    from pyspark.sql import functions as F

    rules = ['ColumnValues "v" >= 0', 'IsComplete "k"', "RowCount > 0"]
    rows = [
        ("a", [rules[0]]),
        ("b", [rules[0], rules[1]]),
        ("c", [rules[0], rules[0]]),  # two rulesets with the same rule: counted twice
        ("d", [rules[1]]),
    ]
    quarantine = spark.createDataFrame(rows, f"k string, {RULES_COLUMN} array<string>")
    counted = quarantine.agg(*failing_row_counts(rules)).first()
    assert counted is not None
    exploded = {
        r["rule"]: r["n"]
        for r in quarantine.select(F.explode(RULES_COLUMN).alias("rule"))
        .groupBy("rule")
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    }
    assert [counted[f"rule_{i}"] for i in range(3)] == [exploded.get(r, 0) for r in rules]
    assert [counted[f"rule_{i}"] for i in range(3)] == [4, 2, 0]
    empty = quarantine.where("k = 'none'").agg(*failing_row_counts(rules)).first()
    assert empty is not None
    assert [empty[f"rule_{i}"] for i in range(3)] == [0, 0, 0]


def test_dropped_rules_are_handled_once_their_failing_rows_are_known() -> None:
    drop = Ruleset('Rules = [ ColumnValues "v" >= 0 ]', on_failing_rows="drop", name="d")
    keep = Ruleset("Rules = [ RowCount > 0 ]", name="k")
    outcomes = [
        {"ruleset": "d", "evaluated_rule": 'ColumnValues "v" >= 0', "handled": False},
        {"ruleset": "k", "evaluated_rule": "RowCount > 0", "handled": False},
    ]
    assert row_level_rules(outcomes, [drop, keep]) == ['ColumnValues "v" >= 0']
    record_failing_rows(outcomes, [drop, keep], {'ColumnValues "v" >= 0': 3})
    assert (outcomes[0]["failing_rows"], outcomes[0]["handled"]) == (3, True)
    assert "failing_rows" not in outcomes[1]
