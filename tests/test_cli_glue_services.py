"""``featurekit glue run``'s Glue release check, local AWS stand-ins and connections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from featurekit.cli.glue_services import sync_back, upload, wanted
from featurekit.cli.glue_version import emulated
from featurekit.errors import ConfigError
from featurekit.testing.plugin import boto_client

ROOT = Path(__file__).parents[1]
SCRIPTS = ROOT / "tests" / "glue_local" / "scripts"


def featurekit(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "featurekit", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=400,
    )  # fmt: skip


# -- the Glue release ---------------------------------------------------------------------


def test_glue_version_follows_the_installed_spark_or_refuses_another_line() -> None:
    chosen = emulated(None, spark="3.5", python="3.11")
    assert chosen.line.key == "glue5.1"
    assert chosen.summary() == (
        "emulating Glue 5.1 (Spark 3.5, Python 3.11; chosen by the installed pyspark)"
    )
    assert chosen.notes == ()
    assert emulated(None, spark="4.1", python="3.13").line.key == "glue6.0"
    with pytest.raises(ConfigError, match=r"pip install 'featurekit\[glue5\]'"):
        emulated("5.1", spark="4.1", python="3.11")
    with pytest.raises(ConfigError, match=r"featurekit\[glue6\].*--glue-version 5\.1"):
        emulated(None, "6.0", spark="3.5", python="3.11")  # the plan's GlueVersion
    with pytest.raises(ConfigError, match=r"pyspark 4\.0 is not the Spark of a Glue release"):
        emulated(None, spark="4.0", python="3.12")
    assert emulated("5.1", spark="3.5", python="3.12").notes == (
        "Glue 5.1 runs Python 3.11; this is Python 3.12",
    )


def test_glue_run_refuses_a_glue_version_of_another_spark_line(tmp_path: Path) -> None:
    import pyspark

    other = "6.0" if pyspark.__version__.startswith("3.5") else "5.1"
    result = featurekit(
        "glue", "run", str(SCRIPTS / "postgres_job.py"), "--warehouse", str(tmp_path),
        "--glue-version", other, "--", "--x", "1",
    )  # fmt: skip
    assert result.returncode == 2
    assert "pip install 'featurekit[glue" in result.stderr
    assert "Traceback" not in result.stderr


# -- S3 for boto3 -------------------------------------------------------------------------


def test_server_is_started_when_the_script_names_boto3_or_dynamodb() -> None:
    assert wanted("auto", "import boto3\n")
    assert wanted("auto", 'connection_type="dynamodb"')
    assert not wanted("auto", "from awsglue.context import GlueContext\n")
    assert wanted("on", "")
    assert not wanted("off", "import boto3")


def test_warehouse_buckets_go_up_and_changes_come_back(tmp_path: Path, moto_endpoint: str) -> None:
    client: Any = boto_client(moto_endpoint, "s3")
    root = tmp_path / "_s3"
    bucket = f"sync-{os.getpid()}-{tmp_path.name[-6:]}".lower().replace("_", "-")
    (root / bucket / "in").mkdir(parents=True)
    (root / bucket / "in" / "a.csv").write_text("x\n1\n")
    (root / bucket / "old.txt").write_text("old")
    sent = upload(client, root)
    assert set(sent) == {f"{bucket}/in/a.csv", f"{bucket}/old.txt"}
    client.put_object(Bucket=bucket, Key="out/new.txt", Body=b"new")
    client.put_object(Bucket=bucket, Key="in/a.csv", Body=b"x\n2\n")
    client.delete_object(Bucket=bucket, Key="old.txt")
    changed = sync_back(client, root, sent)
    assert sorted(c for c in changed if c.startswith(bucket)) == [
        f"{bucket}/in/a.csv", f"{bucket}/old.txt", f"{bucket}/out/new.txt",
    ]  # fmt: skip
    assert (root / bucket / "out" / "new.txt").read_text() == "new"
    assert (root / bucket / "in" / "a.csv").read_text() == "x\n2\n"
    assert not (root / bucket / "old.txt").exists()


@pytest.mark.slow
def test_script_boto3_sees_the_warehouse_buckets_and_its_writes_land_there(
    tmp_path: Path,
) -> None:
    pytest.importorskip("moto.server")
    s3 = tmp_path / "wh" / "_s3"
    (s3 / "cfg").mkdir(parents=True)
    (s3 / "cfg" / "config.json").write_text(json.dumps({"bucket": "data", "prefix": "orders/"}))
    (s3 / "cfg" / "obsolete.txt").write_text("x")
    (s3 / "data" / "orders").mkdir(parents=True)
    (s3 / "data" / "orders" / "a.csv").write_text("id,amount\n1,2.5\n")
    (s3 / "data" / "orders" / "b.csv").write_text("id,amount\n2,4.0\n")
    result = featurekit(
        "glue", "run", str(SCRIPTS / "boto3_config_job.py"), "--warehouse", str(tmp_path / "wh"),
        "--", "--config_bucket", "cfg",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "emulating Glue" in result.stderr
    assert (s3 / "data" / "markers" / "done.txt").read_text() == "2"
    assert not (s3 / "cfg" / "obsolete.txt").exists()
    totals = [json.loads(p.read_text()) for p in (s3 / "data" / "totals").glob("part-*.json")]
    assert [t for t in totals if t] == [{"total": 6.5}]
    assert "RUNS=2" in result.stdout


@pytest.mark.slow
def test_connections_file_names_a_connection_the_script_reads_back_with_spark_jdbc(
    tmp_path: Path,
) -> None:
    (tmp_path / "glue-connections.toml").write_text('[connections.reporting]\ntype = "mysql"\n')
    result = featurekit(
        "glue", "run", str(SCRIPTS / "jdbc_conf_job.py"), "--warehouse", str(tmp_path / "wh"),
        "--", "--connection", "reporting", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "JDBC_ROWS=['o1', 'o2']" in result.stdout
    assert (tmp_path / "wh" / "_jdbc" / "reporting" / "default.mv.db").is_file()


def test_a_plans_glue_version_chooses_the_release(
    tmp_path: Path, no_spark: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyspark

    from featurekit import cli

    other = "6.0" if pyspark.__version__.startswith("3.5") else "5.1"
    script = tmp_path / "job.py"
    script.write_text("print('never runs')\n")
    plan = {"Name": "j", "GlueVersion": other, "Command": {"ScriptLocation": str(script)},
            "DefaultArguments": {"--job-language": "python"}}  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    code = cli.main(
        ["glue", "run", "--plan", str(tmp_path / "plan.json"), "--warehouse", str(tmp_path)]
    )
    assert code == 2  # refused before any session starts: the plan's Glue runs another Spark
    err = capsys.readouterr().err
    assert f"Glue {other} runs Spark" in err
    assert "pip install 'featurekit[glue" in err
