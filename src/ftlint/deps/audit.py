"""Run the audit: read the target interpreter's metadata, pick the
distributions in scope, probe them and judge each one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

from ftlint.deps import probe as probing
from ftlint.deps.model import (
    DepsError, Distribution, Entry, Interpreter, ProbeOutcome, Report, Scope, NOT_PROBED,
)
from ftlint.deps.requirements import (
    Declared, find_pyproject, read_pyproject, read_requirements_file, resolve,
)
from ftlint.deps.verdict import could_not_audit, judge

METADATA_SCRIPT = Path(__file__).with_name("_target_metadata.py")
# Listing metadata reads a few files per distribution: slow only on huge
# environments or cold network filesystems.
METADATA_TIMEOUT = 120.0


@dataclass(frozen=True)
class Options:
    python: Optional[str] = None
    requirements: Optional[Path] = None
    project: Optional[Path] = None
    audit_all: bool = False
    no_import: bool = False
    timeout: float = 30.0
    jobs: Optional[int] = None
    # Ask the package index for a next step where a newer release would help
    # (the command line does, unless --no-index is given).
    index: bool = False


def resolve_python(python: Optional[str]) -> str:
    """The interpreter to audit: ``--python`` may be a path, a venv directory
    or a command on PATH; by default, the one running ftlint."""
    if python is None:
        if not sys.executable:  # embedded interpreters may not know their binary
            raise DepsError("cannot tell which interpreter runs ftlint: pass --python")
        return sys.executable
    path = Path(python).expanduser()
    if path.is_dir():  # a virtual environment, or a prefix
        for candidate in ("bin/python3", "bin/python", "Scripts/python.exe"):
            if (path / candidate).is_file():
                return str(path / candidate)
        raise DepsError(f"--python {python}: a directory without bin/python in it")
    if path.is_file():
        if not os.access(path, os.X_OK):
            raise DepsError(f"--python {python}: not executable")
        return str(path)
    if os.sep not in python:
        found = shutil.which(python)
        if found:
            return found
        raise DepsError(f"--python {python}: no such file, nor a command on PATH")
    raise DepsError(f"--python {python}: no such file")


def collect(executable: str) -> tuple[Interpreter, list[Distribution], list[str]]:
    """Run the metadata script inside the target interpreter. -I keeps the
    user's PYTHON* variables, user site and current directory out of it; -S
    keeps site from running, so no .pth import line, sitecustomize or
    usercustomize of the environment executes (the script finds the
    site-packages directories itself)."""
    command = [executable, "-I", "-S", str(METADATA_SCRIPT)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=METADATA_TIMEOUT, stdin=subprocess.DEVNULL,
                              env=probing.probe_environment())
    except OSError as exc:
        raise DepsError(f"cannot run {executable}: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise DepsError(f"{executable} took more than {METADATA_TIMEOUT:g} s to list "
                        "its distributions") from None
    if proc.returncode != 0:
        raise DepsError(f"{executable} could not list its distributions "
                        f"(exit status {proc.returncode})" + _stderr_block(proc.stderr))
    try:
        data = json.loads(proc.stdout)
        interpreter = Interpreter.from_json(data["interpreter"])
        entries = list(data["distributions"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DepsError(f"{executable} did not answer like a Python interpreter "
                        f"({type(exc).__name__}: {exc})") from None
    problems = list(data.get("problems") or [])
    dists = []
    for entry in entries:
        try:
            dists.append(Distribution.from_json(entry))
        except (KeyError, TypeError, AttributeError) as exc:
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and name:
                dists.append(Distribution.broken(
                    name, f"unexpected metadata ({type(exc).__name__}: {exc})"))
            else:
                problems.append(f"a distribution without a name: {type(exc).__name__}: {exc}")
    return interpreter, dists, problems


# Enough for a pyenv shim's advice or a traceback, not a whole log.
_STDERR_LINES = 40


def _stderr_block(stderr: str) -> str:
    """The interpreter's whole error output, indented under ftlint's line:
    its last line alone can be meaningless (pyenv's 'Note: ...')."""
    lines = [ln.rstrip() for ln in stderr.strip("\n").splitlines()]
    if not any(lines):
        return ""
    if len(lines) > _STDERR_LINES:
        lines = [f"... ({len(lines) - _STDERR_LINES} earlier lines)", *lines[-_STDERR_LINES:]]
    text = ":\n" + "\n".join("  " + ln if ln else "" for ln in lines)
    if "importlib.metadata" in stderr or "SyntaxError" in stderr:
        text += "\n(ftlint deps needs a target interpreter of Python 3.8 or newer)"
    return text


def declared_requirements(options: Options) -> tuple[Optional[Declared], Scope]:
    """What limits the audit: --requirements, else the project's pyproject.toml,
    else nothing (every installed distribution)."""
    if options.audit_all:
        return None, Scope("all")
    if options.requirements is not None:
        declared = read_requirements_file(options.requirements)
        return declared, Scope("requirements", str(options.requirements))
    start = options.project or Path.cwd()
    if options.project is not None and not options.project.is_dir():
        raise DepsError(f"--project {options.project}: not a directory")
    pyproject = find_pyproject(start)
    if pyproject is None:
        return None, Scope("all", note="no pyproject.toml found")
    declared = read_pyproject(pyproject)
    if declared is None:
        return None, Scope("all", note=f"{pyproject} declares no static [project] dependencies")
    return declared, Scope("pyproject", str(pyproject))


def run_audit(options: Options,
              announce: Optional[Callable[[str], None]] = None) -> Report:
    """Audit the interpreter ``options`` name. ``announce`` is called with one
    line before the probe runs anything from the environment, so that a
    command line can say so first."""
    executable = resolve_python(options.python)
    declared, scope = declared_requirements(options)  # bad input fails before any run
    interpreter, dists, problems = collect(executable)
    installed = {d.key: d for d in dists}

    required_by: dict[str, Optional[str]]
    missing = []
    if declared is None:
        required_by = {d.key: None for d in dists}
    else:
        selected, missing = resolve(declared, installed, interpreter.marker_environment)
        required_by = dict(selected)
        problems += declared.skipped

    audited = sorted((installed[k] for k in required_by), key=lambda d: d.key)
    why_not = probing.why_not(interpreter, options.no_import)
    outcomes: dict[str, ProbeOutcome] = {}
    targets = probing.probe_targets(audited)
    reason = ""
    if why_not is None and not targets:
        why_not = "no audited distribution has extension modules: there is nothing to import"
    elif why_not is None:
        if announce is not None:
            announce(probing.announcement(interpreter, targets))
        gil_on, failure = probing.gil_at_start(interpreter.executable, options.timeout)
        if gil_on is not None:
            interpreter = replace(interpreter, gil_enabled=gil_on)
        if failure is not None:
            why_not = f"{failure}; verdicts rest on wheel tags and classifiers"
        else:
            why_not = probing.why_not(interpreter, options.no_import)
        if why_not is None:
            outcomes = probing.probe_all(interpreter, audited, options.timeout, options.jobs)
        count = len(outcomes)
        reason = (f"imported the extension modules of {count} distribution"
                  f"{'' if count == 1 else 's'}, each in a fresh process")
    entries = [_judged(d, outcomes.get(d.key, NOT_PROBED), required_by[d.key],
                       interpreter.free_threaded) for d in audited]
    report = Report(interpreter=interpreter, probe_ran=why_not is None,
                    probe_reason=why_not or reason, scope=scope, entries=entries,
                    missing=missing, warnings=problems)
    return with_next_steps(report, options.timeout) if options.index else report


def with_next_steps(report: Report, timeout: float) -> Report:
    """The report with the package index's next steps, when there are any:
    advice never fails the audit nor changes its verdicts."""
    from ftlint.deps.advice import add_next_steps  # imports packaging.tags & co.

    try:
        return add_next_steps(report, timeout)
    except Exception as exc:
        return replace(report, index_problem=f"the package index could not be read "
                       f"(internal error: {type(exc).__name__}: {exc})")


def _judged(dist: Distribution, probe: ProbeOutcome, required_by: Optional[str],
            free_threaded: bool) -> Entry:
    try:
        return judge(dist, probe, required_by, free_threaded)
    except Exception as exc:  # one distribution's surprise must not end the run
        return could_not_audit(dist, f"internal error: {type(exc).__name__}: {exc}",
                               required_by)
