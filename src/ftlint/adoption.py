"""Gradual adoption: ``--add-noqa`` and ``--baseline``.

Both let a big codebase turn ftlint on today and hold new code to it, while
the findings already there are worked through later:

* ``add_noqa`` writes ``# noqa: FTxxx`` on every reported line, merging with
  the codes of a ``# noqa: ...`` comment already there. Comments and strings
  are found with :mod:`tokenize`, so a ``#`` inside a string is never taken
  for a comment and no comment is ever written into a multi-line string.
  Encoding, BOM and line endings are kept; files are replaced atomically,
  and never outside the checked paths or when read-only (see ``fileio``).
* A baseline file records the current findings by fingerprint: a hash of the
  code, the enclosing function's qualified name and the reported line's text
  without whitespace. Findings that match it are hidden, so the match
  survives lines inserted or removed above them; a finding is matched at most
  as many times as the baseline holds it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tokenize
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from ftlint.config import ConfigError
from ftlint.diagnostics import Diagnostic
from ftlint.fileio import WriteRefused, ensure_inside, real_roots, write_atomic
from ftlint.noqa import NOQA_INLINE
from ftlint.faults import inject

if TYPE_CHECKING:
    from ftlint.results import Report

BASELINE_VERSION = 1

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_ENDING = re.compile(r"(\r\n|\r|\n)$")
_SEP = re.compile(r"[,\s]+")


class AdoptionError(ConfigError):
    """A baseline that cannot be read or written, or a file that cannot be rewritten."""


# -- reading sources ----------------------------------------------------------------------


@dataclass
class _Source:
    encoding: str  # "utf-8-sig" when the file starts with a BOM
    lines: list[str]  # with their own line endings
    data: bytes = b""  # the file as read


def _read(path: str) -> _Source:
    data = Path(path).read_bytes()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    # Split on \r\n, \r and \n only, as the tokenizer and the parser count rows
    # (str.splitlines would also split on form feeds and other separators).
    return _Source(encoding, _LINE.findall(text), data)


def split_lines(text: str) -> list[str]:
    return _LINE.findall(text)


# -- --add-noqa ---------------------------------------------------------------------------


@dataclass
class Skipped:
    diagnostic: Diagnostic
    reason: str


@dataclass
class NoqaResult:
    added: int = 0  # codes written
    files: int = 0  # files changed
    skipped: list[Skipped] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # path -> why it was not written


@dataclass
class _LineInfo:
    comment: dict[int, tuple[int, str]]  # row -> (column, comment text)
    unsafe: dict[int, str]  # row -> why no comment can go at its end


def _scan(lines: list[str]) -> _LineInfo:
    """Comments, and the rows whose end is inside a string or continued."""
    info = _LineInfo({}, {})
    fstring_start = {getattr(tokenize, n) for n in ("FSTRING_START", "TSTRING_START")
                     if hasattr(tokenize, n)}
    fstring_end = {getattr(tokenize, n) for n in ("FSTRING_END", "TSTRING_END")
                   if hasattr(tokenize, n)}
    opened: list[int] = []
    tokens = tokenize.generate_tokens(iter(lines).__next__)
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            info.comment[tok.start[0]] = (tok.start[1], tok.string)
        elif tok.type in fstring_start:
            opened.append(tok.start[0])
        elif tok.type in fstring_end and opened:
            _mark_string(info, opened.pop(), tok.end[0])
        elif tok.type == tokenize.STRING:
            _mark_string(info, tok.start[0], tok.end[0])
    for row, line in enumerate(lines, 1):
        if row not in info.comment and line.rstrip("\r\n").endswith("\\"):
            info.unsafe.setdefault(row, "the line ends with a backslash continuation")
    return info


def _mark_string(info: _LineInfo, first: int, last: int) -> None:
    for row in range(first, last):
        info.unsafe.setdefault(row, "the line is inside a multi-line string")


def _merge(comment: str, codes: list[str]) -> Optional[str]:
    """The comment with ``codes`` added to its ``# noqa``, or None to leave it."""
    match = NOQA_INLINE.search(comment)
    if match is None:
        return f"{comment}  # noqa: {', '.join(codes)}"
    if match.group("codes") is None:
        return None  # a bare "# noqa" already suppresses everything
    existing = [c for c in _SEP.split(match.group("codes")) if c]
    known = {c.upper() for c in existing}
    new = [c for c in codes if c.upper() not in known]
    if not new:
        return None
    merged = f"{comment[:match.start()]}# noqa: {', '.join(existing + new)}"
    rest = comment[match.end():]  # an explanation after the codes stays
    return merged + (" " if rest and not rest[0].isspace() else "") + rest


