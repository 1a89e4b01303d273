"""Writing files in place without ever leaving half of one behind.

``write_atomic`` writes a temporary file next to the target, then renames it
over the target, so a reader (or a crash) sees the old content or the new,
never half. It refuses, with :class:`WriteRefused`, to write a file

* whose real path lies outside the given roots (a link out of the tree),
* that is read-only (no write permission for its owner), not a regular file,
  or in a directory the rename cannot write,
* whose owner and group the new file could not keep,
* that changed since it was read (``expected``): another program (an editor,
  a second ftlint run) wrote it meanwhile, and its change must not be lost.

Temporary files are named ``.NAME.ftlint-PID-RANDOM.tmp``. One left behind by
a process that died (killed between writing it and the rename) is removed by
the next write of the same file; one of a live process never is, so two runs
at once do not trip over each other.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from typing import Iterable, Optional, Sequence

# Room for ".ftlint-PID-RANDOM.tmp" within the usual 255-byte name limit.
_NAME_ROOM = 200


class WriteRefused(Exception):
    """ftlint will not write this file; the message says why."""


def real_roots(paths: Iterable[str]) -> list[str]:
    """The real paths of the checked paths (the command line's PATHS)."""
    return [os.path.realpath(p) for p in paths]


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives
        return False


def _temp_prefix(name: str) -> str:
    return f".{name[:_NAME_ROOM]}.ftlint-{os.getpid()}-"


def _temp_pattern(name: str) -> "re.Pattern[str]":
    return re.compile(rf"\.{re.escape(name[:_NAME_ROOM])}\.ftlint-(\d+)-[A-Za-z0-9_]+\.tmp\Z")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` may still be running (when unsure: yes)."""
    if pid == os.getpid():
        return True
    if os.name != "posix" or pid <= 0:
        return True  # os.kill on Windows would end the process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def remove_stale_temps(target: str) -> list[str]:
    """Remove the temporary files that dead ftlint processes left next to
    ``target``; returns their paths."""
    directory, name = os.path.split(target)
    pattern = _temp_pattern(name)
    removed = []
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry)
        if match is None or _alive(int(match.group(1))):
            continue
        stale = os.path.join(directory, entry)
        try:
            os.unlink(stale)
            removed.append(stale)
        except OSError:
            pass
    return removed


def ensure_inside(path: str, roots: Optional[Sequence[str]]) -> str:
    """The real path of ``path``; raises WriteRefused if it lies outside
    ``roots`` (real paths; None: anywhere)."""
    target = os.path.realpath(path)
    if roots is not None and not any(_inside(target, root) for root in roots):
        if os.path.islink(path):
            raise WriteRefused(f"it is a link to {target}, outside the checked paths")
        raise WriteRefused(f"its real path {target} is outside the checked paths")
    return target


def _check(path: str, target: str, roots: Optional[Sequence[str]]) -> Optional[os.stat_result]:
    """Raise WriteRefused if ``target`` (the real path of ``path``) must not be
    written; return its stat, or None for a new file."""
    ensure_inside(path, roots)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise WriteRefused("it is not a regular file")
        # Mode bits, not os.access: root may write anything, but a file its
        # owner made read-only is not meant to be rewritten.
        if not st.st_mode & stat.S_IWUSR:
            raise WriteRefused("the file is read-only")
        if hasattr(os, "geteuid") and os.geteuid() != 0 and not os.access(target, os.W_OK):
            raise WriteRefused("the file is not writable by this user")
    directory = os.path.dirname(target) or "."
    if not os.access(directory, os.W_OK | os.X_OK):
        raise WriteRefused(f"its directory {directory} is not writable")
    return st


def _keep_owner(tmp: str, st: os.stat_result) -> None:
    if not hasattr(os, "chown"):
        return
    mine = os.stat(tmp)
    if (mine.st_uid, mine.st_gid) == (st.st_uid, st.st_gid):
        return
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except PermissionError:
        raise WriteRefused("its owner or group could not be kept (it belongs to another "
                           "user or group)") from None


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable (best effort; POSIX only)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unchanged(target: str, expected: bytes) -> bool:
    try:
        with open(target, "rb") as f:
            return f.read() == expected
    except OSError:
        return False


def write_atomic(path: str, data: bytes, roots: Optional[Sequence[str]] = None,
                 expected: Optional[bytes] = None) -> None:
    """Replace the content of ``path`` (through a symlink: the link stays a
    link), keeping its mode, owner and group; a new file gets mode 0644.
    Readers see the old content or the new, never half.

    ``roots`` (real paths, see :func:`real_roots`) limits where the real path
    may lie; None means anywhere. With ``expected`` (the content the new data
    was made from), the file is only replaced if it still holds exactly that.
    Raises WriteRefused when the file is not to be written (see the module
    docstring), OSError when writing fails; the file is unchanged in both
    cases."""
    target = os.path.realpath(path)
    st = _check(path, target, roots)
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o644
    directory = os.path.dirname(target) or "."
    remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=_temp_prefix(os.path.basename(target)),
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if st is not None:
            _keep_owner(tmp, st)
        os.chmod(tmp, mode)  # after chown, which may clear set-id bits
        if expected is not None and not _unchanged(target, expected):
            raise WriteRefused("the file changed while ftlint was working on it")
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _sync_directory(directory)
