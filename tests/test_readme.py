"""The README is executable: its commands exist and its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from featurekit.demo import DemoSpec, events, labels
from featurekit.demo_run import write_source_table
from featurekit.runtime.local import LocalConfig, LocalRuntime

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_demo_and_test_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M)
    assert re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_python_examples_run(
    spark: SparkSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    runtime = LocalRuntime(LocalConfig(warehouse="warehouse", quiet=True), spark=spark)
    spec = DemoSpec(users=30, days=10)
    write_source_table(runtime, "raw.events", events(spark, spec), "demo")
    write_source_table(runtime, "raw.labels", labels(spark, spec), "demo")

    namespace: dict[str, object] = {"__name__": "readme_example"}
    for block in blocks:  # in order, in one namespace, as a reader would run them
        exec(compile(block, "README.md", "exec"), namespace)

    record = namespace["record"]
    assert record.status == "succeeded"  # type: ignore[attr-defined]
    assert "daily_purchases" in capsys.readouterr().out
    table = runtime.storage.engine.read(spark, runtime.storage.location("features.daily_purchases"))
    dates = {r.feature_date.isoformat() for r in table.select("feature_date").distinct().collect()}
    assert dates
    assert dates <= {f"2026-01-0{d}" for d in range(1, 8)}
    assert table.where("spend < 5").count() == 0

    training = namespace["training"].collect()  # type: ignore[attr-defined]
    assert len(training) == spec.users  # every label kept
    assert {"purchases_30d", "spend_7d", "items_1d"} <= set(training[0].asDict())
    assert all(r.feature_ts is None or r.feature_ts <= r.label_time for r in training)


def test_readme_writing_a_job_starts_from_the_scaffold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The featurekit commands of "Writing a job" from `featurekit init` on, run in order
    in this process as a reader would; tests/scaffold/test_whole_path.py runs the whole
    block (the clone, the installs, the project's tests) in a fresh virtualenv, and the
    generated project's job on every runtime."""
    from featurekit.cli import main

    section = README.split("## Writing a job", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert lines[0] == 'git clone "$FEATUREKIT_REPO" featurekit'
    assert "pip install -e '.[local]'" in lines
    lines = lines[lines.index("featurekit init acme-features") :]
    assert "pytest" in lines
    monkeypatch.chdir(tmp_path)
    ran = []
    for line in lines:
        if line.startswith("cd "):
            monkeypatch.chdir(line[3:])
        elif line.startswith("featurekit ") and line != "featurekit jobs":
            assert main(line.split()[1:]) == 0, line
            ran.append(line.split()[1])
    assert ran == ["init", "doctor", "new", "package"]
    project = tmp_path / "acme-features"
    assert (project / "src/acme_features/jobs/cart_sessions_daily.py").is_file()
    manifest = (project / "dist" / "manifest.json").read_text()
    assert (
        '"cart_sessions_daily": "acme_features.jobs.cart_sessions_daily:CartSessionsDaily"'
        in manifest
    )
