"""The awsglue API emulated on plain pyspark, with Glue's job bookmarks.

Run unmodified Glue scripts locally (``featurekit glue run SCRIPT -- ARGS``):
GlueContext, DynamicFrame (and DynamicFrameCollection), every awsglue 5.1 transform
but Unbox, sinks and Job behave like awsglue 5.1 on a local SparkSession; ``s3://``
paths map into the warehouse and catalog calls go to :class:`ScriptCatalog` (the local
catalog). ``awsgluedq`` imports; evaluating data-quality rules raises.
``getResolvedOptions`` stays the real one from AWSGlueDataplanePython. Calls that are
not emulated raise :class:`featurekit.errors.UnsupportedError` naming what is supported.

Example::

    from featurekit.glue_local import GlueContext, Job, configure
    configure(warehouse="/tmp/wh")
    glueContext = GlueContext(spark)
"""

from __future__ import annotations

from featurekit.glue_local._support import configure
from featurekit.glue_local.bookmarks import BookmarkSession, BookmarkStore
from featurekit.glue_local.catalog import ScriptCatalog
from featurekit.glue_local.collection import DynamicFrameCollection
from featurekit.glue_local.context import GlueContext
from featurekit.glue_local.dynamicframe import DynamicFrame
from featurekit.glue_local.install import installed
from featurekit.glue_local.job import Job

__all__ = [
    "BookmarkSession",
    "BookmarkStore",
    "DynamicFrame",
    "DynamicFrameCollection",
    "GlueContext",
    "Job",
    "ScriptCatalog",
    "configure",
    "installed",
]
