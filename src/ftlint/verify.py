"""``ftlint --fix --verify CMD``: keep only the fixes the user's command accepts.

ftlint never runs the user's code unless asked. With ``--verify CMD`` it runs
CMD (their tests) on the untouched tree, applies the fixes, and runs CMD
again. If it now fails, it looks for the files whose fixes break it and puts
exactly those back as they were:

1. The changed files, in order, are the suspects. The run with none of them
   applied passed (the run before fixing), the run with all of them failed.
2. Bisection finds the shortest prefix of the suspects whose fixes make CMD
   fail; its last file is a culprit (its fix turns a pass into a failure).
3. The culprit is reverted, and CMD runs with the other suspects' fixes. If it
   passes, that is the result; if not, step 2 runs again on the rest.

A failure that needs the fixes of two files together reverts the later of
them (the one whose fix turned the pass into a failure), which is enough. A
command that fails even with every fix reverted, though it passed before
fixing, is flaky or depends on something else: every fix is reverted and the
caller says so.

The functions here take the changes and two callables, one that runs the
command and one that writes a file, so they are tested without either.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from ftlint.fileio import real_roots, write_atomic

DEFAULT_TIMEOUT = 600.0
TAIL_LINES = 8


class VerifyError(Exception):
    """The fixes could not be verified; the message says why and what the
    files now hold."""


@dataclass(frozen=True)
class Change:
    """One file that ``--fix`` rewrote: its content before and after."""
    path: str
    original: bytes
    fixed: bytes


@dataclass(frozen=True)
class RunResult:
    """One run of the command. ``returncode`` is None when it did not start or
    was stopped (``problem`` says which)."""
    returncode: Optional[int]
    output: str = ""
    problem: str = ""

    @property
    def passed(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        if self.returncode is None:
            return self.problem or "did not run"
        if self.returncode < 0:
            try:
                return f"killed by {signal.Signals(-self.returncode).name}"
            except ValueError:
                return f"killed by signal {-self.returncode}"
        return f"exit {self.returncode}"

    def tail(self, lines: int = TAIL_LINES) -> list[str]:
        """The last lines of the output, without the trailing blank ones."""
        text = self.output.rstrip().splitlines()
        return [line.rstrip() for line in text[-lines:]]


Runner = Callable[[], RunResult]
# write(path, data, expected): replace the file's content with ``data`` if it
# still holds ``expected``; raise otherwise.
Writer = Callable[[str, bytes, bytes], None]


@dataclass
class Outcome:
    kept: list[Change]
    # each reverted file with the failing run that its fix started
    reverted: list[tuple[Change, RunResult]]
    # the run with every fix applied, and the last run, on the tree as left
    with_all: RunResult
    final: RunResult
    runs: int = 0

    @property
    def passed(self) -> bool:
        """Whether the command passes on the tree as left."""
        return self.final.passed


# -- running the command ------------------------------------------------------

def parse_command(command: str) -> list[str]:
    """The argument list of CMD, split like a POSIX shell would (no shell
    runs it). Raises ValueError for bad quoting or an empty command."""
    argv = shlex.split(command)
    if not argv:
        raise ValueError("the command is empty")
    return argv


def _stop(proc: subprocess.Popen) -> None:
    """End the command and whatever it started (its own process group)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass


def command_runner(command: str, timeout: Optional[float] = DEFAULT_TIMEOUT,
                   cwd: Optional[str] = None) -> Runner:
    """A runner for CMD: no shell, stdin closed, stdout and stderr together;
    stopped (with the processes it started) after ``timeout`` seconds."""
    argv = parse_command(command)

    def run() -> RunResult:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=os.name == "posix")
        except OSError as exc:
            return RunResult(None, problem=f"could not start {argv[0]!r}: {exc.strerror or exc}")
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            try:
                out, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:  # a grandchild that left the group
                out = b""
            return RunResult(None, out.decode("utf-8", "replace"),
                             problem=f"timed out after {timeout:g} s")
        except BaseException:  # Ctrl-C: do not leave the tests running
            _stop(proc)
            proc.wait()
            raise
        return RunResult(proc.returncode, out.decode("utf-8", "replace"))

    return run


def atomic_writer(paths: Sequence[str]) -> Writer:
    """Write files as ``--fix`` does, only inside the checked ``paths``."""
    roots = real_roots(paths)

    def write(path: str, data: bytes, expected: bytes) -> None:
        write_atomic(path, data, roots, expected=expected)

    return write


def read_originals(report) -> dict[str, bytes]:
    """The content of every file ``--fix`` may change (one with a finding),
    read before it does."""
    out = {}
    for file in report.files:
        if file.error or not any(not d.is_error for d in file.diagnostics):
            continue
        try:
            out[file.path] = Path(file.path).read_bytes()
        except OSError:
            pass  # the fixer cannot read it either, and leaves it alone
    return out


def has_fixable(report) -> bool:
    """Whether ``--fix`` may change anything (a file with a finding)."""
    return any(not file.error and any(not d.is_error for d in file.diagnostics)
               for file in report.files)


# -- bisection ----------------------------------------------------------------

