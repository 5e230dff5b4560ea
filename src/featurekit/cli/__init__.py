"""The ``featurekit`` command line: one module per command group.

    featurekit jobs [--graph]                       (cli.jobs)
    featurekit run JOB|SELECTION [--param k=v ...] [--start DATE --end DATE] [--json]
    featurekit demo [--users N] [--days N] [--seed S]
    featurekit init NAME / new job NAME             (cli.scaffold)
    featurekit table list|show|history|register|optimize|vacuum|checkpoint   (cli.table)
    featurekit crawl PATH --database DB             (cli.crawl)
    featurekit glue run|bookmark                    (cli.glue)
    featurekit plan|package|deploy                  (cli.plan, cli.package, cli.deploy)
    featurekit state|backfill                       (cli.state)
    featurekit jars                                 (cli.jars)
    featurekit cost RUN_ID|JOB                      (cli.cost)
    featurekit jars [--quality]                     (cli.jars)
    featurekit quality show JOB|RUN [--json]        (cli.quality)
    featurekit runs [JOB] [--limit N] [--json]      (cli.runs)
    featurekit doctor [--json]                      (cli.doctor)

Environment (read here, at the edge, and nowhere below): ``FEATUREKIT_WAREHOUSE``
(default warehouse folder), ``FEATUREKIT_DELTA_JARS`` (comma-separated Delta jars
for the delta-spark engine locally, instead of resolving them from Maven Central),
``FEATUREKIT_IVY`` (Ivy's folder, default ``~/.ivy2``) and ``FEATUREKIT_IVY_SETTINGS``
(an ivysettings.xml naming a Maven mirror); for an ``s3://`` warehouse or state, boto3's
own: ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` and the default credential chain.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from featurekit.cli.common import Handler, add_runtime_args
from featurekit.errors import FeatureKitError

# Modules that add command groups; each has add_commands(subparsers, add_runtime_args).
COMMAND_MODULES = (
    "featurekit.cli.jobs",
    "featurekit.cli.scaffold",
    "featurekit.cli.table",
    "featurekit.cli.crawl",
    "featurekit.cli.glue",
    "featurekit.cli.plan",
    "featurekit.cli.package",
    "featurekit.cli.deploy",
    "featurekit.cli.state",
    "featurekit.cli.jars",
    "featurekit.cli.cost",
    "featurekit.cli.quality",
    "featurekit.cli.runs",
    "featurekit.cli.doctor",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    from featurekit import __version__

    parser = argparse.ArgumentParser(prog="featurekit", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"featurekit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(sub, add_runtime_args)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``featurekit`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        if getattr(args, "table_format", "") is None:  # the option's project default
            from featurekit.cli.common import default_table_format

            args.table_format = default_table_format()
        return handler(args)
    except FeatureKitError as exc:
        print(f"featurekit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("featurekit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `featurekit jobs | head`: the reader left; say nothing more and exit quietly.
        _silence_stdout()
        return 141


def run() -> None:
    """The ``featurekit`` console script and ``python -m featurekit``: main(), then exit.

    A command that read Delta tables through delta-rs without starting Spark (``table
    show`` on S3, ...) leaves native reader threads that can abort the interpreter's
    teardown ("terminate called without an active exception") after the work is done and
    printed. Such a process ends with ``os._exit`` once its output is flushed; a process
    with a SparkContext exits normally, so Spark shuts down as usual.
    """
    import os

    code = main()
    spark_ctx = sys.modules.get("pyspark.context")
    spark_running = (
        spark_ctx is not None and spark_ctx.SparkContext._active_spark_context is not None
    )
    if "deltalake" in sys.modules and not spark_running:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture)
        pass
    finally:
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
