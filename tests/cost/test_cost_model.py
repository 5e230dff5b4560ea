"""The scaling model and the rules of thumb it should reproduce."""

from __future__ import annotations

from dataclasses import replace

import pytest

from featurekit.cost.model import Workload, calibrate, parse_duration, predict_seconds
from featurekit.cost.prices import load_prices
from featurekit.cost.recommend import plan_arguments, plan_target, recommend, recommended_target
from featurekit.cost.targets import Scenario
from featurekit.errors import ConfigError

TABLE = load_prices()


def workload(**changes: object) -> Workload:
    """A run measured on 2 cores: 100 s wall, 180 task-seconds, 8 tasks per stage."""
    base = Workload(
        job="j",
        run_id="r",
        wall_seconds=100.0,
        task_seconds=180.0,
        cpu_seconds=150.0,
        cores=2,
        tasks=80,
        stages=10,
        shuffle_bytes=10**9,
        input_bytes=10**10,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_measured_point_is_reproduced_and_task_time_scales_linearly() -> None:
    w = workload()
    assert w.serial_seconds == pytest.approx(10.0)  # 100 - 180 / 2
    assert predict_seconds(w, scale=1, cores=2) == pytest.approx(100.0)
    assert predict_seconds(w, scale=4, cores=2) == pytest.approx(10 + 720 / 2)
    # more cores help up to the tasks per stage (8 at scale 1, 32 at scale 4)
    assert predict_seconds(w, scale=1, cores=64) == pytest.approx(10 + 180 / 8)
    assert predict_seconds(w, scale=4, cores=16) == pytest.approx(10 + 720 / 16)


def test_shuffle_crosses_the_network_on_several_nodes() -> None:
    w = workload()
    alone = predict_seconds(w, scale=10, cores=16, nodes=1)
    spread = predict_seconds(w, scale=10, cores=16, nodes=4)
    assert spread - alone == pytest.approx(10 * 1e9 * 3 / 4 / (4 * 125e6))


def test_a_run_without_measured_usage_is_refused_with_the_reason() -> None:
    doc = {
        "job": "j",
        "run_id": "r",
        "status": "succeeded",
        "usage": None,
        "usage_missing": "not measured: RuntimeError: a Spark Connect session",
    }
    with pytest.raises(ConfigError, match=r"no measured resource usage.*Spark Connect"):
        Workload.from_record(doc)


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    with pytest.raises(ConfigError, match="like 90s"):
        parse_duration("soon")


def ten_minute_job() -> Workload:
    """10 minutes on Glue's smallest useful size (G.1X x 3: 8 executor cores): 4,800
    task-seconds, measured on 2 cores over 40 minutes, 400 tasks per stage."""
    return workload(
        wall_seconds=2405.0,
        task_seconds=4800.0,
        cpu_seconds=4000.0,
        tasks=4000,
        stages=10,
        shuffle_bytes=2 * 10**9,
    )


def _factor(rec: object, better: tuple[str, ...]) -> float:
    options = rec.options  # type: ignore[attr-defined]
    best = min(o.cost_per_day for o in options if o.meets_deadline and o.target.startswith(better))
    rest = min(
        o.cost_per_day for o in options if o.meets_deadline and not o.target.startswith(better)
    )
    return float(rest / best)


@pytest.mark.parametrize("deadline", [None, 15 * 60.0])
def test_a_ten_minute_daily_job_is_cheapest_on_glue_or_emr_serverless(
    deadline: object,
) -> None:
    sc = Scenario(runs_per_day=1, deadline_seconds=deadline)  # type: ignore[arg-type]
    rec = recommend(ten_minute_job(), sc, TABLE)
    serverless = ("glue", "emr-serverless")
    factor = _factor(rec, serverless)
    print(
        f"10-minute daily job, deadline {deadline}: {rec.best.target} {rec.best.shape}, "
        f"the cheapest EMR on EC2 costs {factor:.2f}x"
    )
    assert rec.best.target.startswith(serverless), rec.reasons
    assert factor > 1.0, f"EMR on EC2 / best serverless = {factor:.2f}"


def test_a_heavy_round_the_clock_workload_is_cheapest_on_emr_ec2_spot() -> None:
    # the same job on 20x the data, every hour, each run within the hour
    sc = Scenario(scale=20, runs_per_day=24, deadline_seconds=3600)
    rec = recommend(ten_minute_job(), sc, TABLE)
    factor = _factor(rec, ("emr-ec2",))
    print(
        f"24/7 heavy workload: {rec.best.target} {rec.best.shape}; the cheapest Glue or "
        f"EMR Serverless costs {factor:.2f}x"
    )
    assert rec.best.target.startswith("emr-ec2"), rec.reasons
    assert rec.best.target.endswith("spot"), rec.reasons
    assert factor > 1.5, f"Glue/EMR Serverless cost {factor:.2f}x EMR on EC2 spot"
    assert rec.runner_up is not None
    assert "Runner-up" in rec.reasons[1]


def test_no_target_meeting_the_deadline_says_so() -> None:
    rec = recommend(ten_minute_job(), Scenario(deadline_seconds=5), TABLE)
    assert not rec.best.meets_deadline
    assert rec.runner_up is None
    assert "No target meets the deadline (5s)" in rec.reasons[0]


def test_the_recommendation_names_a_plan_target() -> None:
    doc = {
        "job": "j",
        "run_id": "r",
        "status": "succeeded",
        "phases": {"write": 2405.0},
        "usage": {
            "executor_run_seconds": 4800.0,
            "executor_cpu_seconds": 4000.0,
            "cores": 2,
            "tasks": 4000,
            "stages": 10,
            "shuffle_read_bytes": 2 * 10**9,
            "input_bytes": 10**10,
        },
    }
    assert recommended_target(doc, Scenario(), TABLE) == "glue"
    heavy = Scenario(scale=20, runs_per_day=24, deadline_seconds=3600)
    assert recommended_target(doc, heavy, TABLE) == "emr"
    best = recommend(Workload.from_record(doc), Scenario(), TABLE).best
    assert plan_target(best) == "glue"
    assert plan_arguments(best)[:2] == ["--worker-type", best.shape.split(" x ")[0]]


def test_runs_at_several_sizes_separate_fixed_from_growing_task_time() -> None:
    # task-seconds = 20 fixed + 3 per GB, at 1, 2 and 4 GB
    runs = [
        workload(
            run_id=f"r{gb}",
            input_bytes=gb * 10**9,
            task_seconds=20.0 + 3 * gb,
            wall_seconds=50.0 + gb,
        )
        for gb in (1, 2, 4)
    ]
    w = calibrate(runs)
    assert (w.run_id, w.fixed_task_seconds) == ("r4", pytest.approx(20.0))
    # doubling the data adds only the growing part: 12 task-seconds more on 2 slots
    assert predict_seconds(w, scale=2, cores=2) == pytest.approx(54.0 + 12 / 2)
    assert calibrate(runs[:1]) == runs[0]  # one run: all task time grows with the data
