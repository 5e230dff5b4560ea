"""``featurekit init NAME`` and ``featurekit new job NAME``: start a project, add a job."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable


def _report(args: argparse.Namespace, root: Path, files: list[Path], then: list[str]) -> None:
    if args.json:
        print(json.dumps({"root": str(root), "files": [str(f) for f in files]}, indent=2))
        return
    for path in files:
        print(f"  wrote {path}")
    print("Next:")
    for line in then:
        print(f"  {line}")


def cmd_init(args: argparse.Namespace) -> int:
    from featurekit.scaffold import EXAMPLE_JOB, init_project

    root = Path(args.path) if args.path else Path(args.name)
    init_project(root, args.name)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    _report(args, root, files, [
        f"cd {root}",
        "python -m venv .venv && . .venv/bin/activate && pip install -e '.[dev]'",
        "pytest",
        f"featurekit new job my_feature    # next to {EXAMPLE_JOB}",
    ])  # fmt: skip
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
    p = sub.add_parser("init", help="start a project of feature jobs (package, tests, pyproject)")
    p.add_argument("name", help="project name, e.g. acme-features")
    p.add_argument("--path", help="folder to create (default: ./NAME)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(handler=cmd_init)

    new = sub.add_parser("new", help="add to a project: new job NAME")
    new_sub = new.add_subparsers(dest="new_kind", required=True, metavar="KIND")
    p = new_sub.add_parser("job", help="a job skeleton, its test and its entry point")
    p.add_argument("name", help="job name, e.g. cart_sessions_daily")
    p.add_argument("--project", default=".", help="the project folder (default .)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(handler=cmd_new_job)
