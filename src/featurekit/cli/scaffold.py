"""``featurekit init NAME`` and ``featurekit new job NAME``: start a project, add a job."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable


def _report(
    args: argparse.Namespace, root: Path, files: list[Path], then: list[str], **extra: str
) -> None:
    if args.json:
        out = {"root": str(root), "files": [str(f) for f in files], **extra}
        print(json.dumps(out, indent=2))
        return
    for path in files:
        print(f"  wrote {path}")
    print("Next:")
    for line in then:
        print(f"  {line}")


def cmd_init(args: argparse.Namespace) -> int:
    from featurekit.core.platforms import platform_line
    from featurekit.scaffold import EXAMPLE_JOB, init_project
    from featurekit.scaffold.source import featurekit_url

    line = platform_line(args.platform)
    url = featurekit_url(args.featurekit_source)
    root = Path(args.path) if args.path else Path(args.name)
    init_project(root, args.name, source=url, platform=line.key)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    _report(args, root, files, [
        f"cd {root}",
        f"pip install -e '.[dev]'    # featurekit from {url}, pyspark{line.pyspark_range}",
        "pytest",
        f"featurekit new job my_feature    # next to {EXAMPLE_JOB}",
    ], featurekit=url, platform=line.key)  # fmt: skip
    return 0


def cmd_new_job(args: argparse.Namespace) -> int:
    from featurekit.scaffold import new_job

    root = Path(args.project)
    files = new_job(root, args.name)
    _report(args, root, files, [
        "pip install -e .    # registers the new entry point",
        f"pytest tests/jobs/test_{args.name}.py",
    ])  # fmt: skip
    return 0


def add_commands(sub: Any, _add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    from featurekit.core.platforms import DEFAULT_LINE, LINES

    p = sub.add_parser("init", help="start a project of feature jobs (package, tests, pyproject)")
    p.add_argument("name", help="project name, e.g. acme-features")
    p.add_argument("--path", help="folder to create (default: ./NAME)")
    p.add_argument(
        "--featurekit-source",
        metavar="PATH_OR_URL",
        help="where the project installs featurekit from: a clone, a wheel file or a URL pip "
        "installs (default: where this featurekit was installed from; featurekit is on no "
        "package index)",
    )
    p.add_argument(
        "--platform",
        default=DEFAULT_LINE,
        choices=[line.key for line in LINES],
        help=f"the platform line whose Spark the project's tests run on (default {DEFAULT_LINE})",
    )
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(handler=cmd_init)

    new = sub.add_parser("new", help="add to a project: new job NAME")
    new_sub = new.add_subparsers(dest="new_kind", required=True, metavar="KIND")
    p = new_sub.add_parser("job", help="a job skeleton, its test and its entry point")
    p.add_argument("name", help="job name, e.g. cart_sessions_daily")
    p.add_argument("--project", default=".", help="the project folder (default .)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(handler=cmd_new_job)
