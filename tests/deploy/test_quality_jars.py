"""Deequ's jars in the package and the plans of a job with rulesets (the demo's training_set)."""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from featurekit.cli import main
from featurekit.deploy.aws import validate_request
from featurekit.deploy.package import build_artifacts
from featurekit.deploy.quality_jars import emr_spark_line
from featurekit.errors import ConfigError, QualityEngineError
from featurekit.quality.engine import engine_jars
from featurekit.runtime.emr import parse_step_args
from featurekit.runtime.glue import resolve_args

ROOT = Path(__file__).resolve().parents[2]
JARS = [
    "jars/com.amazon.deequ_deequ-2.1.0-spark-3.5.jar",
    "jars/software.amazon.glue_dqdl-1.0.0.jar",
]
ART = "s3://b/fk"
URIS = [f"{ART}/{j}" for j in JARS]
ROLE = "arn:aws:iam::123456789012:role/featurekit"


def plan(capsys: pytest.CaptureFixture[str], dist: Path, target: str, *args: str) -> Any:
    """``featurekit plan TARGET training_set ...``'s request (its error: a str)."""
    extra = {
        "glue": [],
        "emr": ["--cluster-id", "j-1"],
        "emr-serverless": ["--application-id", "00f1", "--role-arn", ROLE],
    }[target]
    argv = ["plan", target, "training_set", "--artifacts", ART, "--dist", str(dist), *extra]
    code = main([*argv, *args])
    out, err = capsys.readouterr()
    return json.loads(out) if code == 0 else err


def step_args(request: dict[str, Any]) -> list[str]:
    args: list[str] = request["Steps"][0]["HadoopJarStep"]["Args"]
    return args


def test_package_ships_deequ_and_the_parser_with_their_hashes(dist: Path) -> None:
    manifest = json.loads((dist / "manifest.json").read_text())
    assert manifest["quality"]["jobs"] == ["training_set"]
    assert manifest["quality"]["jars"] == JARS
    for name in JARS:
        entry = manifest["artifacts"][name]
        assert entry["kind"] == "jar"
        assert entry["sha256"] == hashlib.sha256((dist / name).read_bytes()).hexdigest()


def test_plan_glue_puts_the_jars_on_extra_jars(
    capsys: pytest.CaptureFixture[str], dist: Path
) -> None:
    args = plan(capsys, dist, "glue")["DefaultArguments"]
    assert args["--extra-jars"] == ",".join(URIS)
    assert "--featurekit_quality" not in args


def test_plan_emr_puts_the_jars_on_the_step_and_serverless_on_spark_jars(
    capsys: pytest.CaptureFixture[str], dist: Path
) -> None:
    request = plan(capsys, dist, "emr")
    validate_request("emr", "AddJobFlowSteps", request)
    args = step_args(request)
    assert args[args.index("--jars") + 1] == ",".join(URIS)
    assert args.index("--jars") < args.index("--py-files")
    request = plan(capsys, dist, "emr-serverless")
    params = request["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"]
    jars = params.split("--conf spark.jars=")[1].split()[0].split(",")
    assert jars[-2:] == URIS
    assert jars[0].startswith("/usr/share/aws/delta/lib/")


def test_a_job_without_rulesets_gets_no_jars(
    capsys: pytest.CaptureFixture[str], dist: Path
) -> None:
    argv = ["plan", "emr", "user_activity_daily", "--cluster-id", "j-1", "--artifacts", ART]
    assert main([*argv, "--dist", str(dist)]) == 0
    assert "--jars" not in step_args(json.loads(capsys.readouterr().out))


@pytest.mark.parametrize(
    ("target", "args", "line"),
    [
        ("glue", ["--glue-version", "6.0"], "4.1"),
        ("emr", ["--release-label", "emr-8.0.0"], "4.0"),
        ("emr-serverless", ["--release-label", "emr-8.0.0"], "4.0"),
    ],
)
def test_spark_4_targets_fail_naming_the_line_unless_no_quality(
    capsys: pytest.CaptureFixture[str], dist: Path, target: str, args: list[str], line: str
) -> None:
    error = plan(capsys, dist, target, *args)
    assert f"runs Spark {line}. Deequ publishes no build for Spark {line}" in error
    assert "--no-quality" in error
    request = plan(capsys, dist, target, *args, "--no-quality")
    text = json.dumps(request)
    assert "jars/com.amazon.deequ" not in text
    if target == "glue":
        assert request["DefaultArguments"]["--featurekit_quality"] == "off"
    else:
        assert "--no-quality" in text  # the step / job run is told not to check


