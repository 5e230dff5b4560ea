"""The point-in-time benchmark's statistics (no Spark: the numbers are given)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def bench_pit() -> ModuleType:
    """``benchmarks.bench_pit``: the benchmarks live beside the package, not in it, so the
    checkout's root is on the import path only for this import."""
    sys.path.insert(0, str(ROOT))
    try:
        return importlib.import_module("benchmarks.bench_pit")
    finally:
        sys.path.remove(str(ROOT))


def test_paired_ratio_is_the_median_of_each_repeats_ratio() -> None:
    # the load doubles in the last two repeats: both methods slow down together, so the
    # ratio within each repeat stays 1.2 while the ratio of medians moves to 1.4
    runs = {"auto": [1.2, 1.2, 1.2, 2.4, 2.4], "floor": [1.0, 1.0, 1.0, 2.0, 2.0]}
    paired = bench_pit().paired_ratios(runs, "floor", cut=[])
    assert paired == {"auto": 1.2, "floor": 1.0}


def test_paired_ratio_pairs_the_same_repeat_and_skips_cut_methods() -> None:
    runs = {"a": [2.0, 6.0, 3.0], "b": [9.0], "ref": [1.0, 2.0, 1.0]}
    # a: 2.0, 3.0, 3.0 -> 3.0; b was cut after its first repeat
    assert bench_pit().paired_ratios(runs, "ref", cut=["b"]) == {"a": 3.0, "b": None, "ref": 1.0}


def test_no_paired_ratio_without_the_reference() -> None:
    paired_ratios = bench_pit().paired_ratios
    runs = {"a": [1.0, 2.0, 3.0], "floor": [1.0]}
    assert paired_ratios(runs, None, cut=[]) == {"a": None, "floor": None}
    assert paired_ratios(runs, "floor", cut=["floor"]) == {"a": None, "floor": None}
