"""Sliding-window aggregates per key and day, computed from daily partial aggregates.

Two stages, both public so partials can be stored and recombined incrementally:

1. :func:`daily_partials`: one row per key and event day (UTC) holding each
   aggregation's *mergeable partial states* (one shuffle of the events).
2. :func:`combine_windows`: for every key and feature date D, combines the partial
   rows of days D-N < day <= D for each window of N days, all windows in one pass
   over the partials partitioned by key (no groupBy per window, no join).

:func:`windowed_aggregates` chains the two. Semantics: for date D and window N days
a feature aggregates the events with D - N < date(timestamp) <= D, dates in UTC.
A key has a row on D when it has at least one event in its longest window.

User names (keys, time, source and date columns, aggregation names) are taken as they
are, dots, spaces and backticks included: wherever a string would be parsed as a
column, it goes through ``sql_name`` / ``col`` first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Callable, Optional

from featurekit.errors import CONTRACT_MARK, ConfigError
from featurekit.features._checks import (
    as_tuple,
    col,
    require_columns,
    require_timestamp,
    require_unique,
    sql_name,
)
from featurekit.features.aggs import (
    NUMERIC_KINDS,
    SHIFTED_KINDS,
    STATES,
    Agg,
    parse_window,
    shift_state,
    window_label,
)
from featurekit.features.dates import DateLike, as_date, unix_day
from featurekit.plans import mark_unique

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

PARTIAL_DATE = "event_date"
FEATURE_DATE = "feature_date"
NULL_KEY_COUNTER = "null_key_rows"
NULL_TIME_COUNTER = "null_time_rows"
# A range of at most this many feature dates (an incremental run's usual one or two)
# is combined by one groupBy of the partials spread to the dates they reach: no sort,
# each partial row used at most this many times. Longer ranges use one window spec.
FEW_DATES = 4
# Double sums over windows of at least this many days take running sums (two-sum
# compensated): their cost is a few growing frames whatever the length. Shorter ones
# keep a sliding frame, whose left-to-right sum they would not always match to the
# last bit, unless a window this long is asked too: its running sums and their second
# pass are paid for then, and a shorter window reads them for a few lags or frames
# (the whole combine took 0.84-0.90x of its CPU time with sliding frames,
# docs/features.md). Integral sums (counts, sums of integers) take running sums over
# any window: exact, so equal to the sliding frame's.
RUNNING_FROM_DAYS = 31
# A date range's windows read their sums N days back N rows back (``lag``) over a grid
# with a row for every day, the lookback days before ``start`` included, when those
# days (up to longest - 1 per key) are at most this many times the range's own dates;
# otherwise the lookback keeps only its event days and the sums N days back take
# growing frames bounded by range (a few times dearer than ``lag``). Measured at 3x
# (1d..365d over 120 dates, 30k keys, docs/features.md): the dense grid took 0.79x of
# the sparse one's time where the keys had no events before start, 1.06x where every
# key had a year of them; the same rows, to the bit, either way.
DENSE_LOOKBACK = 4


def _check_aggs(aggregations: Sequence[Agg], keys: Sequence[str], what: str) -> list[Agg]:
    aggs = list(aggregations)
    if not aggs:
        raise ConfigError(f"{what} needs at least one aggregation (Agg.count(...), ...).")
    for agg in aggs:
        if not isinstance(agg, Agg):
            raise ConfigError(f"{what}: {agg!r} is not an Agg; build it with Agg.count(...) etc.")
    require_unique([a.name for a in aggs], what)
    clash = [a.name for a in aggs if a.name in keys]
    if clash:
        raise ConfigError(f"{what}: aggregation name(s) {clash} are also key columns.")
    return aggs


def _check_sources(df: DataFrame, aggs: Sequence[Agg], what: str) -> None:
    from pyspark.sql.types import NumericType

    require_columns(df, [a.column for a in aggs if a.column], what)
    for agg in aggs:
        dtype = df.schema[agg.column].dataType if agg.column else None
        if agg.kind in NUMERIC_KINDS and not isinstance(dtype, NumericType):
            raise ConfigError(
                f"{what}: Agg.{agg.kind}({agg.name!r}) needs a numeric column; "
                f"{agg.column!r} is {dtype.simpleString() if dtype else None}."
            )


def _shift_name(index: int) -> str:
    return f"__shift{index}"


def _shifts(aggs: Sequence[Agg], keys: Sequence[str], day: str) -> dict[str, Column]:
    """Per aggregation that takes one (variance, stddev), its shift's column name and its
    value over a key's partial rows ordered by ``day`` (``aggs.shift_state``)."""
    from pyspark.sql import Window

    whole = Window.partitionBy(*map(sql_name, keys)).orderBy(day)
    whole = whole.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    found = {_shift_name(i): shift_state(a, whole) for i, a in enumerate(aggs)}
    return {name: expr for name, expr in found.items() if expr is not None}


