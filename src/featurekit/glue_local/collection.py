"""DynamicFrameCollection: named DynamicFrames (relationalize, split_fields, split_rows give one).

Example::

    dfc = dyf.relationalize("root", "s3://bucket/tmp/")
    root = dfc.select("root")
"""

from __future__ import annotations

from collections.abc import KeysView, ValuesView
from typing import Any, Callable, Union

from featurekit.glue_local.dynamicframe import DynamicFrame
from featurekit.glue_local.records import empty_like


class DynamicFrameCollection:
    """A dict of DynamicFrames by name, with Glue's ``select`` / ``map`` / ``flatmap``."""

    def __init__(
        self, dynamic_frames: Union[dict[str, DynamicFrame], list[DynamicFrame]], glue_ctx: Any
    ) -> None:
        self._glue_ctx = glue_ctx
        if isinstance(dynamic_frames, list):
            self._df_dict = {df.name: df for df in dynamic_frames}
        elif isinstance(dynamic_frames, dict):
            self._df_dict = dict(dynamic_frames)
        else:
            raise TypeError("dynamic_frames must be a list or a dict of DynamicFrames.")

    def __repr__(self) -> str:
        return f"DynamicFrameCollection({sorted(self._df_dict)})"

    def __getitem__(self, key: str) -> DynamicFrame:
        return self._df_dict[key]

    def __len__(self) -> int:
        return len(self._df_dict)

    def keys(self) -> KeysView[str]:
        return self._df_dict.keys()

    def values(self) -> ValuesView[DynamicFrame]:
        return self._df_dict.values()

    def select(self, key: str, transformation_ctx: str = "") -> DynamicFrame:
        """The frame named ``key``; an empty frame named ``key`` when there is none (as Glue)."""
        if key in self._df_dict:
            return self._df_dict[key]
        spark = self._glue_ctx.spark_session
        return DynamicFrame(empty_like(spark.createDataFrame([], "x int")), self._glue_ctx, key)

    def map(
        self, callable: Callable[[DynamicFrame, str], DynamicFrame], transformation_ctx: str = ""
    ) -> DynamicFrameCollection:
        """``callable(frame, ctx)`` on every frame; each must return a DynamicFrame."""
        out = {}
        for key, frame in self._df_dict.items():
            result = callable(frame, f"{transformation_ctx}:{key}")
            if not isinstance(result, DynamicFrame):
                raise TypeError(
                    f"callable must return a DynamicFrame, got {type(result).__name__}."
                )
            out[key] = result
        return DynamicFrameCollection(out, self._glue_ctx)

    def flatmap(
        self, f: Callable[[DynamicFrame, str], Any], transformation_ctx: str = ""
    ) -> DynamicFrameCollection:
        """``f(frame, ctx)`` on every frame; results (frames or collections) merged by name."""
        out: dict[str, DynamicFrame] = {}
        for frame in self._df_dict.values():
            result = f(frame, f"{transformation_ctx}:{frame.name}")
            if isinstance(result, DynamicFrame):
                out[result.name] = result
            elif isinstance(result, DynamicFrameCollection):
                out.update(result._df_dict)
            else:
                raise TypeError(
                    "flatmap's function must return a DynamicFrame or DynamicFrameCollection, "
                    f"got {type(result).__name__}."
                )
        return DynamicFrameCollection(out, self._glue_ctx)
