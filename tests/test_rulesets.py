"""A Ruleset's DQDL is checked statically when it is declared: the ``Rules = [ ... ]``
section and every rule's type, with the closest rule type suggested."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from featurekit import FeatureTable, TableInput
from featurekit.errors import ConfigError
from featurekit.rulesets import RULE_TYPES, Ruleset, dqdl_problems

COLUMNS = {"k": "string", "d": "date", "x": "bigint"}


@pytest.mark.parametrize(
    "dqdl",
    [
        'Rules = [ IsComplete "k", IsPrimaryKey "k" "d" ]',
        'Rules = [ ColumnValues "a,b" in [1,2], RowCount > 0 ]',
        'Rules = [ DataFreshness "ts" <= 2 days ]',
        "Rules = [ RowCount >= 0.8 * avg(last(7)) ]",
        'Rules = [ (IsComplete "a") and (IsUnique "b") or (RowCount > 1) ]',
        'Rules = [ (IsComplete "a") and ColumnValues "x" between 1 and 5 ]',
        'Rules = [ (DataFreshness "ts" between (now() - 2 days) and now()) ]',
        'Rules = [ CustomSql "select count(*) from primary where a = \\"x, Foo ]\\"" > 0 ]',
        'Rules = [ ColumnValues "x" > 0 where "y > 1", Completeness "a" > 0.5 ]',
        'Metadata = { "Version": "1.0" }\nRules = [ # a comment, Foo\n RowCount > 0 ]\n'
        'Analyzers = [ AllStatistics "x" ]',
        "Rules = [ ]",
    ],
)
def test_valid_dqdl_passes(dqdl: str) -> None:
    assert dqdl_problems(dqdl) == []
    assert Ruleset(dqdl).dqdl == dqdl


def test_a_typo_names_the_ruleset_the_rule_and_the_closest_type() -> None:
    with pytest.raises(ConfigError) as caught:
        Ruleset('Rules = [ IsComplete "k", ColumValues "x" > 0 ]', name="positive")
    assert str(caught.value) == (
        "Ruleset 'positive': unknown rule type 'ColumValues' in rule 'ColumValues \"x\" > 0'; "
        "did you mean 'ColumnValues'?"
    )
    with pytest.raises(ConfigError, match=r"^Ruleset 'Rules = \[ ColumValues"):
        Ruleset('Rules = [ ColumValues "x" > 0 ]')  # no name: its text names it


def test_every_operand_of_a_composite_rule_is_checked() -> None:
    problems = dqdl_problems('Rules = [ (IsComplete "a") and (IsUniq "b") or (RowCnt > 1) ]')
    assert problems == [
        "unknown rule type 'IsUniq' in rule 'IsUniq \"b\"'; did you mean 'IsUnique'?",
        "unknown rule type 'RowCnt' in rule 'RowCnt > 1'; did you mean 'RowCount'?",
    ]


@pytest.mark.parametrize(
    ("dqdl", "problem"),
    [
        ('Rules = [ iscomplete "x" ]', "did you mean 'IsComplete'?"),
        ('Rules = [ Frobnicate "x" ]', "(DQDL's rule types: AggregateMatch, "),
        ('Rules = [ AllStatistics "x" ]', "is an analyzer: declare it in 'Analyzers"),
        ('Rules = [ "x" > 1 ]', "does not start with a rule type"),
        ("Rules = [ RowCount > 0, ]", "an empty rule (a ',' too many?)"),
        ("rules = [ RowCount > 0 ]", "'rules' is not DQDL; did you mean 'Rules'?"),
        ('IsComplete "x"', "no 'Rules = [ ... ]' section"),
        ("Rules = [ RowCount > 0 ", "section is not closed"),
        ('Rules = [ IsComplete "x ]', "a quoted string is not closed"),
        ("Rules = [ RowCount > 0 ] IsComplete", "unexpected 'IsComplete' after"),
    ],
)
def test_mistakes_are_named(dqdl: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Ruleset(dqdl)
    assert problem in str(caught.value)


def test_a_dqdl_string_in_a_table_is_checked_with_its_owner() -> None:
    with pytest.raises(ConfigError, match=r"^raw.events: Ruleset .*did you mean 'RowCount'\?"):
        TableInput("raw.events", quality="Rules = [ RowCont > 0 ]")
    with pytest.raises(ConfigError, match="did you mean 'IsComplete'"):
        FeatureTable(
            "f.t", keys=("k",), date_column="d", columns=COLUMNS,
            quality=(Ruleset('Rules = [ IsComplet "k" ]'),),
        )  # fmt: skip


def test_the_rule_types_are_those_of_the_dqdl_parser_featurekit_ships() -> None:
    """The parser's own list (rules/rules-config.json in software.amazon.glue:dqdl), when its
    jar is in Ivy's cache (``featurekit jars --quality``); analyzers are not rules."""
    jars = sorted(Path.home().glob(".ivy2*/jars/software.amazon.glue_dqdl-*.jar"))
    if not jars:
        pytest.skip("the DQDL parser's jar is not in Ivy's cache (featurekit jars --quality)")
    with zipfile.ZipFile(jars[0]) as jar:
        config = json.loads(jar.read("rules/rules-config.json"))
    rules = {t["rule_type_name"] for t in config["rule_types"] if not t.get("is_analyzer_only")}
    assert rules == RULE_TYPES
