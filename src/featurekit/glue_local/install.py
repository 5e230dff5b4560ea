"""Put the emulation in place of ``awsglue`` for scripts that ``import awsglue``.

``awsglue.utils`` stays the real module of AWSGlueDataplanePython (its
``getResolvedOptions`` is pure Python); ``awsglue``, ``awsglue.context``,
``awsglue.dynamicframe``, ``awsglue.transforms`` and ``awsglue.job`` become the
emulation, and ``awsgluedq.transforms`` (Glue Studio's data-quality node) imports.
Importing any other ``awsglue`` module raises UnsupportedError.

For the duration of the block ``SparkContext()`` (the console's boilerplate) returns
the running context, as ``SparkContext.getOrCreate()`` does; pyspark is restored after.

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

import featurekit.glue_local.collection as collection
import featurekit.glue_local.context as context
import featurekit.glue_local.dataquality as dataquality
import featurekit.glue_local.dynamicframe as dynamicframe
import featurekit.glue_local.job as job
import featurekit.glue_local.transforms as transforms
from featurekit.errors import MissingDependencyError
from featurekit.glue_local._support import SETTINGS, configure, unsupported

MODULES: dict[str, tuple[ModuleType, Sequence[str]]] = {
    "awsglue.context": (context, ("GlueContext",)),
    "awsglue.dynamicframe": (
        dynamicframe,
        ("DynamicFrame", "DynamicRecord", "DynamicFrameCollection", "ResolveOption"),
    ),
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
        if fullname.startswith(("awsglue.", "awsgluedq.")) and fullname not in sys.modules:
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


def _dq_modules() -> dict[str, ModuleType]:
    package = ModuleType("awsgluedq", "featurekit's stand-in for Glue's data-quality package.")
    package.__path__ = []
    names = ("EvaluateDataQuality",)
    module = _proxy("awsgluedq.transforms", dataquality, names)
    package.transforms = module  # type: ignore[attr-defined]
    return {"awsgluedq": package, "awsgluedq.transforms": module}


@contextmanager
def spark_context_scope() -> Iterator[None]:
    """``SparkContext(...)`` returns the running context while the block runs.

    Glue scripts start with ``sc = SparkContext()``; on Glue that is the job's one
    context. Here the session exists before the script, so a plain constructor would
    fail with "Cannot run multiple SparkContexts at once". Every loaded pyspark module
    that binds the name ``SparkContext`` to pyspark's class gets a subclass whose
    constructor hands back the active context: not only ``pyspark`` and
    ``pyspark.context``, also modules such as ``pyspark.sql.functions`` (on pyspark 3.5
    it has no ``__all__``, so ``from pyspark.sql.functions import *`` re-exports the
    class it imported and rebinds a script's ``SparkContext``). When the block ends the
    real class is put back wherever the subclass is bound, including modules imported
    during the block.
    """
    import pyspark.context

    original = pyspark.context.SparkContext

    def __new__(cls: Any, *args: Any, **kwargs: Any) -> Any:
        active = original._active_spark_context
        if active is None:
            return original(*args, **kwargs)
        return active  # not an instance of cls: __init__ is skipped, nothing restarts

    scoped = type("SparkContext", (original,), {"__new__": __new__, "__doc__": original.__doc__})
    _rebind(original, scoped)
    try:
        yield
    finally:
        _rebind(scoped, original)


def _rebind(old: type, new: type) -> None:
    """Bind ``new`` in place of ``old`` as ``SparkContext`` in every loaded pyspark module."""
    for name, module in list(sys.modules.items()):
        bound = getattr(module, "__dict__", {}).get("SparkContext")
        if name.split(".")[0] == "pyspark" and bound is old:
            setattr(module, "SparkContext", new)  # noqa: B010 (a module attribute, swapped back)


def _owned(key: str) -> bool:
    return key in ("awsglue", "awsgluedq") or key.startswith(("awsglue.", "awsgluedq."))


def _package(utils: ModuleType, modules: dict[str, ModuleType]) -> ModuleType:
    package = ModuleType("awsglue", "featurekit's local emulation of the awsglue package.")
    package.__path__ = []
    package.DynamicFrame = dynamicframe.DynamicFrame  # type: ignore[attr-defined]
    package.DynamicFrameCollection = collection.DynamicFrameCollection  # type: ignore[attr-defined]
    package.__all__ = ["DynamicFrame", "DynamicFrameCollection"]  # type: ignore[attr-defined]
    package.utils = utils  # type: ignore[attr-defined]
    for name, module in modules.items():
        setattr(package, name.split(".")[1], module)
    return package


@contextmanager
def installed(
    *,
    warehouse: Optional[str] = None,
    s3: Any = None,
    storage: Any = None,
    connections: Any = None,
) -> Iterator[ModuleType]:
    """Install the emulation as ``awsglue`` for the duration of the block; yields the package.

    ``storage`` (a runtime's :class:`featurekit.storage.Storage`) gives scripts that
    runtime's warehouse and catalog; ``connections`` (a
    :class:`featurekit.glue_local.connections.Connections`) what connection names mean."""
    utils = real_utils()
    before = dict(vars(SETTINGS))  # restored afterwards: no storage outlives the block
    if storage is not None:
        warehouse = warehouse or storage.warehouse.uri
    if warehouse is not None:
        configure(warehouse=warehouse, s3=s3, storage=storage, connections=connections)
    saved = {k: v for k, v in sys.modules.items() if _owned(k)}
    modules = {name: _proxy(name, src, names) for name, (src, names) in MODULES.items()}
    package = _package(utils, modules)
    blocker = _Blocker()
    for key in saved:
        del sys.modules[key]
    sys.modules.update({"awsglue": package, "awsglue.utils": utils, **modules, **_dq_modules()})
    sys.meta_path.insert(0, blocker)
    try:
        with spark_context_scope():
            yield package
    finally:
        sys.meta_path.remove(blocker)
        for key in [k for k in sys.modules if _owned(k)]:
            del sys.modules[key]
        sys.modules.update(saved)
        configure(**before)
