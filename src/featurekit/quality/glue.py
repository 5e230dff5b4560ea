"""Glue Studio's Evaluate Data Quality node on Deequ's engine, for the Glue emulation.

``awsgluedq.transforms.EvaluateDataQuality().process_rows(frame, ruleset=...,
publishing_options=...)`` returns a DynamicFrameCollection keyed ``ruleOutcomes`` and
``rowLevelOutcomes``; :func:`evaluate_data_quality` computes the same two DataFrames with
Glue's column names (the shim in :mod:`featurekit.glue_local` wraps them in frames).

Example::

    results = evaluate_data_quality(df, 'Rules = [ IsComplete "id" ]',
                                    {"dataQualityEvaluationContext": "orders_dq"})
    results["ruleOutcomes"].show()   # Rule, Outcome, FailureReason, EvaluatedMetrics, ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from featurekit.errors import ConfigError, UnsupportedError
from featurekit.quality.engine import evaluate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

RULE_OUTCOMES = "ruleOutcomes"
ROW_LEVEL_OUTCOMES = "rowLevelOutcomes"
# Glue's publishing options. Results publishing (Glue's Data Quality console) has no local
# counterpart: accepted and documented; resultsS3Prefix is honoured (JSON of the outcomes).
PUBLISHING_OPTIONS = (
    "dataQualityEvaluationContext",
    "enableDataQualityCloudWatchMetrics",
    "enableDataQualityResultsPublishing",
    "resultsS3Prefix",
    "observations.scope",
)


def evaluate_data_quality(
    frame_df: DataFrame, ruleset: str, publishing_options: Optional[Mapping[str, Any]] = None
) -> dict[str, DataFrame]:
    """``{"ruleOutcomes": ..., "rowLevelOutcomes": ...}`` for ``ruleset`` on ``frame_df``."""
    options = dict(publishing_options or {})
    unknown = sorted(set(options) - set(PUBLISHING_OPTIONS))
    if unknown:
        raise ConfigError(
            f"Unknown EvaluateDataQuality publishing_options {unknown}; Glue knows "
            f"{', '.join(PUBLISHING_OPTIONS)}."
        )
    if options.get("enableDataQualityCloudWatchMetrics"):
        raise UnsupportedError(
            "EvaluateDataQuality: enableDataQualityCloudWatchMetrics=True publishes to "
            "CloudWatch, which featurekit's Glue emulation does not reach; set it False "
            "locally (the outcomes are in the returned ruleOutcomes)."
        )
    result = evaluate(frame_df, ruleset)
    outcomes = result.rule_outcomes
    prefix = options.get("resultsS3Prefix")
    if prefix:
        context = str(options.get("dataQualityEvaluationContext") or "default")
        outcomes.write.mode("append").json(f"{str(prefix).rstrip('/')}/{context}")
    return {RULE_OUTCOMES: outcomes, ROW_LEVEL_OUTCOMES: result.row_level}
