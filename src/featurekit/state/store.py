"""Deprecated: the state stores are parts of Storage, in
:mod:`featurekit.storage.state_store`. This module goes in 0.3."""

from __future__ import annotations

import warnings

from featurekit.storage.state_store import LocalStateStore, StateStore, Stored, check_key

warnings.warn(
    "featurekit.state.store is deprecated: use featurekit.storage.state_store",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["LocalStateStore", "StateStore", "Stored", "check_key"]
