"""Price one measured workload on every target: Glue (standard, Flex), EMR on EC2
(transient or long-running, on-demand or spot core nodes) and EMR Serverless (cold or
pre-initialised). Pure functions of a :class:`Workload`, a :class:`Scenario` and a
:class:`PriceTable`; durations come from :func:`featurekit.cost.model.predict_seconds`.

Billing rules (see prices.json for the figures and their sources):

Each section's ``startup_billed`` says whether the platform's start-up time is billed.

* Glue: workers x DPUs per worker x billed hours; per second, 1-minute minimum.
  One worker runs the driver, so executors get ``(workers - 1) x vCPUs``.
* EMR on EC2: each instance's EC2 price plus the EMR uplift, per second, 1-minute
  minimum, from launch (cluster start-up) to termination. One on-demand primary
  node; core nodes run the executors; spot lowers the EC2 part of core nodes only.
  A long-running cluster costs 24 hours a day, shared by the day's runs; a step on it
  has no start-up. :func:`emr_step_options` prices one step on such a running cluster
  (a workflow's ``emr`` target): its nodes for the step's seconds only.
* EMR Serverless: every worker's vCPU-hours and GB-hours, per second, 1-minute
  minimum per worker; one worker is the driver. Pre-initialised capacity starts
  in seconds but is billed while the application is up: each run plus the idle
  timeout, at most 24 hours a day.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Optional

from featurekit.cost.model import Workload, predict_seconds
from featurekit.cost.prices import PriceTable

DAY = 86400.0
WORKER_COUNTS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
TARGETS = (
    "glue",
    "glue-flex",
    "emr-ec2",
    "emr-ec2-spot",
    "emr-ec2-long-running",
    "emr-ec2-long-running-spot",
    "emr-serverless",
    "emr-serverless-preinit",
)
# a step on a running cluster (a workflow's emr target), priced by emr_step_options only
STEP_TARGET = "emr-ec2-step"


@dataclass(frozen=True)
class Scenario:
    """What the estimate is for: data relative to the measured run, runs a day, a deadline."""

    scale: float = 1.0
    runs_per_day: float = 1.0
    deadline_seconds: Optional[float] = None


@dataclass(frozen=True)
class Option:
    """One target at one size, priced."""

    target: str
    shape: str
    workers: int
    run_seconds: float  # the job itself
    duration_seconds: float  # with the platform's start-up: what the deadline sees
    cost_per_run: float
    cost_per_day: float
    meets_deadline: bool
    utilisation: Optional[float] = None  # long-running capacity: busy share of the day
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def billed_seconds(seconds: float, minimum: float) -> float:
    """Per-second billing with a minimum: whole seconds, rounded up, at least ``minimum``."""
    return float(max(minimum, math.ceil(seconds - 1e-9)))


def glue_cost(dpus: float, seconds: float, dpu_hour: float, *, minimum: float = 60) -> float:
    """One Glue run on ``dpus`` DPUs (workers x DPUs per worker) lasting ``seconds``."""
    return dpus * dpu_hour * billed_seconds(seconds, minimum) / 3600


def ec2_node_hour(instance: Mapping[str, Any], *, spot_discount: float = 0.0) -> float:
    """An EMR node's hourly price: EC2 (less the spot discount) plus the EMR uplift."""
    return float(instance["ec2_hour"]) * (1 - spot_discount) + float(instance["emr_hour"])


def emr_ec2_cost(cluster_hour: float, seconds: float, *, minimum: float = 60) -> float:
    """One transient cluster, ``cluster_hour`` for all its nodes, up for ``seconds``."""
    return cluster_hour * billed_seconds(seconds, minimum) / 3600


def serverless_cost(
    workers: int, seconds: float, prices: Mapping[str, Any], *, minimum: float = 60
) -> float:
    """EMR Serverless: ``workers`` of the table's worker size, each billed ``seconds``."""
    worker = prices["worker"]
    hourly = worker["vcpus"] * prices["vcpu_hour"] + worker["memory_gb"] * prices["gb_hour"]
    return float(workers * hourly * billed_seconds(seconds, minimum) / 3600)


