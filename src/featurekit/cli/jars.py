"""``featurekit jars``: resolve the JVM packages local runs need, once, and list them.

Run by ``make install`` so tests and demos never pay for resolution; useful on a
machine about to go offline, or to copy the jars to one that is
(``FEATUREKIT_DELTA_JARS``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable


def cmd_jars(args: argparse.Namespace) -> int:
    from featurekit.core import jars

    coordinates = [jars.delta_coordinate()]
    if args.s3:
        coordinates.append(jars.hadoop_aws_coordinate())
    if args.iceberg:
        coordinates.append(jars.iceberg_coordinate())
        if args.s3:
            coordinates.append(jars.iceberg_aws_coordinate())
    report = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    found = jars.resolve(
        coordinates,
        ivy_dir=args.ivy or os.environ.get("FEATUREKIT_IVY"),
        ivy_settings=os.environ.get("FEATUREKIT_IVY_SETTINGS"),
        report=report,
    )
    if args.quality:
        from featurekit.quality.engine import coordinates as deequ
        from featurekit.quality.engine import local_jars

        coordinates += deequ()
        found += local_jars(
            ivy_dir=args.ivy or os.environ.get("FEATUREKIT_IVY"),
            ivy_settings=os.environ.get("FEATUREKIT_IVY_SETTINGS"),
            report=report,
        )
    if args.json:
        print(json.dumps({"coordinates": coordinates, "jars": found}, indent=2))
    else:
        print(",".join(found))
    return 0


def add_commands(sub: Any, _add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "jars",
        help=(
            "resolve the Delta jars (and hadoop-aws, Iceberg, Deequ: --s3, --iceberg, --quality) "
            "from Maven Central; print them"
        ),
    )
    p.add_argument("--s3", action="store_true", help="also hadoop-aws, for s3a:// warehouses")
    p.add_argument(
        "--iceberg",
        action="store_true",
        help="also Iceberg's Spark runtime (with --s3: its AWS bundle, for GlueCatalog)",
    )
    p.add_argument(
        "--quality", action="store_true", help="also Deequ's DQDL engine (quality rulesets)"
    )
    p.add_argument("--ivy", help="Ivy folder (default: $FEATUREKIT_IVY or ~/.ivy2)")
    # FEATUREKIT_IVY_SETTINGS: an ivysettings.xml naming the repositories (a Maven mirror)
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--json", action="store_true", help="print coordinates and jars as JSON")
    p.set_defaults(handler=cmd_jars)
