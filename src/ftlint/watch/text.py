"""The text report of ``ftlint watch``, rendered from the JSON document of
:func:`ftlint.watch.report.summarise`."""

from __future__ import annotations

import os
import shlex
from typing import Any, Optional

from ftlint.watch.report import (
    GIL_DISABLED, GIL_ENABLED, GIL_FORCED_OFF, NOT_FREE_THREADED, NOT_WATCHED,
)

_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


def _shown(path: Optional[str]) -> str:
    if not path:
        return "?"
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if relative.startswith(os.pardir) else relative


def _headline(document: dict[str, Any]) -> str:
    verdict, cause = document["verdict"], document["cause"]
    if verdict == GIL_ENABLED and cause and cause["how"] == "import":
        return f"the GIL was enabled by importing {cause['module']}"
    if verdict == GIL_ENABLED and cause and cause["how"] == "forced":
        return "the GIL was forced on (-X gil=1)"
    if verdict == GIL_ENABLED and cause and cause["how"] == "before-watch":
        return "the GIL was enabled before ftlint's hook started"
    if verdict == GIL_ENABLED:
        return "the GIL was enabled"
    if verdict == GIL_DISABLED:
        return "the GIL stayed disabled"
    if verdict == NOT_FREE_THREADED:
        interpreter = document["interpreter"]
        return (f"not a free-threaded interpreter: {interpreter['executable']} is a GIL "
                "build, where the GIL is always on")
    if verdict == GIL_FORCED_OFF:
        return ("the GIL was forced off (-X gil=0), so no import could turn it on: "
                "run the command without -X gil=0 to see which would")
    return "no Python process of the command could be watched"


def _chain_lines(chain: list[dict[str, Any]]) -> list[str]:
    lines = []
    for depth, link in enumerate(chain):
        arrow = "-> " if depth else ""
        if link["line"] is None:
            where = f" ({_shown(link['file'])})" if link["file"] else ""
            lines.append(f"{arrow}{link['module']}{where}")
            continue
        function = "" if link["function"] == "<module>" else f", in {link['function']}()"
        code = f": {link['code']}" if link["code"] else ""
        lines.append(f"{arrow}{link['module']} ({_shown(link['file'])}:{link['line']}"
                     f"{function}){code}")
    return lines


