"""featurekit package: what each artifact holds, hashes, reproducibility, what it refuses."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from featurekit.deploy.package import (
    BUNDLE,
    EMR_SCRIPT,
    GLUE_SCRIPT,
    MANIFEST,
    VENV,
    build_artifacts,
    read_project,
    verify,
)
from featurekit.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
USER_PROJECT = ROOT / "tests" / "userproject"
FK_WHEEL = "wheels/featurekit-0.1.0-py3-none-any.whl"
USER_WHEEL = "wheels/shop_features-0.3.0-py3-none-any.whl"


def names(archive: Path) -> set[str]:
    with zipfile.ZipFile(archive) as z:
        return set(z.namelist())


@pytest.fixture(scope="module")
def user_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`featurekit package` run in the user project (tests/userproject)."""
    out = tmp_path_factory.mktemp("user-dist")
    build_artifacts(USER_PROJECT, out)
    return out


TP_JOB = """
from featurekit import FeatureJob, FeatureTable

class TpJob(FeatureJob):
    name = "tp_job"
    output = FeatureTable("t.tp", keys=("k",), date_column="d", columns={"k": "int", "d": "date"})

    def transform(self, ctx):
        raise NotImplementedError
"""


def project(tmp_path: Path, dependencies: list[str], code: str) -> Path:
    """A one-module project in ``tmp_path``: package ``tp`` with ``code``."""
    (tmp_path / "src" / "tp").mkdir(parents=True)
    (tmp_path / "src" / "tp" / "__init__.py").write_text(code + TP_JOB)
    deps = ", ".join(f'"{d}"' for d in ["featurekit", *dependencies])
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "tp"\nversion = "1.0"\ndependencies = [{deps}]\n'
        '[project.entry-points."featurekit.jobs"]\ntp_job = "tp:TpJob"\n'
    )
    return tmp_path


