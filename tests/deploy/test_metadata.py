"""The packaged project wheel's Requires-Dist: valid PEP 508, featurekit by version."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from featurekit import __version__
from featurekit.deploy.metadata import _requirement, project_dist
from featurekit.deploy.project import read_project
from featurekit.scaffold import init_project


@pytest.mark.parametrize(
    ("dep", "extra", "line"),
    [
        ("featurekit @ file:///home/me/featurekit", "", f"featurekit=={__version__}"),
        ("featurekit[local] @ file:///x", "dev",
         f'featurekit[local]=={__version__}; extra == "dev"'),
        ("pkg @ https://example.com/pkg.whl", "dev",
         'pkg @ https://example.com/pkg.whl ; extra == "dev"'),
        ("tomli>=1.1; python_version < '3.11'", "dev",
         "tomli>=1.1; (python_version < '3.11') and extra == \"dev\""),
        ("requests>=2", "", "requests>=2"),
    ],
)  # fmt: skip
def test_a_requirement_line(dep: str, extra: str, line: str) -> None:
    assert _requirement(dep, extra) == line
    Requirement(line)  # parses


def test_an_init_projects_wheel_metadata_parses(tmp_path: Path) -> None:
    """`featurekit init` names featurekit by a direct reference to this machine's clone;
    the packaged wheel names it by version (its wheel travels beside it)."""
    root = init_project(tmp_path / "acme-features")
    dist = project_dist(read_project(root))
    metadata = next(text for name, text in dist.entries if name.endswith("/METADATA"))
    requires = [line.split(": ", 1)[1] for line in metadata.decode().splitlines()
                if line.startswith("Requires-Dist: ")]  # fmt: skip
    parsed = [Requirement(r) for r in requires]
    assert [str(r) for r in parsed if r.name == "featurekit"] == [
        f"featurekit=={__version__}",
        f'featurekit[local]=={__version__}; extra == "dev"',
    ]
    assert all(r.url is None for r in parsed)
