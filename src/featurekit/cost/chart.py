"""The cost chart: each target's cost against data scale and against runs a day.

Drawn with matplotlib (featurekit's ``chart`` extra) from the data of
:func:`featurekit.cost.recommend.series`, to PNG or SVG by the file's suffix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from featurekit.errors import ConfigError, MissingDependencyError

FORMATS = (".png", ".svg")


def _plot(ax: Any, xs: Sequence[float], lines: Mapping[str, Sequence[Optional[float]]]) -> None:
    for target, values in lines.items():
        points = [(x, y) for x, y in zip(xs, values) if y is not None]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=target)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)


def write_chart(data: Mapping[str, Any], path: str, *, title: str) -> Path:
    """Write the two panels of ``data`` (see ``series``) to ``path`` (.png or .svg)."""
    target = Path(path)
    if target.suffix.lower() not in FORMATS:
        raise ConfigError(f"--chart must end in .png or .svg, got {path!r}.")
    try:
        from matplotlib.figure import Figure  # no pyplot: no global backend state
    except ImportError as exc:
        raise MissingDependencyError("matplotlib", "chart", "featurekit cost --chart") from exc
    fig = Figure(figsize=(12, 5))
    left, right = fig.subplots(1, 2)
    _plot(left, data["scales"], data["cost_per_run_by_scale"])
    left.set_xlabel("data scale (x the measured run)")
    left.set_ylabel("USD per run")
    left.set_title("cost per run vs data scale")
    _plot(right, data["runs_per_day"], data["cost_per_day_by_runs"])
    right.set_xlabel("runs per day")
    right.set_ylabel("USD per day")
    right.set_title("cost per day vs runs per day")
    right.legend(fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target)
    return target