def add_noqa_to_file(path: str, by_row: dict[int, list[Diagnostic]], result: NoqaResult,
                     roots: Optional[Sequence[str]] = None) -> None:
    inject("noqa", path)
    try:
        source = _read(path)
        info = _scan(source.lines)
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError, tokenize.TokenError) as exc:
        for diagnostics in by_row.values():
            result.skipped.extend(Skipped(d, f"the file could not be read: {exc}")
                                  for d in diagnostics)
        return
    lines = list(source.lines)
    added = 0
    for row, diagnostics in sorted(by_row.items()):
        if not 0 < row <= len(lines) or row in info.unsafe:
            reason = info.unsafe.get(row, "the line does not exist")
            result.skipped.extend(Skipped(d, reason) for d in diagnostics)
            continue
        codes = sorted({d.code for d in diagnostics})
        line = lines[row - 1]
        ending_match = _ENDING.search(line)
        ending = ending_match.group(1) if ending_match else ""
        body = line[:len(line) - len(ending)]
        column = info.comment[row][0] if row in info.comment else len(body)
        shadow = NOQA_INLINE.search(body, 0, column)
        if shadow is not None:  # "# noqa" in a string: the first match is what counts
            result.skipped.extend(Skipped(d, "a string on the line contains '# noqa'")
                                  for d in diagnostics)
            continue
        if row in info.comment:
            column, comment = info.comment[row]
            merged = _merge(comment, codes)
            if merged is None:
                continue
            before = body[:column]
            after = body[column + len(comment):]
            lines[row - 1] = before + merged + after + ending
            added += len(codes) - _count_present(comment, codes)
        else:
            lines[row - 1] = f"{body.rstrip()}  # noqa: {', '.join(codes)}{ending}"
            added += len(codes)
    if added:
        try:
            write_atomic(path, "".join(lines).encode(source.encoding), roots, expected=source.data)
        except WriteRefused as exc:
            result.refused[path] = f"left unchanged: {exc}"
            return
        except OSError as exc:
            result.refused[path] = f"cannot write: {exc.strerror or exc}"
            return
        result.added += added
        result.files += 1


def _count_present(comment: str, codes: list[str]) -> int:
    match = NOQA_INLINE.search(comment)
    if match is None or match.group("codes") is None:
        return 0
    present = {c.upper() for c in _SEP.split(match.group("codes")) if c}
    return sum(1 for c in codes if c.upper() in present)


def add_noqa(diagnostics: Iterable[Diagnostic], roots: Optional[Sequence[str]] = None) -> NoqaResult:
    """Suppress every finding in ``diagnostics`` on its reported line; write
    no file whose real path lies outside ``roots`` (real paths), if given."""
    grouped: dict[str, dict[int, list[Diagnostic]]] = {}
    for d in diagnostics:
        if not d.is_error:
            grouped.setdefault(d.path, {}).setdefault(d.start.row, []).append(d)
    result = NoqaResult()
    for path, by_row in sorted(grouped.items()):
        try:
            add_noqa_to_file(path, by_row, result, roots)
        except Exception as exc:  # noqa: BLE001 - one file never ends a run
            result.refused[path] = (f"internal error, left unchanged: "
                                    f"{type(exc).__name__}: {exc}")
    return result


# -- --baseline ---------------------------------------------------------------------------


def _relative(path: str, root: str) -> str:
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return Path(path).as_posix()


def fingerprint(code: str, function: Optional[str], line_text: str) -> str:
    """Stable across line shifts and re-indentation."""
    compact = "".join(line_text.split())
    key = "\0".join((code, function or "", compact))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _line(files: dict[str, list[str]], path: str, row: int) -> str:
    if path not in files:
        try:
            files[path] = _read(path).lines
        except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
            files[path] = []
    lines = files[path]
    return lines[row - 1] if 0 < row <= len(lines) else ""


def _entries(diagnostics: Iterable[Diagnostic], root: str) -> list[tuple[Diagnostic, dict]]:
    files: dict[str, list[str]] = {}  # path -> lines, read once
    out = []
    for d in diagnostics:
        if d.is_error:
            continue
        entry = {
            "path": _relative(d.path, root),
            "code": d.code,
            "fingerprint": fingerprint(d.code, d.extra.get("function"),
                                       _line(files, d.path, d.start.row)),
            "line": d.start.row,
        }
        if d.extra.get("function"):
            entry["function"] = d.extra["function"]
        out.append((d, entry))
    return out


