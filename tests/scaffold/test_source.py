"""Where a new project's featurekit comes from: the option, the running checkout, or
what pip recorded when it installed featurekit (direct_url.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional

import pytest

from featurekit.errors import ConfigError
from featurekit.scaffold import source

ROOT = Path(__file__).resolve().parents[2]
Install = Callable[[object], None]


def test_a_checkout_on_the_path_names_itself() -> None:
    assert source.featurekit_url() == ROOT.as_uri()


def _checkout(folder: Path) -> Path:
    (folder / "src" / "featurekit").mkdir(parents=True)
    (folder / "src" / "featurekit" / "__init__.py").write_text("")
    (folder / "pyproject.toml").write_text('[project]\nname = "featurekit"\n')
    return folder


def test_the_option_takes_a_clone_a_wheel_or_a_url(tmp_path: Path) -> None:
    clone = _checkout(tmp_path / "my clone")
    assert source.featurekit_url(str(clone)) == clone.as_uri()
    assert "%20" in clone.as_uri()  # a path with a space is a valid URL
    wheel = tmp_path / "featurekit-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    assert source.featurekit_url(str(wheel)) == wheel.as_uri()
    url = "git+https://git.example.com/acme/featurekit.git@v0.1.0"
    assert source.featurekit_url(url) == url


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "is not a featurekit checkout"),
        (lambda p: p / "missing", "no such folder or file"),
        (lambda p: p / "requests-2.0-py3-none-any.whl", "must be a featurekit wheel"),
    ],
)
def test_a_bad_option_says_what_to_pass(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    (tmp_path / "requests-2.0-py3-none-any.whl").write_bytes(b"")
    path = make(tmp_path)
    with pytest.raises(ConfigError, match=message):
        source.featurekit_url(str(path))


class _Dist:
    def __init__(self, installed: Path, direct_url: Optional[str]) -> None:
        self.installed = installed
        self.direct_url = direct_url

    def locate_file(self, name: str) -> Path:
        return self.installed / name

    def read_text(self, name: str) -> Optional[str]:
        assert name == "direct_url.json"
        return self.direct_url


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Install:
    """Run as a featurekit installed in site-packages, with ``direct_url`` recorded."""
    site = tmp_path / "site-packages"
    (site / "featurekit").mkdir(parents=True)
    (site / "featurekit" / "__init__.py").write_text("")
    monkeypatch.setattr(source, "_running", lambda: site / "featurekit" / "__init__.py")

    def install(direct: object) -> None:
        dist = _Dist(site, json.dumps(direct) if direct is not None else None)
        monkeypatch.setattr(source.metadata, "distribution", lambda name: dist)

    return install


def test_an_install_from_a_folder_or_a_wheel_names_it(installed: Install, tmp_path: Path) -> None:
    clone = _checkout(tmp_path / "clone")
    installed({"url": clone.as_uri(), "dir_info": {"editable": False}})
    assert source.featurekit_url() == clone.as_uri()
    wheel = tmp_path / "featurekit-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    installed({"url": wheel.as_uri(), "archive_info": {"hashes": {}}})
    assert source.featurekit_url() == wheel.as_uri()


def test_an_install_from_git_names_its_commit(installed: Install) -> None:
    url = "https://git.example.com/acme/featurekit.git"
    installed({"url": url, "vcs_info": {"vcs": "git", "commit_id": "0123abc"}})
    assert source.featurekit_url() == f"git+{url}@0123abc"


@pytest.mark.parametrize(
    ("direct", "why"),
    [
        (None, "from a package index"),
        ({"url": "file:///nowhere/featurekit-0.1.0-py3-none-any.whl"}, "which is gone"),
        (["not", "a", "mapping"], "cannot be read"),
    ],
)
def test_an_unknown_source_asks_for_the_option(
    installed: Install, direct: object, why: str
) -> None:
    installed(direct)
    with pytest.raises(ConfigError, match=why) as caught:
        source.featurekit_url()
    assert "pass --featurekit-source" in str(caught.value)


def test_another_copys_metadata_is_not_this_featurekit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(source, "_running", lambda: tmp_path / "a" / "featurekit" / "__init__.py")
    dist = _Dist(tmp_path / "b", json.dumps({"url": tmp_path.as_uri(), "dir_info": {}}))
    monkeypatch.setattr(source.metadata, "distribution", lambda name: dist)
    with pytest.raises(ConfigError, match="not this one"):
        source.featurekit_url()
