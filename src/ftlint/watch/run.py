"""Run the watched command with the watch injected, and collect what its
Python processes recorded."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from ftlint.watch._child import ENV_DIR

HERE = Path(__file__).resolve().parent
# `python`, `python3`, `python3.13`, `python3.13t`, `python.exe`...
_PYTHON_NAME = re.compile(r"python(\d+(\.\d+)*t?)?(\.exe)?", re.IGNORECASE)


class WatchError(Exception):
    """The command cannot be run as asked: a usage error (exit 2)."""


@dataclass
class Outcome:
    """What running the command gave: its exit status, the time and CPU it
    took, and the records its Python processes wrote."""

    command: list[str]
    pid: int
    returncode: int  # negative: killed by that signal, as in subprocess
    wall_time: float
    cpu_time: Optional[float]  # user + system of the command and the children it waited for
    cpu_count: Optional[int]  # of ftlint's own process, if no record says
    records: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def resolve_python(python: str) -> str:
    """``--python``: an executable, a virtual environment or a command on PATH."""
    path = Path(python).expanduser()
    if path.is_dir():
        for candidate in ("bin/python3", "bin/python", "Scripts/python.exe"):
            if (path / candidate).is_file():
                return str(path / candidate)
        raise WatchError(f"--python {python}: a directory without bin/python in it")
    if path.is_file():
        if not os.access(path, os.X_OK):
            raise WatchError(f"--python {python}: not executable")
        return str(path)
    found = shutil.which(python) if os.sep not in python else None
    if found:
        return found
    raise WatchError(f"--python {python}: no such file, nor a command on PATH")


def _python_script(path: str) -> bool:
    """Whether PATH is a script run by Python, such as a console script."""
    try:
        with open(path, "rb") as script:
            first = script.readline(512)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def with_python(command: list[str], python: str) -> list[str]:
    """COMMAND run by PYTHON: a leading ``python`` is replaced; a Python
    script (a console script such as ``flask``) is run by PYTHON."""
    head, *rest = command
    if _PYTHON_NAME.fullmatch(os.path.basename(head)):
        return [python, *rest]
    script = shutil.which(head)
    if script and _python_script(script):
        return [python, script, *rest]
    raise WatchError(f"--python replaces a leading 'python' or runs a Python script, "
                     f"and {head!r} is neither")


def _inject(directory: Path) -> Path:
    """The directory to put first on PYTHONPATH: a sitecustomize that starts
    the watch, and the watch itself."""
    inject = directory / "inject"
    inject.mkdir()
    shutil.copyfile(HERE / "_sitecustomize.py", inject / "sitecustomize.py")
    shutil.copyfile(HERE / "_child.py", inject / "_ftlint_watch_child.py")
    return inject


def _environment(inject: Path, results: Path, notes: list[str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(inject), env.get("PYTHONPATH")]))
    env[ENV_DIR] = str(results)
    forced = env.pop("PYTHON_GIL", None)
    if forced is not None:
        notes.append(f"PYTHON_GIL={forced} was set; ftlint watch ran the command without it, "
                     "since it would decide whether the GIL is on whatever the imports do")
    return env


@contextmanager
def _signals_to(process: subprocess.Popen) -> Iterator[None]:
    """Ctrl-C reaches the command through the terminal, so ftlint ignores it
    and reports once the command has stopped; SIGTERM and SIGHUP sent to
    ftlint are passed on."""
    if os.name != "posix":
        yield
        return

    def forward(signum: int, _frame: Any) -> None:
        process.send_signal(signum)

    saved = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN)}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        saved[signum] = signal.signal(signum, forward)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def _wait(process: subprocess.Popen) -> Optional[float]:
    """Wait for the command; its CPU time (user + system, including the
    children it waited for), where the OS reports it."""
    if not hasattr(os, "wait4"):
        process.wait()
        return None
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def _cpu_count() -> Optional[int]:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def read_records(results: Path) -> list[dict[str, Any]]:
    records = []
    for path in results.glob("*.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a process killed while it wrote: the temporary file is not read
        if isinstance(record, dict) and record.get("format") == 1:
            records.append(record)
    return sorted(records, key=lambda r: r.get("start_time") or 0)


def run(command: list[str], python: Optional[str] = None) -> Outcome:
    if not command:
        raise WatchError("no command to watch: ftlint watch -- python app.py")
    if python is not None:
        command = with_python(command, resolve_python(python))
    notes: list[str] = []
    directory = Path(tempfile.mkdtemp(prefix="ftlint-watch-"))
    try:
        results = directory / "results"
        results.mkdir()
        env = _environment(_inject(directory), results, notes)
        started = time.perf_counter()
        try:
            process = subprocess.Popen(command, env=env)
        except FileNotFoundError:
            raise WatchError(f"{command[0]}: command not found") from None
        except PermissionError:
            raise WatchError(f"{command[0]}: permission denied") from None
        except OSError as exc:
            raise WatchError(f"{command[0]}: cannot run it: {exc.strerror or exc}") from None
        with _signals_to(process):
            cpu_time = _wait(process)
        wall_time = time.perf_counter() - started
        records = read_records(results)
    finally:
        _remove(directory)
    return Outcome(command=command, pid=process.pid, returncode=process.returncode,
                   wall_time=wall_time, cpu_time=cpu_time, cpu_count=_cpu_count(),
                   records=records, notes=notes)


def _remove(directory: Path) -> None:
    """Remove the directory, while processes the command left behind (such
    as multiprocessing's resource tracker) may still write their records
    into it: theirs are lost, which is all they can be."""
    for _ in range(5):
        shutil.rmtree(directory, ignore_errors=True)
        if not directory.exists():
            return
        time.sleep(0.05)
