"""What every command group shares: runtime options, dates, the warehouse and runtime."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Callable, Optional, Union

from featurekit.errors import ConfigError
from featurekit.tables.conflicts import DEFAULT_ATTEMPTS
from featurekit.warehouse import DEFAULT_WAREHOUSE

Handler = Callable[[argparse.Namespace], int]


def did_you_mean(name: str, names: Iterable[str], listing: str) -> str:
    """A hint for a mistyped ``name``: `` Did you mean 'a' or 'b'?`` naming the closest of
    ``names``, else all of them after ``listing`` (`` Jobs with state there: a, b.``)."""
    import difflib

    known = sorted(set(names))
    close = difflib.get_close_matches(name, known, n=3)
    if close:
        return f" Did you mean {' or '.join(map(repr, close))}?"
    return f" {listing}: {', '.join(known) if known else 'none'}."


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-01-31, got {text!r}") from exc


class DeprecatedOption(argparse.Action):
    """An old spelling of an option: hidden from ``--help``, it stores into the new option's
    ``dest`` (``fixed`` for a flag that takes no value) and prints one line on stderr
    naming the new spelling."""

    def __init__(
        self,
        option_strings: Sequence[str],
        dest: str,
        *,
        replacement: str,
        fixed: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        if fixed is not None:
            kwargs["nargs"] = 0
        kwargs.update(help=argparse.SUPPRESS, default=argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)
        self.replacement = replacement
        self.fixed = fixed

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Union[str, Sequence[Any], None],
        option_string: Optional[str] = None,
    ) -> None:
        print(
            f"featurekit: warning: {option_string} is deprecated; use {self.replacement}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, self.fixed if self.fixed is not None else values)


def add_deprecated_option(
    parser: argparse.ArgumentParser, old: str, *, new: str, dest: str, fixed: Optional[str] = None
) -> None:
    """Keep ``old`` working as a hidden alias of ``new`` (with ``fixed``: a flag that means
    ``new fixed``), warning on stderr each time it is used."""
    replacement = new if fixed is None else f"{new} {fixed}"
    parser.add_argument(
        old, dest=dest, action=DeprecatedOption, replacement=replacement, fixed=fixed
    )


def add_runtime_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        default=os.environ.get("FEATUREKIT_WAREHOUSE", DEFAULT_WAREHOUSE),
        help="warehouse folder (default: $FEATUREKIT_WAREHOUSE or ./warehouse)",
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "delta-spark", "delta-rs"),
        default="auto",
        help="Delta table engine (auto: delta-rs locally, delta-spark for an s3:// warehouse "
        "or with FEATUREKIT_DELTA_JARS; delta-spark resolves its jars from Maven Central)",
    )
    parser.add_argument(
        "--table-format",
        choices=("delta", "iceberg"),
        default=None,
        help="the format of feature tables that declare none (FeatureTable(format=...)); "
        "default: $FEATUREKIT_TABLE_FORMAT, else table_format in [tool.featurekit] of the "
        "nearest pyproject.toml, else delta. iceberg puts Iceberg's Spark runtime on the "
        "classpath (resolved from Maven Central once)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--no-quality",
        action="store_true",
        help="do not evaluate the jobs' DQDL rulesets (each run records a warning naming them)",
    )
    parser.add_argument(
        "--state",
        help="incremental state store: a folder or s3://bucket/prefix (default: WAREHOUSE/_state)",
    )
    add_catalog_args(parser)
    add_commit_args(parser)
    parser.add_argument(
        "--s3-endpoint",
        metavar="URL",
        help="S3 endpoint for an s3:// warehouse or state, e.g. http://127.0.0.1:5000 "
        "(default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS's S3)",
    )


def add_commit_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--commit-coordinator",
        metavar="HOW",
        default=os.environ.get("FEATUREKIT_COMMIT_COORDINATOR", "none"),
        help="how concurrent writers of one table on S3 take turns: none (a second writer "
        "is refused; the default), s3-conditional (S3 conditional writes) or dynamodb:TABLE "
        "(a lease in that DynamoDB table; endpoint $AWS_ENDPOINT_URL_DYNAMODB); docs/s3.md",
    )
    parser.add_argument(
        "--commit-attempts",
        metavar="N",
        type=int,
        default=os.environ.get("FEATUREKIT_COMMIT_ATTEMPTS", str(DEFAULT_ATTEMPTS)),
        help="attempts of a commit that conflicts with another writer, retried with "
        "jittered exponential backoff when it replaces dates or carries a batch's "
        "transaction id (default 5; 1: never retried); docs/s3.md",
    )


def add_catalog_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog",
        choices=("local", "glue"),
        default=os.environ.get("FEATUREKIT_CATALOG", "local"),
        help="where tables are registered: the warehouse's own catalog (local, the default) "
        "or the Glue Data Catalog (glue; boto3's credentials and region)",
    )
    parser.add_argument("--catalog-region", help="the Glue Data Catalog's region")
    parser.add_argument(
        "--catalog-endpoint", metavar="URL", help="a Glue endpoint (moto, LocalStack)"
    )
    parser.add_argument("--catalog-id", help="the catalog's account id (default: your own)")


def glue_catalog_config(args: argparse.Namespace) -> Any:
    """The GlueCatalogConfig of ``--catalog-region/-endpoint/-id`` (None for local)."""
    from featurekit.tables.glue_catalog import GlueCatalogConfig

    if getattr(args, "catalog", "local") != "glue":
        return None
    return GlueCatalogConfig(
        region=args.catalog_region, endpoint_url=args.catalog_endpoint, catalog_id=args.catalog_id
    )


def open_cli_catalog(args: argparse.Namespace) -> Any:
    """The catalog ``--catalog`` names, on the warehouse of ``--warehouse``."""
    from featurekit.tables.catalogs import open_catalog

    return open_catalog(args.catalog, open_cli_warehouse(args), glue_catalog_config(args))


def s3_access(args: argparse.Namespace) -> Any:
    """The S3 endpoint and credentials when the warehouse or state is on S3, else None."""
    from featurekit.runtime.s3 import resolve_s3_access
    from featurekit.warehouse import S3_SCHEMES

    state = getattr(args, "state", None) or ""
    if not (args.warehouse.startswith(S3_SCHEMES) or state.startswith(S3_SCHEMES)):
        return None
    where = args.warehouse if args.warehouse.startswith(S3_SCHEMES) else state
    return resolve_s3_access(
        f"The warehouse {where}", os.environ, endpoint=getattr(args, "s3_endpoint", None)
    )


def open_cli_warehouse(args: argparse.Namespace) -> Any:
    """The warehouse of ``--warehouse`` (with its S3 access when it is on S3)."""
    from featurekit.warehouse import open_warehouse

    access = s3_access(args)
    return open_warehouse(args.warehouse, s3_client=access.client() if access else None)


def default_table_format(start: Optional[Path] = None) -> str:
    """The project default of ``--table-format``: ``$FEATUREKIT_TABLE_FORMAT``, else
    ``table_format`` in ``[tool.featurekit]`` of the nearest ``pyproject.toml`` (from
    ``start``, the working directory, up), else ``delta``."""
    from featurekit.io import TABLE_FORMATS

    found, where = os.environ.get("FEATUREKIT_TABLE_FORMAT"), "FEATUREKIT_TABLE_FORMAT"
    if not found:
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            pyproject = folder / "pyproject.toml"
            if pyproject.is_file():
                from featurekit.deploy.project import load_toml

                tool = load_toml(pyproject).get("tool", {}).get("featurekit", {})
                found, where = tool.get("table_format"), f"table_format in {pyproject}"
                break
    if found is None:
        return "delta"
    if found not in TABLE_FORMATS:
        raise ConfigError(f"{where} must be one of {', '.join(TABLE_FORMATS)}, got {found!r}.")
    return str(found)


def local_config(args: argparse.Namespace, *, quality: bool = False, iceberg: bool = False) -> Any:
    """The LocalConfig of parsed CLI arguments; ``quality`` puts Deequ's DQDL engine on
    the classpath (jobs with rulesets), unless --no-quality turned the checks off;
    ``iceberg`` (or ``--table-format iceberg``) Iceberg's Spark runtime."""
    from featurekit.runtime.local import LocalConfig
    from featurekit.tables.commits import CommitCoordinator
    from featurekit.tables.conflicts import CommitRetry

    jars = tuple(j for j in os.environ.get("FEATUREKIT_DELTA_JARS", "").split(",") if j)
    return LocalConfig(
        warehouse=args.warehouse,
        engine=args.engine,
        quiet=args.quiet,
        delta_jars=jars,
        ivy_dir=os.environ.get("FEATUREKIT_IVY"),
        ivy_settings=os.environ.get("FEATUREKIT_IVY_SETTINGS"),
        state=args.state,
        s3=s3_access(args),
        catalog=args.catalog,
        glue_catalog=glue_catalog_config(args),
        check_quality=not getattr(args, "no_quality", False),
        quality=quality and not getattr(args, "no_quality", False),
        table_format=getattr(args, "table_format", None) or default_table_format(),
        iceberg=iceberg,
        commit_coordinator=str(CommitCoordinator.parse(args.commit_coordinator)),
        commit_attempts=CommitRetry(attempts=args.commit_attempts).attempts,  # checked here
    )


def local_runtime(args: argparse.Namespace, *, quality: bool = False, iceberg: bool = False) -> Any:
    """The local runtime for parsed CLI arguments (see :func:`local_config`)."""
    from featurekit.runtime.local import LocalRuntime

    return LocalRuntime(local_config(args, quality=quality, iceberg=iceberg))
