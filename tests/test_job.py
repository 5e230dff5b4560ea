"""Job declarations are checked when the class is defined."""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.errors import ConfigError
from featurekit.job import declaration_problems, make_context
from featurekit.rulesets import Ruleset

OUT = FeatureTable("features.t", keys=("k",), date_column="d", columns={"k": "string", "d": "date"})


def test_transform_keywords_must_match_inputs() -> None:
    with pytest.raises(ConfigError, match="transform\\(\\) takes inputs \\['evnts'\\]"):

        class Bad(FeatureJob):
            name = "bad"
            inputs = {"events": TableInput("raw.events")}
            output = OUT

            def transform(self, ctx: JobContext, evnts: DataFrame) -> DataFrame:
                return evnts


def test_output_must_be_declared() -> None:
    with pytest.raises(ConfigError, match="output = FeatureTable"):

        class NoOutput(FeatureJob):
            name = "no_output"

            def transform(self, ctx: JobContext) -> DataFrame:
                raise AssertionError("never called")


def test_a_base_class_without_a_name_is_told_to_declare_itself_abstract() -> None:
    with pytest.raises(ConfigError, match=r"got None \(a base class other jobs extend"):

        class Shared(FeatureJob):
            output = OUT

            def transform(self, ctx: JobContext) -> DataFrame:
                raise AssertionError("never called")

    class SharedBase(FeatureJob):
        abstract = True
        output = OUT

        def transform(self, ctx: JobContext) -> DataFrame:
            raise AssertionError("never called")

    class Concrete(SharedBase):
        name = "concrete"

    assert Concrete.name == "concrete"


def test_name_must_be_an_identifier() -> None:
    with pytest.raises(ConfigError, match="valid identifier"):

        class BadName(FeatureJob):
            name = "bad-name"
            output = OUT

            def transform(self, ctx: JobContext) -> DataFrame:
                raise AssertionError("never called")


def test_context_dates_are_inclusive() -> None:
    class Ok(FeatureJob):
        name = "ok"
        output = OUT

        def transform(self, ctx: JobContext) -> DataFrame:
            raise AssertionError("never called")

    import datetime as dt

    ctx = make_context(Ok, "local", start=dt.date(2024, 2, 28), end=dt.date(2024, 3, 1))
    assert [d.isoformat() for d in ctx.dates()] == ["2024-02-28", "2024-02-29", "2024-03-01"]
    with pytest.raises(ConfigError, match="after --end"):
        make_context(Ok, "local", start=dt.date(2024, 3, 2), end=dt.date(2024, 3, 1))


def test_a_dqdl_typo_fails_when_the_job_is_declared(no_spark: None) -> None:
    with pytest.raises(ConfigError, match="did you mean 'ColumnValues'\\?"):

        class Typo(FeatureJob):
            name = "typo"
            output = FeatureTable(
                "features.t", keys=("k",), date_column="d", columns={"k": "string", "d": "date"},
                quality=(Ruleset('Rules = [ ColumValues "k" > 0 ]'),),
            )  # fmt: skip

            def transform(self, ctx: JobContext) -> DataFrame:
                raise AssertionError("never called")


def test_declaration_problems_finds_a_ruleset_changed_after_the_class() -> None:
    ruleset = Ruleset('Rules = [ IsComplete "k" ]')

    class Later(FeatureJob):
        name = "later"
        inputs = {"events": TableInput("raw.events", quality=(ruleset,))}
        output = FeatureTable(
            "features.t", keys=("k",), date_column="d", columns={"k": "string", "d": "date"},
            quality=(ruleset,),
        )  # fmt: skip

        def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
            raise AssertionError("never called")

    assert declaration_problems(Later) == []
    object.__setattr__(ruleset, "dqdl", 'Rules = [ IsComplet "k" ]')  # bypasses its check
    assert declaration_problems(Later) == [
        "Job class Later: ruleset 'output#0': unknown rule type 'IsComplet' in rule "
        "'IsComplet \"k\"'; did you mean 'IsComplete'?"
    ]
