"""Finding the files to check: .py/.pyi, minus excludes and .gitignore."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

import pathspec

from ftlint.config import ConfigError, Resolver, Settings

SUFFIXES = (".py", ".pyi")


@dataclass
class _Ignore:
    base: Path
    lines: tuple[str, ...]

    def __post_init__(self) -> None:
        self.spec = pathspec.GitIgnoreSpec.from_lines(self.lines)
        # The patterns without a slash (but at the end) match a name at any
        # depth, even outside ``base``; "/x.py" or "a/x.py" only from base.
        self.names = pathspec.GitIgnoreSpec.from_lines(
            [line for line in self.lines if "/" not in line.rstrip("/")])

    def for_root(self, top: Path) -> "_Ignore":
        """Drop the patterns that would exclude ``top`` itself: a directory
        the user names is checked even if it is excluded or git-ignored."""
        try:
            rel = top.relative_to(self.base)
        except ValueError:
            return self
        if rel == Path(".") or not self.spec.match_file(rel.as_posix() + "/x.py"):
            return self
        steps = [p.as_posix() + "/" for p in (rel, *rel.parents) if p != Path(".")]
        kept = tuple(line for line in self.lines
                     if not any(pathspec.GitIgnoreSpec.from_lines([line]).match_file(step)
                                or pathspec.GitIgnoreSpec.from_lines([line]).match_file(step + "x.py")
                                for step in steps))
        return _Ignore(self.base, kept)

    def matches(self, path: Path, is_dir: bool) -> bool:
        try:
            rel = path.relative_to(self.base).as_posix()
        except ValueError:
            return False
        if rel == ".":
            return False
        return self.spec.match_file(rel + "/" if is_dir else rel)


def _gitignore(directory: Path) -> Optional[_Ignore]:
    path = directory / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    # git skips a pattern it cannot read; so do we.
    return _Ignore(directory, tuple(line for line in lines if _valid(line)))


def _valid(pattern: str) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines([pattern])
    except ValueError:  # GitIgnorePatternError
        return False
    return True


def _parent_gitignores(directory: Path) -> list[_Ignore]:
    """.gitignore files above a walked root, up to the repository's top."""
    found = []
    for parent in directory.parents:
        ignore = _gitignore(parent)
        if ignore:
            found.append(ignore)
        if (parent / ".git").exists():
            break
    return found


def read_source(path: str) -> bytes:
    """A file's bytes. Only regular files are read: opening a FIFO or a device
    named ``x.py`` would block or never end, so it raises OSError instead."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        if os.path.islink(path):
            raise OSError(errno.ENOENT, "broken symbolic link") from None
        raise
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return f.read()


def _links_to_dir(path: Path) -> bool:
    try:
        return os.path.isdir(path)
    except OSError:  # a loop: reading it reports that
        return False


def discover(paths: Sequence[str], settings: Union[Settings, Resolver]) -> Iterator[Path]:
    """Yield files to check, in a stable order, each once.

    A path named explicitly is always checked, even if it is excluded (unless
    the command line drops it first, with ``--force-exclude``: see
    :func:`force_excluded`); the excludes apply to what is found while walking directories, each
    directory's entries by the settings of that directory (a sub-project's
    configuration excludes within its own tree, as in ruff). A named path
    that is missing, a dangling or looping link, or no regular file is still
    yielded: reading it reports the problem as that file's FT001, and the
    others are checked. Symbolic links to directories are not followed while
    walking (they could lead out of the tree, or in circles).
    """
    resolver = Resolver.of(settings)
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        found = _walk(path, resolver) if path.is_dir() else ((path, os.path.realpath(path)),)
        for file, key in found:
            if key not in seen:
                seen.add(key)
                yield file


def force_excluded(path: str, settings: Settings) -> bool:
    """``--force-exclude``: whether a path named on the command line is one a
    directory walk would skip, because it or a directory above it (inside the
    project of ``settings``, the path's own) matches ``exclude``/
    ``extend-exclude`` or, with ``respect-gitignore``, a ``.gitignore``.
    pre-commit names every file, so this is how its runs honour the excludes."""
    root = Path(os.path.realpath(settings.root))
    excludes = _excludes(settings)
    resolved = Path(os.path.realpath(path))
    if resolved == root:
        return False
    ignores = _parent_gitignores(resolved) if settings.respect_gitignore else []
    chain = [(Path(path).name or resolved.name, resolved, os.path.isdir(resolved))]
    for parent in resolved.parents:  # the walk never enters an excluded directory
        if parent == root or root not in parent.parents:
            break
        chain.append((parent.name, parent, True))
    for name, candidate, is_dir in chain:
        slash = "/" if is_dir else ""
        # Names like "build" match at any depth; anchored ones from the root.
        if excludes.names.match_file(name + slash) or excludes.matches(candidate, is_dir):
            return True
        if any(ig.matches(candidate, is_dir) for ig in ignores):
            return True
    return False


def _excludes(settings: Settings) -> _Ignore:
    patterns = settings.exclude + settings.extend_exclude
    bad = [p for p in patterns if not _valid(p)]
    if bad:
        where = f"{settings.config_path}: " if settings.config_path else ""
        raise ConfigError(f"{where}exclude: invalid gitignore-style pattern {bad[0]!r}")
    return _Ignore(Path(settings.root), patterns)


def _walk(top: Path, resolver: Resolver) -> Iterator[tuple[Path, str]]:
    """The files under ``top`` to check, each with its real path."""
    resolved_top = Path(os.path.realpath(top))
    # Read .gitignore files unless no file of the run respects them.
    gitignore = resolver.fixed is None or resolver.fixed.respect_gitignore
    ignores = [ig.for_root(resolved_top) for ig in _parent_gitignores(resolved_top)] if gitignore else []
    by_settings: dict[int, tuple[_Ignore, bool]] = {}

    def rules_of(real_directory: str) -> tuple[_Ignore, bool]:
        """The excludes of a directory's entries, and whether .gitignore counts."""
        settings = resolver.for_real_directory(real_directory)
        found = by_settings.get(id(settings))
        if found is None:
            found = (_excludes(settings).for_root(resolved_top), settings.respect_gitignore)
            by_settings[id(settings)] = found
        return found

    def excluded(path: Path, resolved: Path, is_dir: bool, active: list[_Ignore],
                 excludes: _Ignore, respect: bool) -> bool:
        # Names like "build" match at any depth; anchored ones from the root.
        if excludes.names.match_file(path.name + ("/" if is_dir else "")):
            return True
        if excludes.matches(resolved, is_dir):
            return True
        return respect and any(ig.matches(resolved, is_dir) for ig in active)

    def walk(directory: Path, active: list[_Ignore]) -> Iterator[tuple[Path, str]]:
        real = os.path.realpath(directory)
        if gitignore:
            own = _gitignore(Path(real))
            if own:
                active = active + [own]
        excludes, respect = rules_of(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                link = not is_dir and entry.is_symlink()
                if link and _links_to_dir(path):
                    continue  # a link to a directory: not followed
            except OSError:
                continue
            if not is_dir and not entry.name.endswith(SUFFIXES):
                continue
            # Inside a real directory, only a link's real path differs.
            resolved = os.path.realpath(path) if link else os.path.join(real, entry.name)
            if excluded(path, Path(resolved), is_dir, active, excludes, respect):
                continue
            if is_dir:
                yield from walk(path, active)
            else:
                yield path, resolved

    yield from walk(top, ignores)
