"""``awsgluedq.transforms`` for local runs: Glue Studio's data-quality node imports, never passes.

Glue Studio scripts import ``EvaluateDataQuality`` (and often evaluate a default
ruleset before the sink). Evaluating DQDL needs Deequ's rule engine, which featurekit
does not run locally yet: ``apply`` / ``process_rows`` / ``evaluate`` raise
UnsupportedError naming that, so a script never passes checks it did not run.

Example::

    from awsgluedq.transforms import EvaluateDataQuality   # imports fine
    EvaluateDataQuality().process_rows(frame=dyf, ruleset=RULES)  # UnsupportedError
"""

from __future__ import annotations

from typing import Any, NoReturn

from featurekit.errors import UnsupportedError

MISSING = (
    "Glue Data Quality (EvaluateDataQuality: DQDL rules evaluated by Deequ) is not run by "
    "featurekit's local awsglue emulation yet. Remove the data-quality node (or guard it) to "
    "run this script locally, or run it on AWS Glue."
)


def _refuse(call: str) -> NoReturn:
    raise UnsupportedError(f"EvaluateDataQuality.{call}: {MISSING}")


class EvaluateDataQuality:
    """Glue's data-quality transform: importable; evaluating raises UnsupportedError."""

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        _refuse("apply")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _refuse("__call__")

    def process_rows(self, *args: Any, **kwargs: Any) -> Any:
        _refuse("process_rows")

    def evaluate(self, *args: Any, **kwargs: Any) -> Any:
        _refuse("evaluate")
