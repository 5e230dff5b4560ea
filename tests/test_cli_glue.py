"""``featurekit glue run`` and ``featurekit glue bookmark``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession

from featurekit import cli
from featurekit.cli.glue import glue_argv
from featurekit.demo import DemoSpec, events, labels
from featurekit.demo_run import write_source_table
from featurekit.glue_local.bookmarks import BookmarkStore
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.warehouse import Warehouse

ROOT = Path(__file__).resolve().parent.parent


def test_glue_argv_adds_what_glue_always_passes() -> None:
    first = glue_argv("jobs/etl.py", ["--x", "1"])
    assert first[:5] == ["jobs/etl.py", "--x", "1", "--JOB_NAME", "etl"]
    assert first[5] == "--JOB_RUN_ID"
    assert first[6] != glue_argv("jobs/etl.py", [])[-1]  # a fresh run id per run
    given = glue_argv("etl.py", ["--JOB_NAME=mine", "--JOB_RUN_ID", "jr_7"])
    assert given == ["etl.py", "--JOB_NAME=mine", "--JOB_RUN_ID", "jr_7"]


def test_run_arguments_split_at_double_dash(tmp_path: Path) -> None:
    from featurekit.cli.common import add_runtime_args as _add_runtime_args
    from featurekit.cli.glue import split_run_args

    args = cli.build_parser().parse_args(
        ["glue", "run", "s.py", "--warehouse", str(tmp_path), "--", "--JOB_NAME", "x"]
    )
    args, script_args = split_run_args(args, _add_runtime_args)
    assert (args.warehouse, script_args) == (str(tmp_path), ["--JOB_NAME", "x"])


def test_featurekit_options_after_the_script_without_double_dash_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without '--' they would be the script's arguments and the run would use another
    warehouse, whose buckets a Glue read finds empty."""
    script = tmp_path / "s.py"
    script.write_text("raise SystemExit('the script must not run')\n")
    assert cli.main(["glue", "run", str(script), "--warehouse", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "featurekit: error: --warehouse comes after the script with no '--'" in err
    assert f"featurekit glue run {script} --warehouse ... -- [SCRIPT ARGUMENTS]" in err
    assert cli.main(["glue", "run", str(script), "--quiet=1"]) == 2  # --opt=value too
    assert "--quiet comes after the script" in capsys.readouterr().err


STUDIO_SCRIPT = ROOT / "tests" / "glue_local" / "scripts" / "studio_s3_parquet_job.py"


def _studio(tmp_path: Path, unit: str, buckets: tuple[str, ...]) -> tuple[Path, Path]:
    """A Glue Studio script (S3 parquet -> Change Schema -> S3) and a warehouse with the
    bucket folders ``buckets``, events written by pyarrow with timestamps in ``unit``."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp_path.mkdir(parents=True, exist_ok=True)
    script = tmp_path / "studio_job.py"
    script.write_text(STUDIO_SCRIPT.read_text())
    wh = tmp_path / "wh"
    for bucket in buckets:
        (wh / "_s3" / bucket).mkdir(parents=True)
    if "landing" in buckets:
        (wh / "_s3" / "landing" / "events").mkdir()
        times = pa.array(
            [dt.datetime(2026, 11, 1, 8), dt.datetime(2026, 11, 2, 9)], pa.timestamp(unit)
        )
        table = pa.table({"user_id": ["u1", "u2"], "event_time": times})
        pq.write_table(table, wh / "_s3" / "landing" / "events" / "part-0.parquet")
    return script, wh


def test_a_studio_script_reading_a_bucket_the_warehouse_lacks_names_the_folder(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As Glue fails to read a bucket that does not exist (not an empty read, which would
    let the script write nothing and succeed)."""
    script, wh = _studio(tmp_path, "us", ("out",))
    assert cli.main(["glue", "run", str(script), "--warehouse", str(wh), "--quiet", "--"]) == 2
    err = capsys.readouterr().err
    assert "is in bucket 'landing', which the local warehouse does not have" in err
    assert f"Create {wh / '_s3' / 'landing'} (as you would create the bucket)" in err
    assert not any((wh / "_s3" / "out").iterdir())


def test_a_studio_script_over_nanosecond_parquet_names_the_fix(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script, wh = _studio(tmp_path, "ns", ("landing", "out"))
    assert cli.main(["glue", "run", "--warehouse", str(wh), "--quiet", str(script)]) == 2
    err = capsys.readouterr().err
    assert "featurekit: error: An input of the Glue script studio_job.py: Spark cannot read" in err
    assert "coerce_timestamps='us'" in err
    assert "Traceback" not in err
    assert not any((wh / "_s3" / "out").iterdir())
    script, wh = _studio(tmp_path / "us", "us", ("landing", "out"))  # and written as it says
    assert cli.main(["glue", "run", "--warehouse", str(wh), "--quiet", str(script)]) == 0
    written = spark.read.parquet(str(wh / "_s3" / "out" / "events"))
    assert sorted(r.user_id for r in written.collect()) == ["u1", "u2"]


def test_bookmark_show_and_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = BookmarkStore(Warehouse(tmp_path))
    store.save("j", "r1", {"ctx": {"kind": "s3", "files": {"s3://b/a": 1.0}}}, expected_version=0)
    store.save("j", "r2", {"ctx": {"kind": "s3", "files": {"s3://b/b": 2.0}}}, expected_version=1)
    wh = ["--warehouse", str(tmp_path)]
    assert cli.main(["glue", "bookmark", "show", "j", *wh]) == 0
    assert "j: bookmark version 2, 2 committed run(s), latest r2" in capsys.readouterr().out
    assert cli.main(["glue", "bookmark", "show", "j", "--json", *wh]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in shown["runs"]] == ["r1", "r2"]
    assert cli.main(["glue", "bookmark", "reset", "j", "--run-id", "r1", *wh]) == 0
    assert store.show("j")["current"] == {"ctx": {"kind": "s3", "files": {"s3://b/a": 1.0}}}
    assert cli.main(["glue", "bookmark", "reset", "j", "--run-id", "r9", *wh]) == 2
    assert "no committed bookmark run 'r9'" in capsys.readouterr().err
    assert cli.main(["glue", "bookmark", "reset", "j", *wh]) == 0
    assert store.show("j")["runs"] == []


def test_bookmark_commands_refuse_an_s3_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for action in (["show", "j"], ["reset", "j"]):
        assert cli.main(["glue", "bookmark", *action, "--warehouse", "s3://bucket/wh"]) == 2
        assert "keeps job bookmarks in a local warehouse folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no local folder named s3:


def featurekit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "featurekit", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def demo_warehouses(
    spark: SparkSession, tmp_path: Path, spec: DemoSpec
) -> tuple[dict[str, Path], dict[str, LocalRuntime]]:
    """Two warehouses ("local", "glue") holding the same demo source tables."""
    homes = {"local": tmp_path / "local", "glue": tmp_path / "glue"}
    runtimes = {
        k: LocalRuntime(LocalConfig(warehouse=str(v), quiet=True), spark=spark)
        for k, v in homes.items()
    }
    for runtime in runtimes.values():
        write_source_table(runtime, "raw.events", events(spark, spec), "events")
        write_source_table(runtime, "raw.labels", labels(spark, spec), "labels")
    return homes, runtimes


@pytest.mark.slow
def test_glue_entry_script_builds_the_same_table_as_featurekit_run(
    spark: SparkSession, tmp_path: Path
) -> None:
    homes, runtimes = demo_warehouses(spark, tmp_path, DemoSpec(users=50, days=10))

    local = featurekit("run", "user_activity_daily", "--warehouse", str(homes["local"]))
    assert local.returncode == 0, local.stderr
    glue = featurekit(
        "glue", "run", "entrypoints/glue_job.py", "--warehouse", str(homes["glue"]),
        "--", "--JOB_NAME", "demo", "--featurekit_job", "user_activity_daily",
    )  # fmt: skip
    assert glue.returncode == 0, glue.stderr
    assert "on glue" in glue.stdout

    tables = {
        k: r.storage.engine.read(spark, r.storage.location("features.user_activity_daily"))
        for k, r in runtimes.items()
    }
    assert tables["glue"].count() > 0
    assert_df_equality(tables["glue"], tables["local"], ignore_row_order=True)
    records = list((homes["glue"] / "_runs" / "user_activity_daily").glob("jr_*.json"))
    assert len(records) == 1
    assert json.loads(records[0].read_text())["runtime"] == "glue"


@pytest.mark.slow
def test_glue_run_reports_missing_job_arguments(tmp_path: Path) -> None:
    result = featurekit(
        "glue", "run", "entrypoints/glue_job.py", "--warehouse", str(tmp_path), "--", "--x", "1"
    )
    assert result.returncode == 2
    assert "the following arguments are required: --featurekit_job" in result.stderr


# Glue's special job parameters --------------------------------------------------------------

PROBE = """\
import json, sys
from pyspark.sql import SparkSession
from awsglue.utils import getResolvedOptions

spark = SparkSession.getActiveSession()
import glue_helper_fk36
args = getResolvedOptions(sys.argv, ["JOB_NAME", "out"])
doc = {"partitions": spark.conf.get("spark.sql.shuffle.partitions"),
       "helper": glue_helper_fk36.VALUE, "job": args["JOB_NAME"], "temp": args.get("TempDir")}
open(args["out"], "w").write(json.dumps(doc))
"""


def _helpers_zip(folder: Path) -> Path:
    import zipfile

    sys.modules.pop("glue_helper_fk36", None)  # each test imports it from its own zip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "helpers.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("glue_helper_fk36.py", "VALUE = 36\n")
    return path


def _probe(tmp_path: Path) -> Path:
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    return script


def test_glue_arguments_merge_as_glue_merges_them() -> None:
    from featurekit.cli.glue_params import merged_arguments, pairs

    assert pairs(["--a", "1", "--b=2", "--flag", "--c", "x y"]) == [
        ("--a", "1"), ("--b", "2"), ("--flag", None), ("--c", "x y")
    ]  # fmt: skip
    defaults = {"--conf": "a=1 --conf b=2", "--TempDir": "s3://b/tmp/", "--x": "1"}
    merged = merged_arguments(defaults, ["--x", "2", "--conf", "c=3", "--conf=d=4"])
    assert merged == ["--conf", "c=3 --conf d=4", "--TempDir", "s3://b/tmp/", "--x", "2"]


def test_special_parameters_resolve_to_local_paths(tmp_path: Path) -> None:
    from featurekit.cli.glue_params import Locations, parse

    dist = tmp_path / "dist"
    (dist / "jars").mkdir(parents=True)
    (dist / "jars" / "a.jar").write_bytes(b"")
    bucket = tmp_path / "wh" / "_s3" / "other" / "lib"
    bucket.mkdir(parents=True)
    (bucket / "b.jar").write_bytes(b"")
    where = Locations(tmp_path / "wh", dist, "s3://art/fk")
    params = parse(
        ["--extra-jars", "s3://art/fk/jars/a.jar,s3://other/lib/b.jar",
         "--conf", "spark.x=1 --conf spark.y=a=b", "--datalake-formats", "delta",
         "--user-jars-first", "true", "--TempDir", "s3://art/fk/tmp/",
         "--enable-metrics", "true", "--enable-spark-ui", "true",
         "--enable-glue-datacatalog", "true", "--job-language", "python"],
        where,
    )  # fmt: skip
    assert params.jars == (str(dist / "jars" / "a.jar"), str(bucket / "b.jar"))
    assert params.conf == {"spark.x": "1", "spark.y": "a=b"}
    assert (params.delta, params.user_jars_first, params.glue_datacatalog) == (True, True, True)
    assert params.temp_dir == tmp_path / "wh" / "_s3" / "art" / "fk" / "tmp"
    assert params.not_emulated == ("--enable-metrics", "--enable-spark-ui")
    assert params.session_confs()["spark.driver.extraClassPath"] == os.pathsep.join(params.jars)


def test_datalake_formats_delta_and_iceberg_are_both_set_up(tmp_path: Path) -> None:
    from featurekit.cli.glue_params import Locations, parse

    both = parse(["--datalake-formats", "delta,iceberg"], Locations(tmp_path))
    assert (both.delta, both.iceberg) == (True, True)
    iceberg = parse(["--datalake-formats", "iceberg"], Locations(tmp_path))
    assert (iceberg.delta, iceberg.iceberg) == (False, True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--extra-jars", "s3://nowhere/x.jar"], "no file"),
        (["--conf", "spark.x"], "expected KEY=VALUE"),
        (["--datalake-formats", "hudi"], "Delta and Iceberg only"),
        (["--job-language", "scala"], "Python scripts only"),
        (["--extra-files", "s3://b/f.txt"], "not emulated"),
        (["--user-jars-first", "maybe"], "true or false"),
    ],
)
def test_bad_special_parameters_are_clear_errors(
    args: list[str], message: str, tmp_path: Path
) -> None:
    from featurekit.cli.glue_params import Locations, parse
    from featurekit.errors import FeatureKitError

    with pytest.raises(FeatureKitError, match=message):
        parse(args, Locations(tmp_path))


def test_additional_python_modules_are_checked_never_installed() -> None:
    from featurekit.cli.glue_params import check_modules
    from featurekit.errors import ConfigError

    check_modules(["chispa", "pyspark>=3"])
    with pytest.raises(ConfigError, match=r"pip install 'no-such-module-fk36==1\.0'"):
        check_modules(["chispa", "no-such-module-fk36==1.0"])


def test_conf_and_py_files_reach_the_script_and_are_undone(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zipped = _helpers_zip(tmp_path / "lib")
    out = tmp_path / "out.json"
    before = spark.conf.get("spark.sql.shuffle.partitions")
    code = cli.main(
        ["glue", "run", str(_probe(tmp_path)), "--warehouse", str(tmp_path / "wh"), "--quiet",
         "--", "--conf", "spark.sql.shuffle.partitions=3", "--extra-py-files", str(zipped),
         "--TempDir", "s3://temp-bucket/glue/", "--enable-metrics", "true", "--out", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc == {
        "partitions": "3",
        "helper": 36,
        "job": "probe",
        "temp": "s3://temp-bucket/glue/",
    }
    assert (tmp_path / "wh" / "_s3" / "temp-bucket" / "glue").is_dir()
    assert "not emulated (they matter on AWS only): --enable-metrics" in capsys.readouterr().err
    assert spark.conf.get("spark.sql.shuffle.partitions") == before
    assert str(zipped) not in sys.path


def test_a_running_session_must_already_have_the_jars(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = next(j for j in spark.sparkContext.getConf().get("spark.jars").split(",") if j)
    dist = tmp_path / "dist"
    (dist / "jars").mkdir(parents=True)
    (dist / "jars" / Path(held).name).write_bytes(b"")  # the package's copy of that jar
    (dist / "jars" / "not-loaded.jar").write_bytes(b"")
    script = _probe(tmp_path)
    base = ["glue", "run", str(script), "--warehouse", str(tmp_path / "wh"), "--quiet",
            "--dist", str(dist), "--artifacts", "s3://art/fk"]  # fmt: skip
    _helpers_zip(tmp_path / "lib")
    extra = ["--extra-py-files", str(tmp_path / "lib" / "helpers.zip"),
             "--out", str(tmp_path / "o.json"), "--datalake-formats", "delta"]  # fmt: skip
    jar = f"s3://art/fk/jars/{Path(held).name}"
    assert cli.main([*base, "--", "--extra-jars", jar, *extra]) == 0
    err = capsys.readouterr().err
    assert "running session already has what --extra-jars, --datalake-formats delta ask" in err
    missing = "s3://art/fk/jars/not-loaded.jar"
    assert cli.main([*base, "--", "--extra-jars", missing, *extra]) == 2
    assert (
        "the session is already running without not-loaded.jar (--extra-jars); run featurekit "
        "glue run in a fresh process" in capsys.readouterr().err.lower()
    )


def test_a_glue_catalog_job_needs_a_glue_catalog(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["glue", "run", str(_probe(tmp_path)), "--warehouse", str(tmp_path), "--",
            "--featurekit_catalog", "glue"]  # fmt: skip
    assert cli.main(args) == 2
    assert "pass --catalog glue" in capsys.readouterr().err


def test_run_a_plan_with_its_default_arguments(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = tmp_path / "dist"
    (dist / "entrypoints").mkdir(parents=True)
    (dist / "entrypoints" / "glue_job.py").write_text(PROBE)
    _helpers_zip(dist)
    out = tmp_path / "out.json"
    plan = {
        "Name": "featurekit-probe",
        "Command": {"Name": "glueetl", "ScriptLocation": "s3://art/fk/entrypoints/glue_job.py"},
        "DefaultArguments": {
            "--extra-py-files": "s3://art/fk/helpers.zip",
            "--conf": "spark.sql.shuffle.partitions=2 --conf spark.sql.session.timeZone=UTC",
            "--TempDir": "s3://art/fk/tmp/",
            "--out": "ignored",
        },
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    code = cli.main(
        ["glue", "run", "--plan", str(tmp_path / "plan.json"), "--dist", str(dist),
         "--warehouse", str(tmp_path / "wh"), "--quiet", "--", "--out", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc == {"partitions": "2", "helper": 36, "job": "featurekit-probe",
                   "temp": "s3://art/fk/tmp/"}  # fmt: skip
    assert (tmp_path / "wh" / "_s3" / "art" / "fk" / "tmp").is_dir()


def test_a_plan_that_is_not_a_glue_job_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plan.json").write_text(json.dumps({"JobFlowId": "j-1", "Steps": []}))
    assert cli.main(["glue", "run", "--plan", str(tmp_path / "plan.json")]) == 2
    assert "is not a Glue job definition" in capsys.readouterr().err
    assert cli.main(["glue", "run"]) == 2
    assert "Give the Glue script to run, or --plan" in capsys.readouterr().err


def _quarantine(runtime: LocalRuntime, spark: SparkSession):  # type: ignore[no-untyped-def]
    location = runtime.storage.location("features.training_set__quarantine")
    table = runtime.storage.engine.read(spark, location)
    return table.drop("quarantine_run_id", "quarantine_date")


@pytest.mark.slow
def test_a_packaged_job_with_rulesets_runs_its_plan(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`featurekit package` + `plan glue` + `glue run --plan`: Deequ's jars come from the
    plan's --extra-jars (the entry script has no awsgluedq import), featurekit from its
    --extra-py-files, Delta from --datalake-formats; the table equals `featurekit run`'s."""
    from featurekit.deploy.package import build_artifacts
    from featurekit.examples.training_set import TrainingSet
    from featurekit.examples.user_activity_daily import UserActivityDaily

    dist = tmp_path / "dist"
    build_artifacts(ROOT, dist)
    assert cli.main(["plan", "glue", "training_set", "--artifacts", "s3://art/fk",
                     "--dist", str(dist), "--catalog", "local"]) == 0  # fmt: skip
    plan = json.loads(capsys.readouterr().out)
    assert "--extra-jars" in plan["DefaultArguments"]
    (tmp_path / "plan.json").write_text(json.dumps(plan))

    homes, runtimes = demo_warehouses(spark, tmp_path, DemoSpec(users=30, days=6))
    for runtime in runtimes.values():
        UserActivityDaily().run(runtime)
    TrainingSet().run(runtimes["local"])

    glue = featurekit("glue", "run", "--plan", str(tmp_path / "plan.json"), "--dist", str(dist),
                      "--warehouse", str(homes["glue"]), "--quiet")  # fmt: skip
    assert glue.returncode == 0, glue.stderr
    record = json.loads(next((homes["glue"] / "_runs" / "training_set").glob("*.json")).read_text())
    assert record["runtime"] == "glue"
    assert record["quality"], "the rulesets were evaluated"
    tables = {
        k: r.storage.engine.read(spark, r.storage.location("features.training_set"))
        for k, r in runtimes.items()
    }
    assert tables["glue"].count() > 0
    assert_df_equality(tables["glue"], tables["local"], ignore_row_order=True)
    assert_df_equality(
        _quarantine(runtimes["glue"], spark),
        _quarantine(runtimes["local"], spark),
        ignore_row_order=True,
    )
