"""Incremental state (featurekit's own bookmarks), identical on every runtime.

What is stored for a job (its ``JobState``, held under its lock by ``StateSession``) and
which input units are new (``featurekit.state.units``). The stores themselves are parts of
:class:`featurekit.storage.Storage` (``storage.state_store``): a folder in the warehouse or
an S3 prefix (``featurekit.storage.state_store``, ``featurekit.storage.s3_state``).
"""

from __future__ import annotations

from featurekit.state.session import JobState, StateSession, app_id
from featurekit.storage import open_state_store
from featurekit.storage.state_store import LocalStateStore, StateStore, Stored

__all__ = [
    "JobState",
    "LocalStateStore",
    "StateSession",
    "StateStore",
    "Stored",
    "app_id",
    "open_state_store",
]
