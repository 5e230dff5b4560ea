"""``featurekit cost`` on a stored run record: the table, the JSON, the chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from featurekit.cli import main

RUN = "20261126T000000Z-abcdef12"
JOB = "user_activity_daily"  # a registered job: `plan` needs its declaration


@pytest.fixture
def runs(warehouse: Path) -> Path:
    record = {
        "job": JOB,
        "run_id": RUN,
        "runtime": "local",
        "status": "succeeded",
        "phases": {"read": 5.0, "transform": 1.0, "write": 24.0},
        "usage": {
            "jobs": 4,
            "stages": 8,
            "tasks": 40,
            "executor_run_seconds": 50.0,
            "executor_cpu_seconds": 40.0,
            "input_bytes": 10**8,
            "output_bytes": 10**7,
            "shuffle_read_bytes": 5 * 10**7,
            "shuffle_write_bytes": 5 * 10**7,
            "spilled_bytes": 0,
            "peak_execution_memory_bytes": 10**8,
            "executors": 1,
            "cores": 2,
            "memory_bytes": 10**9,
            "spark_seconds": 28.0,
        },
    }
    folder = warehouse / "_runs" / JOB
    folder.mkdir(parents=True)
    (folder / f"{RUN}.json").write_text(json.dumps(record))
    failed = {**record, "run_id": "z-failed", "status": "failed"}
    (folder / "z-failed.json").write_text(json.dumps(failed))  # newer, but failed
    return warehouse


def test_cost_prints_each_target_and_writes_the_chart(
    runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "cost.png"
    argv = ["cost", JOB, "--warehouse", str(runs), "--chart", str(chart), "--by-type"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"{JOB} run {RUN} on local: 30.0s wall, 50.0 task-s" in out
    for target in ("glue ", "glue-flex", "emr-ec2-spot", "emr-serverless", "emr-ec2-long-running"):
        assert f"\n{target}" in out
    assert "recommended: glue" in out
    by_type = out.split("each worker / instance type:")[1]
    for kind in ("G.8X", "R.1X", "m6g.xlarge", "r5.2xlarge", "c5.xlarge", "4 vCPU/16 GB"):
        assert kind in by_type
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_cost_json_has_the_recommendation_and_the_chart_data(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "cost",
        RUN,
        "--warehouse",
        str(runs),
        "--json",
        "--runs-per-day",
        "24",
        "--deadline",
        "10m",
        "--data-scale",
        "10",
    ]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scenario"] == {"scale": 10.0, "runs_per_day": 24.0, "deadline_seconds": 600.0}
    assert doc["recommended"]["meets_deadline"] is True
    assert doc["runner_up"]["cost_per_day"] >= doc["recommended"]["cost_per_day"]
    assert len(doc["targets"]) == 8
    assert len(doc["by_type"]) == 8 + 2 + 4 * 9 + 2  # Glue, Flex, EMR on EC2, Serverless
    series = doc["series"]
    assert len(series["cost_per_run_by_scale"]["glue"]) == len(series["scales"])
    assert doc["prices"]["region"] == "us-east-1"


def test_cost_of_an_unknown_job_names_the_close_ones(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cost", "user_activty_daily", "--warehouse", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "Unknown job 'user_activty_daily'" in err
    assert "Did you mean 'user_activity_daily'?" in err
    assert "featurekit run" not in err
    assert "Traceback" not in err
    # nothing close: the known jobs, installed or with runs in the warehouse
    other = runs / "_runs" / "other_team_job"
    other.mkdir()
    (other / "r.json").write_text("{}")
    assert main(["cost", "nightly", "--warehouse", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "Unknown job 'nightly'" in err
    known = err.split("Known jobs: ")[1]
    assert "other_team_job" in known
    assert "user_activity_daily" in known


def test_cost_of_a_job_never_measured_says_to_run_it(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cost", "training_set", "--warehouse", str(runs)]) == 2
    assert "run it first (featurekit run training_set)" in capsys.readouterr().err


def test_plan_auto_plans_the_recommended_target(
    runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from featurekit.deploy.package import build_artifacts

    build_artifacts(Path(__file__).resolve().parents[2], tmp_path / "dist")  # plans need it
    target_args = f"--artifacts s3://b/fk --dist {tmp_path / 'dist'}"
    argv = ["plan", "auto", JOB, "--warehouse", str(runs), "--target-args", target_args]
    assert main(argv) == 0
    captured = capsys.readouterr()
    request = json.loads(captured.out)  # the Glue CreateJob request, sized as recommended
    assert "plan auto: glue-flex (G.1X x 2) is the cheapest" in captured.err
    assert (request["WorkerType"], request["NumberOfWorkers"]) == ("G.1X", 2)
    assert request["ExecutionClass"] == "FLEX"


def test_a_jobs_runs_at_two_sizes_calibrate_the_fixed_task_time(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = runs / "_runs" / JOB
    doc = json.loads((folder / f"{RUN}.json").read_text())
    doc["run_id"] = "20261127T000000Z-bigger00"
    doc["usage"] = {**doc["usage"], "input_bytes": 2 * 10**8, "executor_run_seconds": 70.0}
    (folder / f"{doc['run_id']}.json").write_text(json.dumps(doc))
    assert main(["cost", JOB, "--warehouse", str(runs)]) == 0
    out = capsys.readouterr().out
    assert f"{JOB} run 20261127T000000Z-bigger00 on local" in out  # the larger run is the base
    assert "task time calibrated from 2 full runs: 30.0 task-s fixed" in out  # 50 = 30 + 20 per 1e8


def test_full_and_range_runs_are_calibrated_apart(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = runs / "_runs" / JOB
    doc = json.loads((folder / f"{RUN}.json").read_text())  # a full run (no --start/--end)
    for i, size in enumerate((10**6, 2 * 10**6)):
        day = f"2026-01-0{i + 1}"
        ranged = {**doc, "run_id": f"20261128T00000{i}Z-range00{i}", "start": day, "end": day}
        ranged["usage"] = {**doc["usage"], "input_bytes": size, "executor_run_seconds": 4.0 + i}
        (folder / f"{ranged['run_id']}.json").write_text(json.dumps(ranged))
    wh = ["--warehouse", str(runs)]

    assert main(["cost", JOB, *wh]) == 0  # the latest run is a one-day range run
    captured = capsys.readouterr()
    assert f"{JOB} run 20261128T000001Z-range001 on local" in captured.out
    assert "task time calibrated from 2 range runs" in captured.out
    assert "estimated from range runs only (2); 1 full run(s) left out: --runs full" in (
        captured.err
    )
    assert main(["cost", JOB, "--runs", "full", "--json", *wh]) == 0
    captured = capsys.readouterr()
    doc_json = json.loads(captured.out)
    assert doc_json["run"]["run_id"] == RUN
    assert doc_json["calibration"] == {"runs": [RUN], "kinds": {"full": 1}}
    assert main(["cost", JOB, "--runs", "all", *wh]) == 0
    err = capsys.readouterr().err
    assert "calibrating full and range runs together (1 full, 2 range (1 day))" in err


def test_asking_for_a_kind_of_run_the_job_lacks_is_a_clear_error(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cost", JOB, "--runs", "range", "--warehouse", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "has no succeeded, measured range run" in err
    assert "(1 full)" in err


def test_plan_auto_takes_the_kind_of_runs_its_note_names(
    runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = runs / "_runs" / JOB
    doc = json.loads((folder / f"{RUN}.json").read_text())  # a full run (no --start/--end)
    ranged = {**doc, "run_id": "20261128T000000Z-range000", "start": "2026-01-01"}
    ranged["end"] = "2026-01-01"
    (folder / f"{ranged['run_id']}.json").write_text(json.dumps(ranged))
    from featurekit.deploy.package import build_artifacts

    build_artifacts(Path(__file__).resolve().parents[2], tmp_path / "dist")  # plans need it
    target_args = f"--artifacts s3://b/fk --dist {tmp_path / 'dist'}"
    argv = ["plan", "auto", JOB, "--warehouse", str(runs), "--target-args", target_args]
    assert main(argv) == 0  # the latest run is a range run: the full one is left out
    assert "1 full run(s) left out: --runs full" in capsys.readouterr().err
    assert main([*argv, "--runs", "full"]) == 0  # which plan auto takes, as cost does
    err = capsys.readouterr().err
    assert "estimated from full runs only (1)" in err
    assert "plan auto: glue-flex (G.1X x 2) is the cheapest" in err


def test_a_run_that_started_no_spark_job_is_left_out(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = runs / "_runs" / JOB
    doc = json.loads((folder / f"{RUN}.json").read_text())
    idle = {**doc, "run_id": "20261127T000000Z-nothing0", "phases": {"plan": 0.0}}
    idle["usage"] = {**doc["usage"], "jobs": 0, "stages": 0, "tasks": 0, "spark_seconds": 0.0}
    idle["usage"].update(executor_run_seconds=0.0, executor_cpu_seconds=0.0, input_bytes=0)
    (folder / f"{idle['run_id']}.json").write_text(json.dumps(idle))  # nothing new to process
    assert main(["cost", JOB, "--warehouse", str(runs)]) == 0
    captured = capsys.readouterr()
    assert f"{JOB} run {RUN} on local" in captured.out
    assert "1 run(s) that started no Spark job left out" in captured.err