def test_manifest_hashes_match_the_files(user_dist: Path) -> None:
    manifest = json.loads((user_dist / MANIFEST).read_text())
    assert (manifest["name"], manifest["version"]) == ("shop-features", "0.3.0")
    assert manifest["jobs"] == {
        "customer_orders_daily": "shop_features.orders:CustomerOrdersDaily",
        "customer_orders_daily_iceberg": "shop_features.orders:CustomerOrdersDailyIceberg",
    }
    assert manifest["distributions"] == {"featurekit": "0.1.0", "shop-features": "0.3.0"}
    assert set(manifest["artifacts"]) == {BUNDLE, FK_WHEEL, USER_WHEEL, EMR_SCRIPT, GLUE_SCRIPT}
    assert manifest["quality"] == {"jobs": [], "jars": []}  # no rulesets: no Deequ jars
    for name, entry in manifest["artifacts"].items():
        data = (user_dist / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert entry["bytes"] == len(data)


def test_bundle_holds_featurekit_the_project_and_their_dist_info(user_dist: Path) -> None:
    inside = names(user_dist / BUNDLE)
    assert {"featurekit/__init__.py", "featurekit/runtime/emr.py", "featurekit/py.typed"} <= inside
    assert {"shop_features/orders.py", "shop_features-0.3.0.dist-info/entry_points.txt"} <= inside
    assert "featurekit-0.1.0.dist-info/METADATA" in inside
    assert not [n for n in inside if n.endswith(".pyc") or "__pycache__" in n]
    # the entry scripts are featurekit's own, whatever project is packaged
    assert (user_dist / EMR_SCRIPT).read_bytes() == (ROOT / EMR_SCRIPT).read_bytes()
    assert (user_dist / GLUE_SCRIPT).read_bytes() == (ROOT / GLUE_SCRIPT).read_bytes()


def test_jobs_are_found_from_the_zip_alone(user_dist: Path) -> None:
    code = (
        "import importlib.metadata as m, sys\n"
        "eps = m.entry_points(group='featurekit.jobs') if sys.version_info >= (3, 10) "
        "else m.entry_points().get('featurekit.jobs', [])\n"
        "print(sorted(e.name for e in eps))"
    )
    env = {**os.environ, "PYTHONPATH": str(user_dist / BUNDLE)}
    # -S: no site-packages, so neither featurekit's nor the project's install can leak in.
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "['customer_orders_daily', 'customer_orders_daily_iceberg']"


def test_each_wheel_record_lists_every_file_with_its_hash(user_dist: Path) -> None:
    for wheel, info in ((FK_WHEEL, "featurekit-0.1.0"), (USER_WHEEL, "shop_features-0.3.0")):
        with zipfile.ZipFile(user_dist / wheel) as z:
            record = z.read(f"{info}.dist-info/RECORD").decode().splitlines()
            rows = dict((line.split(",")[0], line.split(",")[1:]) for line in record)
            assert set(rows) == set(z.namelist())
            for name, (digest, size) in rows.items():
                if name.endswith("RECORD"):
                    continue
                data = z.read(name)
                expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                assert digest == "sha256=" + expected.decode(), name
                assert int(size) == len(data)
    with zipfile.ZipFile(user_dist / FK_WHEEL) as z:
        entry_points = z.read("featurekit-0.1.0.dist-info/entry_points.txt").decode()
    assert "featurekit = featurekit.cli:run" in entry_points


def test_the_featurekit_checkout_packages_itself_with_its_examples(tmp_path: Path) -> None:
    manifest = build_artifacts(ROOT, tmp_path)
    assert set(manifest["jobs"]) == {"user_activity_daily", "training_set"}
    assert manifest["distributions"] == {"featurekit": "0.1.0"}
    assert "featurekit/examples/training_set.py" in names(tmp_path / BUNDLE)
    assert not [n for n in names(tmp_path / BUNDLE) if n.startswith("jobs/")]


def test_same_source_gives_same_hashes(user_dist: Path, tmp_path: Path) -> None:
    again = build_artifacts(USER_PROJECT, tmp_path)
    first = json.loads((user_dist / MANIFEST).read_text())
    assert again["artifacts"] == first["artifacts"]


def test_verify_catches_a_changed_artifact(tmp_path: Path) -> None:
    build_artifacts(USER_PROJECT, tmp_path)
    assert verify(tmp_path)["name"] == "shop-features"
    (tmp_path / EMR_SCRIPT).write_text("print('tampered')\n")
    with pytest.raises(ConfigError, match="differs"):
        verify(tmp_path)


def test_no_pyproject_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"pyproject\.toml"):
        build_artifacts(tmp_path, tmp_path / "dist")


@pytest.mark.parametrize("python", ["abc", "2.7", "3"])
def test_a_serverless_python_that_is_no_python_3_version_is_refused(
    tmp_path: Path, python: str
) -> None:
    with pytest.raises(ConfigError, match="--serverless-python must be the image's Python"):
        build_artifacts(tmp_path, tmp_path / "dist", serverless_python=python)
    assert not (tmp_path / "dist").exists()


def test_an_undeclared_import_is_refused_by_file_and_line(tmp_path: Path) -> None:
    root = project(tmp_path, [], "import json\nfrom pyspark.sql import functions\nimport six\n")
    with pytest.raises(ConfigError, match=r"src/tp/__init__\.py:3 imports 'six'") as info:
        build_artifacts(root, tmp_path / "dist")
    assert "dependencies" in str(info.value)
    assert not (tmp_path / "dist" / MANIFEST).exists()


def test_an_import_of_nothing_installed_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, [], "import surely_not_a_module_here\n")
    with pytest.raises(ConfigError, match="'surely_not_a_module_here', which is not installed"):
        build_artifacts(root, tmp_path / "dist")


def test_a_native_dependency_is_refused_unless_the_target_provides_it(tmp_path: Path) -> None:
    root = project(tmp_path, ["pyarrow"], "import pyarrow\n")
    with pytest.raises(ConfigError, match=r"pyarrow .* contains compiled code .* --provided"):
        build_artifacts(root, tmp_path / "dist")
    manifest = build_artifacts(root, tmp_path / "dist", provided=["pyarrow"])
    assert "pyarrow" not in manifest["distributions"]


