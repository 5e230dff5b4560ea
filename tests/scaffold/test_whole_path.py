"""The whole path of a user's project, as README.md and the docs tell it: the README's
commands from a clone of featurekit in one fresh virtualenv (`featurekit init`, the project's
install and tests, a second job, `featurekit package`), then the walkthrough on that project:
the user gives the generated job rulesets of their own (one quarantining rows), packages it,
plans it for Glue and EMR, and runs the packaged job three ways with identical output and
quarantine tables, each on a copy of one source warehouse:

* ``local``: ``featurekit run`` in the README's virtualenv, where the project is installed;
* ``glue``: ``featurekit glue run --plan plan.json --dist dist``: the Glue job ``featurekit
  plan glue`` defined, with its own DefaultArguments (the project from its
  ``--extra-py-files`` zip, Deequ from its ``--extra-jars``, Delta from
  ``--datalake-formats``);
* ``spark-submit``: the step ``featurekit plan emr`` printed, its ``s3://`` artifacts read
  from ``dist``, in a virtualenv that has only pyspark (and py4j); the cluster's Delta jars
  (EMR's ``delta-defaults``) are added as the cluster would have them.

The project made by the scaffold in a temp folder (never installed into this Python) is
packaged and deployed too: `deploy` uploads what its plan names.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import pytest
from chispa import assert_df_equality

from featurekit.core import jars
from featurekit.deploy.package import BUNDLE, EMR_SCRIPT, GLUE_SCRIPT, build_artifacts
from featurekit.quality.quarantine import quarantine_name
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.scaffold import EXAMPLE_JOB, init_project
from featurekit.tables.deltars import DeltaRsEngine
from featurekit.testing import write_table
from featurekit.testing.plugin import boto_client

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

pytestmark = pytest.mark.slow
OUTPUT = ("features", EXAMPLE_JOB)
QUARANTINE = ("features", quarantine_name(EXAMPLE_JOB))
ARTIFACTS = "s3://acme-artifacts/fk"
ROLE = "arn:aws:iam::123456789012:role/acme"
ROOT = Path(__file__).resolve().parents[2]
# What a clone needs to install featurekit (pyproject.toml's build and its readme)
CLONE = ("pyproject.toml", "README.md", "src", "entrypoints")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_project(tmp_path_factory.mktemp("user") / "acme-features")


@pytest.fixture(scope="module")
def dist(project: Path) -> Path:
    build_artifacts(project, project / "dist")
    return project / "dist"


def _clean_env() -> dict[str, str]:
    drop = ("PYTHONPATH", "FEATUREKIT_WAREHOUSE", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")
    return {k: v for k, v in os.environ.items() if k not in drop}


def _run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: int = 600) -> str:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    lines = [line for line in output.splitlines() if " INFO " not in line]
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n" + "\n".join(lines[-60:])
    return output


def test_the_generated_project_passes_its_own_tests(project: Path) -> None:
    output = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                  _clean_env(), project)  # fmt: skip
    assert "2 passed" in output


def _readme_commands() -> list[str]:
    """The commands of the README's "Writing a job", as written (comments dropped)."""
    section = (ROOT / "README.md").read_text().split("## Writing a job", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None, "README.md's Writing a job has no bash block"
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def _repository(base: Path) -> Path:
    """A git repository of this checkout's featurekit (working tree, as a clone has it)."""
    repo = base / "featurekit-repo"
    for name in CLONE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            repo.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, repo / name)
    git = ["git", "-c", "user.name=featurekit", "-c", "user.email=featurekit@example.com"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "featurekit"]):
        subprocess.run([*git, *cmd], cwd=repo, check=True, capture_output=True)
    return repo


@dataclass(frozen=True)
class ReadmeVenv:
    """What the README's commands left: the folder they ran in, their output, the one
    virtualenv (featurekit from the clone, the project installed) and its environment."""

    work: Path
    output: str
    env: dict[str, str]

    @property
    def project(self) -> Path:
        return self.work / "acme-features"

    @property
    def bin(self) -> Path:
        return self.work / "featurekit" / ".venv" / "bin"

    def run(self, *args: str, cwd: Optional[Path] = None) -> str:
        """A command of the README's virtualenv (as the user's activated shell runs it)."""
        env = {**self.env, "PATH": f"{self.bin}{os.pathsep}{self.env['PATH']}"}
        return _run([str(self.bin / args[0]), *args[1:]], env, cwd or self.project)