def _deadline_ok(scenario: Scenario, seconds: float) -> bool:
    return scenario.deadline_seconds is None or seconds <= scenario.deadline_seconds


def _transient(
    target: str, shape: str, workers: int, run: float, startup: float, cost: float, sc: Scenario
) -> Option:
    duration = run + startup
    return Option(
        target=target,
        shape=shape,
        workers=workers,
        run_seconds=round(run, 1),
        duration_seconds=round(duration, 1),
        cost_per_run=cost,
        cost_per_day=cost * sc.runs_per_day,
        meets_deadline=_deadline_ok(sc, duration),
    )


def _glue_price(glue: Mapping[str, Any], kind: Mapping[str, Any], flex: bool) -> float:
    if flex:
        return float(glue["flex_dpu_hour"])
    key = "memory_dpu_hour" if kind.get("memory_optimised") else "standard_dpu_hour"
    return float(glue[key])


def glue_options(w: Workload, sc: Scenario, table: PriceTable, *, flex: bool) -> list[Option]:
    glue = table.section("glue")
    startup = float(glue["flex_startup_seconds" if flex else "startup_seconds"])
    unbilled = 0.0 if glue["startup_billed"] else startup
    target = "glue-flex" if flex else "glue"
    options = []
    for name, kind in glue["worker_types"].items():
        if flex and not kind["flex"]:
            continue
        price = _glue_price(glue, kind, flex)
        for n in (c for c in WORKER_COUNTS if c >= glue["min_workers"]):
            run = predict_seconds(w, scale=sc.scale, cores=(n - 1) * kind["vcpus"], nodes=n - 1)
            dpus = n * kind["dpus"]
            cost = glue_cost(dpus, run + startup - unbilled, price, minimum=glue["minimum_seconds"])
            options.append(_transient(target, f"{name} x {n}", n, run, startup, cost, sc))
    return options


def _long_running(
    target: str, shape: str, nodes: int, run: float, day_cost: float, sc: Scenario
) -> Option:
    utilisation = run * sc.runs_per_day / DAY
    fits = utilisation <= 1.0
    return Option(
        target=target,
        shape=shape,
        workers=nodes,
        run_seconds=round(run, 1),
        duration_seconds=round(run, 1),
        cost_per_run=day_cost / sc.runs_per_day,
        cost_per_day=day_cost,
        meets_deadline=fits and _deadline_ok(sc, run),
        utilisation=round(utilisation, 4),
        note="" if fits else "runs overlap: the day's runs need more than 24 h",
    )


def _emr_clusters(
    w: Workload, sc: Scenario, table: PriceTable, *, spot: bool
) -> Iterator[tuple[str, int, float, float]]:
    """(shape, core nodes, run seconds, the cluster's price per hour) of every EMR size."""
    emr = table.section("emr_ec2")
    instances = emr["instances"]
    primary = ec2_node_hour(instances[emr["primary_instance"]])
    discount = float(emr["spot_discount"]) if spot else 0.0
    for name, kind in instances.items():
        hour = ec2_node_hour(kind, spot_discount=discount)
        for k in WORKER_COUNTS:
            run = predict_seconds(w, scale=sc.scale, cores=k * kind["vcpus"], nodes=k)
            yield f"{name} x 1+{k}", k, run, primary + k * hour


def emr_ec2_options(
    w: Workload, sc: Scenario, table: PriceTable, *, spot: bool, long_running: bool
) -> list[Option]:
    emr = table.section("emr_ec2")
    target = "emr-ec2" + ("-long-running" if long_running else "") + ("-spot" if spot else "")
    up = float(emr["startup_seconds"])
    options = []
    for shape, k, run, cluster_hour in _emr_clusters(w, sc, table, spot=spot):
        if long_running:
            options.append(_long_running(target, shape, k + 1, run, 24 * cluster_hour, sc))
            continue
        up_seconds = up + run + float(emr["shutdown_seconds"])
        cost = emr_ec2_cost(cluster_hour, up_seconds, minimum=emr["minimum_seconds"])
        options.append(_transient(target, shape, k + 1, run, up, cost, sc))
    return options