def _states(agg: Agg, index: int, suffix: str = "") -> dict[str, str]:
    """The state columns ``agg.combine`` reads, with its shift's for variance/stddev."""
    names = {s: f"{agg.name}__{s}{suffix}" for s in STATES[agg.kind]}
    if agg.kind in SHIFTED_KINDS:
        names["shift"] = _shift_name(index)
    return names


def plan_windows(
    aggregations: Sequence[Agg], windows: Sequence[str], keys: Sequence[str]
) -> list[int]:
    """Window lengths in days, checked: whole days, distinct output names. No Spark involved."""
    if isinstance(windows, str) or not windows:
        raise ConfigError("windows must be a non-empty list of strings like ['1d', '7d', '30d'].")
    days = [parse_window(w) for w in windows]
    names = [f"{a.name}_{window_label(d)}" for a in aggregations for d in days]
    require_unique([*keys, FEATURE_DATE, *names], "windowed_aggregates")
    return days


def daily_partials(
    df: DataFrame,
    *,
    keys: str | Sequence[str],
    timestamp: str,
    aggregations: Sequence[Agg],
    start: Optional[DateLike] = None,
    end: Optional[DateLike] = None,
    counters: Optional[MutableMapping[str, int]] = None,
) -> DataFrame:
    """Stage 1: one row per key and UTC event day with each aggregation's partial states.

    Columns: the keys, ``event_date`` (date) and, per aggregation ``a``, the columns
    ``a.state_columns()`` (see docs/features.md for each kind's states). A row holds
    one whole day; rows of different days merge in :func:`combine_windows`. Only
    events dated in [start, end] are read when given. Rows with a null key or time
    are dropped; with ``counters`` their numbers are added under ``null_key_rows`` /
    ``null_time_rows`` (one extra Spark job).

    >>> daily_partials(events, keys="user_id", timestamp="event_time",
    ...                aggregations=[Agg.count("views")])  # doctest: +SKIP
    """
    from pyspark.sql import functions as F

    what = "daily_partials"
    keys = as_tuple(keys, what)
    aggs = _check_aggs(aggregations, keys, what)
    require_columns(df, keys, what)
    require_timestamp(df, timestamp, what)
    _check_sources(df, aggs, what)
    if PARTIAL_DATE in keys:
        raise ConfigError(f"{what}: a key may not be named {PARTIAL_DATE!r}.")
    first, last = as_date(start, "start"), as_date(end, "end")
    ts = col(timestamp)
    if first is not None:
        ts_from = dt.datetime.combine(first, dt.time(), tzinfo=dt.timezone.utc)
        df = df.where(ts >= F.lit(ts_from))
    if last is not None:
        ts_to = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
        df = df.where(ts < F.lit(ts_to))
    df = _drop_nulls(df, keys, timestamp, counters)
    day = F.floor(F.unix_micros(ts) / 86_400_000_000).cast("int")
    schema = df.schema  # each read of it asks the JVM
    exprs = [
        e
        for a in aggs
        for e in a.partials(timestamp, schema[a.column].dataType if a.column else None)
    ]
    grouped = df.groupBy(*map(sql_name, keys), F.date_from_unix_date(day).alias(PARTIAL_DATE))
    return _analysed(lambda: grouped.agg(*exprs), what)


def _drop_nulls(
    df: DataFrame,
    keys: Sequence[str],
    timestamp: str,
    counters: Optional[MutableMapping[str, int]],
) -> DataFrame:
    from pyspark.sql import functions as F

    from featurekit.features._checks import any_null

    null_key, null_time = any_null(keys), col(timestamp).isNull()
    if counters is not None:
        row = df.agg(
            F.count(F.when(null_key, 1)).alias("k"),
            F.count(F.when(~null_key & null_time, 1)).alias("t"),
        ).first()
        counters[NULL_KEY_COUNTER] = counters.get(NULL_KEY_COUNTER, 0) + int(row["k"] if row else 0)
        counters[NULL_TIME_COUNTER] = counters.get(NULL_TIME_COUNTER, 0) + int(
            row["t"] if row else 0
        )
    return df.where(~null_key & ~null_time)


