"""Where the featurekit a new project depends on comes from.

featurekit is on no package index (and the name is not ours there: ``featurekit>=0.1``
would install nothing, or a stranger's code), so a project names its featurekit with a
direct reference, ``featurekit @ URL``. :func:`featurekit_url` finds the URL:

1. ``--featurekit-source PATH_OR_URL``: a featurekit checkout, a wheel file, or a URL pip
   installs (``git+https://HOST/ORG/featurekit.git@v0.1.0``, ``https://.../x.whl``);
2. else the featurekit running ``featurekit init``: the checkout it runs from (an
   editable install, or ``src/`` on ``PYTHONPATH``), else where pip installed it from, as
   pip recorded it in the distribution's ``direct_url.json`` (PEP 610: a folder, a wheel
   file, a VCS commit).

Anything else (an install from an index, a folder or wheel since removed) is a
ConfigError asking for ``--featurekit-source``.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import re
from pathlib import Path
from typing import Any, Optional
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from featurekit.errors import ConfigError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_NAME = re.compile(r'^name\s*=\s*["\']featurekit["\']\s*$', re.MULTILINE)
OPTION = "--featurekit-source"


def is_checkout(folder: Path) -> bool:
    """True when ``folder`` holds featurekit's source: its pyproject.toml and src/featurekit."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file() or not (folder / "src" / "featurekit" / "__init__.py").is_file():
        return False
    return bool(_NAME.search(pyproject.read_text(errors="replace")))


def _from_option(source: str) -> str:
    if _URL.match(source):
        return source
    path = Path(source).expanduser().resolve()
    if path.is_dir():
        if not is_checkout(path):
            raise ConfigError(
                f"{OPTION} {source}: {path} is not a featurekit checkout (no pyproject.toml "
                "naming featurekit beside src/featurekit). Pass the folder of your clone."
            )
        return path.as_uri()
    if path.is_file():
        if not (path.name.startswith("featurekit-") and path.suffix == ".whl"):
            raise ConfigError(
                f"{OPTION} {source}: a file must be a featurekit wheel "
                "(featurekit-VERSION-py3-none-any.whl)."
            )
        return path.as_uri()
    raise ConfigError(
        f"{OPTION} {source}: no such folder or file. Pass a featurekit clone, a wheel file "
        "or a URL pip installs (git+https://..., https://.../featurekit-0.1.0-py3-none-any.whl)."
    )


def _running() -> Path:
    import featurekit

    return Path(featurekit.__file__).resolve()


def _running_checkout() -> Optional[Path]:
    """The checkout the running featurekit's modules come from, if they do."""
    package = _running().parent
    root = package.parent.parent
    if package.parent.name == "src" and is_checkout(root):
        return root
    return None


def _file_exists(url: str) -> bool:
    parsed = urlparse(url)
    return Path(url2pathname(unquote(parsed.path))).exists()


def _recorded_url(direct: dict[str, Any]) -> Optional[str]:
    """The URL pip would install the same featurekit from, read off direct_url.json."""
    url = direct.get("url")
    if not isinstance(url, str):
        return None
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") and vcs.get("commit_id"):
        return f"{vcs['vcs']}+{url}@{vcs['commit_id']}"
    if url.startswith("file:") and not _file_exists(url):
        return None
    return url


def _installed_from() -> tuple[Optional[str], str]:
    """(URL, why not) for the installed featurekit distribution."""
    try:
        dist = metadata.distribution("featurekit")
    except metadata.PackageNotFoundError:
        return None, "no featurekit distribution is installed"
    located = Path(str(dist.locate_file("featurekit/__init__.py"))).resolve()
    if located != _running():
        return None, f"the installed featurekit distribution holds {located}, not this one"
    text = dist.read_text("direct_url.json")
    if not text:
        return None, "pip installed it from a package index, which has no featurekit of ours"
    try:
        direct = json.loads(text)
    except ValueError:
        direct = None
    if not isinstance(direct, dict):
        return None, "its direct_url.json cannot be read"
    url = _recorded_url(direct)
    if url is None:
        return None, f"pip installed it from {direct.get('url')}, which is gone"
    return url, ""


def featurekit_url(source: Optional[str] = None) -> str:
    """The URL a project's ``featurekit @ URL`` dependency names (see the module doc)."""
    if source:
        return _from_option(source)
    checkout = _running_checkout()
    if checkout is not None:
        return checkout.as_uri()
    url, why = _installed_from()
    if url is not None:
        return url
    raise ConfigError(
        f"Cannot tell where this featurekit ({_running().parent}) was installed from: {why}. "
        f"featurekit is on no package index, so the project must name its source: pass "
        f"{OPTION} with a featurekit clone, a wheel file or a URL pip installs "
        "(e.g. git+https://HOST/ORG/featurekit.git@v0.1.0)."
    )
