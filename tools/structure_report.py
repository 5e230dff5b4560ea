"""The structure of ``src/featurekit`` in figures, from the source alone (nothing is imported).

Prints modules and lines, the longest function and the largest parameter list, and the
import cycles between featurekit's packages (a package is a top-level subpackage, or a
top-level module), counting imports made inside functions and, separately, those made
only for type checking. ``--json`` for scripting.

    python tools/structure_report.py [--src src/featurekit] [--json]
"""

from __future__ import annotations

import argparse
import ast
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT_PACKAGE = "featurekit"
TOP = 3  # functions listed by length and by parameters


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str:
    """``featurekit.run.write`` -> ``run``; ``featurekit`` -> ``featurekit``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for sub in ast.walk(child):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def imports(tree: ast.Module, module: str, is_package: bool) -> list[tuple[str, bool]]:
    """(imported featurekit module, only for type checking) for every import in ``tree``."""
    typing_only = _type_checking_lines(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name == ROOT_PACKAGE or name.startswith(ROOT_PACKAGE + "."):
                found.append((name, node.lineno in typing_only))
    return found


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of nodes that reach each other (more than one member): the cycles."""
    reach = {node: _reachable(graph, node) for node in graph}
    groups = {
        tuple(sorted({n for n in reach[node] if node in reach.get(n, set())} | {node}))
        for node in graph
        if node in reach[node]
    }
    return sorted((list(g) for g in groups if len(g) > 1), key=lambda c: (-len(c), c))


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _param_count(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = fn.args
    names = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    return len([n for n in names if n.arg not in ("self", "cls")])


def report(src: Path) -> dict[str, Any]:
    modules: dict[str, ast.Module] = {}
    lines = 0
    is_pkg: dict[str, bool] = {}
    for path in sorted(src.rglob("*.py")):
        text = path.read_text()
        lines += len(text.splitlines())
        name = module_name(path, src)
        modules[name] = ast.parse(text)
        is_pkg[name] = path.name == "__init__.py"
    lengths: list[tuple[int, str]] = []
    widths: list[tuple[int, str]] = []
    runtime_edges: dict[str, set[str]] = defaultdict(set)
    all_edges: dict[str, set[str]] = defaultdict(set)
    module_edges: dict[str, set[str]] = defaultdict(set)
    for name, tree in modules.items():
        for fn in _functions(tree):
            length = (fn.end_lineno or fn.lineno) - fn.lineno + 1
            lengths.append((length, f"{name}.{fn.name}"))
            widths.append((_param_count(fn), f"{name}.{fn.name}"))
        for target, typing_only in imports(tree, name, is_pkg[name]):
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            src_pkg, dst_pkg = package_of(name), package_of(target)
            if target != name:
                module_edges[name].add(target)
            if src_pkg == dst_pkg:
                continue
            all_edges[src_pkg].add(dst_pkg)
            if not typing_only:
                runtime_edges[src_pkg].add(dst_pkg)
    # the root package's own __init__ re-exports the public API: it stands above all
    lengths.sort(key=lambda x: (-x[0], x[1]))
    widths.sort(key=lambda x: (-x[0], x[1]))
    return {
        "modules": len(modules),
        "lines": lines,
        "longest_functions": [{"lines": n, "name": f} for n, f in lengths[:TOP]],
        "largest_parameter_lists": [{"parameters": n, "name": f} for n, f in widths[:TOP]],
        "package_cycles": strongly_connected(runtime_edges),
        "package_cycles_with_type_checking": strongly_connected(all_edges),
        "module_cycles": strongly_connected(module_edges),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default="src/featurekit", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    found = report(args.src)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    print(f"modules {found['modules']}, lines {found['lines']}")
    longest = ", ".join(f"{f['name']} {f['lines']}" for f in found["longest_functions"])
    widest = ", ".join(f"{f['name']} {f['parameters']}" for f in found["largest_parameter_lists"])
    print(f"longest functions (lines): {longest}")
    print(f"largest parameter lists: {widest}")
    for key in ("package_cycles", "package_cycles_with_type_checking", "module_cycles"):
        cycles = found[key]
        print(f"{key.replace('_', ' ')}: {len(cycles)}")
        for cycle in cycles:
            print(f"  {len(cycle)}: {', '.join(cycle)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
