"""Without boto3 (no 'aws' extra), validating a request is a clear error, not a traceback."""

from __future__ import annotations

import sys

import pytest

from featurekit.deploy.aws import validate_request
from featurekit.errors import FeatureKitError, MissingDependencyError


def test_validating_without_botocore_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "botocore" or m.startswith("botocore.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "botocore", None)  # import botocore raises ImportError
    with pytest.raises(MissingDependencyError) as caught:
        validate_request("glue", "CreateJob", {"Name": "x"})
    assert isinstance(caught.value, FeatureKitError)  # the CLI's exit 2 with the message
    assert isinstance(caught.value, ImportError)  # single-job plans still skip with a note
    assert "'aws' extra" in str(caught.value)
    assert "glue CreateJob" in str(caught.value)
