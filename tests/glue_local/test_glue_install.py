"""The emulation installed as ``awsglue``: real utils kept, other modules emulated or refused."""

from __future__ import annotations

import sys

import pytest
from pyspark.sql import SparkSession

from featurekit.errors import UnsupportedError
from featurekit.glue_local import GlueContext
from featurekit.glue_local.install import installed


def test_installed_modules_are_the_emulation_except_the_real_utils(tmp_path: object) -> None:
    import awsglue.utils as real_utils

    with installed(warehouse=str(tmp_path)):
        import awsglue
        import awsglue.utils
        from awsglue.context import GlueContext as Imported
        from awsglue.dynamicframe import DynamicFrame

        assert Imported is GlueContext
        assert awsglue.DynamicFrame is DynamicFrame
        assert awsglue.utils is real_utils
        assert "site-packages" in awsglue.utils.__file__
        namespace: dict[str, object] = {}
        exec("from awsglue.transforms import *", namespace)
        assert {"ApplyMapping", "Join", "DropNullFields", "Relationalize"} <= set(namespace)
    assert getattr(sys.modules.get("awsglue.context"), "GlueContext", None) is not GlueContext


def test_modules_and_names_not_emulated_raise_unsupported(tmp_path: object) -> None:
    with installed(warehouse=str(tmp_path)):
        with pytest.raises(UnsupportedError, match=r"import awsglue\.gluetypes.*awsglue\.context"):
            import awsglue.gluetypes  # noqa: F401
        with pytest.raises(UnsupportedError, match=r"awsglue\.context\.register.*GlueContext"):
            from awsglue.context import register  # noqa: F401


def test_star_imported_sparkcontext_is_swapped_while_installed_and_restored_after(
    spark: SparkSession, tmp_path: object
) -> None:
    import pyspark.context
    import pyspark.sql.functions

    real = pyspark.context.SparkContext
    with installed(warehouse=str(tmp_path)):
        namespace: dict[str, object] = {}
        exec("from pyspark.context import SparkContext", namespace)
        exec("from pyspark.sql.functions import *", namespace)
        context = namespace["SparkContext"]
        assert isinstance(context, type)
        assert context is not real
        assert context() is spark.sparkContext  # type: ignore[operator]
    assert pyspark.context.SparkContext is real
    assert getattr(pyspark.sql.functions, "SparkContext", real) is real
