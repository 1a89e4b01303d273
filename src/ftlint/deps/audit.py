"""Run the audit: read the target interpreter's metadata, pick the
distributions in scope, probe them and judge each one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ftlint.deps import probe as probing
from ftlint.deps.model import (
    DepsError, Distribution, Interpreter, Report, Scope, NOT_PROBED,
)
from ftlint.deps.requirements import (
    Declared, find_pyproject, read_pyproject, read_requirements_file, resolve,
)
from ftlint.deps.verdict import judge

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
    """Run the metadata script inside the target interpreter: -I keeps the
    user's PYTHON* variables, user site and current directory out of it."""
    command = [executable, "-I", str(METADATA_SCRIPT)]
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
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        last = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        if "importlib.metadata" in proc.stderr or "SyntaxError" in proc.stderr:
            last += " (ftlint deps needs a target interpreter of Python 3.8 or newer)"
        raise DepsError(f"{executable} could not list its distributions: {last}")
    try:
        data = json.loads(proc.stdout)
        interpreter = Interpreter.from_json(data["interpreter"])
        dists = [Distribution.from_json(d) for d in data["distributions"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise DepsError(f"{executable} did not answer like a Python interpreter "
                        f"({type(exc).__name__}: {exc})") from None
    return interpreter, dists, list(data.get("problems") or [])


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


def run_audit(options: Options) -> Report:
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
    outcomes = {} if why_not else probing.probe_all(interpreter, audited, options.timeout,
                                                    options.jobs)
    entries = [judge(d, outcomes.get(d.key, NOT_PROBED), required_by[d.key],
                     interpreter.free_threaded) for d in audited]
    count = len(outcomes)
    ran = (f"imported the extension modules of {count} distribution"
           f"{'' if count == 1 else 's'}, each in a fresh process")
    return Report(interpreter=interpreter, probe_ran=why_not is None,
                  probe_reason=why_not or ran, scope=scope, entries=entries,
                  missing=missing, warnings=problems)
