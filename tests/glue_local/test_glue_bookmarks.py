"""Job bookmark state: Glue's enable / pause / disable semantics, commit-only saves, reset."""

from __future__ import annotations

from pathlib import Path

import pytest

from featurekit.errors import ConfigError, StateError
from featurekit.glue_local.bookmarks import (
    DISABLE,
    ENABLE,
    PAUSE,
    BookmarkSession,
    BookmarkStore,
)
from featurekit.warehouse import Warehouse


@pytest.fixture
def store(tmp_path: Path) -> BookmarkStore:
    return BookmarkStore(Warehouse(tmp_path))


def run(store: BookmarkStore, run_id: str, files: dict[str, float], option: str = ENABLE,
        commit: bool = True, **range_: str) -> list[str]:  # fmt: skip
    session = BookmarkSession.open(
        store, "job", run_id, option, range_.get("start"), range_.get("stop")
    )
    seen = session.new_files("src", files)
    if commit:
        session.commit()
    return seen


def test_enable_returns_only_new_or_modified_files(store: BookmarkStore) -> None:
    assert run(store, "r1", {"s3://b/a": 1.0, "s3://b/b": 1.0}) == ["s3://b/a", "s3://b/b"]
    assert run(store, "r2", {"s3://b/a": 1.0, "s3://b/b": 2.0, "s3://b/c": 3.0}) == [
        "s3://b/b",
        "s3://b/c",
    ]
    assert run(store, "r3", {"s3://b/a": 1.0, "s3://b/b": 2.0, "s3://b/c": 3.0}) == []


def test_nothing_is_saved_without_commit(store: BookmarkStore) -> None:
    run(store, "r1", {"s3://b/a": 1.0}, commit=False)
    assert store.show("job")["version"] == 0
    assert run(store, "r2", {"s3://b/a": 1.0}) == ["s3://b/a"]


def test_disable_reads_everything_and_saves_nothing(store: BookmarkStore) -> None:
    run(store, "r1", {"s3://b/a": 1.0})
    assert run(store, "r2", {"s3://b/a": 1.0, "s3://b/b": 1.0}, option=DISABLE) == [
        "s3://b/a",
        "s3://b/b",
    ]
    assert [r["run_id"] for r in store.show("job")["runs"]] == ["r1"]


def test_pause_reads_since_last_commit_without_saving(store: BookmarkStore) -> None:
    run(store, "r1", {"s3://b/a": 1.0})
    files = {"s3://b/a": 1.0, "s3://b/b": 2.0}
    assert run(store, "p1", files, option=PAUSE) == ["s3://b/b"]
    assert run(store, "p2", files, option=PAUSE) == ["s3://b/b"]
    assert store.show("job")["version"] == 1


def test_pause_with_range_reads_what_runs_after_from_up_to_to_saw(store: BookmarkStore) -> None:
    run(store, "r1", {"s3://b/a": 1.0})
    run(store, "r2", {"s3://b/a": 1.0, "s3://b/b": 2.0})
    run(store, "r3", {"s3://b/a": 1.0, "s3://b/b": 2.0, "s3://b/c": 3.0})
    now = {"s3://b/a": 1.0, "s3://b/b": 2.0, "s3://b/c": 3.0, "s3://b/d": 4.0}
    assert run(store, "p", now, option=PAUSE, start="r1", stop="r2") == ["s3://b/b"]
    assert run(store, "p", now, option=PAUSE, start="r1", stop="r3") == ["s3://b/b", "s3://b/c"]


def test_range_needs_both_ends_and_pause(store: BookmarkStore) -> None:
    with pytest.raises(ConfigError, match="go together"):
        BookmarkSession.open(store, "job", "r", PAUSE, "r1", None)
    with pytest.raises(ConfigError, match="only with"):
        BookmarkSession.open(store, "job", "r", ENABLE, "r1", "r2")


def test_reset_forgets_everything_or_rewinds_to_a_run(store: BookmarkStore) -> None:
    run(store, "r1", {"s3://b/a": 1.0})
    run(store, "r2", {"s3://b/a": 1.0, "s3://b/b": 2.0})
    store.reset("job", "r1")
    assert [r["run_id"] for r in store.show("job")["runs"]] == ["r1"]
    assert run(store, "r3", {"s3://b/a": 1.0, "s3://b/b": 2.0}) == ["s3://b/b"]
    store.reset("job")
    assert run(store, "r4", {"s3://b/a": 1.0}) == ["s3://b/a"]
    with pytest.raises(StateError, match="no committed bookmark run 'nope'"):
        store.reset("job", "nope")


def test_concurrent_commit_is_a_version_mismatch(store: BookmarkStore) -> None:
    first = BookmarkSession.open(store, "job", "r1", ENABLE)
    second = BookmarkSession.open(store, "job", "r2", ENABLE)
    first.new_files("src", {"s3://b/a": 1.0})
    second.new_files("src", {"s3://b/a": 1.0})
    first.commit()
    with pytest.raises(StateError, match="version mismatch"):
        second.commit()


def test_state_is_per_transformation_ctx_and_reads_without_ctx_are_not_tracked(
    store: BookmarkStore,
) -> None:
    session = BookmarkSession.open(store, "job", "r1", ENABLE)
    session.new_files("one", {"s3://b/a": 1.0})
    assert session.new_files("", {"s3://b/a": 1.0}) == ["s3://b/a"]
    session.commit()
    again = BookmarkSession.open(store, "job", "r2", ENABLE)
    assert again.new_files("one", {"s3://b/a": 1.0}) == []
    assert again.new_files("two", {"s3://b/a": 1.0}) == ["s3://b/a"]
    assert set(store.show("job")["current"]) == {"one"}


def test_key_bookmarks_remember_the_last_key_and_pause_reads_a_range(store: BookmarkStore) -> None:
    def commit(run_id: str, last: list[str]) -> None:
        session = BookmarkSession.open(store, "job", run_id, ENABLE)
        session.record_keys("tbl", ["id"], "asc", last)
        session.commit()

    first = BookmarkSession.open(store, "job", "r0", ENABLE)
    assert first.key_bounds("tbl") == (None, None)
    commit("r1", ["10"])
    commit("r2", ["20"])
    assert BookmarkSession.open(store, "job", "r3", ENABLE).key_bounds("tbl") == (["20"], None)
    paused = BookmarkSession.open(store, "job", "p", PAUSE, "r1", "r2")
    assert paused.key_bounds("tbl") == (["10"], ["20"])
    nothing_new = BookmarkSession.open(store, "job", "r3", ENABLE)
    nothing_new.record_keys("tbl", ["id"], "asc", None)
    nothing_new.commit()
    assert store.show("job")["current"]["tbl"]["max"] == ["20"]
    assert BookmarkSession.open(store, "job", "d", DISABLE).key_bounds("tbl") == (None, None)


def test_jobs_whose_names_differ_in_unsafe_characters_keep_their_own_bookmarks(
    store: BookmarkStore,
) -> None:
    for job in ("orders etl", "orders_etl", "orders/etl"):
        session = BookmarkSession.open(store, job, f"r-{job}", ENABLE)
        assert session.new_files("src", {"s3://b/a": 1.0}) == ["s3://b/a"], job
        session.commit()
    assert [r["run_id"] for r in store.show("orders etl")["runs"]] == ["r-orders etl"]
    assert [r["run_id"] for r in store.show("orders_etl")["runs"]] == ["r-orders_etl"]
    store.reset("orders etl")
    assert store.show("orders_etl")["version"] == 1
