"""Pure DataFrame -> DataFrame helpers behind the DynamicFrame methods that reshape records.

Field paths follow Glue: ``a.b`` is field ``b`` inside struct ``a``; a name that itself
contains dots (``.id`` after a Join, ``links.val`` after Relationalize) is quoted with
backticks, ``\\`.id\\```. Nothing here reads or writes storage.

Example::

    flat = unnest(df)                 # struct fields become top-level "a.b" columns
    frames = relationalize(df, "root")  # {"root": ..., "root_items": ...}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import DataType

ID, INDEX, VAL = "id", "index", "val"
Tree = dict[str, Union["Tree", "Column"]]


def split_path(path: str) -> list[str]:
    """``a.b`` -> [a, b]; backticks quote a name holding dots: ``\\`a.b\\`.c`` -> [a.b, c]."""
    parts: list[str] = []
    current, quoted = "", False
    for char in path:
        if char == "`":
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def ref(parts: Sequence[str]) -> Column:
    """The column at a path given as its parts (each quoted, so dots in names are safe)."""
    from pyspark.sql import functions as F

    return F.col(".".join(f"`{p}`" for p in parts))


def field_ref(df: DataFrame, path: str) -> Column:
    """A field by Glue path; a top-level column whose name is the whole path wins."""
    plain = path.strip("`") if path.count("`") == 2 and path.startswith("`") else None
    if plain is not None and plain in df.columns:
        return ref([plain])
    if path in df.columns:
        return ref([path])
    return ref(split_path(path))


def nest(targets: Sequence[tuple[str, Column]]) -> list[Column]:
    """Columns for target paths: ``provider.id`` and ``provider.name`` build struct ``provider``."""
    from pyspark.sql import functions as F

    tree: Tree = {}
    for path, column in targets:
        parts = split_path(path)
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"Mapping target {path!r} nests under a field mapped as a value.")
            node = child
        node[parts[-1]] = column

    def build(node: Tree) -> list[Column]:
        out = []
        for name, value in node.items():
            column = F.struct(*build(value)) if isinstance(value, dict) else value
            out.append(column.alias(name))
        return out

    return build(tree)


def _flat_columns(df: DataFrame) -> list[tuple[list[str], DataType]]:
    from pyspark.sql.types import StructType

    found: list[tuple[list[str], DataType]] = []

    def walk(prefix: list[str], dtype: DataType) -> None:
        if isinstance(dtype, StructType) and prefix:
            for f in dtype.fields:
                walk([*prefix, f.name], f.dataType)
        else:
            found.append((prefix, dtype))

    for field in df.schema.fields:
        walk([field.name], field.dataType)
    return found


def unnest(df: DataFrame) -> DataFrame:
    """Struct fields become top-level columns named by their path (``address.city``)."""
    return df.select(*[ref(parts).alias(".".join(parts)) for parts, _ in _flat_columns(df)])


def relationalize(df: DataFrame, root: str) -> dict[str, DataFrame]:
    """Glue's Relationalize: structs flattened, every array pivoted into its own frame.

    In the parent an array column holds a join key (a long); the frame ``ROOT_PATH``
    has ``id`` (that key), ``index`` (the element's position) and ``PATH.val`` (scalar
    elements) or ``PATH.val.FIELD`` (struct elements, flattened). Nested arrays recurse.
    """
    frames: dict[str, DataFrame] = {}
    pending = [(root, df)]
    while pending:
        name, frame = pending.pop(0)
        flat, children = _pivot_arrays(unnest(frame), name)
        frames[name] = flat
        pending.extend(children)
    return frames


def _pivot_arrays(df: DataFrame, name: str) -> tuple[DataFrame, list[tuple[str, DataFrame]]]:
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType

    arrays = [f.name for f in df.schema.fields if isinstance(f.dataType, ArrayType)]
    if not arrays:
        return df, []
    key = "__featurekit_key"
    keyed = df.withColumn(key, F.monotonically_increasing_id() + 1).cache()
    children = []
    for column in arrays:
        exploded = keyed.select(
            F.col(key).alias(ID), F.posexplode(ref([column])).alias(INDEX, "__element")
        )
        child = exploded.select(ID, INDEX, F.col("__element").alias(f"{column}.{VAL}"))
        children.append((f"{name}_{column}", child))
    parent = keyed.select(
        *[
            F.when(ref([c]).isNull(), F.lit(None)).otherwise(F.col(key)).alias(c)
            if c in arrays
            else ref([c])
            for c in df.columns
        ]
    )
    return parent, children


def glue_join(left: DataFrame, right: DataFrame, keys1: list[str], keys2: list[str]) -> DataFrame:
    """Inner equijoin keeping every field of both; a name of frame2 also in frame1 becomes
    ``.name`` (so a same-named key appears as ``id`` and ``.id``), as Glue names them."""
    from pyspark.sql import functions as F

    if len(keys1) != len(keys2) or not keys1:
        raise ValueError(f"Join needs key lists of equal, non-zero length: {keys1} and {keys2}.")
    lhs, rhs = left.alias("l"), right.alias("r")
    condition = [_qualify("l", "r", k1, k2) for k1, k2 in zip(keys1, keys2)]
    clash = set(left.columns)
    right_cols = [F.col(f"r.`{c}`").alias(f".{c}" if c in clash else c) for c in right.columns]
    return lhs.join(rhs, condition, "inner").select(
        *[F.col(f"l.`{c}`") for c in left.columns], *right_cols
    )


def _qualify(left: str, right: str, k1: str, k2: str) -> Column:
    from pyspark.sql import functions as F

    parts1, parts2 = split_path(k1), split_path(k2)
    lhs = F.col(".".join([left, *[f"`{p}`" for p in parts1]]))
    rhs = F.col(".".join([right, *[f"`{p}`" for p in parts2]]))
    return lhs == rhs


COMPARATORS = {
    "<": lambda c, v: c < v,
    ">": lambda c, v: c > v,
    "<=": lambda c, v: c <= v,
    ">=": lambda c, v: c >= v,
    "=": lambda c, v: c == v,
    "==": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
}


def rows_condition(df: DataFrame, comparison_dict: dict[str, dict[str, Any]]) -> Column:
    """split_rows' test: every ``{path: {op: value}}`` comparison holds (and is not null)."""
    from pyspark.sql import functions as F

    condition = F.lit(True)
    for path, tests in comparison_dict.items():
        for op, value in tests.items():
            if op not in COMPARATORS:
                raise ValueError(f"split_rows comparator {op!r}: use one of {sorted(COMPARATORS)}.")
            condition = condition & COMPARATORS[op](field_ref(df, path), F.lit(value))
    return F.coalesce(condition, F.lit(False))
