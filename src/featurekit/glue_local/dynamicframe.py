"""DynamicFrame on a plain pyspark DataFrame, with awsglue 5.1's method signatures, and
DynamicFrameCollection (named DynamicFrames), defined here as in awsglue.dynamicframe.

Glue's DynamicFrame computes its schema per record and can hold choice types; this
emulation holds a DataFrame, the choice columns of a csv or json source (each held as
a struct of one field per type, see :mod:`featurekit.glue_local.choices`) and the error
records of the stages so far. Methods not emulated raise UnsupportedError.

Example::

    dyf = DynamicFrame.fromDF(df, glue_context, "events")
    dyf.apply_mapping([("id", "string", "event.id", "long")])   # builds struct "event"
"""

from __future__ import annotations

from collections.abc import KeysView, Sequence, ValuesView
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import featurekit.glue_local.choices as choices
import featurekit.glue_local.records as records
import featurekit.glue_local.shapes as shapes
from featurekit.glue_local._support import unsupported
from featurekit.glue_local.frameops import FrameOps, Paths, _as_list
from featurekit.glue_local.records import DynamicRecord, empty_like

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

SUPPORTED = (
    "toDF",
    "fromDF",
    "count",
    "schema",
    "printSchema",
    "show",
    "apply_mapping",
    "applyMapping",
    "select_fields",
    "drop_fields",
    "rename_field",
    "filter",
    "map",
    "resolveChoice",
    "join",
    "unnest",
    "relationalize",
    "split_fields",
    "split_rows",
    "spigot",
    "union",
    "repartition",
    "coalesce",
    "getNumPartitions",
    "write",
    "errorsAsDynamicFrame",
    "errorsCount",
    "stageErrorsCount",
    "assertErrorThreshold",
)
__all__ = ["DynamicFrame", "DynamicRecord", "Paths", "ResolveOption"]


class ResolveOption:
    """awsglue's ResolveOption for ``toDF(options)``: ``ResolveOption("a", "make_cols")``."""

    def __init__(self, path: str, action: str, target: Any = None) -> None:
        self.path, self.action, self.target = path, action, target


