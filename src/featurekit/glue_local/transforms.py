"""awsglue.transforms on plain pyspark: the transform classes with ``apply`` (glue-5.1 signatures).

Supported: ApplyMapping, SelectFields, DropFields, RenameField, Filter, ResolveChoice,
DropNullFields, Join. The other awsglue 5.1 transform names exist (so
``from awsglue.transforms import *`` works) but raise UnsupportedError when applied.

Example::

    out = ApplyMapping.apply(frame=dyf, mappings=[("a", "string", "a", "long")],
                             transformation_ctx="map")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.glue_local._support import unsupported
from featurekit.glue_local.dynamicframe import DynamicFrame, Paths

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SUPPORTED = (
    "ApplyMapping",
    "SelectFields",
    "DropFields",
    "RenameField",
    "Filter",
    "ResolveChoice",
    "DropNullFields",
    "Join",
)
_UNSUPPORTED = (
    "Unbox",
    "UnnestFrame",
    "Relationalize",
    "SplitFields",
    "SplitRows",
    "Spigot",
    "SelectFromCollection",
    "MapToCollection",
    "FlatMap",
    "Repartition",
    "ErrorsAsDynamicFrame",
    "Map",
    "Coalesce",
    "Union",
)


def resolve_specs(df: DataFrame, specs: Sequence[tuple[str, str]]) -> DataFrame:
    """Apply ``cast:TYPE`` / ``project:TYPE`` specs; values that do not convert become null."""
    from pyspark.sql import functions as F

    for path, action in specs:
        kind, _, type_name = action.partition(":")
        if kind not in ("cast", "project") or not type_name:
            unsupported(
                f"resolveChoice action {action!r}",
                "'cast:TYPE' and 'project:TYPE' (make_cols, make_struct, match_catalog are not)",
            )
        if path not in df.columns:
            continue  # Glue ignores specs for fields the frame does not have
        converted = F.expr(f"try_cast(`{path}` AS {type_name})")
        df = df.withColumn(path, converted)
    return df


def equijoin(left: DataFrame, right: DataFrame, keys1: list[str], keys2: list[str]) -> DataFrame:
    """Inner equijoin keeping the fields of both sides; shared names must be shared keys."""
    from pyspark.sql import functions as F

    if len(keys1) != len(keys2) or not keys1:
        raise ValueError(f"Join needs key lists of equal, non-zero length: {keys1} and {keys2}.")
    same = [k1 for k1, k2 in zip(keys1, keys2) if k1 == k2]
    clash = set(left.columns) & set(right.columns) - set(same)
    if clash:
        unsupported(
            f"Join with fields {sorted(clash)} on both sides",
            "joins where shared field names are join keys of the same name; "
            "rename_field one side first",
        )
    lhs, rhs = left.alias("l"), right.alias("r")
    condition = [F.col(f"l.{k1}") == F.col(f"r.{k2}") for k1, k2 in zip(keys1, keys2)]
    right_cols = [F.col(f"r.{c}") for c in right.columns if c not in same]
    return lhs.join(rhs, condition, "inner").select(
        *[F.col(f"l.{c}") for c in left.columns], *right_cols
    )


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
        frame: DynamicFrame,
        mappings: Sequence[tuple[str, str, str, str]],
        case_sensitive: bool = False,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        return frame.apply_mapping(mappings, case_sensitive, transformation_ctx, info)


class SelectFields(GlueTransform):
    def __call__(
        self,
        frame: DynamicFrame,
        paths: Paths,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        return frame.select_fields(paths, transformation_ctx, info)


class DropFields(GlueTransform):
    def __call__(
        self,
        frame: DynamicFrame,
        paths: Paths,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        return frame.drop_fields(paths, transformation_ctx, info)


class RenameField(GlueTransform):
    def __call__(
        self,
        frame: DynamicFrame,
        old_name: str,
        new_name: str,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        return frame.rename_field(old_name, new_name, transformation_ctx, info)


class Filter(GlueTransform):
    def __call__(
        self,
        frame: DynamicFrame,
        f: Callable[[Any], Any],
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        return frame.filter(f, transformation_ctx, info)


class ResolveChoice(GlueTransform):
    def __call__(
        self,
        frame: DynamicFrame,
        specs: Optional[Sequence[tuple[str, str]]] = None,
        choice: str = "",
        database: Optional[str] = None,
        table_name: Optional[str] = None,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
        catalog_id: Optional[str] = None,
    ) -> DynamicFrame:
        return frame.resolveChoice(specs, choice, database, table_name, transformation_ctx)


class DropNullFields(GlueTransform):
    """Drop fields that are null in every record (Glue's schema types them NullType)."""

    def __call__(
        self,
        frame: DynamicFrame,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        from pyspark.sql import functions as F

        df = frame.toDF()
        if not df.columns:
            return frame
        counts = df.select(*[F.count(F.col(c)).alias(c) for c in df.columns]).first()
        nulls = [c for c in df.columns if counts is None or counts[c] == 0]
        return frame.drop_fields(nulls, transformation_ctx, info)


class Join(GlueTransform):
    def __call__(
        self,
        frame1: DynamicFrame,
        frame2: DynamicFrame,
        keys1: Paths,
        keys2: Paths,
        transformation_ctx: str = "",
    ) -> DynamicFrame:
        return frame1.join(keys1, keys2, frame2, transformation_ctx)


def _unsupported_class(name: str) -> type[GlueTransform]:
    return type(name, (GlueTransform,), {"__doc__": f"Not emulated: {name}.apply raises."})


for _name in _UNSUPPORTED:
    globals()[_name] = _unsupported_class(_name)

__all__ = ["GlueTransform", *SUPPORTED, *_UNSUPPORTED]
