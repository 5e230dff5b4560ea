"""The workflow's pure parts: schedules and their dates, settings from pyproject.toml,
levels and independent parts of a graph, target resolution, the Airflow file's source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from featurekit.errors import ConfigError, UnsupportedError
from featurekit.graph import JobGraph, JobNode
from featurekit.workflow.settings import Schedule, Settings, read_settings, settings_from
from featurekit.workflow.spec import build_workflow

# a -> c <- b, c -> d; e alone
GRAPH = JobGraph(
    [
        JobNode("a", ("raw.x",), ("t.a",)),
        JobNode("b", ("raw.y",), ("t.b",)),
        JobNode("c", ("t.a", "t.b"), ("t.c",)),
        JobNode("d", ("t.c",), ("t.d",)),
        JobNode("e", ("raw.z",), ("t.e",)),
    ]
)


@pytest.mark.parametrize(
    ("expression", "days", "cron"),
    [
        ("cron(0 3 * * ? *)", 1, "0 3 * * *"),
        ("cron(15 2 ? * MON *)", 7, "15 2 * * MON"),
        ("cron(0 3 ? * WED *)", 7, "0 3 * * WED"),  # the W of a day's name is no W form
        ("rate(1 day)", 1, None),
        ("rate(3 days)", 3, None),
    ],
)
def test_schedules(expression: str, days: int, cron: object) -> None:
    schedule = Schedule.parse(expression)
    assert (schedule.interval_days, schedule.airflow_cron) == (days, cron)


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("rate(6 hours)", UnsupportedError),  # whole dates: at most daily
        ("cron(0 3 * * 2 *)", UnsupportedError),  # weekday numbers differ from cron's
        ("cron(0 */2 * * ? *)", UnsupportedError),
        ("cron(0 3 1 * ? *)", ConfigError),  # monthly: say interval_days
        ("cron(0 25 * * ? *)", ConfigError),  # no hour 25
        ("cron(60 3 * * ? *)", ConfigError),  # no minute 60
        ("cron(0 3 L * ? *)", UnsupportedError),  # the last day of the month
        ("cron(0 3 15W * ? *)", UnsupportedError),  # the weekday nearest the 15th
        ("cron(0 3 ? * MON#2 *)", UnsupportedError),  # the second Monday
        ("0 3 * * *", ConfigError),
    ],
)
def test_schedules_that_are_refused(expression: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        Schedule.parse(expression)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"glue_workers": "many"}, "glue_workers must be a whole number, got 'many'"),
        ({"interval_days": "3"}, "interval_days must be a whole number, got '3'"),
        ({"retries": 2.5}, "retries must be a whole number, got 2.5"),
        ({"retries": True}, "retries must be a whole number, got True"),
        ({"account": 123456789012}, "account must be text, got 123456789012"),
        ({"interval_days": -2}, "interval_days must be a whole number of days, at least 1"),
        ({"interval_days": 0}, "interval_days must be a whole number of days, at least 1"),
        ({"airflow_start_date": "yesterday"}, "airflow_start_date must be a date YYYY-MM-DD"),
        ({"serverless_role_arn": "notarn"}, "--serverless-role-arn must be an IAM role ARN"),
        ({"artifacts": "s3:///fk"}, "--artifacts must be an S3 prefix like s3://bucket/"),
    ],
)
def test_settings_of_the_wrong_type_or_range_are_refused(
    given: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings(**given)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expression", "interval", "per_day"),
    [
        ("cron(0 3 * * ? *)", None, 1.0),
        ("rate(1 day)", 3, 1.0),  # daily runs, each building three days
        ("rate(3 days)", None, 1 / 3),
        ("cron(0 3 ? * MON-FRI *)", 1, 5 / 7),
        ("cron(0 3 ? * MON *)", None, 1 / 7),
        ("cron(0 3 1,15 JAN-JUN/2 ? *)", 14, 6 / 365.25),  # JAN, MAR, MAY
        ("cron(0 3 29 FEB ? *)", 1, 1 / (4 * 365.25)),
    ],
)
def test_runs_a_day_follow_the_schedule_s_times(
    expression: str, interval: int, per_day: float
) -> None:
    assert Schedule.parse(expression, interval).runs_per_day == pytest.approx(per_day, rel=2e-3)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 3 40 * ? *)", "the day-of-month field '40': '40' is not a day-of-month (1-31)"),
        ("cron(0 3 ? FOO MON *)", "'FOO' is not a month (JAN, FEB"),
        ("cron(0 3 ? * MON-FOO *)", "'FOO' is not a day-of-week (SUN, MON"),
        ("cron(0 3 5-2 * ? *)", "the range 5-2 runs backwards"),
        ("cron(0 3 1/0 * ? *)", "a step is a whole number from 1"),
        ("cron(0 3 31 FEB ? *)", "selects no day: it would never run"),
    ],
)
def test_cron_fields_that_select_no_day_are_refused(expression: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Schedule.parse(expression, 1)


def test_a_monthly_cron_with_its_interval() -> None:
    assert Schedule.parse("cron(0 3 1 * ? *)", interval_days=30).airflow_cron == "0 3 1 * *"
    # the L of a month's name is no L form
    july = Schedule.parse("cron(0 3 ? JUL WED *)", interval_days=7)
    assert july.airflow_cron == "0 3 * JUL WED"


def test_a_rate_is_no_glue_trigger_schedule() -> None:
    with pytest.raises(UnsupportedError, match="cron"):
        _ = Schedule.parse("rate(1 day)").glue_cron


def test_levels_and_independent_parts() -> None:
    flow = build_workflow(GRAPH, GRAPH.order(), Settings(default_target="emr"))
    assert flow.levels() == [["a", "b", "e"], ["c"], ["d"]]
    assert sorted(map(sorted, flow.components())) == [["a", "b", "c", "d"], ["e"]]
    assert flow.by_name["c"].upstream == ("a", "b")


def test_a_selection_keeps_only_edges_inside_it() -> None:
    flow = build_workflow(GRAPH, GRAPH.select(["c+"]), Settings())
    assert [(j.name, j.upstream) for j in flow.jobs] == [("c", ()), ("d", ("c",))]


def test_auto_targets_ask_the_cost_model_and_typos_are_refused() -> None:
    settings = Settings(default_target="auto", targets={"a": "glue-flex"})
    asked: list[str] = []

    def auto(job: str) -> str:
        asked.append(job)
        return "emr-serverless"

    flow = build_workflow(GRAPH, ["a", "b"], settings, auto)
    assert [j.target for j in flow.jobs] == ["glue-flex", "emr-serverless"]
    assert asked == ["b"]
    with pytest.raises(ConfigError, match="zz"):
        build_workflow(GRAPH, ["a"], Settings(targets={"zz": "glue"}))
    with pytest.raises(ConfigError, match="glu"):
        Settings(targets={"a": "glu"})


def test_settings_from_pyproject_overridden_by_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.featurekit.workflow]\nname = "nightly"\nretries = 1\n'
        '[tool.featurekit.workflow.targets]\na = "emr"\nb = "glue"\n'
    )
    config = read_settings(tmp_path)
    settings = settings_from(config, {"name": None, "retries": 4, "targets": {"b": "emr"}})
    assert (settings.name, settings.retries) == ("nightly", 4)
    assert dict(settings.targets) == {"a": "emr", "b": "emr"}
    (tmp_path / "pyproject.toml").write_text("[tool.featurekit.workflow]\nretry = 1\n")
    with pytest.raises(ConfigError, match="retry"):
        read_settings(tmp_path)


def test_the_state_machine_s_arns_are_in_the_region_s_partition() -> None:
    from featurekit.workflow.requests import JobRequests
    from featurekit.workflow.stepfunctions import (
        create_state_machine_request,
        definition,
        schedule_request,
        state_machine_arn,
        state_machine_policy,
    )

    graph = JobGraph([JobNode("a", ("raw.x",), ("t.a",)), JobNode("b", ("t.a",), ("t.b",))])
    role = "arn:aws-cn:iam::123456789012:role/acme-emr-serverless"
    settings = Settings(
        region="cn-north-1",
        default_target="emr",
        targets={"b": "emr-serverless"},
        emr_cluster_id="j-1",
        serverless_application_id="00f1",
        serverless_role_arn=role,
    )
    flow = build_workflow(graph, graph.order(), settings)
    requests = {
        "a": JobRequests("a", "emr", "emr", "AddJobFlowSteps", {"JobFlowId": "j-1", "Steps": [{}]}),
        "b": JobRequests(
            "b",
            "emr-serverless",
            "emr-serverless",
            "StartJobRun",
            {
                "applicationId": "00f1",
                "executionRoleArn": role,
                "name": "b",
                "clientToken": "t",
                "jobDriver": {
                    "sparkSubmit": {
                        "entryPoint": "s3://b/fk/run.py",
                        "entryPointArguments": ["b"],
                        "sparkSubmitParameters": "",
                    }
                },
                "configurationOverrides": {
                    "applicationConfiguration": [],
                    "monitoringConfiguration": {
                        "s3MonitoringConfiguration": {"logUri": "s3://b/fk/logs/"}
                    },
                },
            },
        ),
    }
    machine = state_machine_arn(flow)
    documents = [
        definition(flow, requests),
        create_state_machine_request(flow, {}),
        schedule_request(flow, machine),
        state_machine_policy(flow, requests),
    ]
    arns = re.findall(r"arn:[a-z-]*:", "\n".join(map(str, documents)))
    assert len(arns) >= 8
    assert set(arns) == {"arn:aws-cn:"}
    assert machine.startswith("arn:aws-cn:states:cn-north-1:123456789012:stateMachine:")
    # a role of another partition than the region's is refused, naming both
    with pytest.raises(ConfigError, match="partition aws, but the workflow's region cn-north"):
        Settings(region="cn-north-1", glue_role_arn="arn:aws:iam::123456789012:role/g")