def test_pure_dependencies_travel_in_the_zip_and_the_serverless_venv(tmp_path: Path) -> None:
    root = project(tmp_path, ["python-dateutil"], "import dateutil\n")
    out = tmp_path / "dist"
    manifest = build_artifacts(root, out, serverless_python="3.9")
    assert {"python-dateutil", "six"} <= set(manifest["distributions"])  # and its own need
    assert {"dateutil/parser/__init__.py", "six.py"} <= names(out / BUNDLE)
    assert manifest["artifacts"][VENV]["kind"] == "venv"
    with tarfile.open(out / VENV) as tar:
        members = {m.name: m for m in tar.getmembers()}
    site = "lib/python3.9/site-packages"
    assert {f"{site}/dateutil/tz/tz.py", f"{site}/tp/__init__.py", "pyvenv.cfg"} <= set(members)
    assert f"{site}/featurekit/runtime/emr.py" in members
    assert members["bin/python"].issym()
    assert members["bin/python"].linkname == "/usr/bin/python3"


def test_no_serverless_venv_without_a_dependency_the_target_lacks(tmp_path: Path) -> None:
    root = project(tmp_path, ["python-dateutil"], "import dateutil\n")
    manifest = build_artifacts(root, tmp_path / "dist", provided=["python-dateutil"])
    assert set(manifest["distributions"]) == {"featurekit", "tp"}  # six came with dateutil
    assert VENV not in manifest["artifacts"]
    assert manifest["serverless_python"] is None


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("raise RuntimeError('no such table yet')\n", "RuntimeError: no such table yet"),
        ("from tp.gone import nothing\n", "No module named 'tp.gone'"),
    ],
)
def test_a_refused_package_leaves_the_last_good_one_untouched(
    broken: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from featurekit.cli import main

    root = project(tmp_path, [], "")
    out = tmp_path / "dist"
    argv = ["package", "--out", str(out), "--source", str(root)]
    assert main(argv) == 0
    before, around = _files(out), sorted(p.name for p in tmp_path.iterdir())
    module = root / "src" / "tp" / "__init__.py"
    module.write_text(broken + module.read_text())  # the bundle would differ: not written
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Cannot load job tp_job (tp:TpJob)" in err
    assert message in err
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == around  # no staging folder left


def test_a_refusal_creates_no_folder(tmp_path: Path) -> None:
    root = project(tmp_path / "p", [], "import surely_not_a_module_here\n")
    with pytest.raises(ConfigError, match="not installed"):
        build_artifacts(root, tmp_path / "out" / "dist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def test_a_new_package_replaces_the_whole_folder(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build_artifacts(USER_PROJECT, out)
    (out / "wheels" / "shop_features-0.2.0-py3-none-any.whl").write_bytes(b"an older build")
    manifest = build_artifacts(USER_PROJECT, out)
    assert set(_files(out)) == {*manifest["artifacts"], MANIFEST}
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]


def test_a_folder_of_other_files_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "shop-0.3.0.tar.gz").write_bytes(b"an sdist")
    with pytest.raises(ConfigError, match=r"did not build \(shop-0\.3\.0\.tar\.gz\)"):
        build_artifacts(USER_PROJECT, tmp_path / "dist")
    assert _files(tmp_path / "dist") == {"shop-0.3.0.tar.gz": b"an sdist"}


@pytest.mark.slow
def test_wheel_installs_with_pip(user_dist: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(user_dist / FK_WHEEL), str(user_dist / USER_WHEEL)],
        check=True,
    )  # fmt: skip
    assert (target / "featurekit-0.1.0.dist-info" / "METADATA").is_file()
    assert (target / "bin" / "featurekit").is_file()
    assert (target / "shop_features" / "orders.py").is_file()
    assert read_project(USER_PROJECT).wheel_name == USER_WHEEL.split("/")[-1]