class DynamicFrame(FrameOps["DynamicFrameCollection"]):
    """A named frame of records bound to a GlueContext (here: a DataFrame underneath)."""

    def __init__(
        self,
        jdf: DataFrame,
        glue_ctx: Any,
        name: str = "",
        *,
        errors: Optional[DataFrame] = None,
        stage_errors: Optional[DataFrame] = None,
        thresholds: tuple[int, int] = (0, 0),
        choices: Optional[choices.Choices] = None,
    ) -> None:
        self._df = jdf
        self._choices = dict(choices or {})
        self.glue_ctx = glue_ctx
        self.name = name
        self._errors = errors  # error records of every stage so far
        self._stage_errors = stage_errors  # those of the stage that made this frame
        self._thresholds = thresholds

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        unsupported(f"DynamicFrame.{name}", ", ".join(SUPPORTED))

    def __repr__(self) -> str:
        return f"DynamicFrame(name={self.name!r}, fields={self._df.columns})"

    def _new(self, df: DataFrame, name: Optional[str] = None) -> DynamicFrame:
        kept = choices.keep(self._choices, df, self._df)
        name = self.name if name is None else name
        return DynamicFrame(df, self.glue_ctx, name, errors=self._errors, choices=kept)

    def _collection(self, frames: dict[str, DynamicFrame]) -> DynamicFrameCollection:
        return DynamicFrameCollection(frames, self.glue_ctx)

    def _staged(
        self, df: DataFrame, stage: DataFrame, call: str, limits: tuple[int, int]
    ) -> DynamicFrame:
        errors = stage if self._errors is None else self._errors.unionByName(stage)
        frame = DynamicFrame(
            df, self.glue_ctx, self.name, errors=errors, stage_errors=stage, thresholds=limits,
            choices=choices.keep(self._choices, df, self._df),
        )  # fmt: skip
        if any(limits):
            records.check_thresholds(call, frame.stageErrorsCount(), frame.errorsCount(), *limits)
        return frame

    # -- conversion and inspection --------------------------------------------------
    def toDF(self, options: Optional[Sequence[Any]] = None) -> DataFrame:
        """The records as a Spark DataFrame; a choice left unresolved is its struct
        (``make_struct``); ``options`` (ResolveOptions) resolve choices first."""
        if not options:
            return self._df
        specs = [(o.path, o.action) for o in options]
        return self.resolveChoice(specs=specs)._df

    def _writable(self, fmt: str) -> DataFrame:
        """The records a sink of format ``fmt`` writes (csv: a choice's values as text)."""
        return choices.writable(self._df, self._choices, fmt)

    @classmethod
    def fromDF(cls, dataframe: DataFrame, glue_ctx: Any, name: str = "") -> DynamicFrame:
        """Wrap a Spark DataFrame: ``DynamicFrame.fromDF(df, glueContext, "name")``."""
        return cls(dataframe, glue_ctx, name)

    def count(self) -> int:
        return int(self._df.count())

    def schema(self) -> StructType:
        """The Spark schema, a choice field typed :class:`~featurekit.glue_local.choices.
        ChoiceType` (``choice<long,string>``); Glue returns its own StructType."""
        from pyspark.sql.types import StructField, StructType

        return StructType(
            [
                StructField(f.name, choices.choice_type(self._choices[f.name]), True)
                if f.name in self._choices
                else f
                for f in self._df.schema.fields
            ]
        )

    def printSchema(self) -> None:
        """Print the schema in Glue's layout (``|-- provider id: choice``, ``long`` ...)."""
        print("\n".join(["root", *choices.schema_lines(self.schema())]))

    def show(self, num_rows: int = 20) -> None:
        self._df.show(num_rows)

    def getNumPartitions(self) -> int:
        return int(self._df.rdd.getNumPartitions())

    # -- error records --------------------------------------------------------------
    def errorsAsDynamicFrame(self) -> DynamicFrame:
        """The error records so far: transformation_ctx, error_message, record (JSON)."""
        spark = self._df.sparkSession
        errors = (
            self._errors
            if self._errors is not None
            else spark.createDataFrame([], records.ERRORS_SCHEMA)
        )
        return DynamicFrame(errors, self.glue_ctx, self.name)

    def errorsCount(self) -> int:
        return 0 if self._errors is None else int(self._errors.count())

    def stageErrorsCount(self) -> int:
        return 0 if self._stage_errors is None else int(self._stage_errors.count())

    def assertErrorThreshold(self) -> None:
        """InputError when the stage that made this frame exceeded its error thresholds."""
        records.check_thresholds(
            f"DynamicFrame {self.name!r}",
            self.stageErrorsCount(),
            self.errorsCount(),
            *self._thresholds,
        )

    # -- field transforms -----------------------------------------------------------
    def apply_mapping(
        self,
        mappings: Sequence[tuple[str, str, str, str]],
        case_sensitive: bool = False,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Keep only the mapped fields, renamed and cast: [(src, srctype, dst, dsttype)];
        a dotted target (``provider.id``) builds a struct."""
        from featurekit.glue_local.fields import mapping_columns

        if isinstance(mappings, tuple):
            mappings = [mappings]
        # a choice mapped to a type is cast to it first (make_struct keeps its struct)
        from featurekit.glue_local.fields import NO_CAST

        specs = [
            (f"`{m[0]}`", f"cast:{m[3]}")
            for m in mappings
            if len(m) == 4 and m[0] in self._choices and m[3].lower() not in NO_CAST
        ]
        df = self.resolveChoice(specs=specs)._df if specs else self._df
        targets = mapping_columns(df, mappings, case_sensitive)
        return self._new(df.select(*shapes.nest(targets)))

    def applyMapping(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        if args and isinstance(args[0], DynamicFrame):
            args = args[1:]
        return self.apply_mapping(*args, **kwargs)

    def select_fields(
        self,
        paths: Paths,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Keep the named fields (nested paths keep their structs; absent ones are ignored)."""
        from featurekit.glue_local.fields import select_paths

        return self._new(select_paths(self._df, _as_list(paths)))

    def drop_fields(
        self,
        paths: Paths,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Drop the named fields (``a.b``: ``b`` inside struct ``a``; backticks quote dots)."""
        from featurekit.glue_local.fields import drop_paths

        return self._new(drop_paths(self._df, _as_list(paths)))

    def rename_field(
        self,
        oldName: str,
        newName: str,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Rename a field; nested paths rename inside their struct."""
        from featurekit.glue_local.fields import rename_path

        return self._new(rename_path(self._df, oldName, newName))

    # -- record transforms ----------------------------------------------------------
    def filter(
        self,
        f: Callable[[DynamicRecord], Any],
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Keep records for which ``f(record)`` is true; unreadable records are dropped,
        records ``f`` fails on otherwise become error records."""
        kept, errors = records.filter_records(self._df, f, transformation_ctx)
        return self._staged(kept, errors, "Filter", (stageThreshold, totalThreshold))

    def map(
        self,
        f: Callable[[DynamicRecord], Any],
        preservesPartitioning: bool = False,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """``f(record)`` -> the new record; failures become error records."""
        out, errors = records.map_records(self._df, f, transformation_ctx)
        return self._staged(out, errors, "Map", (stageThreshold, totalThreshold))

    def resolveChoice(
        self,
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
        """Resolve with ``specs=[(path, action)]`` or one ``choice`` (see fields.resolve)."""
        from featurekit.glue_local.fields import resolve

        if specs is None and not choice:
            raise ValueError(
                "resolveChoice: parameters specs and choice are both missing, add one."
            )
        if specs is not None and choice:
            raise ValueError(
                "resolveChoice: parameters specs and choice are both given, choose one."
            )
        if isinstance(specs, tuple):
            specs = [specs]
        catalog = (database, table_name, catalog_id)
        df, left = resolve(self.glue_ctx, self._df, specs, choice, catalog, self._choices)
        return DynamicFrame(df, self.glue_ctx, self.name, errors=self._errors, choices=left)


class DynamicFrameCollection:
    """A dict of DynamicFrames by name, with Glue's ``select`` / ``map`` / ``flatmap``."""

    def __init__(
        self, dynamic_frames: Union[dict[str, DynamicFrame], list[DynamicFrame]], glue_ctx: Any
    ) -> None:
        self._glue_ctx = glue_ctx
        if isinstance(dynamic_frames, list):
            self._df_dict = {df.name: df for df in dynamic_frames}
        elif isinstance(dynamic_frames, dict):
            self._df_dict = dict(dynamic_frames)
        else:
            raise TypeError("dynamic_frames must be a list or a dict of DynamicFrames.")

    def __repr__(self) -> str:
        return f"DynamicFrameCollection({sorted(self._df_dict)})"

    def __getitem__(self, key: str) -> DynamicFrame:
        return self._df_dict[key]

    def __len__(self) -> int:
        return len(self._df_dict)

    def keys(self) -> KeysView[str]:
        return self._df_dict.keys()

    def values(self) -> ValuesView[DynamicFrame]:
        return self._df_dict.values()

    def select(self, key: str, transformation_ctx: str = "") -> DynamicFrame:
        """The frame named ``key``; an empty frame named ``key`` when there is none (as Glue)."""
        if key in self._df_dict:
            return self._df_dict[key]
        spark = self._glue_ctx.spark_session
        return DynamicFrame(empty_like(spark.createDataFrame([], "x int")), self._glue_ctx, key)

    def map(
        self, callable: Callable[[DynamicFrame, str], DynamicFrame], transformation_ctx: str = ""
    ) -> DynamicFrameCollection:
        """``callable(frame, ctx)`` on every frame; each must return a DynamicFrame."""
        out = {}
        for key, frame in self._df_dict.items():
            result = callable(frame, f"{transformation_ctx}:{key}")
            if not isinstance(result, DynamicFrame):
                raise TypeError(
                    f"callable must return a DynamicFrame, got {type(result).__name__}."
                )
            out[key] = result
        return DynamicFrameCollection(out, self._glue_ctx)

    def flatmap(
        self, f: Callable[[DynamicFrame, str], Any], transformation_ctx: str = ""
    ) -> DynamicFrameCollection:
        """``f(frame, ctx)`` on every frame; results (frames or collections) merged by name."""
        out: dict[str, DynamicFrame] = {}
        for frame in self._df_dict.values():
            result = f(frame, f"{transformation_ctx}:{frame.name}")
            if isinstance(result, DynamicFrame):
                out[result.name] = result
            elif isinstance(result, DynamicFrameCollection):
                out.update(result._df_dict)
            else:
                raise TypeError(
                    "flatmap's function must return a DynamicFrame or DynamicFrameCollection, "
                    f"got {type(result).__name__}."
                )
        return DynamicFrameCollection(out, self._glue_ctx)
