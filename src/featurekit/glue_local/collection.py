"""DynamicFrameCollection: named DynamicFrames (relationalize, split_fields, split_rows give one).

The class is defined with DynamicFrame in :mod:`featurekit.glue_local.dynamicframe` (each
makes the other, as in awsglue.dynamicframe); this module keeps its import path.

Example::

    dfc = dyf.relationalize("root", "s3://bucket/tmp/")
    root = dfc.select("root")
"""

from __future__ import annotations

from featurekit.glue_local.dynamicframe import DynamicFrameCollection

__all__ = ["DynamicFrameCollection"]
