"""Job discovery: one job module that fails to import breaks only its own jobs.

Each test installs a tiny fake distribution (a dist-info with entry_points.txt) on
sys.path: one good job module and broken ones (a syntax error, a missing library).
"""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from featurekit.cli import main
from featurekit.errors import BrokenJobError, UnknownJobError
from featurekit.registry import discover_all, get_job

GOOD = """
from featurekit import FeatureJob, FeatureTable, TableInput

class Good(FeatureJob):
    name = "{prefix}_good"
    inputs = {{"events": TableInput("raw.events")}}
    output = FeatureTable("features.{prefix}_good", keys=("k",), date_column="d",
                          columns={{"k": "string", "d": "date"}})

    def transform(self, ctx, events):
        return events
"""
SYNTAX = "x = 1\ndef broken(:\n    pass\n"
MISSING = "import numpy\nimport featurekit_no_such_library_xyz\n"


@dataclass(frozen=True)
class FakeProject:
    prefix: str
    root: Path


def _write_dist(root: Path, prefix: str, modules: dict[str, str]) -> None:
    package = root / prefix
    package.mkdir()
    (package / "__init__.py").write_text("")
    lines = ["[featurekit.jobs]"]
    for job, source in modules.items():
        (package / f"{job}.py").write_text(textwrap.dedent(source.format(prefix=prefix)))
        attr = "Good" if job == "good" else "Job"
        lines.append(f"{prefix}_{job} = {prefix}.{job}:{attr}")
    info = root / f"{prefix}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {prefix}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProject]:
    prefix = f"fkfake_{uuid.uuid4().hex[:8]}"
    _write_dist(tmp_path, prefix, {"good": GOOD, "syntax": SYNTAX, "missing": MISSING})
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield FakeProject(prefix, tmp_path)
    for name in [m for m in sys.modules if m.startswith(prefix)]:
        del sys.modules[name]


def test_broken_modules_are_set_aside_and_the_others_load(project: FakeProject) -> None:
    found = discover_all()
    assert f"{project.prefix}_good" in found.jobs
    assert "user_activity_daily" in found.jobs
    by_job = {b.job: b for b in found.broken}
    syntax = by_job[f"{project.prefix}_syntax"]
    assert syntax.module == f"{project.prefix}.syntax"
    assert syntax.error.startswith("SyntaxError: ")
    assert syntax.where == f"{project.root / project.prefix / 'syntax.py'}:2"
    missing = by_job[f"{project.prefix}_missing"]
    assert missing.error == "ModuleNotFoundError: No module named 'featurekit_no_such_library_xyz'"
    assert missing.where == f"{project.root / project.prefix / 'missing.py'}:2"


def test_get_job_of_a_broken_module_names_the_error_and_the_line(project: FakeProject) -> None:
    assert get_job(f"{project.prefix}_good").name == f"{project.prefix}_good"
    with pytest.raises(BrokenJobError, match=r"SyntaxError: .* at .*syntax\.py:2"):
        get_job(f"{project.prefix}_syntax")


def test_unknown_job_mentions_the_modules_that_failed(project: FakeProject) -> None:
    with pytest.raises(UnknownJobError) as caught:
        get_job("nothing_like_it")
    message = str(caught.value)
    assert f"{project.prefix}.missing (job {project.prefix}_missing): ModuleNotFound" in message
    assert "failed to import and may hold it" in message


