"""Ask the package indexes pip is configured with which files a project has.

The Simple Repository API (PEP 503 HTML and PEP 691 JSON) is read with
pypi-simple over requests; both are imported only when this runs, so the rest
of ftlint does not need them. ``file://`` indexes, which pip accepts, are read
from disk and parsed by the same library.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

from packaging.utils import canonicalize_name

from ftlint import __version__
from ftlint.deps.model import DepsError

PYPI = "https://pypi.org/simple/"
PIP_CONFIG_TIMEOUT = 60.0
# pip's own precedence for `pip install`: the [install] section overrides
# [global], and PIP_* environment variables override both.
_SECTIONS = ("global", "install", ":env:")


@dataclass(frozen=True)
class IndexConfig:
    urls: tuple[str, ...]
    source: str  # where the URLs come from, for the report
    cert: Optional[str] = None  # pip's `cert`: a CA bundle for HTTPS

    def shown(self) -> list[str]:
        return [redact(url) for url in self.urls]


@dataclass(frozen=True)
class IndexFile:
    """One file a project page lists."""

    filename: str
    url: str
    requires_python: Optional[str]
    yanked: bool
    yanked_reason: Optional[str] = None


@dataclass
class ProjectFiles:
    name: str
    files: list[IndexFile] = field(default_factory=list)
    found_on: list[str] = field(default_factory=list)  # the indexes that know it
    errors: list[str] = field(default_factory=list)  # indexes that could not be read


def redact(url: str) -> str:
    """The URL without its password or token, as pip shows index URLs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    hidden = f"{user}:****" if ":" in userinfo else "****"
    return urlunsplit(parts._replace(netloc=f"{hidden}@{host}"))


def index_config(index_url: Optional[str], extra_urls: tuple[str, ...]) -> IndexConfig:
    """--index-url (with any --extra-index-url) replaces pip's configured
    indexes; otherwise ask pip for its configuration."""
    if index_url is not None:
        return IndexConfig((index_url, *extra_urls), "--index-url")
    values, where = _pip_config()
    base = values.get("index-url", "").split() or [PYPI]
    extra = values.get("extra-index-url", "").split()
    urls = tuple(dict.fromkeys([base[0], *extra, *extra_urls]))
    source = (where if "index-url" in values or extra
              else f"the default, PyPI: {where} names no index")
    return IndexConfig(urls, source, values.get("cert") or None)


def _pip_config() -> tuple[dict[str, str], str]:
    """pip's settings for `pip install` that concern the index, read by pip
    itself (`python -m pip config list`): its configuration files and PIP_*
    variables. Without pip, the PIP_* variables alone."""
    command = [sys.executable, "-m", "pip", "config", "list"]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=PIP_CONFIG_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DepsError(f"cannot run pip to read its configuration: {exc}") from None
    if proc.returncode != 0 and "No module named pip" in proc.stderr:
        keys = ("index-url", "extra-index-url", "cert")
        found = {key: os.environ[f"PIP_{key.upper().replace('-', '_')}"] for key in keys
                 if os.environ.get(f"PIP_{key.upper().replace('-', '_')}")}
        return found, "the PIP_* variables (pip is not installed with ftlint)"
    if proc.returncode != 0:
        message = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise DepsError(f"pip could not read its configuration: {message[0]}")
    ranked: dict[str, tuple[int, str]] = {}
    for line in proc.stdout.splitlines():
        key, sep, raw = line.partition("=")
        section, _, name = key.rpartition(".")
        if not sep or section not in _SECTIONS:
            continue
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw.strip("'\"")
        rank = _SECTIONS.index(section)
        if name not in ranked or rank >= ranked[name][0]:
            ranked[name] = (rank, str(value))
    return {name: value for name, (_, value) in ranked.items()}, "pip's configuration"


def load_client() -> Any:
    """The pypi_simple module, or a usage error saying how to install it."""
    try:
        import pypi_simple
    except ImportError:
        raise DepsError("--available needs the pypi-simple package: "
                        "pip install 'ftlint[index]'") from None
    return pypi_simple


def project_files(name: str, config: IndexConfig, timeout: float) -> ProjectFiles:
    """The files of project ``name`` on every configured index (pip merges
    them all, whichever index lists a file)."""
    import requests

    pypi_simple = load_client()
    result = ProjectFiles(name)
    bad_json = getattr(requests.exceptions, "InvalidJSONError", ())  # requests >= 2.27
    with requests.Session() as session:
        agent = f"ftlint/{__version__} pypi-simple/{pypi_simple.__version__}"
        session.headers["User-Agent"] = agent
        if config.cert:
            session.verify = config.cert
        for url in config.urls:
            try:
                page = _project_page(pypi_simple, session, url, name, timeout)
            except pypi_simple.NoSuchProjectError:
                continue
            except bad_json as exc:
                result.errors.append(_unreadable(url, exc))
                continue
            except requests.Timeout:
                result.errors.append(f"{redact(url)} did not answer within {timeout:g} s")
                continue
            except (requests.RequestException, OSError) as exc:
                result.errors.append(f"cannot read {redact(url)}: {_reason(exc)}")
                continue
            except Exception as exc:  # a malformed page: invalid JSON, HTML, a bad field
                result.errors.append(_unreadable(url, exc))
                continue
            if page is None:
                continue
            result.found_on.append(redact(url))
            for pkg in page.packages:
                result.files.append(IndexFile(pkg.filename, pkg.url, pkg.requires_python,
                                              bool(pkg.is_yanked), pkg.yanked_reason))
    return result


def _project_page(pypi_simple: Any, session: Any, index: str, name: str,
                  timeout: float) -> Any:
    if not index.startswith("file:"):
        client = pypi_simple.PyPISimple(endpoint=index, session=session)
        return client.get_project_page(name, timeout=timeout)
    # pip reads a file: index's project page from <dir>/<project>/index.html.
    directory = Path(url2pathname(unquote(urlsplit(index).path)))
    page = directory / canonicalize_name(name) / "index.html"
    try:
        html = page.read_bytes()
    except FileNotFoundError:
        return None
    return pypi_simple.ProjectPage.from_html(name, html, base_url=page.as_uri())


def _unreadable(url: str, exc: Exception) -> str:
    return (f"{redact(url)} answered with a page ftlint cannot read "
            f"({type(exc).__name__}: {_first_line(exc)})")


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        return f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    text = str(exc)
    # requests nests urllib3's reason: keep the last, most specific part.
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker)[-1]
    return _first_line(text).strip("()'\" ") or type(exc).__name__


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""
