from __future__ import annotations

import pytest

from featurekit import FeatureTable, FilesInput, TableInput
from featurekit.errors import ConfigError
from featurekit.io import normalize_type


def test_types_are_spelled_like_spark() -> None:
    table = FeatureTable(
        "db.t", keys=("k",), date_column="d", columns={"k": "String", "d": "DATE", "n": "long"}
    )
    assert dict(table.columns) == {"k": "string", "d": "date", "n": "bigint"}
    assert table.partitions == ("d",)
    assert normalize_type("decimal(10, 2)") == "decimal(10,2)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "nodot"}, "database.table"),
        ({"keys": ()}, "at least one key"),
        ({"keys": ("missing",)}, "'missing' is used as a key"),
        ({"columns": {"k": "string", "d": "string"}}, "must be declared 'date' or 'timestamp'"),
    ],
)
def test_bad_feature_tables_are_rejected(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "name": "db.t",
        "keys": ("k",),
        "date_column": "d",
        "columns": {"k": "string", "d": "date"},
    }
    args.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        FeatureTable(**args)  # type: ignore[arg-type]


def test_inputs_validate_their_options() -> None:
    with pytest.raises(ConfigError, match="lookback_days needs time_column"):
        TableInput("raw.events", lookback_days=3)
    with pytest.raises(ConfigError, match="Unsupported file format 'xml'"):
        FilesInput("s3://b/k", format="xml")
    assert (
        FilesInput("s3://b/k", format="csv", options={"header": "true"}).options["header"] == "true"
    )
