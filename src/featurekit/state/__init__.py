"""Incremental state (featurekit's own bookmarks), identical on every runtime.

``open_state_store(None, warehouse)`` is the store in ``WAREHOUSE/_state`` (S3 for an S3 warehouse);
``open_state_store("s3://bucket/prefix", warehouse)`` the S3 store (boto3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from featurekit.state.session import JobState, StateSession, app_id
from featurekit.state.store import LocalStateStore, StateStore, Stored

if TYPE_CHECKING:
    from featurekit.warehouse import Warehouse

__all__ = [
    "JobState",
    "LocalStateStore",
    "StateSession",
    "StateStore",
    "Stored",
    "app_id",
    "open_state_store",
]


def open_state_store(
    location: Optional[str], warehouse: Warehouse, *, s3_client: Any = None
) -> StateStore:
    """The store at ``location``: None (the warehouse's ``_state``), ``s3://...`` or a folder.

    An S3 store uses ``s3_client``, else the S3 warehouse's client, else boto3's default.
    """
    if location is None and warehouse.remote:
        location = f"{warehouse.uri}/_state"
    if location is None:
        return LocalStateStore(warehouse.root / "_state")
    if location.startswith("s3://"):
        from featurekit.state.s3 import S3StateStore
        from featurekit.warehouse import S3Warehouse

        if s3_client is None and isinstance(warehouse, S3Warehouse):
            s3_client = warehouse.client
        if s3_client is not None:
            return S3StateStore(s3_client, location)
        return S3StateStore.from_uri(location)
    return LocalStateStore(warehouse.resolve(location))
