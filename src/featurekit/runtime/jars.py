"""Deprecated: JVM package resolution moved to :mod:`featurekit.core.jars` (the ground
floor every layer may use). This module goes in 0.3."""

from __future__ import annotations

import warnings

from featurekit.core.jars import *  # noqa: F403

warnings.warn(
    "featurekit.runtime.jars is deprecated: use featurekit.core.jars",
    DeprecationWarning,
    stacklevel=2,
)
