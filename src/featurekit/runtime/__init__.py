"""Runtimes: where a job runs. ``local`` here; ``glue`` and ``emr`` adapters beside it."""

from featurekit.runtime.base import Runtime, RuntimeConfig

__all__ = ["Runtime", "RuntimeConfig"]
