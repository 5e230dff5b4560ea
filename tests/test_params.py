from __future__ import annotations

import datetime as dt

import pytest

from featurekit.errors import ConfigError, UnknownParameterError
from featurekit.params import Param, parse_params, split_assignments

DECLARED = {
    "n": Param(int, default=1),
    "rate": Param(float, default=0.5),
    "on": Param(bool, default=False),
    "day": Param(dt.date, default=None),
    "mode": Param(str, default="a", choices=("a", "b")),
    "name": Param(str, help="who"),
}


def test_values_are_parsed_to_their_types() -> None:
    got = parse_params("j", DECLARED, {"n": "3", "on": "yes", "day": "2024-02-29", "name": "x"})
    assert dict(got) == {
        "n": 3,
        "rate": 0.5,
        "on": True,
        "day": dt.date(2024, 2, 29),
        "mode": "a",
        "name": "x",
    }
    with pytest.raises(TypeError):
        got["n"] = 4  # type: ignore[index]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"name": "x", "n": "three"}, "'n' expects int"),
        ({"name": "x", "mode": "c"}, "must be one of"),
        ({}, "needs parameter 'name' \\(who\\)"),
        ({"name": "x", "on": "maybe"}, "expected true/false"),
    ],
)
def test_bad_values_name_the_parameter(given: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_params("j", DECLARED, given)


def test_unknown_names_get_suggestions() -> None:
    with pytest.raises(UnknownParameterError, match="Did you mean 'rate'"):
        parse_params("j", DECLARED, {"name": "x", "rat": "1"})


def test_assignments_keep_equals_signs_in_values() -> None:
    assert split_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        split_assignments(["novalue"])
