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


def probe_all(interpreter: Interpreter, dists: Sequence[Distribution], timeout: float,
              jobs: Optional[int] = None) -> dict[str, ProbeOutcome]:
    """Probe every distribution that has extension modules, in parallel
    processes (each is mostly waiting on dlopen and module init)."""
    targets = [d for d in dists if d.extension_modules]
    if not targets:
        return {}
    workers = jobs or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = pool.map(
            lambda d: probe_one(interpreter.executable, d.extension_modules, timeout), targets)
        return {d.key: outcome for d, outcome in zip(targets, outcomes)}


def probe_one(executable: str, modules: Sequence[str], timeout: float) -> ProbeOutcome:
    command = [executable, "-I", str(PROBE_SCRIPT), *modules]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=probe_environment(), stdin=subprocess.DEVNULL,
                              errors="replace")
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr or ""  # bytes on POSIX even with text=True
        if isinstance(stderr, bytes):
            stderr = stderr.decode(errors="replace")
        where = _last_import(stderr)
        return ProbeOutcome(ran=True, error=f"timed out after {timeout:g} s"
                            + (f" while importing {where}" if where else ""))
    except OSError as exc:
        return ProbeOutcome(ran=True, error=f"cannot run {executable}: {exc.strerror or exc}")
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return ProbeOutcome(ran=True, error=_crash_message(proc))
    return _outcome(data)


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


def _crash_message(proc: subprocess.CompletedProcess) -> str:
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
