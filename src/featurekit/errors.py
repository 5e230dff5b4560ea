"""featurekit's exceptions: one tree, rooted in :class:`FeatureKitError`.

::

    FeatureKitError
    ├── ConfigError                 bad parameters, options or job declarations
    │   ├── UnknownJobError         no job of that name (suggests close names)
    │   ├── BrokenJobError          the job's module failed to import (names the error, file:line)
    │   ├── JobCycleError           jobs read each other's outputs in a cycle (names it)
    │   └── UnknownParameterError   a --param the job does not declare
    ├── MissingDependencyError      an optional package (a pip extra) is not installed
    ├── InputError                  a declared input cannot be read
    │   └── TableNotFoundError      no table at that name or path
    ├── OutputContractError         the job's output breaks its FeatureTable declaration
    │   ├── LeakageError            a training set joined features not known at its spine time
    │   └── QualityError            a DQDL rule of severity "fail" failed (input or output)
    ├── QualityEngineError          Deequ's DQDL engine is missing or has no build for this Spark
    ├── TableError                  a Delta table operation failed
    │   ├── SchemaEvolutionError    a write would change the schema in a way not allowed
    │   ├── ConcurrentCommitError   another writer committed first
    │   │   └── ConcurrentWriterError  another writer is committing and no coordinator is set
    │   ├── CommitCoordinatorError  the commit lease could not be taken in time, or was lost
    │   └── RetentionError          a vacuum would go under the table's retention period
    ├── DeployError                 uploading artifacts or a cloud API call failed
    ├── CatalogError                a catalog call (the Glue Data Catalog) failed
    ├── ClusterError                a local Spark standalone cluster did not start
    ├── StateError                  incremental state cannot be read or advanced
    │   ├── LockedError             another run of the same job holds the lock
    │   └── StateConflictError      the state changed since this run read it (lost a race)
    ├── StorageUnavailableError     S3 unreachable or throttling after retries (an outage)
    └── UnsupportedError            a feature featurekit does not provide (never a silent no-op)

Every message says what failed and what to do about it. Adapters translate
third-party errors (``AnalysisException``, ``Py4JJavaError``, botocore) with
``raise ... from exc`` so the original stays in the traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class FeatureKitError(Exception):
    """Root of every error featurekit raises on purpose."""


class ConfigError(FeatureKitError, ValueError):
    """A parameter, option or declaration has a wrong value."""


class UnknownJobError(ConfigError):
    """No registered job has the requested name."""

    def __init__(
        self,
        name: str,
        known: Iterable[str],
        broken: Sequence[str] = (),
        examples_hidden: bool = False,
    ) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(known) if known else "(none registered)"
        failed = (
            " These job modules failed to import and may hold it: " + "; ".join(broken) + "."
            if broken
            else ""
        )
        examples = (
            " featurekit's demo jobs (featurekit.examples) are left out once a project "
            "registers jobs: 'featurekit jobs --examples' lists them."
            if examples_hidden
            else ""
        )
        super().__init__(
            f"Unknown job {name!r}.{hint} Known jobs: {listing}.{failed} "
            "Jobs are found in the 'featurekit.jobs' entry point group of installed projects "
            f"('featurekit init' writes it) and in featurekit.examples.{examples}"
        )
        self.name = name
        self.suggestions = close


class BrokenJobError(ConfigError):
    """The module that defines the job failed to import."""

    def __init__(self, name: str, failures: Sequence[str]) -> None:
        super().__init__(
            f"Job {name!r} cannot run: its module failed to import: {'; '.join(failures)}. "
            "Fix that error (or install the missing package); other jobs are unaffected."
        )
        self.name = name


class JobCycleError(ConfigError):
    """Jobs read each other's output tables in a cycle, so no order can run them."""

    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__(
            f"Jobs depend on each other in a cycle: {' -> '.join(cycle)}. Each reads the "
            "next one's output table; change one job's inputs to break the cycle."
        )
        self.cycle = tuple(cycle)


class UnknownParameterError(ConfigError):
    """A parameter was given that the job does not declare."""

    def __init__(self, job: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(known) if known else "none"
        super().__init__(
            f"Job {job!r} has no parameter {name!r}.{hint} Declared parameters: {listing}."
        )


class MissingDependencyError(FeatureKitError, ImportError):
    """An optional dependency is missing; the message names the pip extra."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the '{package}' package, from featurekit's '{extra}' extra. "
            "featurekit is on no package index: install the extra from your featurekit "
            f"clone, e.g. pip install -e '/path/to/featurekit[{extra}]' ('featurekit doctor' "
            "names where this featurekit came from)."
        )


class InputError(FeatureKitError):
    """A declared input could not be read."""


class TableNotFoundError(InputError):
    """There is no table at the given name or location."""


class OutputContractError(FeatureKitError):
    """The DataFrame returned by ``transform`` breaks the declared FeatureTable."""


#: How a primitive's check inside a Spark plan names a broken output contract: the rows
#: fail a task with this text and the message after it (``assert_true``), and the run
#: raises :class:`OutputContractError` with that message (:func:`contract_breach`).
CONTRACT_MARK = "featurekit output contract: "


def contract_breach(exc: BaseException) -> str | None:
    """The message of a contract check that failed a Spark task (None: another error)."""
    text = str(exc)
    at = text.find(CONTRACT_MARK)
    if at < 0:
        return None
    message = text[at + len(CONTRACT_MARK) :].splitlines()[0]
    # Spark 4 appends the SQL state of its USER_RAISED_EXCEPTION class
    return message.split(" SQLSTATE:")[0].strip()


class LeakageError(OutputContractError):
    """A point-in-time joined training set uses feature data from after its spine time."""


class QualityError(OutputContractError):
    """A data quality rule declared with severity "fail" failed; nothing was committed."""


class QualityEngineError(FeatureKitError):
    """Deequ's DQDL engine cannot run here: its jar is not on the classpath, or Deequ
    publishes no build for this Spark line."""


class TableError(FeatureKitError):
    """A Delta table operation failed."""


class SchemaEvolutionError(TableError):
    """A write would change a table's schema in a way that is not allowed."""


class ConcurrentCommitError(TableError):
    """Another writer committed to the table first; retry the run."""


class ConcurrentWriterError(ConcurrentCommitError):
    """Another writer is committing to the table on S3 and no commit coordinator is set."""


class CommitCoordinatorError(TableError):
    """The table's commit lease (DynamoDB or S3) was not granted in time, or was lost."""


class RetentionError(TableError):
    """A vacuum would delete files younger than the table's retention period (not forced)."""


class DeployError(FeatureKitError):
    """Uploading artifacts or a cloud API call (S3, Glue, EMR) failed."""


class CatalogError(FeatureKitError):
    """A call to the catalog (the Glue Data Catalog through boto3) failed."""


class ClusterError(FeatureKitError):
    """A local Spark standalone cluster (:mod:`featurekit.testing.cluster`) did not start."""


class StateError(FeatureKitError):
    """Incremental state could not be read or advanced."""


class LockedError(StateError):
    """Another run of the same job holds the lock."""


class StateConflictError(StateError):
    """A conditional state write failed: another run advanced the state first."""


class StorageUnavailableError(FeatureKitError):
    """The warehouse's storage (S3) could not be reached, or kept throttling, after the
    retries; nothing was committed by the failed step. Running again later is safe."""


class UnsupportedError(FeatureKitError, NotImplementedError):
    """featurekit does not support this call; the message says what is supported."""
