"""The price math against hand-computed bills: minimums, per-second billing, DPUs, spot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from featurekit.cost.prices import PRICES_FILE, load_prices
from featurekit.cost.targets import (
    Scenario,
    billed_seconds,
    ec2_node_hour,
    emr_ec2_cost,
    glue_cost,
    preinit_day_cost,
    serverless_cost,
)
from featurekit.errors import ConfigError

TABLE = load_prices("us-east-1")


def test_the_table_is_dated_versioned_and_sourced() -> None:
    assert TABLE.version >= 1
    assert TABLE.as_of.startswith("20")
    assert all(
        url.startswith("https://aws.amazon.com/") or "docs.aws" in url
        for url in TABLE.sources.values()
    )
    glue = TABLE.section("glue")
    assert (glue["standard_dpu_hour"], glue["flex_dpu_hour"]) == (0.44, 0.29)
    serverless = TABLE.section("emr_serverless")
    assert (serverless["vcpu_hour"], serverless["gb_hour"]) == (0.052624, 0.0057785)
    m5 = TABLE.section("emr_ec2")["instances"]["m5.xlarge"]
    assert (m5["ec2_hour"], m5["emr_hour"]) == (0.192, 0.048)


@pytest.mark.parametrize(
    ("seconds", "billed"), [(0.2, 60), (59.99, 60), (60.0, 60), (60.01, 61), (125.3, 126)]
)
def test_per_second_billing_with_a_one_minute_minimum(seconds: float, billed: float) -> None:
    assert billed_seconds(seconds, 60) == billed


def test_glue_bills_workers_times_dpus() -> None:
    # G.1X x 2 for 30 s: the 1-minute minimum on 2 DPUs
    assert glue_cost(2, 30, 0.44) == pytest.approx(2 * 0.44 * 60 / 3600)
    # G.2X x 5 = 10 DPUs for 125.3 s: rounded up to 126 s
    assert glue_cost(10, 125.3, 0.44) == pytest.approx(0.154)
    # Flex: the same DPU-hours at $0.29
    assert glue_cost(10, 3600, 0.29) == pytest.approx(2.90)


def test_emr_ec2_adds_the_uplift_and_spot_discounts_ec2_only() -> None:
    m5 = TABLE.section("emr_ec2")["instances"]["m5.xlarge"]
    assert ec2_node_hour(m5) == pytest.approx(0.24)
    assert ec2_node_hour(m5, spot_discount=0.6) == pytest.approx(0.192 * 0.4 + 0.048)
    # 1 primary + 2 core on-demand for 30 s: the minimum minute of $0.72/hour
    assert emr_ec2_cost(3 * 0.24, 30) == pytest.approx(0.012)
    # 8 minutes start-up + 20 minutes of work + 1 minute shutdown, to the second
    assert emr_ec2_cost(0.72, 29 * 60 + 0.5) == pytest.approx(0.72 * 1741 / 3600)


def test_emr_serverless_bills_vcpu_and_gb_hours_per_worker() -> None:
    prices = TABLE.section("emr_serverless")
    per_worker_hour = 4 * 0.052624 + 16 * 0.0057785  # $0.302952
    assert serverless_cost(3, 59, prices) == pytest.approx(3 * per_worker_hour / 60)
    assert serverless_cost(3, 3600, prices) == pytest.approx(3 * per_worker_hour)


def test_preinitialised_capacity_is_billed_while_the_application_is_up() -> None:
    prices = TABLE.section("emr_serverless")
    per_worker_hour = 4 * 0.052624 + 16 * 0.0057785
    # one 100 s run a day: up 5 s start + 100 s + the 900 s idle timeout = 1005 s
    cost, share = preinit_day_cost(2, 100.0, Scenario(runs_per_day=1), prices)
    assert cost == pytest.approx(2 * per_worker_hour * 1005 / 3600)
    # 96 runs a day keep it up all day: 24 hours, not 96 x 1005 s
    cost, share = preinit_day_cost(2, 100.0, Scenario(runs_per_day=96), prices)
    assert (cost, share) == (pytest.approx(2 * per_worker_hour * 24), 1.0)


def test_regions_are_overrides_and_unknown_regions_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no prices for 'eu-west-1'.*--prices FILE"):
        load_prices("eu-west-1")
    doc = json.loads(PRICES_FILE.read_text())
    doc["regions"]["eu-west-1"] = {"glue": {"standard_dpu_hour_typo": 0.5}}
    custom = tmp_path / "prices.json"
    custom.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="'standard_dpu_hour_typo': not a key"):
        load_prices("eu-west-1", path=custom)
    doc["regions"]["eu-west-1"] = {
        "glue": {"standard_dpu_hour": 0.5},
        "emr_ec2": {"instances": {"m5.xlarge": {"ec2_hour": 0.214}}},
    }
    custom.write_text(json.dumps(doc))
    table = load_prices("eu-west-1", path=custom)
    assert table.section("glue")["standard_dpu_hour"] == 0.5
    assert table.section("glue")["flex_dpu_hour"] == 0.29  # not overridden: the base price
    m5 = table.section("emr_ec2")["instances"]["m5.xlarge"]
    assert (m5["ec2_hour"], m5["emr_hour"]) == (0.214, 0.048)
