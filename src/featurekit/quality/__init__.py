"""Data quality: DQDL rulesets on a job's inputs and output, evaluated by Deequ's DQDL
engine (the open-source engine of AWS Glue Data Quality) wherever the job runs, with rows
that fail row-level rules kept in a quarantine Delta table. See docs/quality.md.

Example::

    from featurekit.quality import Ruleset

    output = FeatureTable(..., quality=(Ruleset('Rules = [ IsComplete "user_id" ]'),))
"""

from __future__ import annotations

from featurekit.rulesets import Ruleset

__all__ = ["Ruleset"]
