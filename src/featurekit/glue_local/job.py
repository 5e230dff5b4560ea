"""awsglue.job.Job on the emulated GlueContext: init opens a bookmark session, commit saves it.

The class methods listing Glue's reserved arguments are those of awsglue 5.1, so
the real ``awsglue.utils.getResolvedOptions`` works with this Job too.

Example::

    job = Job(glueContext)
    job.init(args["JOB_NAME"], args)   # args from getResolvedOptions
    ...                                # reads with transformation_ctx
    job.commit()                       # bookmarks saved only here
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Optional

from featurekit.errors import StateError
from featurekit.glue_local._support import unsupported
from featurekit.glue_local.bookmarks import DISABLE, BookmarkSession
from featurekit.glue_local.context import GlueContext


class Job:
    """A Glue job run: ``Job(glue_context)``, ``init(name, args)``, ``commit()``."""

    @classmethod
    def continuation_options(cls) -> list[str]:
        return ["--continuation-option", "continuation-enabled", "continuation-readonly",
                "continuation-ignore"]  # fmt: skip

    @classmethod
    def job_bookmark_options(cls) -> list[str]:
        return ["--job-bookmark-option", "job-bookmark-enable", "job-bookmark-pause", DISABLE]

    @classmethod
    def job_bookmark_range_options(cls) -> list[str]:
        return ["--job-bookmark-from", "--job-bookmark-to"]

    @classmethod
    def id_params(cls) -> list[str]:
        return ["--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID", "--SECURITY_CONFIGURATION"]

    @classmethod
    def encryption_type_options(cls) -> list[str]:
        return ["--encryption-type", "sse-s3"]

    @classmethod
    def data_lineage_options(cls) -> list[str]:
        return ["--enable-data-lineage"]

    def __init__(self, glue_context_or_spark_session: Any) -> None:
        from pyspark.sql import SparkSession

        if isinstance(glue_context_or_spark_session, GlueContext):
            self._glue_context = glue_context_or_spark_session
        elif isinstance(glue_context_or_spark_session, SparkSession):
            self._glue_context = GlueContext(glue_context_or_spark_session)
        else:
            raise TypeError(
                "Job() takes a GlueContext or a SparkSession, got "
                f"{type(glue_context_or_spark_session).__name__}."
            )
        self._session: Optional[BookmarkSession] = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        unsupported(f"Job.{name}", "Job(glue_context), init(name, args), commit(), isInitialized()")

    def init(self, job_name: str, args: Optional[Mapping[str, Any]] = None) -> None:
        """Start the run: load the committed bookmark state of ``job_name``."""
        args = dict(args or {})
        self._session = BookmarkSession.open(
            self._glue_context.bookmarks,
            job_name,
            args.get("JOB_RUN_ID") or f"jr_{uuid.uuid4().hex}",
            args.get("job_bookmark_option") or DISABLE,
            args.get("job_bookmark_from"),
            args.get("job_bookmark_to"),
        )
        self._glue_context.session = self._session

    def isInitialized(self) -> bool:
        return self._session is not None

    def commit(self) -> None:
        """Save what this run's bookmarked reads saw (with job-bookmark-enable)."""
        if self._session is None:
            raise StateError("job.commit() before job.init(JOB_NAME, args): call init first.")
        self._session.commit()
