"""Rulesets declared with a job: DQDL text, a severity, and what to do with failing rows.

Example::

    output = FeatureTable(
        "features.user_activity_daily", ...,
        quality=(
            Ruleset('Rules = [ IsComplete "user_id", IsPrimaryKey "user_id" "feature_date" ]'),
            Ruleset('Rules = [ ColumnValues "views_1d" >= 0 ]', on_failing_rows="drop"),
            Ruleset('Rules = [ RowCount > 100 ]', severity="warn"),
        ),
    )
    fresh = Ruleset('Rules = [ DataFreshness "ts" <= 2 days ]')
    events = TableInput("raw.events", quality=(fresh,))
"""

from __future__ import annotations

from dataclasses import dataclass

from featurekit.errors import ConfigError

SEVERITIES = ("fail", "warn")
ROW_ACTIONS = ("keep", "quarantine", "drop")


@dataclass(frozen=True)
class Ruleset:
    """A DQDL ruleset (``Rules = [ ... ]``) with its severity.

    * ``severity``: ``"fail"`` fails the run before anything is committed when a rule
      fails; ``"warn"`` records the failure as a warning of the run;
    * ``on_failing_rows`` (output rulesets): ``"keep"`` writes every row; ``"quarantine"``
      also copies rows that fail a row-level rule to ``<table>__quarantine``; ``"drop"``
      moves them there, so the output gets only passing rows. Rules whose failing rows
      were dropped do not fail the run: the rows that failed them are not in the output.
    * ``name``: how the run record and ``featurekit quality show`` call it.
    """

    dqdl: str
    severity: str = "fail"
    on_failing_rows: str = "keep"
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.dqdl, str) or "rules" not in self.dqdl.lower():
            raise ConfigError(
                f"A Ruleset takes DQDL text like 'Rules = [ IsComplete \"id\" ]', got "
                f"{self.dqdl!r}."
            )
        if self.severity not in SEVERITIES:
            raise ConfigError(
                f"Ruleset severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}."
            )
        if self.on_failing_rows not in ROW_ACTIONS:
            raise ConfigError(
                f"Ruleset on_failing_rows must be one of {', '.join(ROW_ACTIONS)}, got "
                f"{self.on_failing_rows!r}."
            )

    @property
    def quarantines(self) -> bool:
        return self.on_failing_rows != "keep"


def check_rulesets(owner: str, rulesets: object, *, output: bool) -> tuple[Ruleset, ...]:
    """``rulesets`` as a tuple of Ruleset; a bare Ruleset or DQDL string is accepted."""
    if isinstance(rulesets, (Ruleset, str)):
        rulesets = (rulesets,)
    if not isinstance(rulesets, (tuple, list)):
        raise TypeError(f"{owner}: quality must be a Ruleset or a tuple of them, got {rulesets!r}.")
    result = tuple(Ruleset(r) if isinstance(r, str) else r for r in rulesets)
    for ruleset in result:
        if not isinstance(ruleset, Ruleset):
            raise TypeError(f"{owner}: quality holds {ruleset!r}, not a Ruleset.")
        if ruleset.quarantines and not output:
            raise ConfigError(
                f"{owner}: on_failing_rows={ruleset.on_failing_rows!r} applies to output "
                "rulesets only; an input's rulesets check it (severity fail or warn)."
            )
    return result
