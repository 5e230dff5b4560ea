"""The local warehouse: one folder holding Delta tables, the catalog, run records and state.

Layout::

    WAREHOUSE/
      <db>/<table>/            Delta tables registered in the catalog
      _catalog/<db>.<table>.json
      _runs/<job>/<run id>.json
      _state/...               incremental state
      _s3/<bucket>/<key>       where s3://bucket/key lives locally

``s3://`` paths map into ``_s3`` so job code keeps its cloud paths.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Union

from featurekit.errors import ConfigError
from featurekit.io import check_table_name

DEFAULT_WAREHOUSE = "warehouse"


class Warehouse:
    """A warehouse folder on the local filesystem."""

    def __init__(self, root: Union[str, Path]) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"Warehouse({str(self.root)!r})"

    def resolve(self, path: str) -> str:
        """Map a user path to a local one: ``s3://b/k`` -> ``ROOT/_s3/b/k``; others unchanged."""
        for scheme in ("s3://", "s3a://", "s3n://"):
            if path.startswith(scheme):
                rest = path[len(scheme) :].strip("/")
                if not rest:
                    raise ConfigError(f"S3 path {path!r} has no bucket.")
                return str(self.root / "_s3" / rest)
        if path.startswith("file://"):
            return path[len("file://") :]
        if "://" in path:
            raise ConfigError(
                f"Path {path!r} has a scheme the local warehouse cannot map; "
                "use a local path or s3://bucket/key."
            )
        return str(Path(path).expanduser().resolve())

    def table_location(self, name: str) -> str:
        """Default location of table ``db.table``: ``ROOT/db/table``."""
        db, table = check_table_name(name).split(".")
        return str(self.root / db / table)

    # Small JSON documents (catalog entries, run records), written atomically.
    def write_json(self, relative: str, doc: Any) -> Path:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, json.dumps(doc, indent=2, sort_keys=True, default=str))
        return target

    def read_json(self, relative: str) -> Any:
        return json.loads((self.root / relative).read_text())

    def list_json(self, folder: str) -> list[Path]:
        base = self.root / folder
        return sorted(base.rglob("*.json")) if base.is_dir() else []


def atomic_write_text(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` so readers see the old or the new file, never a mix."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
