"""Deprecated: a run is the pipeline of :mod:`featurekit.run` (plan, read, write, record).
This module goes in 0.3."""

from __future__ import annotations

import warnings

from featurekit.run import execute, new_record
from featurekit.run.plan import write_plan
from featurekit.run.write import shape_output

warnings.warn(
    "featurekit.lifecycle is deprecated: use featurekit.run (execute) and "
    "featurekit.run.write (shape_output)",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["execute", "new_record", "shape_output", "write_plan"]
