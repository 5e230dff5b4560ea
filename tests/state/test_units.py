"""Planning new units: files by (path, size, mtime), dates by folder, Delta by version."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from chispa import assert_df_equality

from featurekit.errors import ConfigError, StateError, UnsupportedError
from featurekit.io import DeltaInput, FilesInput
from featurekit.runtime.local import LocalRuntime
from featurekit.state.delta_log import added_files
from featurekit.state.units import (
    _list_hadoop,
    check_strategy,
    list_files,
    plan_input,
    read_processed,
)

SCHEMA = "id bigint, day string"


def write_csv(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_files_new_changed_and_hidden(local_runtime: LocalRuntime, tmp_path: Path) -> None:
    root = tmp_path / "in"
    write_csv(root, "a.csv", "1,x\n")
    write_csv(root, "_SUCCESS", "")
    write_csv(root / "_temporary", "b.csv", "9,z\n")
    inp = FilesInput(str(root), format="csv", schema=SCHEMA, incremental=True)
    first = plan_input(local_runtime.spark, local_runtime.storage, "in", inp, "files", None)
    assert (first.new, first.fresh) == (["a.csv"], True)

    write_csv(root / "sub", "c.csv", "3,w\n")
    second = plan_input(
        local_runtime.spark, local_runtime.storage, "in", inp, "files", first.bookmark
    )
    assert second.new == ["sub/c.csv"]
    assert sorted(r.id for r in second.read().collect()) == [3]
    third = plan_input(
        local_runtime.spark, local_runtime.storage, "in", inp, "files", second.bookmark
    )
    assert third.new == []
    assert (
        read_processed(
            local_runtime.spark, local_runtime.storage, "in", inp, second.bookmark
        ).count()
        == 2
    )


@pytest.mark.parametrize("change", ["rows added", "time only"])
def test_a_file_read_before_that_changed_is_refused(
    local_runtime: LocalRuntime, tmp_path: Path, change: str
) -> None:
    """Its rows were counted: reading it again would count them twice (a copy that reset
    its modification time is refused too: the state cannot tell it from an edit)."""
    root = tmp_path / "in"
    first_file = write_csv(root, "a.csv", "1,x\n")
    inp = FilesInput(str(root), format="csv", schema=SCHEMA, incremental=True)
    first = plan_input(local_runtime.spark, local_runtime.storage, "in", inp, "files", None)
    if change == "rows added":
        write_csv(root, "a.csv", "1,x\n2,y\n")
    os.utime(first_file, (1_000_000, 1_000_000))
    write_csv(root, "b.csv", "3,w\n")
    with pytest.raises(StateError) as refused:
        plan_input(
            local_runtime.spark, local_runtime.storage, "in", inp, "files", first.bookmark, "daily"
        )
    assert str(refused.value) == (
        f"Input 'in' ({root}): 1 file(s) read by an earlier run have changed since (size or "
        "modification time): a.csv. Their rows are in the output already, and featurekit "
        "cannot take them back, so reading the files again would count them twice. Restore "
        "the files, put new rows in new files, or rebuild from every file: featurekit state "
        "reset daily, then run."
    )


def test_hadoop_listing_matches_the_local_one(local_runtime: LocalRuntime, tmp_path: Path) -> None:
    write_csv(tmp_path / "d=1", "a.csv", "1,x\n")
    write_csv(tmp_path, "b.csv", "2,y\n")
    write_csv(tmp_path, ".hidden", "")
    assert _list_hadoop(local_runtime.spark, f"file://{tmp_path}") == list_files(
        local_runtime.spark, str(tmp_path)
    )


def test_dates_by_partition_folder(local_runtime: LocalRuntime, tmp_path: Path) -> None:
    root = tmp_path / "events"
    write_csv(root / "day=2024-01-01", "a.csv", "1\n")
    write_csv(root / "day=2024-01-02", "a.csv", "2\n")
    inp = FilesInput(
        str(root), format="csv", schema="id bigint", time_column="day", incremental=True
    )
    first = plan_input(local_runtime.spark, local_runtime.storage, "e", inp, "dates", None)
    assert first.new == ["2024-01-01", "2024-01-02"]
    write_csv(root / "day=2024-01-03", "a.csv", "3\n")
    second = plan_input(
        local_runtime.spark, local_runtime.storage, "e", inp, "dates", first.bookmark
    )
    assert second.new == ["2024-01-03"]
    rows = second.read().collect()
    assert [(r.id, str(r.day)) for r in rows] == [(3, "2024-01-03")]


def test_delta_versions_read_only_added_files(local_runtime: LocalRuntime, tmp_path: Path) -> None:
    spark, engine = local_runtime.spark, local_runtime.storage.engine
    path = str(tmp_path / "t")
    engine.write(spark.createDataFrame([(1, "a")], SCHEMA), path, mode="append")
    inp = DeltaInput(path, incremental=True)
    first = plan_input(local_runtime.spark, local_runtime.storage, "t", inp, "delta", None)
    assert (first.new, first.bookmark) == (["0"], {"kind": "delta", "version": 0})
    engine.write(spark.createDataFrame([(2, "b")], SCHEMA), path, mode="append")
    engine.write(spark.createDataFrame([(3, "c")], SCHEMA), path, mode="append")
    second = plan_input(
        local_runtime.spark, local_runtime.storage, "t", inp, "delta", first.bookmark
    )
    assert second.new == ["1", "2"]
    expected = spark.createDataFrame([(2, "b"), (3, "c")], SCHEMA)
    assert_df_equality(second.read(), expected, ignore_row_order=True, ignore_nullable=True)


def test_delta_rewrite_is_refused(local_runtime: LocalRuntime, tmp_path: Path) -> None:
    spark, engine = local_runtime.spark, local_runtime.storage.engine
    path = str(tmp_path / "t")
    engine.write(spark.createDataFrame([(1, "a")], SCHEMA), path, mode="append")
    engine.write(spark.createDataFrame([(2, "b")], SCHEMA), path, mode="overwrite")
    with pytest.raises(UnsupportedError, match="append-only"):
        added_files(local_runtime.spark, "t", path, 1, 1)


def test_strategy_must_fit_the_input() -> None:
    files = FilesInput("/x", format="csv", incremental=True)
    with pytest.raises(UnsupportedError, match="FilesInput"):
        check_strategy("t", DeltaInput("/t"), "files")
    with pytest.raises(ConfigError, match="not a Delta table"):
        check_strategy("f", files, "delta")
    with pytest.raises(ConfigError, match="time_column"):
        check_strategy("f", files, "dates")


def test_an_incremental_table_input_of_files_says_to_declare_files(
    local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    from featurekit.io import TableInput

    name = f"raw.orders_{uuid.uuid4().hex[:6]}"
    landing = tmp_path / "orders"
    write_csv(landing, "a.csv", "id,day\n1,x\n")
    local_runtime.storage.catalog.register(
        name, str(landing), schema={}, format="csv", options={"header": "true"}
    )
    inp = TableInput(name, incremental=True)
    with pytest.raises(ConfigError) as caught:
        plan_input(local_runtime.spark, local_runtime.storage, "orders", inp, "delta", None)
    message = str(caught.value)
    assert f"Input 'orders': TableInput('{name}', incremental=True) is a csv files table" in message
    assert "an incremental catalog input must be a Delta table" in message
    expected = f"FilesInput('{landing}', format='csv', options={{'header': 'true'}}, incremental"
    assert expected in message
    bookmark = {"kind": "delta", "version": 0}
    with pytest.raises(ConfigError, match="is a csv files table"):
        read_processed(local_runtime.spark, local_runtime.storage, "orders", inp, bookmark)