def _cause_lines(cause: dict[str, Any], main_pid: Optional[int]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    where = "" if cause["pid"] == main_pid else f" in process {cause['pid']}"
    if cause["how"] == "import":
        thread = "" if cause["thread"] == "MainThread" else f", in thread {cause['thread']}"
        rows.append(("GIL", f"enabled {cause['time']:.3f} s after start{where}{thread}, "
                            f"by importing {cause['module']}"))
        rows += [("import chain" if i == 0 else "", line)
                 for i, line in enumerate(_chain_lines(cause["chain"]))]
        if cause["warning"]:
            # The first sentence; the advice to set PYTHON_GIL=0 is no fix.
            said = cause["warning"].split(". To override", 1)[0].rstrip(".")
            rows.append(("CPython said", f"RuntimeWarning: {said}."))
        if cause["concurrent"]:
            rows.append(("note", "another thread was importing "
                                 f"{', '.join(cause['concurrent'])} at the same moment: "
                                 "CPython's RuntimeWarning names the module for certain"))
    elif cause["how"] == "forced":
        rows.append(("GIL", f"forced on{where} by -X gil=1 (or PYTHON_GIL=1 set by the command)"))
    elif cause["how"] in ("before-watch", "inherited"):
        when = ("in the process it was forked from" if cause["how"] == "inherited" else
                "before ftlint's hook started (from sitecustomize): by an import line of a "
                ".pth file")
        rows.append(("GIL", f"already enabled{where}, {when}"))
    else:
        rows.append(("GIL", f"enabled{where}, by an import ftlint could not see (a loader "
                            "that bypasses ExtensionFileLoader, with the RuntimeWarning "
                            "filtered out)"))
    if cause["extensions"]:
        rows.append(("candidates", "extension modules loaded: " + ", ".join(cause["extensions"])))
    return rows


def _cpu_rows(cpu: dict[str, Any], verdict: str) -> list[tuple[str, str]]:
    if cpu["cpu_time"] is None:
        return [("CPU", f"{cpu['wall_time']:.2f} s wall; CPU time is not measured on this "
                        "platform")]
    cores = f" of {cpu['cores']}" if cpu["cores"] else ""
    text = (f"{cpu['cpu_time']:.2f} s CPU in {cpu['wall_time']:.2f} s wall: "
            f"{cpu['cores_busy']:.2f}{cores} cores busy on average")
    if cpu["threads_peak"] is not None:
        peak, started = cpu["threads_peak"], cpu["threads_started"]
        text += (f"; at most {peak} threads at once, {started} started"
                 if started else "; no thread started besides the main one")
    rows = [("CPU", text)]
    if cpu["capped"]:
        why = ("as the GIL does" if verdict in (GIL_ENABLED, NOT_FREE_THREADED) else
               "with the GIL off: a lock they all take, I/O, or a CPU quota")
        rows.append(("", f"capped at about one core: {cpu['threads_peak']} threads ran at "
                         f"once, but no more than one core was busy on average; if they "
                         f"compute, they did not run in parallel ({why})"))
    return rows


def _other_processes(document: dict[str, Any], main_pid: Optional[int]) -> list[str]:
    lines = []
    for process in document["processes"]:
        if process["pid"] == main_pid and not process["forked_from"]:
            continue
        how = "forked" if process["forked_from"] else " ".join(process["argv"]) or "?"
        if not process["free_threaded"]:
            state = "not free-threaded"
        elif process["gil_enabled"]:
            state = f"GIL enabled by {process['cause']}" if process["cause"] else "GIL enabled"
        else:
            state = "GIL disabled"
        lines.append(f"{process['pid']} ({how}): {state}")
    return lines


def write_text(document: dict[str, Any]) -> str:
    main_pid = document["pid"]
    rows: list[tuple[str, str]] = []
    command = shlex.join(document["command"])
    if document["signal"]:
        rows.append(("command", f"{command} (killed by {document['signal']})"))
    else:
        rows.append(("command", f"{command} (exit code {document['exit_code']})"))
    interpreter = document["interpreter"]
    if interpreter:
        build = "free-threaded build" if interpreter["free_threaded"] else "GIL build"
        name = _IMPLEMENTATIONS.get(interpreter["implementation"], interpreter["implementation"])
        rows.append(("interpreter", f"{interpreter['executable']} ({name} "
                                    f"{interpreter['version']}, {build})"))
    if document["cause"]:
        rows += _cause_lines(document["cause"], main_pid)
    if document["verdict"] == NOT_WATCHED:
        rows.append(("why", "ftlint watch starts its hook through sitecustomize, from "
                            "PYTHONPATH: the command ran no Python 3.8 or newer, or ran it with "
                            "-I, -E or -S, which skip them"))
    rows += _cpu_rows(document["cpu"], document["verdict"])
    others = _other_processes(document, main_pid)
    rows += [("processes" if i == 0 else "", line) for i, line in enumerate(others)]
    rows += [("note", note) for note in document["notes"]]
    if document["verdict"] == NOT_FREE_THREADED:
        rows.append(("next", "run the command with python3.13t or python3.14t (--python PATH "
                             "replaces a leading python)"))
    if document["verdict"] == GIL_ENABLED and (document["cause"] or {}).get("how") == "import":
        rows.append(("next", "upgrade the distribution that ships that module to a release "
                             "with cp313t/cp314t wheels, or replace it; `ftlint deps` audits "
                             "them all"))
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"ftlint watch: {_headline(document)}"]
    lines += [f"  {(label + ':') if label else '':<{width}}{text}" for label, text in rows]
    return "\n".join(lines) + "\n"
