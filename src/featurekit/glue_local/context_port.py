"""What the readers, writers and sinks use of the GlueContext that makes them.

A protocol, so :mod:`featurekit.glue_local.readers` and :mod:`featurekit.glue_local.sinks`
type their context without importing :mod:`featurekit.glue_local.context` (which imports
them); :class:`featurekit.glue_local.context.GlueContext` is the implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional, Protocol

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.glue_local.catalog import ScriptCatalog
    from featurekit.glue_local.choices import Choices
    from featurekit.storage import Storage
    from featurekit.warehouse import Warehouse


class ContextPort(Protocol):
    """The GlueContext's session, storage and catalog, and its two reads."""

    spark_session: SparkSession
    storage: Storage
    glue_catalog: ScriptCatalog

    @property
    def warehouse(self) -> Warehouse: ...

    @property
    def engine(self) -> Any: ...

    def _read_options(
        self,
        connection_type: str,
        options: Mapping[str, Any],
        fmt: Optional[str],
        format_options: Mapping[str, Any],
        ctx: str,
        predicate: str,
        kwargs: Mapping[str, Any],
        dynamic: bool = False,
    ) -> tuple[DataFrame, Choices]: ...

    def _read_catalog(
        self,
        db: str,
        table: str,
        ctx: str,
        predicate: str,
        additional: Mapping[str, Any],
        dynamic: bool = False,
    ) -> tuple[DataFrame, Choices]: ...
