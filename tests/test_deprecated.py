"""Names that moved in the run-pipeline redesign: the old imports still work, with a warning."""

from __future__ import annotations

import importlib
import sys

import pytest

MOVED = [
    ("featurekit.lifecycle", "execute", "featurekit.run", "execute"),
    ("featurekit.lifecycle", "shape_output", "featurekit.run.write", "shape_output"),
    ("featurekit.backfill", "backfill", "featurekit.run.backfill", "backfill"),
    ("featurekit.backfill", "plan_chunks", "featurekit.run.plan", "plan_chunks"),
    (
        "featurekit.state.store",
        "LocalStateStore",
        "featurekit.storage.state_store",
        "LocalStateStore",
    ),
    ("featurekit.state.s3", "S3StateStore", "featurekit.storage.s3_state", "S3StateStore"),
    ("featurekit.quality.rules", "Ruleset", "featurekit.rulesets", "Ruleset"),
    ("featurekit.runtime.jars", "resolve", "featurekit.core.jars", "resolve"),
]


@pytest.mark.parametrize(("old", "name", "new", "new_name"), MOVED)
def test_old_import_warns_and_gives_the_same_object(
    old: str, name: str, new: str, new_name: str
) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=old.replace(".", r"\.")):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), new_name)


def test_storage_parts_through_the_runtime_warn(local_runtime: object) -> None:
    from featurekit.runtime.base import Runtime

    assert isinstance(local_runtime, Runtime)
    with pytest.warns(DeprecationWarning, match=r"runtime\.storage\.engine"):
        engine = local_runtime.engine
    assert engine is local_runtime.storage.engine
    store = local_runtime.storage.state_store
    with pytest.warns(DeprecationWarning, match="state_store"):
        local_runtime.state_store = store  # type: ignore[misc]
    assert local_runtime.storage.state_store is store
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        local_runtime.nope  # noqa: B018