def test_a_package_built_without_quality_cannot_plan_the_job(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = build_artifacts(ROOT, tmp_path, quality=False)
    assert manifest["quality"] == {"jobs": [], "jars": []}
    assert not (tmp_path / "jars").exists()
    assert "holds no Deequ jars" in plan(capsys, tmp_path, "glue")


def test_the_entrypoints_read_no_quality() -> None:
    assert not parse_step_args(["--job", "j", "--no-quality"]).config.check_quality
    assert parse_step_args(["--job", "j"]).config.check_quality
    argv = ["s.py", "--JOB_NAME", "x", "--featurekit_job", "j"]
    assert not resolve_args([*argv, "--featurekit_quality", "off"]).check_quality
    with pytest.raises(ConfigError, match="on or off"):
        resolve_args([*argv, "--featurekit_quality", "no"])


def test_release_labels_map_to_spark_lines() -> None:
    assert [emr_spark_line(f"emr-{v}") for v in ("7.12.0", "8.0.0", "6.15.0")] == [
        "3.5", "4.0", "3.4",
    ]  # fmt: skip
    with pytest.raises(ConfigError, match=r"emr-7\.12\.0"):
        emr_spark_line("7.12")


def test_only_the_two_jars_spark_lacks_are_kept() -> None:
    tree = [
        "/i/org.scalanlp_breeze_2.12-2.1.0.jar",
        "/i/com.amazon.deequ_deequ-2.1.0-spark-3.5.jar",
    ]
    wanted = ["com.amazon.deequ:deequ:2.1.0-spark-3.5", "software.amazon.glue:dqdl:1.0.0"]
    with pytest.raises(QualityEngineError, match=r"lacks software\.amazon\.glue_dqdl-1\.0\.0\.jar"):
        engine_jars(tree, wanted)
    found = engine_jars([*tree, "/i/software.amazon.glue_dqdl-1.0.0.jar"], wanted)
    assert [Path(j).name for j in found] == [Path(j).name for j in JARS]


TYPO = """
from featurekit import FeatureJob, FeatureTable
from featurekit.quality import Ruleset

class TypoJob(FeatureJob):
    name = "{name}"
    output = FeatureTable("features.{name}", keys=("k",), date_column="d",
                          columns={{"k": "string", "d": "date"}},
                          quality=(Ruleset('Rules = [ IsComplete "k", RowCont > 0 ]'),))

    def transform(self, ctx):
        raise AssertionError("never run")
"""


def test_a_dqdl_typo_fails_the_package_before_anything_is_built(
    tmp_path: Path, no_spark: None
) -> None:
    name = f"dq_typo_{uuid.uuid4().hex[:8]}"
    (tmp_path / "src" / name).mkdir(parents=True)
    (tmp_path / "src" / name / "__init__.py").write_text(TYPO.format(name=name))
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "1.0"\ndependencies = ["featurekit"]\n'
        f'[project.entry-points."featurekit.jobs"]\n{name} = "{name}:TypoJob"\n'
    )
    out = tmp_path / "dist"
    for quality in (True, False):
        with pytest.raises(ConfigError) as caught:
            build_artifacts(tmp_path, out, quality=quality)
        message = str(caught.value)
        assert f"Job {name} ({name}:TypoJob) is declared wrong: " in message
        assert (
            "unknown rule type 'RowCont' in rule 'RowCont > 0'; did you mean 'RowCount'?" in message
        )
        assert not out.exists()  # nothing built


def test_plan_of_a_job_with_a_dqdl_typo_names_it(
    capsys: pytest.CaptureFixture[str],
    dist: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_spark: None,
) -> None:
    name = f"dq_typo_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(TYPO.format(name=name))
    info = tmp_path / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[featurekit.jobs]\n{name} = {name}:TypoJob\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    # a package built before the typo was made: it holds the job
    packaged = tmp_path / "dist"
    shutil.copytree(dist, packaged)
    manifest = json.loads((packaged / "manifest.json").read_text())
    manifest["jobs"][name] = f"{name}:TypoJob"
    (packaged / "manifest.json").write_text(json.dumps(manifest))
    for target in ("glue", "emr"):
        extra = ["--cluster-id", "j-1"] if target == "emr" else []
        argv = ["plan", target, name, "--artifacts", ART, "--dist", str(packaged), *extra]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "did you mean 'RowCount'?" in err
        assert f"{name}.py:" in err
    sys.modules.pop(name, None)
