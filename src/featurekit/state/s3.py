"""Deprecated: the state stores are parts of Storage, in
:mod:`featurekit.storage.s3_state`. This module goes in 0.3."""

from __future__ import annotations

import warnings

from featurekit.storage.s3_state import DEFAULT_LEASE_SECONDS, S3StateStore, split_s3_uri

warnings.warn(
    "featurekit.state.s3 is deprecated: use featurekit.storage.s3_state",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["DEFAULT_LEASE_SECONDS", "S3StateStore", "split_s3_uri"]
