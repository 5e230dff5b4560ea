"""DynamicFrame on a plain pyspark DataFrame, with awsglue 5.1's method signatures.

Glue's DynamicFrame computes its schema per record and can hold choice types;
this emulation holds an ordinary DataFrame (one type per column, as Spark
infers it), so ``resolveChoice`` works with explicit ``specs`` only. Methods not
listed in ``SUPPORTED`` raise UnsupportedError naming the call.

Example::

    dyf = DynamicFrame.fromDF(df, glue_context, "events")
    dyf.apply_mapping([("id", "string", "event_id", "string"), ("n", "string", "n", "long")])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from featurekit.glue_local._support import unsupported

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
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
    "resolveChoice",
    "join",
)
Paths = Union[str, Sequence[str]]


def _as_list(paths: Paths) -> list[str]:
    return [paths] if isinstance(paths, str) else list(paths)


def _col(path: str) -> Column:
    from pyspark.sql import functions as F

    return F.col(path)


class DynamicRecord(dict):  # type: ignore[type-arg]
    """A record as Filter functions see it: a dict whose keys are also attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _record(row: Any) -> DynamicRecord:
    def wrap(value: Any) -> Any:
        return (
            DynamicRecord({k: wrap(v) for k, v in value.items()})
            if isinstance(value, dict)
            else value
        )

    return DynamicRecord({k: wrap(v) for k, v in row.asDict(recursive=True).items()})


def _keep(f: Callable[[DynamicRecord], Any]) -> Callable[[Any], bool]:
    def keep(row: Any) -> bool:
        try:
            return bool(f(_record(row)))
        except (KeyError, ValueError, TypeError, AttributeError):
            return False  # as in Glue: a record the function cannot read is filtered out

    return keep


class DynamicFrame:
    """A named frame of records bound to a GlueContext (here: a DataFrame underneath)."""

    def __init__(self, jdf: DataFrame, glue_ctx: Any, name: str = "") -> None:
        self._df = jdf
        self.glue_ctx = glue_ctx
        self.name = name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        unsupported(f"DynamicFrame.{name}", ", ".join(SUPPORTED))

    def __repr__(self) -> str:
        return f"DynamicFrame(name={self.name!r}, fields={self._df.columns})"

    def _new(self, df: DataFrame, name: Optional[str] = None) -> DynamicFrame:
        return DynamicFrame(df, self.glue_ctx, self.name if name is None else name)

    # -- conversion and inspection --------------------------------------------------
    def toDF(self, options: Optional[Sequence[Any]] = None) -> DataFrame:
        """The records as a Spark DataFrame."""
        if options:
            unsupported("DynamicFrame.toDF(options=...)", "toDF() without options")
        return self._df

    @classmethod
    def fromDF(cls, dataframe: DataFrame, glue_ctx: Any, name: str = "") -> DynamicFrame:
        """Wrap a Spark DataFrame: ``DynamicFrame.fromDF(df, glueContext, "name")``."""
        return cls(dataframe, glue_ctx, name)

    def count(self) -> int:
        return int(self._df.count())

    def schema(self) -> StructType:
        """The Spark schema (Glue returns its own StructType; field names and types match)."""
        return self._df.schema

    def printSchema(self) -> None:
        self._df.printSchema()

    def show(self, num_rows: int = 20) -> None:
        self._df.show(num_rows)

    # -- transforms -----------------------------------------------------------------
    def apply_mapping(
        self,
        mappings: Sequence[tuple[str, str, str, str]],
        case_sensitive: bool = False,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Keep only the mapped fields, renamed and cast: [(src, srctype, dst, dsttype)]."""
        from pyspark.sql import functions as F

        lookup = {c if case_sensitive else c.lower(): c for c in self._df.columns}
        columns = []
        for mapping in mappings:
            if len(mapping) != 4:
                raise ValueError(f"Mapping {mapping!r} must be (source, type, target, type).")
            source, _, target, target_type = mapping
            if "." in target.strip("`"):
                unsupported(f"apply_mapping target {target!r} (nested)", "top-level targets")
            key = source if case_sensitive else source.lower()
            # A field absent from every record stays absent: null.
            found = "." in source or key in lookup
            expr = _col(lookup.get(key, source)) if found else F.lit(None)
            columns.append(expr.cast(target_type).alias(target.strip("`")))
        return self._new(self._df.select(*columns))

    def applyMapping(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        return self.apply_mapping(*args, **kwargs)

    def select_fields(
        self,
        paths: Paths,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Keep the named fields (absent ones are ignored, as in Glue)."""
        wanted = [p for p in _as_list(paths) if p in self._df.columns]
        return self._new(self._df.select(*wanted))

    def drop_fields(
        self,
        paths: Paths,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Drop the named top-level fields."""
        return self._new(self._df.drop(*_as_list(paths)))

    def rename_field(
        self,
        oldName: str,
        newName: str,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Rename a top-level field."""
        if "." in oldName.strip("`") or "." in newName.strip("`"):
            unsupported("rename_field on nested paths", "top-level fields")
        return self._new(self._df.withColumnRenamed(oldName.strip("`"), newName.strip("`")))

    def filter(
        self,
        f: Callable[[DynamicRecord], Any],
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Keep records for which ``f(record)`` is true (records ``f`` cannot read are dropped)."""
        spark = self._df.sparkSession
        kept = self._df.rdd.filter(_keep(f))
        return self._new(spark.createDataFrame(kept, self._df.schema))

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
        """Resolve with ``specs=[(field, "cast:TYPE" | "project:TYPE")]``."""
        from featurekit.glue_local.transforms import resolve_specs

        if choice or specs is None:
            unsupported(
                "resolveChoice(choice=...) without specs",
                "specs=[(field, 'cast:TYPE')] or [(field, 'project:TYPE')]: local frames "
                "have no choice types (Spark infers one type per column)",
            )
        return self._new(resolve_specs(self._df, specs))

    def join(
        self,
        paths1: Paths,
        paths2: Paths,
        frame2: DynamicFrame,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Equijoin with ``frame2`` on ``paths1 == paths2``; all fields of both are kept."""
        from featurekit.glue_local.transforms import equijoin

        joined = equijoin(self._df, frame2.toDF(), _as_list(paths1), _as_list(paths2))
        return self._new(joined, self.name + frame2.name)
