"""Independent pandas references for the feature primitives: brute force, no Spark, no partials.

Each reference loops over keys and dates (or spine rows) and filters the raw rows,
the most literal reading of the documented semantics.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Callable, Optional

import pandas as pd

Row = dict[str, Any]
# (kind, name, column, row filter or None)
Spec = tuple[str, str, Optional[str], Optional[Callable[[Row], bool]]]


def _values(rows: list[Row], column: Optional[str], where) -> tuple[list[Row], list[Any]]:
    if where is not None:
        rows = [r for r in rows if where(r)]
    if column is None:
        return rows, [1] * len(rows)
    rows = [r for r in rows if plain(r[column]) is not None]
    return rows, [r[column] for r in rows]


def _pick(rows: list[Row], values: list[Any], ts: str, latest: bool) -> Any:
    if not values:
        return None
    pairs = sorted(zip([r[ts] for r in rows], values))
    return pairs[-1][1] if latest else pairs[0][1]


def _variance(values: list[float]) -> Optional[float]:
    if len(values) < 2:
        return None
    mean = math.fsum(values) / len(values)
    return math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)


def plain(value: Any) -> Any:
    """pandas/numpy scalars as plain Python values (what Spark accepts)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def aggregate(kind: str, rows: list[Row], column: Optional[str], where, ts: str) -> Any:
    """One aggregation over the raw rows of one key and window."""
    return plain(_aggregate(kind, rows, column, where, ts))


def _aggregate(kind: str, rows: list[Row], column: Optional[str], where, ts: str) -> Any:
    rows, values = _values(rows, column, where)
    if kind == "count":
        return len(values)
    if kind in ("count_distinct", "approx_count_distinct"):
        return len(set(values))
    if kind in ("first", "last"):
        return _pick(rows, values, ts, latest=kind == "last")
    if not values:
        return None
    if kind == "variance":
        return _variance([float(v) for v in values])
    if kind == "stddev":
        var = _variance([float(v) for v in values])
        return None if var is None else math.sqrt(var)
    simple = {"sum": sum, "min": min, "max": max, "mean": lambda v: math.fsum(v) / len(v)}
    return simple[kind](values)


def windowed_reference(
    events: pd.DataFrame,
    *,
    key: str,
    ts: str,
    specs: list[Spec],
    windows: list[int],
    start: Optional[dt.date] = None,
    end: Optional[dt.date] = None,
) -> list[Row]:
    """Rows (key, feature_date, <name>_<N>d...) by brute force over every key and date."""
    ev = events[events[key].notna() & events[ts].notna()].copy()
    if ev.empty:
        return []
    ev["_date"] = [t.date() for t in ev[ts]]
    first = start or min(ev["_date"])
    last = end or max(ev["_date"])
    longest = max(windows)
    out = []
    for k, group in ev.groupby(key, sort=True):
        rows = group.to_dict("records")
        day = first
        while day <= last:
            if any(day - dt.timedelta(days=longest) < r["_date"] <= day for r in rows):
                out.append(_feature_row(k, day, rows, specs, windows, key, ts))
            day += dt.timedelta(days=1)
    return out


def _feature_row(k, day, rows, specs, windows, key, ts) -> Row:
    row: Row = {key: k, "feature_date": day}
    for n in windows:
        span = [r for r in rows if day - dt.timedelta(days=n) < r["_date"] <= day]
        for kind, name, column, where in specs:
            row[f"{name}_{n}d"] = aggregate(kind, span, column, where, ts)
    return row


def pit_reference(
    spine: pd.DataFrame,
    features: pd.DataFrame,
    *,
    key: str,
    spine_time: str,
    feature_time: str,
    max_age: Optional[dt.timedelta] = None,
) -> list[Row]:
    """Each spine row with the latest qualifying feature row (ties: greatest values)."""
    carried = [c for c in features.columns if c != key]
    out = []
    for srow in spine.to_dict("records"):
        row = {k: plain(v) for k, v in srow.items()}
        match = None
        st = srow[spine_time]
        if srow[key] is not None and not pd.isna(st):
            cand = [
                f
                for f in features.to_dict("records")
                if f[key] == srow[key]
                and f[feature_time] is not None
                and not pd.isna(f[feature_time])
                and f[feature_time] <= st
                and (max_age is None or f[feature_time] > st - max_age)
            ]
            if cand:
                match = max(cand, key=lambda f: tuple(_sortable(f[c]) for c in carried))
        for c in carried:
            row[c] = None if match is None else plain(match[c])
        out.append(row)
    return out


def _sortable(value: Any) -> tuple[bool, Any]:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return (not missing, None if missing else value)