def _analysed(build: Callable[[], DataFrame], what: str) -> DataFrame:
    """Run ``build()`` (plan construction only) translating analysis errors to ConfigError."""
    from pyspark.errors import AnalysisException

    try:
        result = build()
    except AnalysisException as exc:
        raise ConfigError(
            f"{what}: an aggregation does not fit the DataFrame (check each Agg's column and "
            f"where= expression): {str(exc).splitlines()[0]}"
        ) from exc
    return result


def combine_windows(
    partials: DataFrame,
    *,
    keys: str | Sequence[str],
    aggregations: Sequence[Agg],
    windows: Sequence[str],
    start: Optional[DateLike] = None,
    end: Optional[DateLike] = None,
    date_column: str = PARTIAL_DATE,
) -> DataFrame:
    """Stage 2: feature rows (keys, ``feature_date``, ``<name>_<window>``) from daily partials.

    ``partials`` is the output of :func:`daily_partials` with the same aggregations
    (possibly stored and unioned across runs; one row per key and day). Dates are
    [start, end]; without ``end`` the last partial day; partial days needed for
    the first date's windows are those from ``start - longest + 1``.

    >>> combine_windows(partials, keys="user_id", aggregations=aggs,
    ...                 windows=["1d", "7d"])  # doctest: +SKIP
    """
    what = "combine_windows"
    keys = as_tuple(keys, what)
    aggs = _check_aggs(aggregations, keys, what)
    days = plan_windows(aggs, windows, keys)
    states = [c for a in aggs for c in a.state_columns()]
    require_columns(partials, [*keys, date_column, *states], what)
    first, last = as_date(start, "start"), as_date(end, "end")
    if first is not None and last is not None and 0 <= (last - first).days < FEW_DATES:
        return _grouped_values(partials, keys, date_column, aggs, days, first, last)
    dense = first is None or (
        last is not None and max(days) - 1 <= DENSE_LOOKBACK * ((last - first).days + 1)
    )
    shifts = _shifts(aggs, keys, "__day")
    rows = _feature_grid(
        partials, keys, date_column, states, max(days), first, last, dense=dense, shifts=shifts
    )
    out = _window_values(rows, keys, aggs, days, first, dense=dense)
    # each partial row spreads to the dates before its key's next partial day, and the
    # grid refuses two partial rows of one key and day: one row per key and date (Spark
    # cannot see it past the explode), so the run counts its row checks while it writes
    # instead of reading the rows back (partials read from their table prove nothing)
    return mark_unique(out, [*keys, FEATURE_DATE])


def _grouped_values(
    partials: DataFrame,
    keys: Sequence[str],
    date_column: str,
    aggs: Sequence[Agg],
    days: Sequence[int],
    first: dt.date,
    last: dt.date,
) -> DataFrame:
    """Feature rows of the few dates first..last: each partial day d is spread to the
    dates it reaches, d .. d + longest - 1 within the range (one date: no spread), then
    one groupBy per key and date; window N keeps the states of days with date - d < N."""
    from pyspark.sql import functions as F

    lo, hi, longest = unix_day(first), unix_day(last), max(days)
    p = partials.withColumn("__day", F.unix_date(col(date_column)))
    p = p.where((F.col("__day") >= lo - longest + 1) & (F.col("__day") <= hi))
    quoted = list(map(sql_name, keys))
    shifts = _shifts(aggs, keys, "__day")
    if shifts:  # each key's shift, from its rows kept (one sort per key, before the groupBy)
        p = p.select("*", *[e.alias(name) for name, e in shifts.items()])
    if lo == hi:  # one date (the nightly case): every day kept reaches it, nothing to spread
        spread, age = p, F.lit(lo) - F.col("__day")
    else:
        reach = F.sequence(
            F.greatest(F.col("__day"), F.lit(lo)),
            F.least(F.col("__day") + (longest - 1), F.lit(hi)),
        )
        spread = p.select("*", F.explode(reach).alias("__d"))
        age = F.col("__d") - F.col("__day")
        quoted.append("__d")
    masked, values = [F.col(name) for name in shifts], []
    for i, agg in enumerate(aggs):
        for n in days:
            names = _states(agg, i, f"__{n}")
            for s, name in names.items():
                if s == "shift":  # a key's own: the same over every window
                    continue
                state = col(f"{agg.name}__{s}")
                # every day reaches only dates less than `longest` days on: no mask there
                masked.append((state if n == longest else F.when(age < n, state)).alias(name))
            values.append(agg.combine(None, names).alias(f"{agg.name}_{window_label(n)}"))
    out = spread.select(*quoted, *masked).groupBy(*quoted).agg(*values)
    if lo == hi:
        # the date joins after the grouping, which is then by the keys alone: the scan's
        # generated code holds no date (but in the shorter windows' masks), so the next
        # night's run reuses it compiled and warm: 0.9x of an incremental day's time at
        # the benchmark's size (one window)
        out = out.select("*", F.lit(lo).alias("__d"))
    # one row per key and day number, whatever the partials: the date made of the day
    # number keeps it so (Spark proves the grouping keys, not a function of them)
    return mark_unique(_dated(out, keys), [*keys, FEATURE_DATE])