@pytest.fixture(scope="module")
def readme_venv(tmp_path_factory: pytest.TempPathFactory) -> ReadmeVenv:
    """README's "Writing a job" block, run verbatim by bash in an empty folder: clone,
    one fresh virtualenv, featurekit from the clone (no package index serves it), `init`,
    the project's install (its featurekit resolved from the clone), its tests, and on."""
    base = tmp_path_factory.mktemp("readme")
    commands = _readme_commands()
    assert commands[0] == 'git clone "$FEATUREKIT_REPO" featurekit'
    work = base / "work"
    work.mkdir()
    python = base / "bin" / "python"  # `python`, as the README calls it: this one's
    python.parent.mkdir()
    python.symlink_to(getattr(sys, "_base_executable", sys.executable))
    env = {**_clean_env(), "FEATUREKIT_REPO": str(_repository(base)),
           "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}  # fmt: skip
    env.pop("VIRTUAL_ENV", None)
    script = "set -ex\n" + "\n".join(commands) + "\n"
    output = _run(["bash", "-c", script], env, work, timeout=1700)
    return ReadmeVenv(work, output, env)


@pytest.mark.timeout(1800)
def test_the_readme_commands_install_featurekit_and_a_project_from_a_clone(
    readme_venv: ReadmeVenv,
) -> None:
    work, output, project = readme_venv.work, readme_venv.output, readme_venv.project
    clone_url = (work / "featurekit").resolve().as_uri()
    assert f'"featurekit @ {clone_url}"' in (project / "pyproject.toml").read_text()
    assert re.search(r"^=+ 2 passed", output, re.M), output[-3000:]  # the generated tests
    assert "cart_sessions_daily:" in output  # featurekit jobs, after pip install -e .
    assert f"{EXAMPLE_JOB}:" in output
    assert (project / "dist" / "manifest.json").is_file()
    # the project's featurekit is the clone's, installed into the README's one virtualenv
    probe = [str(readme_venv.bin / "python"), "-c",
             "import featurekit, importlib.metadata as m; "
             "print(m.distribution('featurekit').read_text('direct_url.json'))"]  # fmt: skip
    assert clone_url in _run(probe, readme_venv.env, work)


@pytest.fixture(scope="module")
def sources(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("sources") / "warehouse"
    runtime = LocalRuntime(LocalConfig(warehouse=str(warehouse), quiet=True), spark=spark)
    rows = [
        ("u1", "i1", dt.datetime(2026, 3, 1, 9, 0)),
        ("u1", "i2", dt.datetime(2026, 3, 1, 23, 59, 59)),
        ("u1", "i2", dt.datetime(2026, 3, 2, 0, 0)),
        ("u2", "i3", dt.datetime(2026, 3, 1, 12, 0)),
        ("u2", "i3", dt.datetime(2026, 3, 2, 12, 0)),
        ("u3", None, dt.datetime(2026, 3, 2, 13, 0)),
    ]
    schema = "user_id string, item_id string, event_time timestamp"
    write_table(runtime, "raw.events", spark.createDataFrame(rows, schema))
    return warehouse


def _warehouse(sources: Path, base: Path, way: str) -> Path:
    return Path(shutil.copytree(sources, base / way / "warehouse"))


RULESETS = """\
        quality=(
            Ruleset('Rules = [ IsComplete "user_id", ColumnValues "events" >= 1 ]'),
            Ruleset(
                'Rules = [ ColumnValues "distinct_items" >= 1 ]',
                severity="warn",
                on_failing_rows="quarantine",
            ),
        ),
"""


def _add_rulesets(project: Path) -> None:
    """Edit the generated job as a user would: rulesets on its output table."""
    path = project / "src" / "acme_features" / "jobs" / f"{EXAMPLE_JOB}.py"
    source = path.read_text()
    declared = "        },\n    )\n    params = "
    assert declared in source, "the generated job's FeatureTable changed shape"
    source = source.replace(declared, "        },\n" + RULESETS + "    )\n    params = ", 1)
    source = source.replace(
        "from featurekit import ", "from featurekit.quality import Ruleset\nfrom featurekit import "
    )
    path.write_text(source)


def _plan(venv: ReadmeVenv, target: str, *args: str) -> dict[str, object]:
    out = venv.run("featurekit", "plan", target, EXAMPLE_JOB, "--artifacts", ARTIFACTS,
                   "--catalog", "local", *args)  # fmt: skip
    doc: dict[str, object] = json.loads(out[out.index("{") : out.rindex("}") + 1])
    return doc


def _local(venv: ReadmeVenv, warehouse: Path, base: Path) -> str:
    return venv.run("featurekit", "run", EXAMPLE_JOB, "--quiet", "--warehouse", str(warehouse))


def _glue(venv: ReadmeVenv, warehouse: Path, base: Path) -> str:
    """`glue run --plan` with this checkout's featurekit (and awsglue): the project comes only
    from the plan's --extra-py-files."""
    env = {**_clean_env(), "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "featurekit", "glue", "run", "--plan",
           str(venv.project / "plan-glue.json"), "--dist", str(venv.project / "dist"),
           "--warehouse", str(warehouse), "--quiet"]  # fmt: skip
    return _run(cmd, env, base)


def _pyspark_only_venv(base: Path) -> Path:
    """A virtualenv that sees pyspark and py4j and nothing else of this machine's."""
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    only = base / "pyspark-only"
    only.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for name in ("pyspark", "py4j"):
        (only / name).symlink_to(site / name)
    purelib = sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"]
    (Path(purelib) / "pyspark_only.pth").write_text(f"{only}\n")
    return venv / "bin" / "python"


def _step_command(step: list[str], dist: Path, spark_home: Path) -> list[str]:
    """The planned step's spark-submit on this machine: its artifacts from ``dist``, a local
    master, and the Delta jars an EMR cluster has (delta-defaults) next to the step's."""
    delta = jars.resolve([jars.delta_coordinate()])  # cached by `make install`
    delta_py = [j for j in delta if "delta-spark" in Path(j).name]  # Delta's Python module
    local = [a.replace(f"{ARTIFACTS}/", f"{dist}/") for a in step]
    assert all("s3://" not in a for a in local), local
    for option, extra in (("--jars", delta), ("--py-files", delta_py)):
        at = local.index(option) + 1 if option in local else None
        if at is None:
            local[1:1] = [option, ",".join(extra)]
        else:
            local[at] = ",".join([local[at], *extra])
    assert local[0] == "spark-submit"
    return [str(spark_home / "bin" / "spark-submit"), "--master", "local[2]",
            "--conf", "spark.ui.enabled=false", *local[1:]]  # fmt: skip


def _spark_submit(venv: ReadmeVenv, warehouse: Path, base: Path) -> str:
    import pyspark

    python = _pyspark_only_venv(base)
    probe = subprocess.run([str(python), "-c", "import featurekit"], capture_output=True,
                           env=_clean_env())  # fmt: skip
    assert probe.returncode != 0, "the fresh virtualenv must not see featurekit"
    spark_home = Path(pyspark.__file__).parent
    env = {**_clean_env(), "PYSPARK_PYTHON": str(python), "PYSPARK_DRIVER_PYTHON": str(python),
           "SPARK_HOME": str(spark_home)}  # fmt: skip
    plan = json.loads((venv.project / "plan-emr.json").read_text())
    step = plan["Steps"][0]["HadoopJarStep"]["Args"]
    cmd = _step_command(step, venv.project / "dist", spark_home)
    return _run([*cmd, "--warehouse", str(warehouse)], env, base)


def _table(spark: SparkSession, warehouse: Path, name: tuple[str, str] = OUTPUT) -> DataFrame:
    return DeltaRsEngine().read(spark, str(warehouse.joinpath(*name)))


def _quarantine(spark: SparkSession, warehouse: Path) -> DataFrame:
    rows = _table(spark, warehouse, QUARANTINE)
    return rows.drop("quarantine_run_id", "quarantine_date")  # differ by run


@pytest.mark.timeout(1800)
def test_the_walkthrough_runs_the_packaged_job_three_ways(
    readme_venv: ReadmeVenv, spark: SparkSession, sources: Path, tmp_path: Path
) -> None:
    """The user's own rulesets, `featurekit package`, `plan glue`/`plan emr`, then the same
    output and quarantine from `featurekit run`, `glue run --plan` and the planned step."""
    venv = readme_venv
    _add_rulesets(venv.project)
    venv.run("featurekit", "package")
    manifest = json.loads((venv.project / "dist" / "manifest.json").read_text())
    assert manifest["quality"]["jobs"] == [EXAMPLE_JOB]  # Deequ's jars are in the package
    glue_plan = _plan(venv, "glue")
    assert "--extra-jars" in glue_plan["DefaultArguments"]  # type: ignore[operator]
    (venv.project / "plan-glue.json").write_text(json.dumps(glue_plan))
    emr_plan = _plan(venv, "emr", "--cluster-id", "j-LOCAL", "--deploy-mode", "client")
    (venv.project / "plan-emr.json").write_text(json.dumps(emr_plan))

    tables, quarantines = {}, {}
    for way, run in (("local", _local), ("glue", _glue), ("spark-submit", _spark_submit)):
        base = tmp_path / way
        base.mkdir()
        warehouse = _warehouse(sources, tmp_path, way)
        run(venv, warehouse, base)
        tables[way] = _table(spark, warehouse)
        quarantines[way] = _quarantine(spark, warehouse)
        records = list((warehouse / "_runs" / EXAMPLE_JOB).glob("*.json"))
        assert len(records) == 1, way
        assert json.loads(records[0].read_text())["quality"], f"{way}: rulesets not evaluated"
    reference = tables.pop("local").orderBy("user_id", "event_date")
    assert [tuple(r) for r in reference.select("user_id", "events").collect()] == [
        ("u1", 2), ("u1", 1), ("u2", 1), ("u2", 1), ("u3", 1)
    ]  # fmt: skip
    held = quarantines.pop("local")
    assert [r["user_id"] for r in held.collect()] == ["u3"]  # no distinct item: quarantined
    for way in tables:
        try:
            assert_df_equality(tables[way], reference, ignore_row_order=True, ignore_nullable=True)
            assert_df_equality(quarantines[way], held, ignore_row_order=True, ignore_nullable=True)
        except AssertionError as exc:
            raise AssertionError(f"{way} differs from local") from exc


@pytest.mark.parametrize(
    ("target", "args", "named"),
    [
        ("glue", ["--role-arn", ROLE], {GLUE_SCRIPT, BUNDLE}),
        ("emr", ["--cluster-id", "CLUSTER", "--no-wait"], {EMR_SCRIPT, BUNDLE}),
        ("emr-serverless", ["--application-id", "APP", "--role-arn", ROLE], {EMR_SCRIPT, BUNDLE}),
    ],
)
def test_deploy_uploads_every_artifact_its_plan_names(
    target: str, args: list[str], named: set[str], project: Path, dist: Path,
    moto_endpoint: str, tmp_path: Path,
) -> None:  # fmt: skip
    s3 = boto_client(moto_endpoint, "s3")
    bucket = f"acme-{target}"
    s3.create_bucket(Bucket=bucket)
    if target == "emr":
        cluster = boto_client(moto_endpoint, "emr").run_job_flow(Name="c", Instances={})
        args = [a.replace("CLUSTER", cluster["JobFlowId"]) for a in args]
    if target == "emr-serverless":
        app = boto_client(moto_endpoint, "emr-serverless").create_application(
            name="acme", releaseLabel="emr-7.12.0", type="SPARK"
        )
        args = [a.replace("APP", app["applicationId"]) for a in args]
    site = tmp_path / "site"  # the user's own install of the project, as when they deploy
    wheel = next((dist / "wheels").glob("acme_features-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", "--target", str(site), str(wheel)], check=True)  # fmt: skip
    env = {**_clean_env(), "PYTHONPATH": str(site), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    cmd = [sys.executable, "-m", "featurekit", "deploy", target, EXAMPLE_JOB,
           "--artifacts", f"s3://{bucket}/acme", "--dist", str(dist), "--endpoint-url",
           moto_endpoint, "--region", "us-east-1", "--poll", "0", *args]  # fmt: skip
    _run(cmd, env, project)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {f"acme/{n}" for n in [*named, "manifest.json"]}
