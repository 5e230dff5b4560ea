"""Which feature dates a change of daily partials affects."""

from __future__ import annotations

import datetime as dt

import pytest

from featurekit.errors import ConfigError
from featurekit.state.partials import affected_dates


def day(n: int) -> dt.date:
    return dt.date(2024, 1, n)


def days(*ns: int) -> list[dt.date]:
    return [day(n) for n in ns]


def test_late_day_affects_its_window_only() -> None:
    assert affected_dates(days(3), 3, day(10), day(10)) == days(3, 4, 5)


def test_new_day_after_the_horizon() -> None:
    assert affected_dates(days(11), 7, day(10), day(11)) == days(11)


def test_gap_past_the_horizon_is_filled_and_windows_cut_at_the_new_horizon() -> None:
    assert affected_dates(days(2, 14), 3, day(10), day(14)) == days(2, 3, 4, 11, 12, 13, 14)


def test_rebuild_covers_everything_from_the_first_day() -> None:
    assert affected_dates(days(1, 9), 2, None, day(9)) == days(*range(1, 10))


def test_no_days_no_dates() -> None:
    assert affected_dates([], 3, day(1), day(1)) == []


def test_job_declaration_checks() -> None:
    from featurekit import FeatureTable
    from featurekit.io import FilesInput
    from featurekit.job import IncrementalFeatureJob

    with pytest.raises(ConfigError, match="window_days"):

        class Bad(IncrementalFeatureJob):
            name = "bad"
            window_days = 0
            inputs = {"e": FilesInput("/e", incremental=True)}
            output = FeatureTable(
                "f.bad", keys=("k",), date_column="d", columns={"k": "string", "d": "date"}
            )

            def partials(self, ctx, e):  # type: ignore[no-untyped-def]
                return e

            def combine(self, ctx, partials):  # type: ignore[no-untyped-def]
                return partials

    with pytest.raises(ConfigError, match="increments names"):

        class Bad2(IncrementalFeatureJob):
            name = "bad2"
            increments = {"x": "files"}
            inputs = {"e": FilesInput("/e", incremental=True)}
            output = FeatureTable(
                "f.bad", keys=("k",), date_column="d", columns={"k": "string", "d": "date"}
            )

            def partials(self, ctx, e):  # type: ignore[no-untyped-def]
                return e

            def combine(self, ctx, partials):  # type: ignore[no-untyped-def]
                return partials
