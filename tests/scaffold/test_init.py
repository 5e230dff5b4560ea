"""``featurekit init``: a project whose dependencies resolve without a package index
serving featurekit, pinned to a platform line's Spark."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from featurekit.cli import main
from featurekit.errors import ConfigError
from featurekit.scaffold import init_project, new_job

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def _pyproject(root: Path) -> dict[str, object]:
    return tomllib.loads((root / "pyproject.toml").read_text())


def test_the_project_names_this_checkout_and_glue_51s_spark(tmp_path: Path) -> None:
    root = init_project(tmp_path / "acme-features")
    meta = _pyproject(root)
    project = meta["project"]
    assert isinstance(project, dict)
    (dep,) = (Requirement(r) for r in project["dependencies"])
    assert (dep.name, dep.url, dep.specifier) == ("featurekit", ROOT.as_uri(), "")
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    assert [(r.name, r.extras, r.url) for r in dev[:1]] == [
        ("featurekit", {"local"}, ROOT.as_uri())
    ]
    assert str(dev[1]) == "pyspark<3.6,>=3.5.3"
    assert meta["tool"]["hatch"]["metadata"]["allow-direct-references"] is True  # type: ignore[index]
    readme = (root / "README.md").read_text()
    assert "pypi" not in readme.lower()
    assert ROOT.as_uri() in readme
    assert "Glue 5.1: Spark 3.5.6, Python 3.11" in readme


@pytest.mark.parametrize(
    ("platform", "extra", "pyspark"),
    [("glue6.0", "spark4", "pyspark<4.2,>=4.1.0"), ("emr8.0", "spark4", "pyspark<4.1,>=4.0.0"),
     ("emr7.12", "local", "pyspark<3.6,>=3.5.3")],
)  # fmt: skip
def test_the_platform_chooses_the_spark(
    tmp_path: Path, platform: str, extra: str, pyspark: str
) -> None:
    url = "git+https://git.example.com/acme/featurekit.git@v0.1.0"
    root = init_project(tmp_path / "p", source=url, platform=platform)
    project = _pyproject(root)["project"]
    assert isinstance(project, dict)
    assert project["dependencies"] == [f"featurekit @ {url}"]
    featurekit, spark, *_ = project["optional-dependencies"]["dev"]
    assert featurekit == f"featurekit[{extra}] @ {url}"
    assert str(Requirement(spark)) == pyspark


def test_bad_options_write_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown platform line 'glue7'"):
        init_project(tmp_path / "a", platform="glue7")
    with pytest.raises(ConfigError, match="no such folder or file"):
        init_project(tmp_path / "b", source=str(tmp_path / "missing"))
    assert list(tmp_path.iterdir()) == []


def test_init_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clone = tmp_path / "featurekit"
    (clone / "src" / "featurekit").mkdir(parents=True)
    (clone / "src" / "featurekit" / "__init__.py").write_text("")
    (clone / "pyproject.toml").write_text('[project]\nname = "featurekit"\n')
    args = ["init", "acme", "--path", str(tmp_path / "acme"), "--platform", "emr7.12",
            "--featurekit-source", str(clone), "--json"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["featurekit"], out["platform"]) == (clone.as_uri(), "emr7.12")
    assert main(["init", "x", "--path", str(tmp_path / "x"), "--featurekit-source", "/no"]) == 2
    assert "--featurekit-source /no: no such folder or file" in capsys.readouterr().err


def test_new_job_still_registers_its_entry_point(tmp_path: Path) -> None:
    root = init_project(tmp_path / "acme-features")
    new_job(root, "cart_sessions_daily")
    points = _pyproject(root)["project"]["entry-points"]["featurekit.jobs"]  # type: ignore[index]
    assert set(points) == {"user_events_daily", "cart_sessions_daily"}
