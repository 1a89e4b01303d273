"""What every program must survive: check, fix, fix with unsafe fixes.

``check_program(source)`` runs the whole pipeline and returns the failures:

* ``crash``: an exception escaped, or ftlint reported its own failure (FT000);
* ``bad position``: a finding points outside the file, or ends before it starts;
* ``not idempotent`` / ``does not compile``: the fixer refused its own output
  for that reason (every such refusal is a bug in a fix: a fix that cannot be
  done safely must be declined with a reason, not produced and thrown away);
* ``refused``: any other refusal of a fix (does not parse, did not remove
  the finding, could not be applied, cannot be checked);
* ``broken output``: a fix changed the code, and the result does not compile
  or does not parse;
* ``fix again``: fixing the fixed code changed it again;
* ``lost comment``: a comment of the source is not in the fixed code (a fix
  that would drop one is declined).

Refusals inside the follow-up passes (which the fixer drops silently) are
counted too, by watching the fixer's own verification.
"""

from __future__ import annotations

import contextlib
import re
import traceback
from collections import Counter
from dataclasses import dataclass
from typing import Iterator, Optional

import libcst as cst

from ftlint.api import lint_source
from ftlint.config import Settings
from ftlint.diagnostics import INTERNAL_ERROR, Confidence
from ftlint.fixes import fixer
from ftlint.rules import ALL_RULES

ALL = sorted(ALL_RULES)
KINDS = ("crash", "bad position", "not idempotent", "does not compile", "refused",
         "broken output", "fix again", "lost comment")
_LINES = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Failure:
    kind: str  # one of KINDS
    stage: str  # "check", "fix", "fix --unsafe-fixes", ...
    detail: str

    @property
    def signature(self) -> tuple[str, str, str]:
        """What a smaller reproducer must still show."""
        head = self.detail.splitlines()[0] if self.detail else ""
        return self.kind, self.stage, head.split(":")[0] if self.kind == "crash" else ""


def refusal_kind(reason: str) -> str:
    if "not idempotent" in reason:
        return "not idempotent"
    if "does not compile" in reason:
        return "does not compile"
    return "refused"


@contextlib.contextmanager
def _watching_verify() -> Iterator[list[str]]:
    """The reasons the fixer's proof rejected a pass, follow-up passes included."""
    reasons: list[str] = []
    original = fixer._verify

    def verify(*args, **kwargs):
        why = original(*args, **kwargs)
        if why is not None:
            reasons.append(why)
        return why

    fixer._verify = verify
    try:
        yield reasons
    finally:
        fixer._verify = original


def _compiles(source) -> bool:
    try:
        compile(source, "<fuzz>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _parses(source) -> bool:
    try:
        cst.parse_module(source)
    except Exception:  # noqa: BLE001 - anything libcst cannot take is skipped
        return False
    return True


def _comments(source) -> Counter:
    module = cst.parse_module(source)
    found: Counter = Counter()

    class Visitor(cst.CSTVisitor):
        def visit_Comment(self, node: cst.Comment) -> None:
            found[node.value] += 1

    module.visit(Visitor())
    return found


def _crash(stage: str, exc: BaseException) -> Failure:
    tb = traceback.extract_tb(exc.__traceback__)
    where = next((f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(tb)
                  if "ftlint" in f.filename), "")
    return Failure("crash", stage, f"{type(exc).__name__}: {exc} [{where}]")


def _check(source: str) -> list[Failure]:
    try:
        result = lint_source(source, "fuzz.py", Settings(min_confidence=Confidence.LOW), codes=ALL)
    except Exception as exc:  # noqa: BLE001 - the failure we look for
        return [_crash("check", exc)]
    failures = []
    lines = _LINES.split(source)
    for d in result.diagnostics:
        if d.code == INTERNAL_ERROR[0]:
            trace = d.extra.get("traceback", "")
            where = re.findall(r'File ".*?([a-z_0-9]+\.py)", line (\d+), in (\w+)', trace)
            at = f" [{where[-1][0]}:{where[-1][1]} {where[-1][2]}]" if where else ""
            failures.append(Failure("crash", "check", d.message.replace("internal error: ", "") + at))
            continue
        if d.is_error:
            continue
        ok = (1 <= d.start.row <= len(lines) and 1 <= d.end.row <= len(lines)
              and 1 <= d.start.column <= len(lines[d.start.row - 1]) + 1
              and 1 <= d.end.column <= len(lines[d.end.row - 1]) + 1
              and (d.start.row, d.start.column) <= (d.end.row, d.end.column))
        if not ok:
            failures.append(Failure("bad position", "check",
                                    f"{d.code} at {d.start.row}:{d.start.column}-"
                                    f"{d.end.row}:{d.end.column} in {len(lines)} lines"))
    return failures


def _fix(source, stage: str, unsafe: bool, settings: Settings) -> list[Failure]:
    compiles = _compiles(source)
    with _watching_verify() as reasons:
        try:
            result = fixer.fix_source(source, "fuzz.py", settings, unsafe, codes=ALL)
        except Exception as exc:  # noqa: BLE001 - the failure we look for
            return [_crash(stage, exc)]
    failures = [Failure(refusal_kind(why), stage, why) for why in dict.fromkeys(reasons)]
    if result.error is not None and not reasons:
        failures.append(Failure(refusal_kind(result.error), stage, result.error))
    new = result.new_source
    if new == source:
        return failures
    if (compiles and not _compiles(new)) or not _parses(new):
        failures.append(Failure("broken output", stage, "the written code does not compile or parse"))
        return failures
    lost = _comments(source) - _comments(new)
    if lost:
        failures.append(Failure("lost comment", stage, f"{sorted(lost)[0]!r} is gone"))
    try:
        again = fixer.fix_source(new, "fuzz.py", settings, unsafe, codes=ALL)
    except Exception as exc:  # noqa: BLE001
        return failures + [_crash(stage + " (again)", exc)]
    if again.new_source != new:
        failures.append(Failure("fix again", stage, "a second run changed the fixed code"))
    return failures


def check_program(source: str) -> Optional[list[Failure]]:
    """The failures of ``source``; None if libcst cannot parse it (skipped)."""
    if not _parses(source):
        return None
    settings = Settings(min_confidence=Confidence.LOW)  # every finding, every fix
    failures = _check(source)
    failures += _fix(source, "fix", False, settings)
    failures += _fix(source.encode("utf-8"), "fix --unsafe-fixes", True, settings)
    return failures


def minimise(source: str, wanted: tuple, budget: int = 400) -> str:
    """A smaller ``source`` that still fails with signature ``wanted``: drop
    runs of lines, then single lines, while the program still parses."""
    def fails(candidate: str) -> bool:
        found = check_program(candidate)
        return bool(found) and any(f.signature == wanted for f in found)

    lines = source.splitlines(keepends=True)
    runs = 0
    size = max(len(lines) // 2, 1)
    while size >= 1 and runs < budget:
        start, shrunk = 0, False
        while start < len(lines) and runs < budget:
            candidate = lines[:start] + lines[start + size:]
            runs += 1
            if candidate and fails("".join(candidate)):
                lines, shrunk = candidate, True
            else:
                start += size
        if not shrunk:
            size //= 2
    return "".join(lines)


__all__ = ["ALL", "Failure", "KINDS", "check_program", "minimise", "refusal_kind"]
