"""Follow one parameter through the calls that pass it on, from the source alone.

    python tools/follow_param.py featurekit.run:execute:platform
    python tools/follow_param.py featurekit.job:FeatureJob.run:runtime --json

From the function's body, every call that passes the parameter, or a value read from it
(``runtime.storage``, ``runtime.report``), or a local name bound to either, is followed into
the featurekit function it calls (resolved through the module's imports, its own
functions, and ``self.`` methods), under the name that function gives the argument, until
no new function is reached. A call on the parameter itself (``runtime.begin(ctx)``) is
answered by whichever class the program holds: with ``--implementations Runtime`` every
featurekit class that is ``Runtime`` or derives from it and defines the method is entered
(as ``self``). Values put into a constructor (a frozen value object) are not followed.
Prints the modules and functions entered.
"""

from __future__ import annotations

import argparse
import ast
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]


@dataclass
class Module:
    name: str
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted target


def load(src: Path) -> dict[str, Module]:
    modules = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        module = Module(name, ast.parse(path.read_text()))
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base]) if base else ".".join(anchor)
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = f"{base}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports[alias.asname or alias.name.split(".")[0]] = alias.name
        modules[name] = module
    return modules


def find_function(module: Module, qualname: str) -> Optional[Function]:
    scope: list[ast.stmt] = module.tree.body
    found: Optional[ast.AST] = None
    for part in qualname.split("."):
        kinds = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        found = next((n for n in scope if isinstance(n, kinds) and n.name == part), None)
        if found is None:
            return None
        scope = found.body  # type: ignore[attr-defined]
    return found if isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def root_name(node: ast.AST) -> Optional[str]:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def carried(node: ast.AST, names: set[str]) -> bool:
    """True when ``node`` is one of ``names`` or a value read from one (``x.a.b``)."""
    return root_name(node) in names and not isinstance(node, ast.Call)


def resolve(
    modules: dict[str, Module], module: Module, func: ast.expr, cls: Optional[str]
) -> Optional[tuple[Module, str]]:
    """The featurekit (module, qualname) a call's function names, when it can be read."""
    if isinstance(func, ast.Name):
        if find_function(module, func.id):
            return module, func.id
        target = module.imports.get(func.id)
        if target and target.startswith("featurekit"):
            mod, _, name = target.rpartition(".")
            if mod in modules and find_function(modules[mod], name):
                return modules[mod], name
        return None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id in ("self", "cls") and cls and find_function(module, f"{cls}.{func.attr}"):
            return module, f"{cls}.{func.attr}"
        target = module.imports.get(func.value.id)
        if target in modules and find_function(modules[target], func.attr):
            return modules[target], func.attr
        if target:  # a class imported by name: its classmethod or constructor-free method
            mod, _, name = target.rpartition(".")
            if mod in modules and find_function(modules[mod], f"{name}.{func.attr}"):
                return modules[mod], f"{name}.{func.attr}"
    return None


def parameter_for(fn: Function, index: Optional[int], keyword: Optional[str]) -> Optional[str]:
    params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    if keyword is not None:
        names = params + [a.arg for a in fn.args.kwonlyargs]
        return keyword if keyword in names else None
    if index is not None and index < len(params):
        return params[index]
    return None


def classes_of(modules: dict[str, Module], base: Optional[str]) -> list[tuple[Module, str]]:
    """(module, class name) of ``base`` and every class deriving from it, by name."""
    if base is None:
        return []
    found = {
        (m.name, node.name): [root_name(b) or "" for b in node.bases]
        for m in modules.values()
        for node in m.tree.body
        if isinstance(node, ast.ClassDef)
    }
    names = {base}
    while True:
        more = {c for (_, c), bases in found.items() if names & set(bases)} - names
        if not more:
            break
        names |= more
    return [(modules[m], c) for (m, c) in sorted(found) if c in names]


@dataclass
class Walk:
    modules: dict[str, Module]
    answering: list[tuple[Module, str]]
    todo: list[tuple[Module, str, str]] = field(default_factory=list)
    seen: set[tuple[str, str, str]] = field(default_factory=set)
    hooks: set[str] = field(default_factory=set)

    def visit(self, module: Module, name: str, carried_as: str) -> None:
        """Queue every function ``name`` passes ``carried_as`` (or its parts) to."""
        fn = find_function(module, name)
        key = (module.name, name, carried_as)
        if key in self.seen or fn is None:
            return
        self.seen.add(key)
        cls = name.rsplit(".", 1)[0] if "." in name else None
        names = {carried_as}
        for node in ast.walk(fn):  # local names bound to the parameter or its parts
            if isinstance(node, ast.Assign) and carried(node.value, names):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in ast.walk(fn):
            if isinstance(node, ast.Call):
                self.hook(module, name, node.func, names)
                self.passes(module, cls, node, names)

    def hook(self, module: Module, name: str, func: ast.expr, names: set[str]) -> None:
        """``param.method(...)``: entered in every class that may answer it."""
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return
        if func.value.id not in names or func.value.id in ("self", "cls"):
            return
        self.hooks.add(f"{module.name}:{name} calls {ast.unparse(func)}")
        for owner, cls_name in self.answering:
            if find_function(owner, f"{cls_name}.{func.attr}"):
                self.todo.append((owner, f"{cls_name}.{func.attr}", "self"))

    def passes(self, module: Module, cls: Optional[str], call: ast.Call, names: set[str]) -> None:
        """``f(param, ...)``: entered in ``f`` under the name ``f`` gives that argument."""
        passed: list[tuple[Optional[int], Optional[str], ast.expr]]
        passed = [(i, None, a) for i, a in enumerate(call.args)]
        passed += [(None, k.arg, k.value) for k in call.keywords if k.arg]
        for index, keyword, arg in passed:
            callee = resolve(self.modules, module, call.func, cls) if carried(arg, names) else None
            target = find_function(*callee) if callee else None
            as_name = parameter_for(target, index, keyword) if target else None
            if callee and as_name:
                self.todo.append((callee[0], callee[1], as_name))


def follow(src: Path, start: str, implementations: Optional[str] = None) -> dict[str, object]:
    """The modules, functions and hooks ``start`` (``module:function:parameter``) reaches."""
    modules = load(src)
    walk = Walk(modules, classes_of(modules, implementations))
    module_name, qualname, param = start.split(":")
    walk.todo.append((modules[module_name], qualname, param))
    while walk.todo:
        walk.visit(*walk.todo.pop())
    return {
        "start": start,
        "modules": sorted({m for m, _, _ in walk.seen}),
        "functions": sorted(f"{m}:{f} ({p})" for m, f, p in walk.seen),
        "hooks": sorted(walk.hooks),
    }


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "start", help="module:function:parameter, e.g. featurekit.run:execute:platform"
    )
    parser.add_argument("--src", default="src/featurekit", type=Path)
    parser.add_argument(
        "--implementations", metavar="CLASS", help="the class whose subclasses answer hooks"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    found = follow(args.src, args.start, args.implementations)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    modules = found["modules"]
    assert isinstance(modules, list)
    print(f"{args.start}: {len(modules)} modules entered")
    for key in ("modules", "functions", "hooks"):
        print(f"{key}:")
        for item in found[key]:  # type: ignore[attr-defined]
            print(f"  {item}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