def write_baseline(file: str, diagnostics: Iterable[Diagnostic], root: str,
                   roots: Optional[Sequence[str]] = None) -> int:
    """Record ``diagnostics``; raises WriteRefused when ``file``'s real path
    lies outside ``roots`` (real paths), if given."""
    entries = [e for _, e in _entries(diagnostics, root)]
    entries.sort(key=lambda e: (e["path"], e["line"], e["code"]))
    data = {"version": BASELINE_VERSION, "findings": entries}
    text = json.dumps(data, indent=2) + "\n"
    ensure_inside(file, roots)  # before any directory is made
    try:
        directory = os.path.dirname(os.path.abspath(file))
        os.makedirs(directory, exist_ok=True)
        write_atomic(file, text.encode("utf-8"), roots)
    except OSError as exc:
        raise AdoptionError(f"{file}: cannot write the baseline: {exc.strerror or exc}") from None
    return len(entries)


def read_baseline(file: str) -> Counter:
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AdoptionError(f"{file}: cannot read the baseline: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise AdoptionError(f"{file}: not a baseline file: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION \
            or not isinstance(data.get("findings"), list):
        raise AdoptionError(f"{file}: not a baseline file of version {BASELINE_VERSION}; "
                            "delete it and run again to record a new one")
    counts: Counter = Counter()
    for entry in data["findings"]:
        try:
            counts[(entry["path"], entry["fingerprint"])] += 1
        except (KeyError, TypeError):
            raise AdoptionError(f"{file}: malformed baseline entry: {entry!r}") from None
    return counts


def filter_baseline(diagnostics: Iterable[Diagnostic], baseline: Counter,
                    root: str) -> tuple[list[Diagnostic], int]:
    """The findings not in the baseline, and how many were hidden."""
    remaining: list[Diagnostic] = []
    left = Counter(baseline)
    hidden = 0
    errors = [d for d in diagnostics if d.is_error]
    ordered = sorted((d for d in diagnostics if not d.is_error), key=Diagnostic.sort_key)
    for d, entry in _entries(ordered, root):
        key = (entry["path"], entry["fingerprint"])
        if left[key] > 0:
            left[key] -= 1
            hidden += 1
        else:
            remaining.append(d)
    return errors + remaining, hidden


# -- the check command's part ---------------------------------------------------------------


def _keep(report: "Report", keep: set[int]) -> "Report":
    """A copy of ``report`` with only the diagnostics whose id is in ``keep``."""
    from ftlint.results import Report

    return Report([replace(f, diagnostics=[d for d in f.diagnostics if id(d) in keep])
                   for f in report.files])


def adopt(report: "Report", root: str, add: bool, baseline: Optional[str],
          echo, roots: Optional[Sequence[str]] = None) -> "Report":
    """Run ``--add-noqa`` and/or ``--baseline`` on a finished report; returns
    what is left to show. ``echo`` prints one status line (to stderr).

    With ``roots`` (the checked PATHS), no file whose real path lies outside
    them is written; the baseline may also lie in the project ``root``."""
    diagnostics = report.diagnostics
    allowed = real_roots(roots) if roots is not None else None
    if baseline is not None:
        if os.path.exists(baseline):
            counts = read_baseline(baseline)
            diagnostics, hidden = filter_baseline(diagnostics, counts, root)
            if hidden:
                s = "" if hidden == 1 else "s"
                echo(f"{hidden} finding{s} hidden by the baseline {baseline}.")
        else:
            try:
                recorded = write_baseline(baseline, diagnostics, root,
                                          allowed + real_roots([root]) if allowed is not None else None)
            except WriteRefused as exc:  # the findings stay reported
                echo(f"ftlint: {baseline}: baseline not written: {exc}")
            else:
                s = "" if recorded == 1 else "s"
                echo(f"Recorded {recorded} finding{s} in the new baseline {baseline}; "
                     "later runs report only findings not in it.")
                diagnostics = [d for d in diagnostics if d.is_error]
    if add:
        result = add_noqa(diagnostics, allowed)
        s = "" if result.added == 1 else "s"
        fs = "" if result.files == 1 else "s"
        echo(f"Added {result.added} noqa comment{s} in {result.files} file{fs}.")
        skipped = {id(s.diagnostic) for s in result.skipped}
        for item in result.skipped:
            d = item.diagnostic
            echo(f"{d.path}:{d.start.row}: {d.code} not suppressed: {item.reason}.")
        for path, why in result.refused.items():  # its findings stay reported
            echo(f"ftlint: {path}: {why}")
        diagnostics = [d for d in diagnostics
                       if d.is_error or id(d) in skipped or d.path in result.refused]
    return _keep(report, {id(d) for d in diagnostics})
