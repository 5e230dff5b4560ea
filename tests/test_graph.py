"""The job graph: dependencies from declared tables, selections, order, cycles, rendering."""

from __future__ import annotations

import pytest

from featurekit.errors import ConfigError, JobCycleError, UnknownJobError
from featurekit.graph import JobGraph, JobNode, Selector, lineage_text, mermaid, node_of
from featurekit.registry import discover


def chain() -> JobGraph:
    """raw.a -> a -> t.a -> b -> t.b -> d ; raw.c -> c -> t.c -> d ; e alone."""
    return JobGraph(
        [
            JobNode("d", ("t.b", "t.c"), ("t.d",)),
            JobNode("b", ("t.a",), ("t.b",)),
            JobNode("a", ("raw.a",), ("t.a",)),
            JobNode("c", ("raw.c",), ("t.c",)),
            JobNode("e", ("raw.a",), ("t.e",)),
        ]
    )


def test_selectors_parse_upstream_and_downstream_marks() -> None:
    assert Selector.parse("+x+") == Selector("x", upstream=True, downstream=True)
    assert Selector.parse("x+") == Selector("x", downstream=True)
    assert Selector.parse("x").plain
    for bad in ("+", "a+b", "++"):
        with pytest.raises(ConfigError, match="Job selector"):
            Selector.parse(bad)


def test_selections_run_in_dependency_order_with_ties_by_name() -> None:
    graph = chain()
    assert graph.select(["+d"]) == ["a", "b", "c", "d"]
    assert graph.select(["a+"]) == ["a", "b", "d"]
    assert graph.select(["+b+"]) == ["a", "b", "d"]
    assert graph.select(["e", "c"]) == ["c", "e"]
    assert graph.select(["d", "a"]) == ["a", "d"]
    assert graph.order() == ["a", "b", "c", "d", "e"]
    assert graph.sources() == ["raw.a", "raw.c"]


def test_unknown_selection_suggests_a_name() -> None:
    with pytest.raises(UnknownJobError, match="Did you mean 'a'"):
        chain().select(["+aa"])


def test_a_cycle_is_an_error_naming_it() -> None:
    graph = JobGraph(
        [
            JobNode("a", ("t.b",), ("t.a",)),
            JobNode("b", ("t.a",), ("t.b",)),
            JobNode("c", ("t.a",), ("t.c",)),
            JobNode("self", ("t.self",), ("t.self",)),  # reading its own output is no cycle
        ]
    )
    with pytest.raises(JobCycleError, match="a -> b -> a") as caught:
        graph.select(["c+", "+c"])
    assert caught.value.cycle == ("a", "b", "a")
    assert graph.select(["self+"]) == ["self"]


def test_the_demo_jobs_form_a_two_step_lineage() -> None:
    graph = JobGraph.from_jobs(discover())
    assert graph.select(["+training_set"]) == ["user_activity_daily", "training_set"]
    assert node_of(discover()["training_set"]).reads == (
        "raw.labels",
        "features.user_activity_daily",
    )
    text = lineage_text(graph)
    assert "reads  features.user_activity_daily  <- user_activity_daily" in text
    assert "writes features.user_activity_daily  -> training_set" in text
    chart = mermaid(graph).splitlines()
    assert chart[0] == "flowchart LR"
    ids = {line.split("[", 1)[1]: line.split("[", 1)[0].strip() for line in chart if "[" in line}
    job, table = ids['"user_activity_daily"]'], ids['("features.user_activity_daily")]']
    reader = ids['"training_set"]']
    assert f"  {job} --> {table}" in chart
    assert f"  {table} --> {reader}" in chart
