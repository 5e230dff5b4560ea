from __future__ import annotations

from featurekit.errors import ConfigError, FeatureKitError, UnknownJobError


def test_unknown_job_suggests_close_names() -> None:
    err = UnknownJobError("user_activty", ["user_activity_daily", "training_set"])
    assert isinstance(err, ConfigError)
    assert isinstance(err, FeatureKitError)
    assert err.suggestions == ["user_activity_daily"]
    assert "Did you mean 'user_activity_daily'" in str(err)


def test_unknown_job_without_close_names_lists_all() -> None:
    err = UnknownJobError("zzz", ["a_job"])
    assert err.suggestions == []
    assert "Known jobs: a_job" in str(err)
