"""The result cache: a file whose bytes, module name and per-file settings did
not change since the last run is not analysed again.

As in ruff, each entry holds one file's own result: its diagnostics before
the project pass, and the summary the project pass needs. The project pass
(reachability, start-up code, declared thread safety) always runs again, over
cached and fresh summaries alike, so a change in one file still changes what
is reported in another.

Layout: ``<cache dir>/<ftlint fingerprint>/<key>.bin``, where the key hashes
the file's path, its module name and the settings that change per-file
results, and the entry records the hash of the bytes it was computed from.
The fingerprint covers ftlint's version and its own installed files, libcst's
and the interpreter's version, so that an upgrade (or an edit of ftlint
itself) never serves an old answer.

Entries are written to a temporary file and renamed into place, so a reader
(another run at the same time) sees a whole entry or none. Each entry starts
with a checksum of its payload: a corrupt or foreign entry is ignored and
rebuilt. The payload is :mod:`marshal` data, the format of the interpreter's
own ``__pycache__``, with the same trust: it is read only from a directory
the user's own runs write to.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import marshal
import os
import sys
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Optional

from ftlint import __version__
from ftlint.config import Settings
from ftlint.diagnostics import Confidence, Diagnostic, Location
from ftlint.project import ModuleSummary

ENV_VAR = "FTLINT_CACHE_DIR"
DEFAULT_DIR = ".ftlint_cache"
_MAGIC = b"ftlint-cache-1\n"
_DIGEST = 32  # sha256
_SUMMARY_FIELDS = tuple(f.name for f in fields(ModuleSummary))


def cache_dir(settings: Settings, override: Optional[str] = None) -> Path:
    """Where the cache lives: ``--cache-dir``, then ``FTLINT_CACHE_DIR``, then
    ``cache-dir`` in the configuration (relative to its file), then
    ``.ftlint_cache`` in the project root (the configuration's directory, or
    the current directory)."""
    if override:
        return Path(override)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return Path(settings.root, settings.cache_dir or DEFAULT_DIR)


@functools.lru_cache(maxsize=None)
def fingerprint() -> str:
    """ftlint's version, a digest of its own files (so that an edited install
    never reuses old results), and the versions libcst and Python give."""
    digest = hashlib.sha256(f"{__version__}\0{sys.version}\0{sys.implementation.name}".encode())
    package = Path(__file__).parent
    spec = importlib.util.find_spec("libcst")  # found, not imported
    extra = [Path(spec.origin)] if spec is not None and spec.origin else []
    for path in sorted(package.rglob("*.py")) + extra:
        try:
            st = path.stat()
        except OSError:
            continue
        digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return f"{__version__}-{digest.hexdigest()[:16]}"


def settings_key(settings: Settings, codes: tuple[str, ...], fixes) -> str:
    """The settings that change one file's own result (the others act in
    the project pass, which is never cached)."""
    parts = (codes, settings.synchronizing_decorators, settings.max_file_size,
             settings.per_file_ignores, settings.root, repr(fixes))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def content_hash(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class Cache:
    """Per-file results under ``directory``. Each entry's key covers the
    settings of its file (files under different configurations get different
    keys): ``key_for`` makes it, once per set of settings; ``settings`` and
    ``codes`` give the default key, for a run with one set of settings."""

    def __init__(self, directory: Path, settings: Optional[Settings] = None,
                 codes: Optional[tuple[str, ...]] = None, fixes: bool = False,
                 marks: bool = False):
        # With ``fixes`` (JSON), entries hold the fixes of the findings at or
        # above ``min-confidence``: that is part of the key; with ``marks``
        # (text), whether those findings have a fix.
        self.fixes, self.marks = fixes, marks
        self.root = Path(directory)
        self.directory = self.root / fingerprint()
        self._keys: dict[Settings, str] = {}
        self.key = self.key_for(settings, codes) if settings is not None else None
        self.hits = self.misses = 0
        self._ready = False

    def key_for(self, settings: Settings, codes: Optional[tuple[str, ...]] = None) -> str:
        """The key part of the entries of files with these settings."""
        key = self._keys.get(settings)
        if key is None:
            if codes is None:
                from ftlint.results import enabled_rules

                codes = enabled_rules(settings)
            fixes = settings.min_confidence if self.fixes else False
            marks = settings.min_confidence if self.marks else False
            # Published in one step: the key is the same whoever computes it.
            key = self._keys.setdefault(settings, settings_key(
                settings, codes, (fixes, marks) if marks else fixes))
        return key

    def _entry(self, path: str, module: str, key: Optional[str] = None) -> Path:
        name = hashlib.sha256(f"{path}\0{module}\0{key or self.key}".encode()).hexdigest()[:40]
        return self.directory / f"{name}.bin"

    def get(self, path: str, module: str, digest: bytes, key: Optional[str] = None):
        """The cached result for these bytes (under settings ``key``), or None."""
        from ftlint.results import FileResult

        try:
            raw = self._entry(path, module, key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        try:
            payload = _unwrap(raw)
            stored, data = marshal.loads(payload)
            if stored != digest:
                raise ValueError("the file changed")
            result = _decode(path, data, FileResult)
        except Exception:  # noqa: BLE001 - corrupt, foreign or stale: rebuild it
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, path: str, module: str, digest: bytes, result,
            key: Optional[str] = None) -> None:
        """Store ``result``; a cache that cannot be written is no cache (the
        run goes on)."""
        if any(d.code == "FT000" for d in result.diagnostics):
            return  # ftlint's own failure: try again next time
        try:
            payload = marshal.dumps((digest, _encode(result)))
        except ValueError:  # a value marshal cannot hold: not cached
            return
        try:
            self._prepare()
            _write_atomic(self._entry(path, module, key), _wrap(payload))
        except OSError:
            pass

    def _prepare(self) -> None:
        if self._ready:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        ignore = self.root / ".gitignore"
        if not ignore.exists():
            _write_atomic(ignore, b"# Created by ftlint: its result cache.\n*\n")
        tag = self.root / "CACHEDIR.TAG"
        if not tag.exists():
            _write_atomic(tag, b"Signature: 8a477f597d28d172789f06886806bc55\n"
                               b"# This file marks ftlint's result cache; "
                               b"see https://bford.info/cachedir/\n")
        self._ready = True


def clean(directory: Path) -> bool:
    """Remove the cache directory; True if there was one."""
    import shutil

    if not directory.exists():
        return False
    if not (directory / "CACHEDIR.TAG").exists() and not (directory / ".gitignore").exists():
        raise OSError(f"{directory} does not look like an ftlint cache; not removed")
    shutil.rmtree(directory)
    return True


def _wrap(payload: bytes) -> bytes:
    return _MAGIC + hashlib.sha256(payload).digest() + payload


def _unwrap(raw: bytes) -> bytes:
    if not raw.startswith(_MAGIC):
        raise ValueError("not an ftlint cache entry")
    start = len(_MAGIC)
    payload = raw[start + _DIGEST:]
    if hashlib.sha256(payload).digest() != raw[start:start + _DIGEST]:
        raise ValueError("corrupt cache entry")
    return payload


def _write_atomic(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _encode(result) -> tuple:
    diagnostics = tuple(
        (d.code, d.name, d.message, d.start.row, d.start.column, d.end.row, d.end.column,
         int(d.confidence), d.reason, d.fix, d.is_error, d.extra, d.fix_pending)
        for d in result.diagnostics)
    summary = result.summary
    packed = None if summary is None else tuple(getattr(summary, f) for f in _SUMMARY_FIELDS)
    return (result.error, diagnostics, packed)


def _decode(path: str, data: tuple, file_result: type):
    error, diagnostics, packed = data
    found = [Diagnostic(path, code, name, message, Location(r1, c1), Location(r2, c2),
                        Confidence(confidence), reason, fix, is_error, extra, pending)
             for (code, name, message, r1, c1, r2, c2, confidence, reason, fix, is_error, extra,
                  pending) in diagnostics]
    summary = None if packed is None else ModuleSummary(**dict(zip(_SUMMARY_FIELDS, packed)))
    return file_result(path, found, bool(error), summary)