def _feature_grid(
    partials: DataFrame,
    keys: Sequence[str],
    date_column: str,
    states: Sequence[str],
    longest: int,
    first: Optional[dt.date],
    last: Optional[dt.date],
    *,
    dense: bool = False,
    shifts: Optional[Mapping[str, Column]] = None,
) -> DataFrame:
    """Rows (keys, __d, states) for every date a key needs, states only on its event days.
    ``shifts``: columns by name, each a window aggregate over a key's partial rows by
    ``__day`` (whole frame), carried on every row of the key.

    Each partial day d covers the dates d .. min(next event day - 1, d + longest - 1),
    so the dates are generated once each, with no distinct and no join. Dates before
    ``first`` are kept only where they carry states, unless ``dense``: then every key
    has a row for every day from its first partial day on, except the days past a gap
    longer than ``longest``, after its last state (so a sum N days back is N rows back).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    p = partials.withColumn("__day", F.unix_date(col(date_column)))
    if first is not None:
        p = p.where(F.col("__day") >= unix_day(first) - longest + 1)
    if last is not None:
        p = p.where(F.col("__day") <= unix_day(last))
        end_day: Column = F.lit(unix_day(last))
    else:
        p = p.crossJoin(F.broadcast(p.agg(F.max("__day").alias("__end"))))
        end_day = F.col("__end")
    quoted = list(map(sql_name, keys))
    by_day = Window.partitionBy(*quoted).orderBy("__day")
    nxt = F.lead("__day").over(by_day)
    # in the same Window operator as the lead: the same partitioning and order
    carried = {name: e.alias(name) for name, e in (shifts or {}).items()}
    reach = F.col("__day") + (longest - 1)
    upto = F.least(reach, F.coalesce(nxt - 1, reach), end_day)
    # two partial rows of one key and day would spread to the same dates: the task fails
    # naming them (CONTRACT_MARK: the run reports it as a broken output contract)
    one_per_day = nxt.isNull() | F.col("__day").isNull() | (nxt > F.col("__day"))
    # (not to_json: on Spark 3.5 it has no generated code, which takes the whole projection
    # out of whole-stage code generation)
    named_values = [
        F.concat(F.lit(f"{name}="), F.coalesce(col(name).cast("string"), F.lit("null")))
        for name in (*keys, date_column)
    ]
    duplicate = F.concat(
        F.lit(f"{CONTRACT_MARK}the partials hold more than one row for one key and day, e.g. "),
        F.concat_ws(", ", *named_values),
        F.lit("; merge them into one (merge_partials) before the windows"),
    )
    upto = F.coalesce(F.assert_true(one_per_day, duplicate), upto)
    spread = p.select("*", upto.alias("__upto"), *carried.values()).select(
        *quoted,
        "__day",
        *map(sql_name, states),
        *carried,
        F.explode(F.sequence("__day", "__upto")).alias("__d"),
    )
    own = F.col("__d") == F.col("__day")
    if first is not None and not dense:  # dates before start, only where they carry states
        spread = spread.where(own | (F.col("__d") >= unix_day(first)))
    masked = [F.when(own, col(s)).alias(s) for s in states]
    return spread.select(*quoted, "__d", *masked, *carried)


def _window_values(
    rows: DataFrame,
    keys: Sequence[str],
    aggs: Sequence[Agg],
    days: Sequence[int],
    first: Optional[dt.date],
    *,
    running: bool = True,
    dense: bool = False,
) -> DataFrame:
    """Each aggregation over each window, on every row of the feature grid.

    Additive kinds (count, sum, mean, variance, stddev) take differences of running
    sums (growing frames, each row added once: see ``_running``) for their integral
    sums over any window (exact) and for their double sums over windows of
    ``RUNNING_FROM_DAYS`` or more (and over every window of 2+ days when one such is
    asked); a window of one day is the day's own row; the others, and shorter windows
    of doubles, a sliding frame of N days, which re-reads the frame on each row. Every
    window column
    comes from one Window operator (plus a second, over the same sort, for the doubles'
    rounding errors). ``running`` False puts every window on sliding frames (the method
    before running sums, kept for the benchmarks' comparison). ``dense``: ``rows`` has a
    row for every day (:func:`_feature_grid`), so N days are N rows: the sums N days
    back are ``lag`` in the second operator, the sliding frames are bounded by rows.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.types import IntegralType

    from featurekit.features._running import RunningSums

    quoted = list(map(sql_name, keys))
    by_key = Window.partitionBy(*quoted).orderBy("__d")
    # integral sums of values (sum, mean, variance, stddev) run as decimal(38,0): a key's
    # running total of longs can pass a long's range where its windows do not (an error
    # under ANSI mode, Spark 4's default)
    wide = [
        f"{a.name}__sum"
        for a in aggs
        if "sum" in STATES[a.kind]
        and isinstance(rows.schema[f"{a.name}__sum"].dataType, IntegralType)
    ]
    # with a long window, every double window of 2+ days shares its running sums
    doubles_from = 2 if max(days) >= RUNNING_FROM_DAYS else RUNNING_FROM_DAYS
    sums = RunningSums(rows, quoted, wide, doubles_from=doubles_from, dense=dense)
    values = []
    columns = set(rows.columns)  # each read of them asks the JVM
    for i, agg in enumerate(aggs):
        states = _states(agg, i) if _shift_name(i) in columns else None
        for n in days:
            # the rows a dense grid adds in a window carry no state: the same values, in
            # the same order
            sliding = (by_key.rowsBetween if dense else by_key.rangeBetween)(-(n - 1), 0)
            if running:
                total, over = sums.total(n, sliding), sums.over(n, sliding)
                value = agg.combine(sliding, states, total=total, over=over)
            else:
                value = agg.combine(sliding, states)
            values.append(value.alias(f"{agg.name}_{window_label(n)}"))
    out = (sums.columns() if running else rows).select(*quoted, "__d", *values)
    if first is not None:
        out = out.where(F.col("__d") >= unix_day(first))
    return _dated(out, keys)


def _dated(out: DataFrame, keys: Sequence[str]) -> DataFrame:
    """Feature rows: the keys, ``feature_date`` from the day number ``__d``, the values."""
    from pyspark.sql import functions as F

    return out.select(
        *map(sql_name, keys),
        F.date_from_unix_date(F.col("__d")).alias(FEATURE_DATE),
        *[sql_name(v) for v in out.columns if v not in keys and v != "__d"],
    )


def windowed_aggregates(
    df: DataFrame,
    *,
    keys: str | Sequence[str],
    timestamp: str,
    aggregations: Sequence[Agg],
    windows: Sequence[str],
    start: Optional[DateLike] = None,
    end: Optional[DateLike] = None,
    counters: Optional[MutableMapping[str, int]] = None,
) -> DataFrame:
    """Per key and ``feature_date`` in [start, end], each aggregation over each window.

    Output columns: the keys, ``feature_date`` (date), then ``<agg name>_<window>``
    for every aggregation and window (e.g. ``purchases_7d``). Window N on date D covers
    events with D - N < date(timestamp) <= D (UTC). Null keys/times are dropped and,
    with ``counters``, counted (see :func:`daily_partials`).

    >>> windowed_aggregates(
    ...     events, keys="user_id", timestamp="event_time", windows=["1d", "7d", "30d"],
    ...     aggregations=[Agg.count("purchases", where=F.col("event_type") == "purchase")],
    ... )  # doctest: +SKIP
    """
    what = "windowed_aggregates"
    keys = as_tuple(keys, what)
    aggs = _check_aggs(aggregations, keys, what)
    days = plan_windows(aggs, windows, keys)
    first, last = as_date(start, "start"), as_date(end, "end")
    if first is not None and last is not None and first > last:
        raise ConfigError(f"{what}: start {first} is after end {last}.")
    read_from = None if first is None else first - dt.timedelta(days=max(days) - 1)
    partials = daily_partials(
        df,
        keys=keys,
        timestamp=timestamp,
        aggregations=aggs,
        start=read_from,
        end=last,
        counters=counters,
    )
    return combine_windows(
        partials, keys=keys, aggregations=aggs, windows=windows, start=first, end=last
    )