@dataclass
class _Tree:
    changes: list[Change]
    run: Runner
    write: Writer
    on_run: Optional[Callable[[int, int], None]] = None
    applied: dict[str, bool] = field(default_factory=dict)
    runs: int = 0

    def __post_init__(self) -> None:
        self.applied = {c.path: True for c in self.changes}  # --fix wrote them all

    def set(self, wanted: set[str]) -> None:
        for c in self.changes:
            want = c.path in wanted
            if want == self.applied[c.path]:
                continue
            data, now = (c.fixed, c.original) if want else (c.original, c.fixed)
            try:
                self.write(c.path, data, now)
            except Exception as exc:  # noqa: BLE001 - refused or failed: say which file
                reason = getattr(exc, "strerror", None) or exc
                what = "re-apply its fixes" if want else "revert it"
                raise VerifyError(f"{c.path}: could not {what}: {reason}") from exc
            self.applied[c.path] = want

    def test(self, wanted: Iterable[str]) -> RunResult:
        wanted = set(wanted)
        self.set(wanted)
        self.runs += 1
        if self.on_run is not None:
            self.on_run(len(wanted), len(self.changes))
        return self.run()

    def restore_all(self) -> list[str]:
        """Put every file back as it was, as far as possible; the files that
        could not be."""
        left = []
        for c in self.changes:
            if not self.applied[c.path]:
                continue
            try:
                self.write(c.path, c.original, c.fixed)
                self.applied[c.path] = False
            except Exception:  # noqa: BLE001 - best effort, reported
                left.append(c.path)
        return left


def _culprit(tree: _Tree, suspects: list[str], failing: RunResult) -> tuple[int, RunResult]:
    """The index of the suspect whose fix turns a pass into a failure, and the
    failing run. The run with no suspect applied passes, the one with all of
    them fails (``failing``)."""
    lo, hi, why = 0, len(suspects), failing  # suspects[:lo] passes, suspects[:hi] fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        result = tree.test(suspects[:mid])
        if result.passed:
            lo = mid
        else:
            hi, why = mid, result
    return hi - 1, why


def verify_fixes(changes: Sequence[Change], run: Runner, write: Writer,
                 on_run: Optional[Callable[[int, int], None]] = None) -> Outcome:
    """Run the command on the fixed tree (``changes`` already written) and
    revert the files whose fixes make it fail; see the module docstring.

    ``on_run(applied, total)`` is called before each run. Raises VerifyError
    when a file cannot be written; every file is then put back as it was, as
    far as possible, and the message names those that could not be."""
    changes = list(changes)
    by_path = {c.path: c for c in changes}

    tree = _Tree(changes, run, write, on_run=on_run)
    suspects = [c.path for c in changes]
    try:
        with_all = tree.test(suspects)
        last = with_all
        reverted: list[tuple[Change, RunResult]] = []
        while suspects and not last.passed:
            index, why = _culprit(tree, suspects, last)
            reverted.append((by_path[suspects.pop(index)], why))
            last = tree.test(suspects)
    except BaseException as exc:
        left = tree.restore_all()
        if isinstance(exc, VerifyError):
            note = ("every file is back as it was" if not left else
                    "could not put back: " + ", ".join(left) + " (they hold ftlint's fixes)")
            raise VerifyError(f"{exc}; {note}") from exc.__cause__
        raise
    kept = [c for c in changes if c.path in suspects]
    return Outcome(kept, reverted, with_all, last, tree.runs)


# -- reporting ----------------------------------------------------------------

def _files(n: int) -> str:
    return f"{n} file{'s' if n != 1 else ''}"


def _indented(result: RunResult) -> list[str]:
    return [f"    | {line}" for line in result.tail()]


def baseline_failure(command: str, result: RunResult) -> str:
    lines = [f"the verify command `{command}` fails before any fix ({result.describe()}); "
             "nothing was changed"]
    lines += _indented(result)
    return "\n".join(lines)


def describe(outcome: Outcome, command: str) -> list[str]:
    """What was kept and reverted, and why: lines for stderr."""
    p = "ftlint: --verify:"
    total = len(outcome.kept) + len(outcome.reverted)
    if not outcome.reverted:
        return [f"{p} `{command}` passes with the fixes; kept all of them ({_files(total)})."]
    lines = [f"{p} `{command}` fails with the fixes ({outcome.with_all.describe()}); "
             f"bisected over {_files(total)} in {outcome.runs} runs."]
    for change, why in outcome.reverted:
        lines.append(f"{p} reverted {change.path}: the command fails with its fixes "
                     f"({why.describe()}):")
        lines += _indented(why)
    for change in outcome.kept:
        lines.append(f"{p} kept {change.path}")
    if outcome.passed:
        lines.append(f"{p} `{command}` passes with the fixes of {len(outcome.kept)} of "
                     f"{_files(total)} kept; {len(outcome.reverted)} reverted.")
    else:
        lines.append(f"{p} `{command}` still fails ({outcome.final.describe()}) with every fix "
                     "reverted, though it passed before fixing: it may be flaky or depend on "
                     "something else. Every fix was reverted; the files are as they were.")
    return lines
