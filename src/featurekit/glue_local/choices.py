"""Glue's choice types: a csv or json column whose records hold values of several types.

Glue's DynamicFrame types every value on its own, so a column holding ``10001`` and
``ABC`` is ``choice<long,string>``. Here a source is read once as text and each value
typed with Spark expressions (:func:`csv_type`, :func:`json_types`); one aggregation
collects the types of every column. A column with several is a choice, held as a struct
with one field per type (``struct<long: bigint, string: string>``, the value in the
field of its type) and named in :class:`Choices`; resolveChoice turns it into columns.

Value types: ``long`` (integers that fit), ``double`` (other numbers; a column of longs
and doubles is ``double``, as Spark widens), ``boolean`` (``true``/``false``), ``string``.

Example::

    found = detect(strings_df, {c: csv_type(F.col(c)) for c in strings_df.columns})
    # {"provider id": ("long", "string")}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Optional

from featurekit.glue_local._support import unsupported

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import DataType

Choices = dict[str, tuple[str, ...]]  # top-level column -> its types, sorted
SPARK = {"long": "bigint", "double": "double", "boolean": "boolean", "string": "string"}
INTEGER = r"^\s*[+-]?[0-9]+\s*$"
NUMBER = r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$"
# the Glue name of a Spark type, as printSchema prints it
GLUE_NAMES = {"bigint": "long", "int": "int", "smallint": "short", "tinyint": "byte"}


@cache
def _choice_class() -> Any:
    """``ChoiceType``, defined on first use: this module imports without pyspark."""
    from pyspark.sql.types import DataType

    class ChoiceType(DataType):
        """The type of a choice field in :meth:`DynamicFrame.schema`
        (``choice<long,string>``)."""

        def __init__(self, choices: Sequence[str]) -> None:
            self.choices = tuple(choices)

        def simpleString(self) -> str:
            return f"choice<{','.join(self.choices)}>"

        def jsonValue(self) -> Any:
            return {"type": "choice", "choices": list(self.choices)}

        def __repr__(self) -> str:
            return f"ChoiceType({list(self.choices)!r})"

    return ChoiceType


def choice_type(choices: Sequence[str]) -> DataType:
    """The ``ChoiceType`` of ``choices`` (``choice<long,string>``)."""
    return _choice_class()(choices)  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    if name == "ChoiceType":  # the class itself, e.g. for isinstance
        return _choice_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _sql(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def convert(column: Column, spark_type: str) -> Column:
    """A cast that gives null where a value does not convert (also under ANSI mode)."""
    from pyspark.sql import functions as F

    text = column.cast("string")
    if spark_type == "bigint":
        ok = text.rlike(INTEGER)
    elif spark_type in ("double", "float"):
        ok = text.rlike(NUMBER) | F.lower(F.trim(text)).isin("nan", "infinity", "-infinity")
    elif spark_type == "boolean":
        ok = F.lower(F.trim(text)).isin("true", "false")
    else:
        return cast(column, spark_type)
    return cast(F.when(ok, F.trim(text)), spark_type)


def cast(column: Column, spark_type: str) -> Column:
    """``try_cast`` where Spark has it as a Column method (4.x, ANSI by default), else cast
    (Spark 3.5 without ANSI mode: a value that does not convert is null)."""
    if hasattr(type(column), "try_cast"):  # a class attribute: Column.x is a field access
        method: Any = getattr(type(column), "try_cast")  # noqa: B009 (Spark 4 only)
        return method(column, spark_type)  # type: ignore[no-any-return]
    return column.cast(spark_type)


def csv_type(value: Column) -> Column:
    """The Glue type of a csv text value: long, double, boolean, string (null: none)."""
    from pyspark.sql import functions as F

    long_ok = value.rlike(INTEGER) & convert(value, "bigint").isNotNull()
    return (
        F.when(value.isNull(), F.lit(None).cast("string"))
        .when(long_ok, F.lit("long"))
        .when(value.rlike(NUMBER), F.lit("double"))
        .when(F.lower(F.trim(value)).isin("true", "false"), F.lit("boolean"))
        .otherwise(F.lit("string"))
    )


def json_types(line: Column, fields: Sequence[str]) -> dict[str, Column]:
    """The Glue type of each field's JSON value on ``line`` (one record per line):
    long, double, boolean, string, or ``nested`` (an object or array); null when absent."""
    from pyspark.sql import functions as F

    def parsed(spark_type: str) -> Column:
        schema = ", ".join(f"{_sql(f)} {spark_type}" for f in fields)
        return F.from_json(line, schema)

    as_long, as_double, as_bool = parsed("bigint"), parsed("double"), parsed("boolean")
    as_text, as_map = parsed("string"), parsed("map<string,string>")
    as_array = parsed("array<string>")
    out = {}
    for f in fields:
        out[f] = (
            F.when(as_text.getField(f).isNull(), F.lit(None).cast("string"))
            .when(as_long.getField(f).isNotNull(), F.lit("long"))
            .when(as_double.getField(f).isNotNull(), F.lit("double"))
            .when(as_bool.getField(f).isNotNull(), F.lit("boolean"))
            .when(as_map.getField(f).isNotNull() | as_array.getField(f).isNotNull(), "nested")
            .otherwise(F.lit("string"))
        )
    return out


def detect(df: DataFrame, types: Mapping[str, Column]) -> dict[str, tuple[str, ...]]:
    """The value types of each column of ``types`` over all of ``df`` (one Spark job)."""
    from pyspark.sql import functions as F

    if not types:
        return {}
    names = list(types)
    row = df.agg(*[F.collect_set(types[c]).alias(f"t{i}") for i, c in enumerate(names)]).first()
    found = {}
    for i, column in enumerate(names):
        kinds = set(row[f"t{i}"]) if row is not None else set()
        if {"long", "double"} <= kinds:
            kinds.discard("long")  # numbers widen to double, as Spark's inference does
        found[column] = tuple(sorted(kinds))
    return found


def choices_of(found: Mapping[str, tuple[str, ...]]) -> Choices:
    """The columns holding several types (a nested value among them: left to Spark)."""
    return {c: t for c, t in found.items() if len(t) > 1 and "nested" not in t}


def choice_column(value: Column, kind: Column, types: Sequence[str]) -> Column:
    """The struct holding a choice: one field per type, the value in the field of its type."""
    from pyspark.sql import functions as F

    fields = [
        F.when(kind == t, convert(value, SPARK[t]) if t != "string" else value).alias(t)
        for t in types
    ]
    return F.struct(*fields)


# -- resolving ------------------------------------------------------------------------
def _member(column: Column, member: str) -> Column:
    return column.getField(member)


def resolve_column(
    column: Column, types: Sequence[str], action: str, target: Optional[str]
) -> Column:
    """One choice resolved to one column: ``cast:T`` converts every value (what does not
    convert is null); ``project:T`` keeps the values of type T and those that widen to
    it (numbers to double, anything to string), others are null; ``match_catalog`` casts
    to the catalog type ``target``."""
    from pyspark.sql import functions as F

    type_name = str(target) if action == "match_catalog" else action.split(":", 1)[1]
    spark_type = SPARK.get(type_name, type_name)
    parts = []
    for member in types:
        value = _member(column, member)
        widens = (
            member == type_name
            or type_name == "string"
            or (member == "long" and spark_type.startswith(("double", "float", "decimal")))
        )
        if action.startswith("project") and not widens:
            continue
        parts.append(convert(value, spark_type) if member != type_name else value)
    return (
        F.coalesce(*parts, F.lit(None).cast(spark_type)) if parts else F.lit(None).cast(spark_type)
    )


def make_cols(df: DataFrame, name: str, types: Sequence[str]) -> DataFrame:
    """``make_cols``: one column ``NAME_TYPE`` per type; the first takes the choice's place,
    the others come last (the order AWS's ResolveChoice sample prints)."""
    from pyspark.sql import functions as F

    first, rest = f"{name}_{types[0]}", [f"{name}_{t}" for t in types[1:]]
    columns = [
        F.col(_sql(name)).getField(types[0]).alias(first) if c == name else F.col(_sql(c))
        for c in df.columns
    ]
    extra = [F.col(_sql(name)).getField(t).alias(n) for t, n in zip(types[1:], rest)]
    return df.select(*columns, *extra)


def keep(choices: Choices, df: DataFrame, before: Optional[DataFrame] = None) -> Choices:
    """The choices still held by ``df``: columns present with their struct unchanged."""
    kept: Choices = {}
    for name, types in choices.items():
        if name not in df.columns:
            continue
        same = before is None or df.schema[name].dataType == before.schema[name].dataType
        if same:
            kept[name] = types
    return kept


def writable(df: DataFrame, choices: Choices, fmt: str) -> DataFrame:
    """The frame to write: csv writes each value's text; other formats need resolving."""
    from pyspark.sql import functions as F

    if not choices:
        return df
    if fmt != "csv":
        name, types = next(iter(choices.items()))
        unsupported(
            f"writing the unresolved choice field {name!r} (choice<{','.join(types)}>) as {fmt}",
            "resolve it first: frame.resolveChoice(specs=[(field, 'cast:TYPE' | 'project:TYPE' "
            "| 'make_cols' | 'make_struct')]); csv writes each value's text",
        )
    out = [
        F.coalesce(*[F.col(_sql(c)).getField(t).cast("string") for t in choices[c]]).alias(c)
        if c in choices
        else F.col(_sql(c))
        for c in df.columns
    ]
    return df.select(*out)


# -- printing -------------------------------------------------------------------------
def glue_name(data_type: DataType) -> str:
    """Glue's name of a type: ``long`` for bigint, ``struct``, ``array``, ..."""
    from pyspark.sql.types import ArrayType, MapType, StructType

    if isinstance(data_type, _choice_class()):
        return "choice"
    for kind, name in ((StructType, "struct"), (ArrayType, "array"), (MapType, "map")):
        if isinstance(data_type, kind):
            return name
    simple = data_type.simpleString()
    return GLUE_NAMES.get(simple, simple.split("(")[0])


def schema_lines(data_type: DataType, depth: int = 0) -> list[str]:
    """printSchema's lines below ``root``, in Glue's layout."""
    from pyspark.sql.types import ArrayType, StructType

    pad = "|    " * depth + "|-- "
    lines: list[str] = []
    if isinstance(data_type, StructType):
        for field in data_type.fields:
            lines.append(f"{pad}{field.name}: {glue_name(field.dataType)}")
            lines += schema_lines(field.dataType, depth + 1)
    elif isinstance(data_type, ArrayType):
        lines.append(f"{pad}element: {glue_name(data_type.elementType)}")
        lines += schema_lines(data_type.elementType, depth + 1)
    elif isinstance(data_type, _choice_class()):
        lines += [f"{pad}{t}" for t in data_type.choices]
    return lines
