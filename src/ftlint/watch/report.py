"""Judge a watched run: the JSON document of the report.

The document (``summarise``) is the model; the text report
(:mod:`ftlint.watch.text`) is rendered from it, so the two cannot disagree.
"""

from __future__ import annotations

import json
import signal
from typing import Any, Optional

from ftlint.watch.run import Outcome

# Verdicts, and the exit code each one gives.
GIL_DISABLED = "gil-disabled"  # 0: it stayed off in every watched process
GIL_ENABLED = "gil-enabled"  # 1: a finding
NOT_FREE_THREADED = "not-free-threaded"  # 2: the check could not be made
GIL_FORCED_OFF = "gil-forced-off"  # 2
NOT_WATCHED = "not-watched"  # 2
EXIT_CODES = {GIL_DISABLED: 0, GIL_ENABLED: 1, NOT_FREE_THREADED: 2, GIL_FORCED_OFF: 2,
              NOT_WATCHED: 2}

# "Capped at about one core": this many threads alive at once (the main
# thread and two more), yet the process kept between half a core and this
# many cores busy on average. Less than half a core is a program that mostly
# waits, which says nothing about the GIL.
CAPPED_THREADS = 3
CAPPED_BELOW = 1.1
BUSY_AT_LEAST = 0.5
LONG_ENOUGH = 0.5  # seconds: shorter runs are mostly start-up
MEASURED = ("cpu_time is the user + system CPU time of the command and of the children it "
            "waited for, from the operating system; wall_time runs from its start to its "
            "end; cores_busy is their ratio, averaged over the whole run, start-up "
            "included. threads_peak is the most threads of the main Python process alive "
            "at once, counted each time a threading.Thread started.")


def _main_record(outcome: Outcome) -> Optional[dict[str, Any]]:
    """The process the command started (the last interpreter it ran, if it
    exec'd another), else the first Python process that started."""
    own = [r for r in outcome.records if r["pid"] == outcome.pid and not r["forked_from"]]
    if own:
        return own[-1]
    return outcome.records[0] if outcome.records else None


def _gil_enabled(record: dict[str, Any]) -> bool:
    return bool(record["events"]) or bool(record["gil_enabled_at_start"]) or bool(
        record.get("gil_enabled_at_exit"))


def _warned_module(warning: Optional[str]) -> Optional[str]:
    marker = "to load module '"
    if warning and marker in warning:
        return warning.split(marker, 1)[1].split("'", 1)[0]
    return None


def _chain(event: dict[str, Any], module: str) -> list[dict[str, Any]]:
    """The modules being imported when the GIL came on, outermost first, each
    with the line of its import statement, then the culprit. An import made
    in a function shows that function's frame instead."""
    stack = event["stack"]
    chain = [dict(frame) for i, frame in enumerate(stack)
             if frame["function"] == "<module>" or i == len(stack) - 1
             or stack[i + 1]["function"] == "<module>"]
    file = event["file"] if module == event["module"] else None
    chain.append({"module": module, "function": None, "file": file, "line": None,
                  "code": None})
    return chain


def _cause(record: dict[str, Any]) -> Optional[dict[str, Any]]:
    """Why the GIL was on in this process, if it was: ``how`` is import,
    forced (-X gil=1), before-watch (already on when the hook started),
    inherited (on in the process this one was forked from) or unknown."""
    cause: dict[str, Any] = {
        "how": None, "pid": record["pid"], "module": None, "file": None,
        "detected_by": None, "warning": None, "time": None, "thread": None, "chain": [],
        "stack": [], "concurrent": [], "extensions": []}
    if record["gil_flag"] == 1:
        return {**cause, "how": "forced"}
    if record["gil_enabled_at_start"]:
        return {**cause, "how": "inherited" if record["forked_from"] else "before-watch",
                "extensions": record["extensions_at_start"]}
    if not record["events"]:
        return None
    event = record["events"][0]
    if event["detected_by"] == "exit":
        return {**cause, "how": "unknown", "detected_by": "exit",
                "extensions": event.get("extensions", [])}
    module = _warned_module(event["warning"]) or event["module"]
    return {**cause, "how": "import", "module": module,
            "file": event["file"] if module == event["module"] else None,
            "detected_by": event["detected_by"], "warning": event["warning"],
            "time": event["time"], "thread": event["thread"], "chain": _chain(event, module),
            "stack": event["stack"], "concurrent": event["concurrent"]}


