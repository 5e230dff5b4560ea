"""``featurekit table optimize|vacuum|checkpoint`` on a warehouse on S3 (moto), delta-rs."""

from __future__ import annotations

import json

import pytest
from s3_helpers import S3Setup, featurekit

from featurekit.tables.catalog import LocalCatalog


@pytest.mark.slow  # subprocesses: deltalake's S3 calls hold the GIL moto's thread needs
def test_maintenance_reaches_a_table_on_s3_through_the_warehouse_endpoint(s3: S3Setup) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    location = s3.s3_warehouse().table_location("features.clicks")
    options = s3.access.storage_options()
    for n in range(2):  # two small files in one partition
        rows = pa.table({"user_id": [f"u{n}"], "feature_date": ["2026-03-01"], "clicks": [n]})
        write_deltalake(
            location, rows, mode="append", partition_by=["feature_date"], storage_options=options
        )
    schema = {
        "type": "struct",
        "fields": [
            {"name": "user_id", "type": "string", "nullable": True, "metadata": {}},
            {"name": "feature_date", "type": "string", "nullable": True, "metadata": {}},
            {"name": "clicks", "type": "long", "nullable": True, "metadata": {}},
        ],
    }
    LocalCatalog(s3.s3_warehouse()).register(
        "features.clicks", location, schema=schema, partition_columns=("feature_date",)
    )
    wh = ["features.clicks", "--warehouse", s3.warehouse, "--json"]

    def table(*args: str) -> dict[str, object]:
        done = featurekit(["table", *args, *wh], s3.env())
        assert done.returncode == 0, done.stderr  # the warehouse's endpoint and credentials
        return dict(json.loads(done.stdout))

    result = table("optimize")
    assert (result["engine"], result["files_removed"], result["files_added"]) == ("delta-rs", 2, 1)
    assert table("vacuum", "--dry-run")["dry_run"] is True
    assert table("checkpoint", "--commit-coordinator", "s3-conditional")["version"] == 2
    assert s3.keys(location.split(f"{s3.bucket}/", 1)[1] + "/_delta_log/_last_checkpoint")
