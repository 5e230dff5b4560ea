"""What a run's steps use, and what a run asks of the place it runs.

:class:`Platform` is the port a runtime implements (featurekit.runtime's adapters do):
the Spark session, the storage, progress lines, and the hooks where a platform really
differs. :class:`RunEnv` is the small frozen value the entry hands to every step: the
steps never see the platform itself, only the session, the storage and two hooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.io import Input
    from featurekit.job import FeatureJob, JobContext
    from featurekit.runs import InputRecord
    from featurekit.storage import Storage

#: Reads one declared input for a run: (rows, what was read).
ReadInput = Callable[[str, "Input", "JobContext"], "tuple[DataFrame, InputRecord]"]


class Settings(Protocol):
    """The settings a run reads."""

    @property
    def check_quality(self) -> bool: ...


class Platform(Protocol):
    """Where a run happens: what :func:`featurekit.run.execute` needs of a runtime."""

    @property
    def name(self) -> str: ...

    @property
    def spark(self) -> SparkSession: ...

    @property
    def storage(self) -> Storage: ...

    @property
    def config(self) -> Settings: ...

    @property
    def report(self) -> Callable[[str], None]: ...

    def begin(self, ctx: JobContext) -> None: ...

    def finish(self, ctx: JobContext, succeeded: bool) -> None: ...

    def owns_increments(self, job: FeatureJob) -> bool: ...

    def read_input(
        self, name: str, inp: Input, ctx: JobContext
    ) -> tuple[DataFrame, InputRecord]: ...

    def on_phase(self, ctx: JobContext, phase: str) -> None: ...


@dataclass(frozen=True)
class RunEnv:
    """The session, the storage, progress and the two hooks a run's steps use."""

    runtime: str  # the platform's name, for the run record
    spark: SparkSession
    storage: Storage
    report: Callable[[str], None]
    check_quality: bool
    # the platform's way of reading a declared input (Glue reads bookmarked ones itself)
    read_input: ReadInput
    # called at each boundary of an incremental batch (see featurekit.run.incremental)
    on_phase: Callable[[JobContext, str], None]
