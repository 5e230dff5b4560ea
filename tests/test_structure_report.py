"""tools/structure_report.py: figures and import cycles read from the source alone."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "structure_report", ROOT / "tools" / "structure_report.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cycles_counting_imports_inside_functions_and_for_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / "featurekit"
    write(pkg / "__init__.py", "")
    write(pkg / "a" / "__init__.py", "from featurekit.b import thing\n")
    write(pkg / "b" / "__init__.py", "def thing(x, y, z):\n    from featurekit.c import f\n")
    write(
        pkg / "c.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from featurekit.a import q\n"
        "def f():\n    pass\n",
    )
    write(pkg / "d.py", "from .c import f\n")
    found = load_tool().report(pkg)
    assert found["modules"] == 5
    assert found["largest_parameter_lists"][0] == {"parameters": 3, "name": "featurekit.b.thing"}
    assert found["package_cycles"] == []  # c -> a is for type checking only
    assert found["package_cycles_with_type_checking"] == [["a", "b", "c"]]


def test_featurekit_has_no_package_cycles(capsys: pytest.CaptureFixture[str]) -> None:
    tool = load_tool()
    assert tool.main(["--src", str(ROOT / "src" / "featurekit"), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["package_cycles_with_type_checking"] == []
    assert found["modules"] > 100
