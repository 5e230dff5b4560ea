"""The few file operations the delta-rs engine does itself, on a folder or on S3.

Spark writes the staged parquet and delta-rs writes the Delta log; in between the engine
lists the staged files, reads their row counts, moves them into the table's partition
folders and removes what a failed write left. :class:`LocalFiles` does that with the
file system, :class:`S3Files` with boto3 (S3 has no rename: a copy, then a delete).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from featurekit.errors import ConfigError, TableError

S3_SCHEMES = ("s3://", "s3a://", "s3n://")


class LocalFiles:
    """Files of tables in a local folder."""

    def list_parquet(self, folder: str) -> list[str]:
        return sorted(str(p) for p in Path(folder).rglob("*.parquet"))

    def parquet_rows(self, path: str) -> int:
        import pyarrow.parquet as pq

        return int(pq.read_metadata(path).num_rows)

    def move(self, source: str, target: str) -> tuple[int, int]:
        """Move ``source`` to ``target``; its size and modification time (ms)."""
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        stat = Path(target).stat()
        return stat.st_size, int(stat.st_mtime * 1000)

    def remove_tree(self, folder: str) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def remove(self, path: str) -> None:
        Path(path).unlink(missing_ok=True)

    def read_text(self, path: str) -> Optional[str]:
        target = Path(path)
        return target.read_text() if target.is_file() else None


def split(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    bucket, _, key = uri.split("://", 1)[1].partition("/")
    return bucket, key


class S3Files:
    """Files of tables on S3, through a boto3 client; row counts through pyarrow's S3."""

    def __init__(self, client: Any, storage_options: Mapping[str, str]) -> None:
        self.client = client
        self.options = dict(storage_options)
        self._arrow: Any = None

    def list_parquet(self, folder: str) -> list[str]:
        bucket, prefix = split(folder)
        scheme = folder.split("://", 1)[0]
        found = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix.rstrip("/") + "/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                if str(item["Key"]).endswith(".parquet"):
                    found.append(f"{scheme}://{bucket}/{item['Key']}")
        return sorted(found)

    def _arrow_fs(self) -> Any:
        if self._arrow is None:
            from pyarrow import fs

            endpoint = self.options.get("AWS_ENDPOINT_URL")
            self._arrow = fs.S3FileSystem(
                access_key=self.options.get("AWS_ACCESS_KEY_ID"),
                secret_key=self.options.get("AWS_SECRET_ACCESS_KEY"),
                session_token=self.options.get("AWS_SESSION_TOKEN"),
                region=self.options.get("AWS_REGION"),
                endpoint_override=endpoint,
                scheme="http" if (endpoint or "").startswith("http://") else "https",
            )
        return self._arrow

    def parquet_rows(self, path: str) -> int:
        import pyarrow.parquet as pq

        bucket, key = split(path)
        with self._arrow_fs().open_input_file(f"{bucket}/{key}") as handle:
            return int(pq.read_metadata(handle).num_rows)

    def move(self, source: str, target: str) -> tuple[int, int]:
        (bucket, key), (to_bucket, to_key) = split(source), split(target)
        try:
            self.client.copy_object(
                Bucket=to_bucket, Key=to_key, CopySource={"Bucket": bucket, "Key": key}
            )
            size = int(self.client.head_object(Bucket=to_bucket, Key=to_key)["ContentLength"])
            self.client.delete_object(Bucket=bucket, Key=key)
        except Exception as exc:
            raise TableError(f"Cannot move staged file {source} to {target}: {exc}") from exc
        return size, int(time.time() * 1000)

    def remove_tree(self, folder: str) -> None:
        bucket, prefix = split(folder)
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix.rstrip("/") + "/"
        )
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=bucket, Delete={"Objects": keys})

    def remove(self, path: str) -> None:
        bucket, key = split(path)
        self.client.delete_object(Bucket=bucket, Key=key)

    def read_text(self, path: str) -> Optional[str]:
        bucket, key = split(path)
        try:
            got = self.client.get_object(Bucket=bucket, Key=key)
        except Exception as exc:
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return str(got["Body"].read().decode())


def files_for(path: str, s3: Optional[S3Files]) -> Any:
    """The file operations for the table at ``path``."""
    if not path.startswith(S3_SCHEMES):
        return LocalFiles()
    if s3 is None:
        raise ConfigError(
            f"The delta-rs engine was not given S3 access, so it cannot write {path}: open it "
            "through featurekit's Storage (an s3:// warehouse), or use delta-spark."
        )
    return s3