def _cpu(outcome: Outcome, main: Optional[dict[str, Any]]) -> dict[str, Any]:
    cores = (main or {}).get("cpu_count") or outcome.cpu_count
    busy = (outcome.cpu_time / outcome.wall_time
            if outcome.cpu_time is not None and outcome.wall_time > 0 else None)
    threads = (main or {}).get("threads_peak")
    capped = bool(busy is not None and cores and cores >= 2 and threads
                  and threads >= CAPPED_THREADS and outcome.wall_time >= LONG_ENOUGH
                  and BUSY_AT_LEAST <= busy <= CAPPED_BELOW)
    return {"wall_time": round(outcome.wall_time, 3),
            "cpu_time": None if outcome.cpu_time is None else round(outcome.cpu_time, 3),
            "cores_busy": None if busy is None else round(busy, 2), "cores": cores,
            "threads_peak": threads, "threads_started": (main or {}).get("threads_started"),
            "os_threads_peak": (main or {}).get("os_threads_peak"),
            "capped": capped, "measured": MEASURED}


def _process(record: dict[str, Any]) -> dict[str, Any]:
    cause = _cause(record)
    return {"pid": record["pid"], "parent_pid": record["parent_pid"],
            "forked_from": record["forked_from"], "argv": record["argv"],
            "executable": record["executable"], "version": record["version"],
            "free_threaded": record["free_threaded"],
            "gil_enabled": _gil_enabled(record) if record["free_threaded"] else None,
            "cause": cause["module"] if cause else None, "finished": record["finished"]}


def _verdict(main: Optional[dict[str, Any]], records: list[dict[str, Any]]) -> str:
    if main is None:
        return NOT_WATCHED
    if not main["free_threaded"]:
        return NOT_FREE_THREADED
    if any(r["free_threaded"] and _gil_enabled(r) for r in records):
        return GIL_ENABLED
    if main["gil_flag"] == 0:
        return GIL_FORCED_OFF
    return GIL_DISABLED


def summarise(outcome: Outcome) -> dict[str, Any]:
    """The JSON document of the report."""
    main = _main_record(outcome)
    verdict = _verdict(main, outcome.records)
    causes = [c for c in (_cause(r) for r in outcome.records if r["free_threaded"]) if c]
    # The main process's cause first; a forked child only inherits its parent's.
    causes.sort(key=lambda c: (c["pid"] != (main or {}).get("pid"), c["how"] == "inherited"))
    returncode = outcome.returncode
    return {
        "command": outcome.command,
        "pid": None if main is None else main["pid"],
        "verdict": verdict,
        "gil_enabled": {GIL_ENABLED: True, GIL_DISABLED: False}.get(verdict),
        "exit_code": returncode if returncode >= 0 else None,
        "signal": _signal_name(-returncode) if returncode < 0 else None,
        "interpreter": None if main is None else {
            "executable": main["executable"], "implementation": main["implementation"],
            "version": main["version"], "free_threaded": main["free_threaded"],
            "gil_flag": main["gil_flag"]},
        "cause": causes[0] if verdict == GIL_ENABLED and causes else None,
        "cpu": _cpu(outcome, main),
        "processes": [_process(r) for r in outcome.records],
        "notes": list(outcome.notes),
    }


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def exit_code(document: dict[str, Any]) -> int:
    return EXIT_CODES[document["verdict"]]


def write_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
