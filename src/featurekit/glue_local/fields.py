"""Field-path work of the DynamicFrame methods: mapping, selecting, dropping, renaming, resolving.

Paths are Glue's (``a.b`` nested, backticks around names holding dots). Casts never
fail the job: a value that does not convert becomes null, as on Glue (``try_cast``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

import featurekit.glue_local.choices as choices
from featurekit.glue_local._support import unsupported
from featurekit.glue_local.shapes import nest, ref, split_path

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import DataType

    from featurekit.glue_local.choices import Choices

# Glue type names that describe a shape rather than a cast target: kept as they are.
NO_CAST = ("array", "struct", "map", "choice", "object", "null")
ACTIONS = "'cast:TYPE', 'project:TYPE', 'make_cols', 'make_struct', 'match_catalog'"


def _top(df: DataFrame, path: str, case_sensitive: bool = True) -> Optional[str]:
    """The top-level column a path names as a whole, if any (``\\`a.b\\``` or ``a``)."""
    name = path[1:-1] if path.startswith("`") and path.endswith("`") else path
    for column in df.columns:
        if column == name or (not case_sensitive and column.lower() == name.lower()):
            return column
    return None


def _lookup(df: DataFrame, parts: Sequence[str], case_sensitive: bool) -> Optional[list[str]]:
    """The real names of a nested path in ``df``'s schema, or None when it is absent."""
    from pyspark.sql.types import StructType

    dtype: DataType = df.schema
    found: list[str] = []
    for part in parts:
        if not isinstance(dtype, StructType):
            return None
        match = [
            f
            for f in dtype.fields
            if f.name == part or (not case_sensitive and f.name.lower() == part.lower())
        ]
        if not match:
            return None
        found.append(match[0].name)
        dtype = match[0].dataType
    return found


def resolve_path(df: DataFrame, path: str, case_sensitive: bool = True) -> Optional[list[str]]:
    top = _top(df, path, case_sensitive)
    return [top] if top is not None else _lookup(df, split_path(path), case_sensitive)


def _sql(parts: Sequence[str]) -> str:
    return ".".join(f"`{p}`" for p in parts)


def try_cast(parts: Sequence[str], type_name: str) -> Column:
    from pyspark.sql import functions as F

    return F.expr(f"try_cast({_sql(parts)} AS {type_name})")


def mapping_columns(
    df: DataFrame, mappings: Sequence[Sequence[str]], case_sensitive: bool
) -> list[tuple[str, Column]]:
    """(target path, column) per ``(source, source_type, target, target_type)`` mapping."""
    from pyspark.sql import functions as F

    out = []
    for mapping in mappings:
        if len(mapping) != 4:
            raise ValueError(f"Mapping {mapping!r} must be (source, type, target, type).")
        source, source_type, target, target_type = mapping
        parts = resolve_path(df, source, case_sensitive)
        keep = target_type.lower() in NO_CAST or target_type.lower() == source_type.lower()
        if parts is None:  # no record has the source: a null column of the target type
            column = (
                F.lit(None) if target_type.lower() in NO_CAST else F.lit(None).cast(target_type)
            )
        else:
            column = ref(parts) if keep else try_cast(parts, target_type)
        out.append((target, column))
    return out


def select_paths(df: DataFrame, paths: Sequence[str]) -> DataFrame:
    targets = []
    for path in paths:
        top = _top(df, path)
        if top is not None:
            targets.append((f"`{top}`", ref([top])))
            continue
        parts = _lookup(df, split_path(path), True)
        if parts is not None:
            targets.append((_sql(parts), ref(parts)))
    return df.select(*nest(targets))


def drop_paths(df: DataFrame, paths: Sequence[str]) -> DataFrame:
    for path in paths:
        top = _top(df, path)
        if top is not None:
            df = df.drop(top)
            continue
        parts = _lookup(df, split_path(path), True)
        if parts is not None:
            df = df.withColumn(parts[0], ref(parts[:1]).dropFields(_sql(parts[1:])))
    return df


def rename_path(df: DataFrame, old: str, new: str) -> DataFrame:
    top = _top(df, old)
    new_parts = split_path(new)
    if top is not None and len(new_parts) == 1:
        return df.withColumnRenamed(top, new_parts[0])
    parts = _lookup(df, split_path(old), True)
    if parts is None:
        return df  # Glue renames nothing when the field is absent
    if len(parts) < 2 or len(new_parts) != len(parts) or new_parts[:-1] != parts[:-1]:
        unsupported(f"rename_field({old!r}, {new!r})", "renames within the same struct level")
    parent = ref(parts[:-1])
    moved = parent.withField(f"`{new_parts[-1]}`", ref(parts)).dropFields(f"`{parts[-1]}`")
    return _replace(df, parts[:-1], moved)