def emr_step_options(w: Workload, sc: Scenario, table: PriceTable) -> list[Option]:
    """One step on an EMR cluster that is already running (on-demand nodes): no start-up
    nor shutdown, as on the long-running cluster, and billed only for the step's seconds
    (no minimum: the cluster is up anyway; its idle time is not counted)."""
    return [
        _transient(STEP_TARGET, shape, k + 1, run, 0.0, emr_ec2_cost(hour, run, minimum=0), sc)
        for shape, k, run, hour in _emr_clusters(w, sc, table, spot=False)
    ]


def preinit_day_cost(
    workers: int, run: float, sc: Scenario, prices: Mapping[str, Any]
) -> tuple[float, float]:
    """(cost per day, share of the day up) of pre-initialised capacity of ``workers``: up
    for each run (start-up included) plus the idle timeout, at most 24 hours a day."""
    startup = float(prices["preinitialized_startup_seconds"])
    up = min(sc.runs_per_day * (run + startup + prices["idle_timeout_seconds"]), DAY)
    return serverless_cost(workers, up, prices, minimum=prices["minimum_seconds"]), up / DAY


def emr_serverless_options(
    w: Workload, sc: Scenario, table: PriceTable, *, preinit: bool
) -> list[Option]:
    prices = table.section("emr_serverless")
    vcpus = int(prices["worker"]["vcpus"])
    shape_of = f"{vcpus} vCPU/{prices['worker']['memory_gb']} GB"
    startup = float(prices["preinitialized_startup_seconds" if preinit else "startup_seconds"])
    target = "emr-serverless-preinit" if preinit else "emr-serverless"
    options = []
    for n in WORKER_COUNTS:
        run = predict_seconds(w, scale=sc.scale, cores=(n - 1) * vcpus, nodes=n - 1)
        billed = run + (startup if prices["startup_billed"] else 0.0)
        cost = serverless_cost(n, billed, prices, minimum=prices["minimum_seconds"])
        option = _transient(target, f"{shape_of} x {n}", n, run, startup, cost, sc)
        if preinit:
            day_cost, share = preinit_day_cost(n, run, sc, prices)
            fits = sc.runs_per_day * (run + startup) <= DAY
            option = replace(
                option,
                cost_per_run=day_cost / sc.runs_per_day,
                cost_per_day=day_cost,
                utilisation=round(share, 4),
                meets_deadline=option.meets_deadline and fits,
            )
        options.append(option)
    return options


def all_options(w: Workload, sc: Scenario, table: PriceTable) -> list[Option]:
    """Every target at every size of the table."""
    found = glue_options(w, sc, table, flex=False) + glue_options(w, sc, table, flex=True)
    for long_running in (False, True):
        for spot in (False, True):
            found += emr_ec2_options(w, sc, table, spot=spot, long_running=long_running)
    for preinit in (False, True):
        found += emr_serverless_options(w, sc, table, preinit=preinit)
    return found


def node_type(option: Option) -> str:
    """The worker or instance type of ``option`` (``G.1X``, ``m5.xlarge``, ``4 vCPU/16 GB``)."""
    return option.shape.split(" x ")[0]


def best_per_target(options: list[Option], *, by_type: bool = False) -> list[Option]:
    """Each target's (with ``by_type``: each target and worker or instance type's) cheapest
    size that meets the deadline, else its fastest; cheapest first."""
    best: dict[tuple[str, str], Option] = {}
    for option in options:
        key = (option.target, node_type(option) if by_type else "")
        current = best.get(key)
        if current is None or _better(option, current):
            best[key] = option
    return sorted(best.values(), key=lambda o: (not o.meets_deadline, o.cost_per_day))


def _better(a: Option, b: Option) -> bool:
    if a.meets_deadline != b.meets_deadline:
        return a.meets_deadline
    if a.meets_deadline:
        return (a.cost_per_day, a.duration_seconds) < (b.cost_per_day, b.duration_seconds)
    return a.duration_seconds < b.duration_seconds
