"""awsglue.transforms on plain pyspark: every awsglue 5.1 transform class, with ``apply``.

Each transform calls the DynamicFrame (or DynamicFrameCollection) method of the same
name, as awsglue does. ``Unbox`` is not emulated and raises UnsupportedError.

Example::

    out = ApplyMapping.apply(frame=dyf, mappings=[("a", "string", "a", "long")],
                             transformation_ctx="map")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.glue_local._support import unsupported
from featurekit.glue_local.collection import DynamicFrameCollection
from featurekit.glue_local.dynamicframe import DynamicFrame, Paths

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

Frame = DynamicFrame
Collection = DynamicFrameCollection


class GlueTransform:
    """Base of the transforms: ``Transform.apply(...)`` calls an instance."""

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        return cls()(*args, **kwargs)

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        unsupported(f"awsglue.transforms.{self.name()}", ", ".join(SUPPORTED))


class ApplyMapping(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        mappings: Sequence[Any],
        case_sensitive: bool = False,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return frame.apply_mapping(
            mappings, case_sensitive, transformation_ctx, info, stageThreshold, totalThreshold
        )


class SelectFields(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        paths: Paths,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return frame.select_fields(paths, transformation_ctx, info)


class DropFields(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        paths: Paths,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return frame.drop_fields(paths, transformation_ctx, info)


class RenameField(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        old_name: str,
        new_name: str,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return frame.rename_field(old_name, new_name, transformation_ctx, info)


class SplitFields(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        paths: Paths,
        name1: Optional[str] = None,
        name2: Optional[str] = None,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Collection:
        name1 = name1 or f"{frame.name}_split_fields_0"
        name2 = name2 or f"{frame.name}_split_fields_1"
        return frame.split_fields(paths, name1, name2, transformation_ctx, info)


class SplitRows(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        comparison_dict: dict[str, dict[str, Any]],
        name1: str = "frame1",
        name2: str = "frame2",
        transformation_ctx: str = "",
        info: Optional[str] = None,
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Collection:
        return frame.split_rows(comparison_dict, name1, name2, transformation_ctx)


class Join(GlueTransform):
    def __call__(
        self, frame1: Frame, frame2: Frame, keys1: Paths, keys2: Paths, transformation_ctx: str = ""
    ) -> Frame:
        return frame1.join(keys1, keys2, frame2, transformation_ctx)


class Spigot(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        path: str,
        options: Optional[dict[str, Any]] = None,
        transformation_ctx: str = "",
    ) -> Frame:
        return frame.spigot(path, options, transformation_ctx)


class Filter(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        f: Callable[[Any], Any],
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return frame.filter(f, transformation_ctx, info, stageThreshold, totalThreshold)


class Map(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        f: Callable[[Any], Any],
        preservesPartitioning: bool = False,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return frame.map(
            f, preservesPartitioning, transformation_ctx, info, stageThreshold, totalThreshold
        )


class ResolveChoice(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        specs: Optional[Sequence[tuple[str, str]]] = None,
        choice: str = "",
        database: Optional[str] = None,
        table_name: Optional[str] = None,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
        catalog_id: Optional[str] = None,
    ) -> Frame:
        return frame.resolveChoice(
            specs, choice, database, table_name, transformation_ctx, catalog_id=catalog_id
        )


class DropNullFields(GlueTransform):
    """Drop fields that are null in every record (Glue's schema types them NullType), in
    structs too (``owner.email``), as Glue walks into them; a struct whose fields are all
    dropped goes with them."""

    def __call__(
        self,
        frame: Frame,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        df = frame.toDF()
        if not df.columns:
            return frame
        return frame.drop_fields(null_paths(df), transformation_ctx, info)


def null_paths(df: DataFrame) -> list[str]:
    """The outermost fields of ``df`` (``a``, ``a.b`` inside struct ``a``: names quoted in
    backticks) that are null in every row, a struct counting as null when all its fields
    are: one aggregation over every field at every depth."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    fields: list[tuple[str, ...]] = []

    def walk(schema: StructType, path: tuple[str, ...]) -> None:
        for field in schema.fields:
            fields.append((*path, field.name))
            if isinstance(field.dataType, StructType):
                walk(field.dataType, (*path, field.name))

    walk(df.schema, ())

    def column(path: tuple[str, ...]) -> Any:
        return F.col(".".join(f"`{name}`" for name in path))

    counts = df.select(*[F.count(column(p)).alias(f"c{i}") for i, p in enumerate(fields)]).first()
    null = {p for i, p in enumerate(fields) if counts is None or counts[f"c{i}"] == 0}
    for path in sorted(fields, key=len, reverse=True):  # structs after their fields
        children = [p for p in fields if len(p) == len(path) + 1 and p[:-1] == path]
        if children and all(c in null for c in children):
            null.add(path)
    outermost = [p for p in null if not any(p[:n] in null for n in range(1, len(p)))]
    return [".".join(f"`{name}`" for name in p) for p in sorted(outermost)]


class UnnestFrame(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return frame.unnest(transformation_ctx, info)


class Relationalize(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        staging_path: Optional[str] = None,
        name: str = "roottable",
        options: Optional[dict[str, Any]] = None,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Collection:
        return frame.relationalize(name, staging_path or "", options, transformation_ctx)


class Repartition(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        num_partitions: int,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return frame.repartition(num_partitions, transformation_ctx)


class Coalesce(GlueTransform):
    def __call__(
        self,
        frame: Frame,
        num_partitions: int,
        shuffle: bool = False,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return frame.coalesce(num_partitions, shuffle, transformation_ctx)


class Union(GlueTransform):
    """``frame1.union(frame2)`` (awsglue 5.1's own Union.apply has a NameError; this one works)."""

    def __call__(
        self,
        frame1: Frame,
        frame2: Frame,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> Frame:
        return frame1.union(frame2, transformation_ctx)


class ErrorsAsDynamicFrame(GlueTransform):
    def __call__(self, frame: Frame) -> Frame:
        return frame.errorsAsDynamicFrame()


class SelectFromCollection(GlueTransform):
    def __call__(self, dfc: Collection, key: str, transformation_ctx: str = "") -> Frame:
        return dfc.select(key, transformation_ctx)


class MapToCollection(GlueTransform):
    def __call__(
        self, dfc: Collection, callable: Callable[[Frame, str], Frame], transformation_ctx: str = ""
    ) -> Collection:
        return dfc.map(callable, transformation_ctx)


class FlatMap(GlueTransform):
    """A transform on every frame of a collection: ``FlatMap.apply(dfc, Filter, "frame", f=f)``."""

    def __call__(
        self,
        dfc: Collection,
        BaseTransform: Any,
        frame_name: str,
        transformation_ctx: str = "",
        **base_kwargs: Any,
    ) -> Collection:
        def apply_inner(frame: Frame, ctx: str) -> Any:
            return BaseTransform.apply(
                **{**base_kwargs, frame_name: frame, "transformation_ctx": ctx}
            )

        return dfc.flatmap(apply_inner, transformation_ctx)


class Unbox(GlueTransform):
    """Not emulated: parsing a string field as JSON/CSV records raises UnsupportedError."""


SUPPORTED = (
    "ApplyMapping",
    "SelectFields",
    "DropFields",
    "RenameField",
    "SplitFields",
    "SplitRows",
    "Join",
    "Spigot",
    "Filter",
    "Map",
    "ResolveChoice",
    "DropNullFields",
    "UnnestFrame",
    "Relationalize",
    "Repartition",
    "Coalesce",
    "Union",
    "ErrorsAsDynamicFrame",
    "SelectFromCollection",
    "MapToCollection",
    "FlatMap",
)

__all__ = ["GlueTransform", *SUPPORTED, "Unbox"]