def test_jobs_lists_broken_modules_and_exits_0_or_1_when_strict(
    project: FakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs"]) == 0
    out = capsys.readouterr().out
    assert f"{project.prefix}_good: " in out
    assert f"BROKEN {project.prefix}.syntax (job {project.prefix}_syntax): SyntaxError" in out
    assert main(["jobs", "--strict"]) == 1
    capsys.readouterr()
    assert main(["jobs", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {b["job"] for b in doc["broken"]} == {
        f"{project.prefix}_syntax",
        f"{project.prefix}_missing",
    }
    assert f"{project.prefix}_good" in [j["name"] for j in doc["jobs"]]


def test_running_a_broken_job_exits_2_with_the_import_error(
    project: FakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", f"{project.prefix}_missing", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "failed to import" in err
    assert "featurekit_no_such_library_xyz" in err
    assert "missing.py:2" in err
    assert "Traceback" not in err


def test_graph_output_stays_clean_and_selections_warn_of_broken_modules(
    project: FakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    from featurekit.cli.jobs import _selected

    assert main(["jobs", "--mermaid"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("flowchart LR\n")
    assert "BROKEN" not in captured.out
    assert f"BROKEN {project.prefix}.syntax" in captured.err
    good = f"{project.prefix}_good"
    assert [job.name for job in _selected([f"+{good}"])] == [good]
    assert "not in the graph, so not in this selection" in capsys.readouterr().err
    assert [job.name for job in _selected([good])] == [good]
    assert capsys.readouterr().err == ""


DQ_TYPO = """
from featurekit import FeatureJob, FeatureTable
from featurekit.quality import Ruleset

class Job(FeatureJob):
    name = "{prefix}_dq_typo"
    output = FeatureTable("features.{prefix}_dq", keys=("k",), date_column="d",
                          columns={{"k": "string", "d": "date", "x": "bigint"}},
                          quality=(Ruleset('Rules = [ IsComplete "k", ColumValues "x" > 0 ]'),))

    def transform(self, ctx):
        raise AssertionError("never run")
"""


@pytest.fixture
def typo_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProject]:
    prefix = f"fkfake_{uuid.uuid4().hex[:8]}"
    _write_dist(tmp_path, prefix, {"good": GOOD, "dq": DQ_TYPO})
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield FakeProject(prefix, tmp_path)
    for name in [m for m in sys.modules if m.startswith(prefix)]:
        del sys.modules[name]


def test_jobs_check_reports_a_dqdl_typo_without_spark(
    typo_project: FakeProject, no_spark: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs", "--check"]) == 2
    err = capsys.readouterr().err
    assert "featurekit: 1 problem(s):" in err
    assert f"BROKEN {typo_project.prefix}.dq (job {typo_project.prefix}_dq): ConfigError: " in err
    assert "unknown rule type 'ColumValues' in rule 'ColumValues \"x\" > 0'" in err
    assert "did you mean 'ColumnValues'?" in err
    assert f"{typo_project.prefix}/dq.py:" in err  # where the job declares the ruleset
    assert "rulesets.py" not in err
    assert main(["jobs", "--check", "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["jobs"] == [f"{typo_project.prefix}_good"]  # the project's, not the demo's
    assert len(doc["problems"]) == 1
    assert main(["jobs", "--check", "--json", "--examples"]) == 2
    assert "user_activity_daily" in json.loads(capsys.readouterr().out)["jobs"]


def test_jobs_check_passes_the_examples(no_spark: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "--check"]) == 0
    assert "jobs checked: no problems." in capsys.readouterr().out


def test_running_a_job_with_a_dqdl_typo_fails_before_spark(
    typo_project: FakeProject, no_spark: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", f"{typo_project.prefix}_dq", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'ColumnValues'?" in err
    assert "Traceback" not in err


def test_a_project_lists_and_suggests_its_own_jobs_not_the_examples(
    project: FakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    found = discover_all()
    assert found.project
    assert found.examples_hidden
    assert f"{project.prefix}_good" in found.listed()
    assert "user_activity_daily" not in found.listed()
    assert "user_activity_daily" in found.listed(examples=True)
    assert main(["jobs"]) == 0
    out = capsys.readouterr().out
    assert f"{project.prefix}_good: " in out
    assert "user_activity_daily" not in out
    assert main(["jobs", "--json"]) == 0
    names = [j["name"] for j in json.loads(capsys.readouterr().out)["jobs"]]
    assert "training_set" not in names
    assert main(["jobs", "--examples"]) == 0
    assert "user_activity_daily: " in capsys.readouterr().out
    # still runnable by its exact name (featurekit demo runs them), never suggested
    assert get_job("user_activity_daily").name == "user_activity_daily"
    with pytest.raises(UnknownJobError) as caught:
        get_job("user_activity_dialy")
    assert caught.value.suggestions == []
    assert "'featurekit jobs --examples' lists them" in str(caught.value)
    with pytest.raises(UnknownJobError) as caught:
        get_job(f"{project.prefix}_god")
    assert caught.value.suggestions == [f"{project.prefix}_good"]


def test_without_a_project_the_examples_are_listed_and_suggested(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = discover_all()
    assert not found.project
    assert not found.examples_hidden
    assert "user_activity_daily" in found.listed()
    with pytest.raises(UnknownJobError) as caught:
        get_job("user_activity_dialy")
    assert caught.value.suggestions == ["user_activity_daily"]
    assert "--examples" not in str(caught.value)
    assert main(["jobs"]) == 0
    assert "user_activity_daily: " in capsys.readouterr().out
