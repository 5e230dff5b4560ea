"""Put the emulation in place of ``awsglue`` for scripts that ``import awsglue``.

``awsglue.utils`` stays the real module of AWSGlueDataplanePython (its
``getResolvedOptions`` is pure Python); ``awsglue``, ``awsglue.context``,
``awsglue.dynamicframe``, ``awsglue.transforms`` and ``awsglue.job`` become the
emulation. Importing any other ``awsglue`` module raises UnsupportedError.

Example::

    with installed(warehouse="/tmp/wh"):
        runpy.run_path("my_glue_script.py", run_name="__main__")
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Optional

from featurekit.errors import MissingDependencyError
from featurekit.glue_local import context, dynamicframe, job, transforms
from featurekit.glue_local._support import configure, unsupported

MODULES: dict[str, tuple[ModuleType, Sequence[str]]] = {
    "awsglue.context": (context, ("GlueContext",)),
    "awsglue.dynamicframe": (dynamicframe, ("DynamicFrame", "DynamicRecord")),
    "awsglue.job": (job, ("Job",)),
    "awsglue.transforms": (transforms, tuple(transforms.__all__)),
}


def _proxy(name: str, source: ModuleType, names: Sequence[str]) -> ModuleType:
    module = ModuleType(name, source.__doc__)
    for attr in names:
        setattr(module, attr, getattr(source, attr))
    module.__all__ = list(names)  # type: ignore[attr-defined]

    def __getattr__(attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        unsupported(f"{name}.{attr}", f"{name}: {', '.join(names)}")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


class _Blocker(importlib.abc.MetaPathFinder):
    """Turns imports of awsglue modules that are not emulated into UnsupportedError."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname.startswith("awsglue.") and fullname not in sys.modules:
            supported = ", ".join(["awsglue.utils", *MODULES])
            unsupported(f"import {fullname}", f"the modules {supported}")


def real_utils() -> ModuleType:
    """The real ``awsglue.utils`` (AWSGlueDataplanePython); MissingDependencyError without it."""
    import importlib

    try:
        utils = importlib.import_module("awsglue.utils")
    except ImportError as exc:
        raise MissingDependencyError(
            "AWSGlueDataplanePython", "glue", "getResolvedOptions (the real awsglue.utils)"
        ) from exc
    return utils


def _package(utils: ModuleType, modules: dict[str, ModuleType]) -> ModuleType:
    package = ModuleType("awsglue", "featurekit's local emulation of the awsglue package.")
    package.__path__ = []
    package.DynamicFrame = dynamicframe.DynamicFrame  # type: ignore[attr-defined]
    package.__all__ = ["DynamicFrame"]  # type: ignore[attr-defined]
    package.utils = utils  # type: ignore[attr-defined]
    for name, module in modules.items():
        setattr(package, name.split(".")[1], module)
    return package


@contextmanager
def installed(*, warehouse: Optional[str] = None, s3: Any = None) -> Iterator[ModuleType]:
    """Install the emulation as ``awsglue`` for the duration of the block; yields the package."""
    utils = real_utils()
    if warehouse is not None:
        configure(warehouse=warehouse, s3=s3)
    saved = {k: v for k, v in sys.modules.items() if k == "awsglue" or k.startswith("awsglue.")}
    modules = {name: _proxy(name, src, names) for name, (src, names) in MODULES.items()}
    package = _package(utils, modules)
    blocker = _Blocker()
    for key in saved:
        del sys.modules[key]
    sys.modules.update({"awsglue": package, "awsglue.utils": utils, **modules})
    sys.meta_path.insert(0, blocker)
    try:
        yield package
    finally:
        sys.meta_path.remove(blocker)
        for key in [k for k in sys.modules if k == "awsglue" or k.startswith("awsglue.")]:
            del sys.modules[key]
        sys.modules.update(saved)
