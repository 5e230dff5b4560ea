"""`featurekit backfill` builds the session `featurekit run` builds for the job: Deequ's
jars when it declares rulesets, Iceberg's runtime when it writes an Iceberg table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import featurekit.cli.common as common
from featurekit.cli import build_parser, main


class Stop(Exception):
    pass


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    build_parser()  # the command modules import local_runtime now, not the fake below
    seen: dict[str, Any] = {}

    def fake_runtime(args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise Stop  # no Spark: what was asked for is the test

    monkeypatch.setattr(common, "local_runtime", fake_runtime)
    return seen


def backfill(job: str, tmp_path: Path, *more: str) -> None:
    with pytest.raises(Stop):
        main(["backfill", job, "--start", "2026-01-01", "--end", "2026-01-02",
              "--warehouse", str(tmp_path), "--quiet", *more])  # fmt: skip


def test_a_job_with_rulesets_gets_the_quality_engine(asked: dict[str, Any], tmp_path: Path) -> None:
    backfill("training_set", tmp_path)
    assert asked.get("quality") is True


def test_an_iceberg_output_gets_the_iceberg_runtime(asked: dict[str, Any], tmp_path: Path) -> None:
    backfill("user_activity_daily", tmp_path, "--table-format", "iceberg")
    assert asked.get("iceberg") is True