def _replace(df: DataFrame, parts: Sequence[str], column: Column) -> DataFrame:
    if len(parts) == 1:
        return df.withColumn(parts[0], column)
    return df.withColumn(parts[0], ref(parts[:1]).withField(_sql(parts[1:]), column))


def resolve(
    glue_ctx: Any,
    df: DataFrame,
    specs: Optional[Sequence[tuple[str, str]]],
    choice: str,
    catalog: tuple[Optional[str], Optional[str], Optional[str]],
    kinds: Choices,
) -> tuple[DataFrame, Choices]:
    """ResolveChoice; returns the frame and the choices left. On a choice field (``kinds``)
    ``cast:T`` / ``project:T`` / ``match_catalog`` give one column, ``make_cols`` one per
    type, ``make_struct`` the struct (see :mod:`featurekit.glue_local.choices`). On another
    field ``cast:T`` / ``project:T`` / ``match_catalog`` convert and ``make_cols`` /
    ``make_struct`` leave it (Glue's fields without a choice). ``choice=`` applies to
    every choice field; ``choice="match_catalog"`` also casts every other field the
    catalog table has."""
    left = dict(kinds)
    if specs is None:
        _check_action(choice)
        names = df.columns if choice == "match_catalog" else list(left)
        specs = [(f"`{c}`", choice) for c in names]
    types = _catalog_types(glue_ctx, catalog) if any(a == "match_catalog" for _, a in specs) else {}
    for path, action in specs:
        _check_action(action)
        parts = resolve_path(df, path)
        if parts is not None and len(parts) == 1 and parts[0] in left:
            df = _resolve_choice(df, parts[0], left.pop(parts[0]), action, types)
            continue
        type_name = _target_type(action, parts, types)
        if parts is not None and type_name is not None:
            df = _replace(df, parts, try_cast(parts, type_name))
    return df, left


def _resolve_choice(
    df: DataFrame, name: str, members: Sequence[str], action: str, types: dict[str, str]
) -> DataFrame:
    from pyspark.sql import functions as F

    if action == "make_struct":
        return df  # a choice is held as that struct
    if action == "make_cols":
        return choices.make_cols(df, name, members)
    target = types.get(name.lower()) if action == "match_catalog" else None
    if action == "match_catalog" and target is None:
        raise ValueError(
            f"resolveChoice match_catalog: the catalog table has no field {name!r} to "
            "resolve its choice to; name it in specs with cast:TYPE instead."
        )
    column = choices.resolve_column(F.col(_sql([name])), members, action, target)
    return df.withColumn(name, column)


def _target_type(action: str, parts: Optional[list[str]], types: dict[str, str]) -> Any:
    """The type a spec converts to; None leaves the field (absent ones are ignored, as Glue)."""
    if parts is None or action in ("make_cols", "make_struct"):
        return None
    if action == "match_catalog":
        return types.get(".".join(parts).lower())
    return action.split(":", 1)[1]


def _check_action(action: str) -> None:
    kind, _, type_name = action.partition(":")
    ok = (kind in ("cast", "project") and type_name) or (
        action in ("make_cols", "make_struct", "match_catalog")
    )
    if not ok:
        unsupported(f"resolveChoice action {action!r}", ACTIONS)


def _catalog_types(
    glue_ctx: Any, catalog: tuple[Optional[str], Optional[str], Optional[str]]
) -> dict[str, str]:
    database, table, catalog_id = catalog
    if not database or not table:
        raise ValueError("resolveChoice match_catalog needs database and table_name.")
    if catalog_id is not None:
        unsupported("resolveChoice(catalog_id=...)", "the local catalog (catalog_id=None)")
    schema = glue_ctx.glue_catalog.schema(database, table)
    return {f.name.lower(): f.dataType.simpleString() for f in schema.fields}


def spigot_sample(df: DataFrame, options: dict[str, Any]) -> DataFrame:
    """Spigot's sample: records kept with probability ``prob`` (default 1), at most ``topk``
    (default 100)."""
    unknown = set(options) - {"topk", "prob"}
    if unknown:
        unsupported(f"spigot option {sorted(unknown)[0]!r}", "topk, prob")
    prob = float(options.get("prob", 1.0))
    sample = df.sample(fraction=prob) if prob < 1 else df
    return sample.limit(int(options.get("topk", 100)))
