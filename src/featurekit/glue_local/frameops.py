"""The DynamicFrame methods that reshape whole frames: split, unnest, relationalize, join,
union, partitioning, spigot and write (a mixin of :class:`DynamicFrame`).

Example::

    dfc = dyf.split_rows({"age": {">": 18}}, "adults", "minors")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, Optional, TypeVar, Union

import featurekit.glue_local.shapes as shapes
from featurekit.glue_local._support import unsupported

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

Paths = Union[str, Sequence[str]]
# The frame class (DynamicFrame) and the collection class (DynamicFrameCollection) the
# mixin works with; both are defined in featurekit.glue_local.dynamicframe, above this module.
Frame = TypeVar("Frame", bound="FrameOps[Any]")
Collection = TypeVar("Collection")


def _as_list(paths: Paths) -> list[str]:
    return [paths] if isinstance(paths, str) else list(paths)


class FrameOps(Generic[Collection]):
    """Frame-level methods; the DynamicFrame supplies the records, ``_new`` and
    ``_collection`` (which makes the DynamicFrameCollection split and relationalize return)."""

    _df: DataFrame
    glue_ctx: Any
    name: str

    def _new(self: Frame, df: DataFrame, name: Optional[str] = None) -> Frame:
        raise NotImplementedError

    def _collection(self, frames: dict[str, Any]) -> Collection:
        raise NotImplementedError

    def select_fields(self: Frame, paths: Paths, *args: Any, **kwargs: Any) -> Frame:
        raise NotImplementedError

    def drop_fields(self: Frame, paths: Paths, *args: Any, **kwargs: Any) -> Frame:
        raise NotImplementedError

    def split_fields(
        self,
        paths: Paths,
        name1: str,
        name2: str,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Collection:
        """{name1: the given fields, name2: the rest}."""
        chosen = self.select_fields(paths)
        rest = self.drop_fields(paths)
        return self._collection(
            {name1: chosen._new(chosen._df, name1), name2: rest._new(rest._df, name2)}
        )

    def split_rows(
        self,
        comparison_dict: dict[str, dict[str, Any]],
        name1: str,
        name2: str,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Collection:
        """{name1: rows meeting every comparison ({"age": {">": 10}}), name2: the others}."""
        test = shapes.rows_condition(self._df, comparison_dict)
        return self._collection(
            {
                name1: self._new(self._df.where(test), name1),
                name2: self._new(self._df.where(~test), name2),
            }
        )

    def unnest(
        self: Frame,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        """Struct fields become top-level fields named by their path (``address.city``)."""
        return self._new(shapes.unnest(self._df))

    def unnest_ddb_json(
        self: Frame,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        """The DynamoDB export connector's ``Item`` struct of type descriptors as plain
        columns (:func:`featurekit.glue_local.dynamodb.unnest_frame`)."""
        from featurekit.glue_local.dynamodb import unnest_frame

        return self._new(unnest_frame(self._df))

    def relationalize(
        self,
        root_table_name: str,
        staging_path: str,
        options: Optional[dict[str, Any]] = None,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Collection:
        """Flatten structs and pivot arrays into frames ``ROOT`` and ``ROOT_PATH`` (joined on ids).

        ``staging_path`` is accepted and not written to (nothing is staged locally).
        """
        if options:
            unsupported("relationalize options", "relationalize(root_table_name, staging_path)")
        frames = shapes.relationalize(self._df, root_table_name)
        return self._collection({name: self._new(df, name) for name, df in frames.items()})

    # -- frame-level ----------------------------------------------------------------
    def join(
        self: Frame,
        paths1: Paths,
        paths2: Paths,
        frame2: Frame,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        """Equijoin with ``frame2``; frame2's fields whose names frame1 has become ``.name``."""
        joined = shapes.glue_join(self._df, frame2._df, _as_list(paths1), _as_list(paths2))
        return self._new(joined, self.name + frame2.name)

    def union(
        self: Frame,
        other_frame: Frame,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        """All records of both frames, matched by field name (missing fields are null)."""
        df = self._df.unionByName(other_frame._df, allowMissingColumns=True)
        return self._new(df)

    def repartition(
        self: Frame,
        num_partitions: int,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return self._new(self._df.repartition(num_partitions))

    def coalesce(
        self: Frame,
        num_partitions: int,
        shuffle: bool = False,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        df = self._df.repartition(num_partitions) if shuffle else self._df.coalesce(num_partitions)
        return self._new(df)

    def spigot(
        self: Frame,
        path: str,
        options: Optional[dict[str, Any]] = None,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        """Write a sample (``topk``: the first k records, default 100; ``prob``: each record
        with that probability) as JSON under ``path``; returns this frame unchanged."""
        from featurekit.glue_local.fields import spigot_sample

        sample = spigot_sample(self._df, dict(options or {}))
        self.glue_ctx.write_dynamic_frame.from_options(
            self._new(sample), "s3", {"path": path}, "json"
        )
        return self._new(self._df)

    def write(
        self: Frame,
        connection_type: str,
        connection_options: Optional[dict[str, Any]] = None,
        format: Optional[str] = None,
        format_options: Optional[dict[str, Any]] = None,
        accumulator_size: int = 0,
    ) -> Frame:
        result: Frame = self.glue_ctx.write_dynamic_frame.from_options(
            self, connection_type, connection_options, format, format_options
        )
        return result
