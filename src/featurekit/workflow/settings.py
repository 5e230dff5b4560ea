"""A workflow's settings: the project's ``[tool.featurekit.workflow]`` table, the schedule
and the dates each scheduled run processes.

::

    [tool.featurekit.workflow]
    name = "acme-daily"
    schedule = "cron(0 3 * * ? *)"      # EventBridge syntax; or "rate(1 day)"
    artifacts = "s3://acme-artifacts/fk"
    default_target = "glue"              # glue | glue-flex | emr | emr-serverless | auto
    glue_role_arn = "arn:aws:iam::123456789012:role/acme-glue"
    emr_cluster_id = "j-ABC"
    serverless_application_id = "00f1"
    serverless_role_arn = "arn:aws:iam::123456789012:role/acme-emr-serverless"

    [tool.featurekit.workflow.targets]
    user_events_daily = "glue-flex"
    basket_training = "emr-serverless"

A scheduled run processes the dates of the interval that just ended: the schedule's time
minus ``interval_days`` up to the day before it (a daily 03:00 run on 2026-12-06 builds
2026-12-05), on every orchestrator. The schedule says when runs start, ``interval_days``
how many days each builds (by default the schedule's period). Pure code: no AWS, no Spark.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Optional

from featurekit.deploy.common import (
    check_account,
    check_region,
    check_role_arn,
    check_s3_prefix,
    partition_of,
)
from featurekit.errors import ConfigError, UnsupportedError

TARGETS = ("glue", "glue-flex", "emr", "emr-serverless")
ORCHESTRATORS = ("stepfunctions", "airflow", "glue")
PLACEHOLDER_ACCOUNT = "123456789012"
_RATE = re.compile(r"^rate\((\d+) (minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_NAME = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")


@dataclass(frozen=True)
class Schedule:
    """An EventBridge schedule expression and what each orchestrator makes of it.

    Example::

        Schedule.parse("cron(0 3 * * ? *)").airflow_cron   # '0 3 * * *'
        Schedule.parse("rate(1 day)").interval_days        # 1
        Schedule.parse("rate(1 day)", 3).rate_days          # 1: daily runs, 3 days each
    """

    expression: str
    interval_days: int  # the days each run builds, ending the day before the run
    airflow_cron: Optional[str]  # None for a rate: Airflow takes a timedelta
    rate_days: Optional[int] = None  # a rate's days between runs (None for a cron)

    @classmethod
    def parse(cls, expression: str, interval_days: Optional[int] = None) -> Schedule:
        rate = _RATE.match(expression.strip())
        if rate:
            count, unit = int(rate.group(1)), rate.group(2)
            if not unit.startswith("day") or count < 1:
                raise UnsupportedError(
                    f"Schedule {expression!r}: featurekit jobs build whole dates, so a "
                    "workflow runs every N days at most often: use rate(N days) or a cron."
                )
            return cls(expression.strip(), interval_days or count, None, count)
        cron = _CRON.match(expression.strip())
        if not cron:
            raise ConfigError(
                f"Schedule {expression!r}: use EventBridge's cron(MIN HOUR DOM MONTH DOW YEAR) "
                "or rate(N days), e.g. cron(0 3 * * ? *)."
            )
        return cls(expression.strip(), *_cron_parts(expression, cron.group(1), interval_days))

    @property
    def runs_per_day(self) -> float:
        """Scheduled runs a day on average: 1/N for rate(N days); for a cron (one time a
        day at most), its days among those of four years (a leap year's included)."""
        if self.rate_days is not None:
            return 1.0 / self.rate_days
        assert self.airflow_cron is not None
        return len(_run_days(self.airflow_cron)) / _SPAN

    @property
    def glue_cron(self) -> str:
        """The expression a Glue SCHEDULED trigger takes (cron only)."""
        if self.airflow_cron is None:
            raise UnsupportedError(
                f"A Glue trigger takes a cron schedule, not {self.expression!r}; "
                "write it as cron(MIN HOUR * * ? *)."
            )
        return self.expression


_START, _SPAN = dt.date(2027, 1, 1), 4 * 365 + 1  # 2027-2030: 2028 is a leap year
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_WEEKDAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


def _expand(field_: str, low: int, high: int, names: Mapping[str, int], what: str) -> set[int]:
    """The values a cron field (``*``, ``a``, ``a-b``, each with ``/step``, comma lists;
    numbers or names) selects among ``low``..``high``; a ConfigError naming ``what``."""

    def value(text: str) -> int:
        number = names.get(text, int(text) if text.isdigit() else -1)
        if not low <= number <= high:
            known = ", ".join(names) if names else f"{low}-{high}"
            raise ConfigError(f"the {what} field {field_!r}: {text!r} is not a {what} ({known})")
        return number

    values: set[int] = set()
    for item in field_.upper().split(","):
        span, _, step = item.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            raise ConfigError(f"the {what} field {field_!r}: a step is a whole number from 1")
        start, _, end = span.partition("-")
        if span == "*":
            first, last = low, high
        else:
            first = value(start)
            last = value(end) if end else high if step else first
        if last < first:
            raise ConfigError(f"the {what} field {field_!r}: the range {span} runs backwards")
        values.update(range(first, last + 1, int(step) if step else 1))
    return values


def _run_days(cron: str) -> list[dt.date]:
    """The days of four years a five-field cron (one time a day) runs on."""
    _minute, _hour, dom, month, dow = cron.split()
    doms = _expand(dom, 1, 31, {}, "day-of-month")
    months = _expand(month, 1, 12, _MONTHS, "month")
    dows = _expand(dow, 0, 6, _WEEKDAYS, "day-of-week")
    days = (_START + dt.timedelta(days=i) for i in range(_SPAN))
    return [d for d in days if d.day in doms and d.month in months and d.isoweekday() % 7 in dows]


def _cron_parts(expression: str, body: str, interval_days: Optional[int]) -> tuple[int, str]:
    """(interval in days, the five-field cron Airflow takes) of EventBridge's six fields."""
    parts = body.split()
    if len(parts) != 6:
        raise ConfigError(
            f"Schedule {expression!r}: EventBridge's cron has six fields "
            "(MIN HOUR DOM MONTH DOW YEAR), e.g. cron(0 3 * * ? *)."
        )
    minute, hour, dom, month, dow, year = parts
    # L and W are forms of the day of the month, # and a trailing L of the weekday; the
    # letters of day and month names (WED, JUL) are not
    special = re.search(r"[LW]", dom) or "#" in dow or re.fullmatch(r"\d*L", dow)
    if year not in ("*", "?") or special:
        raise UnsupportedError(
            f"Schedule {expression!r}: years and the L, W and # forms are not translated "
            "to Airflow; use a plain cron."
        )
    if re.search(r"\d", dow):
        raise UnsupportedError(
            f"Schedule {expression!r}: EventBridge numbers weekdays 1-7 from Sunday, cron "
            "0-6; name the days (MON-FRI) so both read them alike."
        )
    if not (minute.isdigit() and hour.isdigit()):
        raise UnsupportedError(
            f"Schedule {expression!r}: a workflow runs at most once a day (whole dates): "
            "give one minute and one hour."
        )
    if int(minute) > 59 or int(hour) > 23:
        raise ConfigError(f"Schedule {expression!r}: the minute is 0-59 and the hour 0-23 (UTC).")
    daily = dom in ("*", "?") and dow in ("*", "?") and month in ("*", "?")
    weekly = dom in ("*", "?") and month in ("*", "?") and re.fullmatch(r"[A-Za-z]{3}", dow)
    derived = 1 if daily else 7 if weekly else None
    days = interval_days or derived
    if days is None:
        raise ConfigError(
            f"Schedule {expression!r}: say how many days each run covers with "
            "interval_days in [tool.featurekit.workflow] (or --interval-days)."
        )
    cron = " ".join(p.replace("?", "*") for p in (minute, hour, dom, month, dow))
    try:
        found = _run_days(cron)
    except ConfigError as exc:
        raise ConfigError(f"Schedule {expression!r}: {exc}.") from None
    if not found:
        raise ConfigError(f"Schedule {expression!r} selects no day: it would never run.")
    return days, cron


@dataclass(frozen=True)
class Settings:
    """Everything a workflow's plan needs besides the jobs; validated at construction."""

    artifacts: Optional[str] = None  # s3://BUCKET/PREFIX; plans need it, costs do not
    name: str = "featurekit"
    schedule: str = "cron(0 3 * * ? *)"
    interval_days: Optional[int] = None
    default_target: str = "glue"
    targets: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    retries: int = 2
    retry_delay_seconds: int = 300
    region: str = "us-east-1"
    account: Optional[str] = None
    warehouse: Optional[str] = None
    catalog: str = "glue"
    glue_role_arn: Optional[str] = None
    glue_version: str = "5.1"
    glue_worker_type: str = "G.1X"
    glue_workers: int = 2
    emr_cluster_id: Optional[str] = None
    emr_release_label: str = "emr-7.12.0"
    serverless_application_id: Optional[str] = None
    serverless_role_arn: Optional[str] = None
    serverless_release_label: str = "emr-7.12.0"
    state_machine_role_arn: Optional[str] = None
    scheduler_role_arn: Optional[str] = None
    airflow_conn_id: str = "aws_default"
    airflow_start_date: str = "2026-01-01"

    def __post_init__(self) -> None:
        _check_types(self)
        _check_values(self)
        if not _NAME.match(self.name):
            raise ConfigError(
                f"Workflow name {self.name!r}: 1-64 letters, digits, '.', '-' or '_'."
            )
        for job, target in {"default_target": self.default_target, **self.targets}.items():
            if target not in (*TARGETS, "auto"):
                raise ConfigError(
                    f"Target {target!r} of {job}: use one of {', '.join(TARGETS)} or auto."
                )
        if self.retries < 0 or self.retry_delay_seconds < 1:
            raise ConfigError("retries must be >= 0 and retry_delay_seconds >= 1.")
        if self.catalog not in ("glue", "local"):
            raise ConfigError(f"catalog must be glue or local, got {self.catalog!r}.")
        self.parsed_schedule()  # a bad schedule fails here, naming itself

    def parsed_schedule(self) -> Schedule:
        return Schedule.parse(self.schedule, self.interval_days)

    def target_of(self, job: str) -> str:
        """The job's target as configured: its own entry, else the default (maybe auto)."""
        return self.targets.get(job, self.default_target)

    @property
    def partition(self) -> str:
        """The AWS partition of ``region``, the first part of every ARN the plan builds."""
        return partition_of(self.region)

    @property
    def account_id(self) -> str:
        """The AWS account: as configured, else that of a role ARN, else a placeholder."""
        if self.account:
            return self.account
        for arn in (self.state_machine_role_arn, self.glue_role_arn, self.serverless_role_arn):
            parts = (arn or "").split(":")
            if len(parts) > 4 and parts[4].isdigit():
                return parts[4]
        return PLACEHOLDER_ACCOUNT


SETTING_NAMES = tuple(f.name for f in fields(Settings))
ROLE_SETTINGS = tuple(n for n in SETTING_NAMES if n.endswith("_role_arn"))
# each setting's kind, read from its declared type (a string: annotations are postponed)
_WHOLE = tuple(f.name for f in fields(Settings) if f.type in ("int", "Optional[int]"))
_TEXT = tuple(f.name for f in fields(Settings) if f.type in ("str", "Optional[str]"))
# a setting of another type needs its own check in _check_types
assert set(SETTING_NAMES) - {*_WHOLE, *_TEXT} == {"targets"}


def _check_values(settings: Settings) -> None:
    """ConfigErrors for values of the right type that AWS or Airflow would refuse."""
    if settings.interval_days is not None and settings.interval_days < 1:
        raise ConfigError(
            f"interval_days must be a whole number of days, at least 1; got "
            f"{settings.interval_days}."
        )
    check_region(settings.region)  # the region and account of the ARNs the plan builds
    for role in ROLE_SETTINGS:
        arn = getattr(settings, role)
        if arn is None:
            continue
        option = f"--{role.replace('_', '-')}"  # named as the command line names it
        check_role_arn(arn, option)
        if arn.split(":")[1] != settings.partition:
            raise ConfigError(
                f"{option} {arn!r} is in partition {arn.split(':')[1]}, but the workflow's "
                f"region {settings.region} is in {settings.partition}: a role is used in its "
                "own partition only. Use the role of that partition, or set region."
            )
    if settings.account is not None:
        check_account(settings.account)
    if settings.artifacts is not None:
        check_s3_prefix(settings.artifacts)
    if settings.glue_workers < 1:
        raise ConfigError(f"glue_workers must be at least 1, got {settings.glue_workers}.")
    try:
        dt.date.fromisoformat(settings.airflow_start_date)
    except ValueError as exc:
        raise ConfigError(
            f"airflow_start_date must be a date YYYY-MM-DD, got {settings.airflow_start_date!r}."
        ) from exc


def _check_types(settings: Settings) -> None:
    """A ConfigError naming a setting of the wrong type (pyproject.toml takes any)."""
    for name in _WHOLE:
        value = getattr(settings, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(
                f"[tool.featurekit.workflow] {name} must be a whole number, got {value!r}."
            )
    for name in _TEXT:
        value = getattr(settings, name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"[tool.featurekit.workflow] {name} must be text, got {value!r}.")


def read_settings(root: Path) -> dict[str, Any]:
    """``[tool.featurekit.workflow]`` of ``root``'s pyproject.toml (empty when absent)."""
    from featurekit.deploy.project import load_toml

    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    table = load_toml(path).get("tool", {}).get("featurekit", {}).get("workflow", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.featurekit.workflow] must be a table.")
    unknown = sorted(set(table) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(
            f"{path}: [tool.featurekit.workflow] has unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(SETTING_NAMES)}."
        )
    return dict(table)


def settings_from(config: Mapping[str, Any], overrides: Mapping[str, Any]) -> Settings:
    """Settings of the project's table, overridden by the command line's given values
    (``None`` means not given); ``targets`` are merged job by job."""
    given = {k: v for k, v in overrides.items() if v is not None and k != "targets"}
    targets = {**dict(config.get("targets", {})), **dict(overrides.get("targets") or {})}
    merged = {**config, **given, "targets": MappingProxyType(targets)}
    try:
        return Settings(**merged)
    except TypeError as exc:  # a value of the wrong type in pyproject.toml
        raise ConfigError(f"[tool.featurekit.workflow]: {exc}") from exc


def with_targets(settings: Settings, targets: Mapping[str, str]) -> Settings:
    """``settings`` with every job's target resolved (no ``auto`` left)."""
    return replace(settings, targets=MappingProxyType(dict(targets)))
