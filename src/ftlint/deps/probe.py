"""The runtime probe: import each distribution's extension modules in a fresh
free-threaded process and watch whether the GIL comes back on.

Importing runs the modules' code, which is why ``--no-import`` exists.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from ftlint.deps.model import Distribution, Interpreter, ProbeOutcome

PROBE_SCRIPT = Path(__file__).with_name("_target_probe.py")
_PROGRESS = "ftlint-probe: importing "


def why_not(interpreter: Interpreter, no_import: bool) -> Optional[str]:
    """None when the probe can run, else the reason it cannot."""
    if no_import:
        return "--no-import was given; verdicts rest on wheel tags and classifiers"
    if not interpreter.free_threaded:
        return (f"{interpreter.executable} is not a free-threaded build (Py_GIL_DISABLED is "
                "not set), so an import cannot show whether a module would re-enable the GIL; "
                "verdicts rest on wheel tags and classifiers")
    if interpreter.gil_enabled:
        return ("the GIL is already enabled when this interpreter starts (a .pth file or "
                "sitecustomize imports a module that needs it), so imports prove nothing; "
                "verdicts rest on wheel tags and classifiers")
    return None


def probe_environment() -> dict[str, str]:
    # PYTHON_GIL=0 would keep the GIL off whatever a module declares, so the
    # probe would always pass. -I ignores it already; dropping it is a second
    # guard in case the interpreter is a wrapper script that re-executes.
    return {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}


def probe_targets(dists: Sequence[Distribution]) -> list[Distribution]:
    """The distributions the probe imports: those with extension modules."""
    return [d for d in dists if d.extension_modules and d.error is None]


def announcement(interpreter: Interpreter, targets: Sequence[Distribution]) -> str:
    """The one line said before anything from the environment runs."""
    count = len(targets)
    names = ", ".join(d.name for d in targets)
    return (f"ftlint deps: about to import the extension modules of {count} "
            f"distribution{'' if count == 1 else 's'} ({names}) in child processes of "
            f"{interpreter.executable}, started normally (its .pth files and "
            "sitecustomize run too): this runs their code; --no-import avoids it")


def gil_at_start(executable: str, timeout: float) -> tuple[Optional[bool], Optional[str]]:
    """Whether the GIL is on once the interpreter has started *with* site
    (.pth files and sitecustomize can import a module that turns it on; the
    metadata was read without them). (None, why) when that cannot be told."""
    code = "import sys; print(int(sys._is_gil_enabled()))"
    result = run_bounded([executable, "-I", "-c", code], timeout)
    if result.timed_out:
        return None, f"{executable} did not start within {timeout:g} s"
    # A sitecustomize may print too: the answer is the last line.
    answer = (result.stdout.strip().splitlines() or [""])[-1].strip()
    if result.returncode != 0 or answer not in ("0", "1"):
        lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()]
        detail = lines[-1] if lines else f"exit status {result.returncode}"
        return None, f"{executable} failed to start normally: {detail}"
    return answer == "1", None


def probe_all(interpreter: Interpreter, dists: Sequence[Distribution], timeout: float,
              jobs: Optional[int] = None) -> dict[str, ProbeOutcome]:
    """Probe every distribution that has extension modules, in parallel
    processes (each is mostly waiting on dlopen and module init). A probe that
    fails, whatever the reason, is that distribution's outcome, never the end
    of the run."""
    targets = probe_targets(dists)
    if not targets:
        return {}
    workers = jobs or min(4, os.cpu_count() or 1)

    def guarded(dist: Distribution) -> ProbeOutcome:
        try:
            return probe_one(interpreter.executable, dist.extension_modules, timeout)
        except Exception as exc:  # an error of ours: that distribution's, not the run's
            return ProbeOutcome(ran=True, failed=True,
                                error=f"internal error: {type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = pool.map(guarded, targets)
        return {d.key: outcome for d, outcome in zip(targets, outcomes)}


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


def run_bounded(command: Sequence[str], timeout: float) -> Finished:
    """Run a child of the audited interpreter with a time limit. It gets its
    own process group (session) on POSIX, so that on timeout whatever it has
    started (a daemon an import spawned) is killed with it and cannot keep the
    pipes, and so this call, open. (The group is killed only while its leader
    is unreaped, so its id cannot have been reused.) OSError propagates."""
    posix = os.name == "posix"
    proc = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=probe_environment(),
                            start_new_session=posix)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(proc, posix)
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a grandchild in another session holds a pipe
            proc.kill()
            out, err = b"", b""
    return Finished(proc.returncode if proc.returncode is not None else -9,
                    out.decode(errors="replace"), err.decode(errors="replace"), timed_out)


def _kill(proc: subprocess.Popen, posix: bool) -> None:
    if posix:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    else:
        proc.kill()


def probe_one(executable: str, modules: Sequence[str], timeout: float) -> ProbeOutcome:
    command = [executable, "-I", str(PROBE_SCRIPT), *modules]
    try:
        result = run_bounded(command, timeout)
    except OSError as exc:
        return ProbeOutcome(ran=True, failed=True,
                            error=f"cannot run {executable}: {exc.strerror or exc}")
    if result.timed_out:
        where = _last_import(result.stderr)
        return ProbeOutcome(ran=True, failed=True, error=f"timed out after {timeout:g} s"
                            + (f" while importing {where}" if where else ""))
    try:
        data = json.loads(result.stdout)
        return _outcome(data)
    except (ValueError, TypeError, KeyError, AttributeError):
        return ProbeOutcome(ran=True, failed=True, error=_crash_message(result))


def _outcome(data: dict) -> ProbeOutcome:
    errors = data.get("errors") or []
    error = "; ".join(f"import {e['module']}: {e['error']}" for e in errors) or None
    if data.get("gil_enabled_at_start"):
        error = "the GIL was already enabled when the probe process started"
    return ProbeOutcome(ran=True, gil_enabled_after=bool(data.get("gil_enabled_after")),
                        module=data.get("culprit"), imported_module=data.get("module"),
                        warning=data.get("warning"), error=error,
                        imported=tuple(data.get("imported") or ()))


def _last_import(stderr: str) -> Optional[str]:
    lines = [ln[len(_PROGRESS):] for ln in stderr.splitlines() if ln.startswith(_PROGRESS)]
    return lines[-1].strip() if lines else None


def _crash_message(proc: Finished) -> str:
    where = _last_import(proc.stderr)
    code = proc.returncode
    if code < 0:
        try:
            status = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            status = f"was killed by signal {-code}"
    else:
        status = f"exited with status {code}"
    # The last line that is not our own progress note is usually the cause.
    detail = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith(_PROGRESS)]
    message = f"the probe process {status}" + (f" while importing {where}" if where else "")
    return message + (f": {detail[-1].strip()}" if detail else "")
