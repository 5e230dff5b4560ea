"""Deprecated: backfills are plans of :mod:`featurekit.run` (:mod:`featurekit.run.backfill`,
:func:`featurekit.run.plan.plan_chunks`). This module goes in 0.3."""

from __future__ import annotations

import warnings

from featurekit.run.backfill import BackfillResult, Progress, backfill, backfill_key
from featurekit.run.plan import Chunk, plan_chunks

warnings.warn(
    "featurekit.backfill is deprecated: use featurekit.run.backfill",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["BackfillResult", "Chunk", "Progress", "backfill", "backfill_key", "plan_chunks"]
