"""``featurekit package``: build the artifacts ``plan`` and ``deploy`` name.

    featurekit package [--out dist/] [--source .] [--provided numpy,pandas] [--no-quality]

See :mod:`featurekit.deploy.package` for what it builds (all or nothing: a refusal
leaves ``--out`` as it was); Deequ's jars are added when a job declares quality rulesets
(:mod:`featurekit.deploy.quality_jars`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable


def cmd_package(args: argparse.Namespace) -> int:
    from featurekit.deploy.package import MANIFEST, build_artifacts

    out = Path(args.out)
    provided = [p for item in args.provided or [] for p in item.split(",") if p]
    manifest = build_artifacts(
        Path(args.source),
        out,
        provided=provided,
        serverless_python=args.serverless_python,
        quality=args.check_quality,
    )
    if args.json:
        print(json.dumps(manifest, indent=2, sort_keys=True))
        return 0
    for name, entry in manifest["artifacts"].items():
        print(f"{out / name}  {entry['bytes']:>9d} B  sha256 {entry['sha256'][:16]}")
    jobs = ", ".join(manifest["jobs"]) or "none"
    print(f"{out / MANIFEST}  ({manifest['name']} {manifest['version']}; jobs: {jobs})")
    return 0


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("package", help="build the wheel, --py-files bundle, scripts, manifest")
    p.add_argument(
        "--out",
        default="dist",
        help="output folder, replaced as a whole once everything is built (default dist/)",
    )
    p.add_argument("--source", default=".", help="source tree with pyproject.toml (default .)")
    p.add_argument(
        "--provided",
        action="append",
        metavar="NAME[,NAME]",
        help="dependencies the target provides (not packaged), e.g. numpy,pandas on Glue",
    )
    p.add_argument(
        "--serverless-python",
        default="3.9",
        help="the Python of the EMR Serverless image, for its virtualenv (default 3.9); "
        "the virtualenv is built only when the package carries dependencies",
    )
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")
    p.add_argument(
        "--no-quality",
        dest="check_quality",
        action="store_false",
        help="leave Deequ's jars out even when jobs declare rulesets",
    )
    p.set_defaults(handler=cmd_package)
