"""Every import of a project's code must be shipped, provided, or the standard library.

A job that imports a library its ``pyproject.toml`` does not list works on the
developer's machine (it is installed there) and fails on the cluster. ``featurekit
package`` reads the project's modules (``ast``, nothing is imported) and refuses such an
import by file and line.

Example::

    unlisted_imports([Path("src/shop_features")], allowed={"shop_features", "featurekit"})
    # [('src/shop_features/orders.py', 4, 'requests')]
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from featurekit.deploy.dists import canonical

# Provided on every target: Spark's Python side, and on Glue its own modules (featurekit
# provides local stand-ins for them).
PROVIDED_MODULES = frozenset({"pyspark", "py4j", "featurekit", "awsglue", "awsgluedq"})


def _stdlib() -> frozenset[str]:
    names = getattr(sys, "stdlib_module_names", None)  # Python 3.10+
    if names is not None:
        return frozenset(names)
    import sysconfig  # Python 3.9: the modules of the standard library's folder

    base = Path(sysconfig.get_paths()["stdlib"])
    found = {p.stem for p in base.glob("*.py")} | {p.name for p in base.iterdir() if p.is_dir()}
    return frozenset(found | set(sys.builtin_module_names))


def imported_modules(folder: Path) -> Iterator[tuple[Path, int, str]]:
    """(file, line, top-level module) of every absolute import under ``folder``."""
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, node.lineno, alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield path, node.lineno, node.module.split(".")[0]


def module_owners() -> dict[str, set[str]]:
    """Top-level module -> the installed distributions providing it (canonical names)."""
    owners: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        name = canonical(dist.metadata["Name"] or "")
        top = dist.read_text("top_level.txt")
        modules = set(top.split()) if top else set()
        for file in dist.files or []:
            first = file.parts[0]
            if first.endswith(".py"):
                modules.add(first[:-3])
            elif (
                len(file.parts) > 1
                and not first.endswith((".dist-info", ".data"))
                and first != ".."
            ):
                modules.add(first)
        for module in modules:
            owners.setdefault(module, set()).add(name)
    return owners


def unlisted_imports(
    folders: Iterable[Path], *, own: Iterable[str], declared: Iterable[str], root: Path
) -> list[str]:
    """Imports of ``folders`` that nothing declared, provided or standard gives; as lines."""
    stdlib = _stdlib()
    allowed = PROVIDED_MODULES | set(own)
    declared_names = {canonical(d) for d in declared}
    owners = module_owners()
    problems = []
    for folder in folders:
        for path, line, module in imported_modules(folder):
            if module in stdlib or module in allowed or module.startswith("_"):
                continue
            dists = owners.get(module, set())
            if dists & declared_names:
                continue
            where = f"{path.relative_to(root)}:{line}"
            if dists:
                problems.append(
                    f"{where} imports {module!r}, from {', '.join(sorted(dists))}, which "
                    "[project] dependencies does not list"
                )
            else:
                problems.append(f"{where} imports {module!r}, which is not installed here")
    return problems
