"""`featurekit table show --version N` of a Delta version whose files a vacuum removed is
one error line (exit 2), not a FileNotFoundError traceback."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from featurekit.cli import main
from featurekit.tables.catalog import LocalCatalog
from featurekit.warehouse import Warehouse


def test_showing_a_vacuumed_version_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from deltalake import DeltaTable, write_deltalake

    location = tmp_path / "features" / "t"
    write_deltalake(str(location), pa.table({"k": ["a"]}), mode="overwrite")
    write_deltalake(str(location), pa.table({"k": ["b"]}), mode="overwrite")
    DeltaTable(str(location)).vacuum(retention_hours=0, enforce_retention_duration=False,
                                      dry_run=False)  # fmt: skip
    schema = {"type": "struct", "fields": [
        {"name": "k", "type": "string", "nullable": True, "metadata": {}}]}  # fmt: skip
    LocalCatalog(Warehouse(tmp_path)).register("features.t", str(location), schema=schema)
    argv = ["table", "show", "features.t", "--warehouse", str(tmp_path)]
    assert main([*argv, "--json"]) == 0  # the latest version is whole
    capsys.readouterr()
    assert main([*argv, "--version", "0"]) == 2
    err = capsys.readouterr().err
    assert "Cannot read features.t at version 0" in err
    assert "Traceback" not in err
