"""``awsgluedq.transforms`` for local runs: Glue Studio's data-quality node, on Deequ.

``EvaluateDataQuality`` evaluates a DQDL ruleset with the same engine featurekit's own
rulesets use (:mod:`featurekit.quality`, Deequ's DQDL engine), so a Studio script with a
data-quality node runs unmodified:

* ``EvaluateDataQuality().process_rows(frame=, ruleset=, publishing_options=,
  additional_options=)`` returns a DynamicFrameCollection with ``ruleOutcomes`` (one row
  per rule: Rule, Outcome, FailureReason, EvaluatedMetrics) and ``rowLevelOutcomes`` (the
  frame's rows with DataQualityRulesPass/Fail/Skip and DataQualityEvaluationResult);
* ``EvaluateDataQuality.apply(frame=, ruleset=, publishing_options=)`` returns the rule
  outcomes as a DynamicFrame.

Deequ must be on the classpath (``featurekit glue run`` adds it); on a Spark line Deequ
has no build for, evaluating raises a clear error, never a silent pass.

Example::

    from awsgluedq.transforms import EvaluateDataQuality
    out = EvaluateDataQuality().process_rows(frame=dyf, ruleset="Rules = [IsComplete \\"id\\"]")
    rows = SelectFromCollection.apply(dfc=out, key="rowLevelOutcomes")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from featurekit.errors import ConfigError

# Glue's additional_options of the node; they tune Glue's own execution (caching,
# observations) and leave the outcomes as they are, so locally they are accepted as given.
ADDITIONAL_OPTIONS = (
    "dataQualityResultsPublishing.strategy",
    "observations.scope",
    "performanceTuning.caching",
    "compositeRuleEvaluation.method",
)


def _collections(frame: Any, ruleset: str, publishing_options: Optional[Mapping[str, Any]]) -> Any:
    from featurekit.glue_local.collection import DynamicFrameCollection
    from featurekit.glue_local.dynamicframe import DynamicFrame
    from featurekit.quality.glue import evaluate_data_quality

    if not isinstance(frame, DynamicFrame):
        raise TypeError(f"EvaluateDataQuality: frame must be a DynamicFrame, got {type(frame)}.")
    outcomes = evaluate_data_quality(frame.toDF(), ruleset, publishing_options)
    frames = {k: DynamicFrame.fromDF(df, frame.glue_ctx, k) for k, df in outcomes.items()}
    return DynamicFrameCollection(frames, frame.glue_ctx)


class EvaluateDataQuality:
    """Glue's data-quality transform, evaluated by Deequ's DQDL engine."""

    @classmethod
    def apply(
        cls,
        frame: Any,
        ruleset: str,
        publishing_options: Optional[Mapping[str, Any]] = None,
        **kwargs: Any,
    ) -> Any:
        """The rule outcomes of ``ruleset`` on ``frame``, as a DynamicFrame."""
        cls._check(kwargs)
        return _collections(frame, ruleset, publishing_options).select("ruleOutcomes")

    def process_rows(
        self,
        frame: Any,
        ruleset: str,
        publishing_options: Optional[Mapping[str, Any]] = None,
        additional_options: Optional[Mapping[str, Any]] = None,
        **kwargs: Any,
    ) -> Any:
        """``ruleOutcomes`` and ``rowLevelOutcomes`` of ``ruleset`` on ``frame``."""
        self._check(kwargs)
        unknown = sorted(set(additional_options or {}) - set(ADDITIONAL_OPTIONS))
        if unknown:
            raise ConfigError(
                f"EvaluateDataQuality additional_options {unknown} are not known; Glue's are "
                f"{', '.join(ADDITIONAL_OPTIONS)}."
            )
        return _collections(frame, ruleset, publishing_options)

    @staticmethod
    def _check(kwargs: Mapping[str, Any]) -> None:
        extra = sorted(
            set(kwargs) - {"transformation_ctx", "info", "stageThreshold", "totalThreshold"}
        )
        if extra:
            raise ConfigError(f"EvaluateDataQuality got unexpected arguments {extra}.")
