"""Reproducible archives: zips, pure-Python wheels and a relocatable virtualenv.

Entries are sorted and timestamps fixed, so the same files give the same bytes (and
hashes) on every build.

Example::

    write_zip(Path("dist/featurekit.zip"), bundle_entries([featurekit_dist()]))
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from featurekit.deploy.dists import Dist
from featurekit.errors import ConfigError

_EPOCH = (1980, 1, 1, 0, 0, 0)


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_zip(target: Path, entries: Iterable[tuple[str, bytes]]) -> Path:
    """Write a reproducible zip of (name, content) entries, in the order given."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in entries:
            archive.writestr(_zip_info(name), data)
    return target


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_wheel(dist: Dist, out: Path) -> Path:
    """Write ``dist`` as a pure-Python wheel into ``out``; returns its path."""
    info = f"{dist.name.replace('-', '_')}-{dist.version}.dist-info"
    entries = [e for e in dist.entries if not e[0].endswith("/RECORD")]
    record = [f"{name},{_record_hash(data)},{len(data)}" for name, data in entries]
    record.append(f"{info}/RECORD,,")
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    return write_zip(out / dist.wheel_name, entries)


def bundle_entries(dists: Sequence[Dist]) -> list[tuple[str, bytes]]:
    """Every distribution's files in one zip; two distributions may not ship one file."""
    owner: dict[str, str] = {}
    entries = []
    for dist in dists:
        for name, data in dist.entries:
            if name in owner and not name.endswith("__init__.py"):
                raise ConfigError(
                    f"{dist.name} and {owner[name]} both ship {name}; they cannot share one "
                    "--py-files zip. Remove one of them from the dependencies."
                )
            if name not in owner:
                owner[name] = dist.name
                entries.append((name, data))
    return sorted(entries)


def write_venv(target: Path, dists: Sequence[Dist], python: str) -> Path:
    """A relocatable virtualenv archive: ``bin/python`` is the image's own Python."""
    target.parent.mkdir(parents=True, exist_ok=True)
    site = f"lib/python{python}/site-packages"
    cfg = f"home = /usr/bin\ninclude-system-site-packages = false\nversion = {python}\n"
    with tarfile.open(target, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in [("pyvenv.cfg", cfg.encode()), *_site_entries(dists, site)]:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
        for link in ("python", "python3"):
            info = tarfile.TarInfo(f"bin/{link}")
            info.type, info.linkname, info.mode, info.mtime = (
                tarfile.SYMTYPE,
                "/usr/bin/python3",
                0o755,
                0,
            )
            tar.addfile(info)
    return target


def _site_entries(dists: Sequence[Dist], site: str) -> list[tuple[str, bytes]]:
    return [(f"{site}/{name}", data) for name, data in bundle_entries(dists)]
