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
    table = runtime.engine.read(spark, runtime.location("features.daily_purchases"))
    dates = {r.feature_date.isoformat() for r in table.select("feature_date").distinct().collect()}
    assert dates
    assert dates <= {f"2026-01-0{d}" for d in range(1, 8)}
    assert table.where("spend < 5").count() == 0

    training = namespace["training"].collect()  # type: ignore[attr-defined]
    assert len(training) == spec.users  # every label kept
    assert {"purchases_30d", "spend_7d", "items_1d"} <= set(training[0].asDict())
    assert all(r.feature_ts is None or r.feature_ts <= r.label_time for r in training)
