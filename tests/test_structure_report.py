"""tools/structure_report.py: figures and import cycles read from the source alone."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_tool(name: str = "structure_report") -> ModuleType:
    """A script of tools/ as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
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


def test_following_a_parameter_through_calls_parts_and_hooks(tmp_path: Path) -> None:
    pkg = tmp_path / "featurekit"
    write(pkg / "__init__.py", "")
    write(
        pkg / "entry.py",
        "from featurekit.steps import step\nfrom featurekit import value\n"
        "def go(rt, ctx):\n    parts = rt.storage\n    step(ctx, store=parts)\n"
        "    rt.begin(ctx)\n    value.Frozen(rt.spark)\n",
    )
    write(pkg / "steps.py", "from featurekit import low\ndef step(ctx, store):\n    low.f(store)\n")
    write(pkg / "low.py", "def f(s):\n    return s\n")
    write(
        pkg / "value.py",
        "class Frozen:\n    def __init__(self, spark):\n        self.spark = spark\n",
    )
    write(
        pkg / "plat.py",
        "class Base:\n    def begin(self, ctx):\n        pass\n"
        "class Glue(Base):\n    def begin(self, ctx):\n        from featurekit.low import f\n"
        "        f(self)\n",
    )
    found = load_tool("follow_param").follow(pkg, "featurekit.entry:go:rt", "Base")
    # the value object's constructor keeps what it is given: value.py is not entered
    assert found["modules"] == [
        "featurekit.entry", "featurekit.low", "featurekit.plat", "featurekit.steps",
    ]  # fmt: skip
    assert found["hooks"] == ["featurekit.entry:go calls rt.begin"]


def test_the_runtime_reaches_few_modules_from_the_run_entry() -> None:
    found = load_tool("follow_param").follow(
        ROOT / "src" / "featurekit", "featurekit.run:execute:platform", "Runtime"
    )
    assert len(found["modules"]) <= 8, found["modules"]


def test_what_stores_or_reads_never_names_the_runtime() -> None:
    src = ROOT / "src" / "featurekit"
    places = ["run", "state", "quality", "storage", "tables", "maintain.py", "run/backfill.py"]
    naming = []
    for place in places:
        for path in (
            sorted((src / place).rglob("*.py")) if (src / place).is_dir() else [src / place]
        ):
            tree = ast.parse(path.read_text())
            names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            names |= {a.name.rsplit(".", 1)[-1] for n in ast.walk(tree)
                      if isinstance(n, ast.ImportFrom) for a in n.names}  # fmt: skip
            if names & {"Runtime", "LocalRuntime", "GlueRuntime", "EmrRuntime"}:
                naming.append(str(path.relative_to(src)))
    assert naming == []
