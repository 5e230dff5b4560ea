"""Deprecated: :class:`Ruleset` is declared in :mod:`featurekit.rulesets`; import it from
:mod:`featurekit.quality` (or :mod:`featurekit.rulesets`). This module goes in 0.3."""

from __future__ import annotations

import warnings

from featurekit.rulesets import ROW_ACTIONS, SEVERITIES, Ruleset, check_rulesets

warnings.warn(
    "featurekit.quality.rules is deprecated: import Ruleset from featurekit.quality",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["ROW_ACTIONS", "SEVERITIES", "Ruleset", "check_rulesets"]
