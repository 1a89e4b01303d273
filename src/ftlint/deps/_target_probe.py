"""Import the extension modules named on the command line and print, as JSON,
whether one of them turned the GIL back on.

Like _target_metadata.py this is run by the audited (free-threaded)
interpreter, one process per distribution: once a module has re-enabled the
GIL it stays enabled for the life of the process, so a fresh process is the
only way to attribute the next distribution correctly. Standard library only.
"""

import importlib
import json
import os
import re
import sys
import warnings

# CPython 3.13+: "The global interpreter lock (GIL) has been enabled to load
# module 'pkg._ext', which has not declared that it can run safely without ..."
_CULPRIT = re.compile(r"to load module '([^']+)'")
# dlopen() succeeded but there is no PyInit_*: a plain shared library that
# happens to sit in a package directory, not a Python module.
_NOT_A_MODULE = "does not define module export function"


def probe(modules):
    result = {"gil_enabled_at_start": sys._is_gil_enabled(), "gil_enabled_after": False,
              "module": None, "culprit": None, "warning": None, "imported": [],
              "skipped": [], "errors": []}
    if result["gil_enabled_at_start"]:
        return result  # a .pth file or sitecustomize already turned it on
    for name in modules:
        # If the import kills the process, the parent reads this line from
        # stderr to tell which module did it.
        os.write(2, "ftlint-probe: importing {}\n".format(name).encode())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                importlib.import_module(name)
            except BaseException as exc:  # SystemExit from a module is an error too
                message = "{}: {}".format(type(exc).__name__, exc)
                if _NOT_A_MODULE in message:
                    result["skipped"].append(name)
                else:
                    result["errors"].append({"module": name, "error": message})
            else:
                result["imported"].append(name)
        if sys._is_gil_enabled():
            result["gil_enabled_after"] = True
            result["module"] = name
            for warning in caught:
                text = str(warning.message)
                if issubclass(warning.category, RuntimeWarning) and "GIL" in text:
                    result["warning"] = "{}: {}".format(warning.category.__name__, text)
                    found = _CULPRIT.search(text)
                    result["culprit"] = found.group(1) if found else name
                    break
            break  # with the GIL on, later imports would prove nothing
    return result


# This script runs alone in a child interpreter that it owns, so changing
# process-wide state (warnings filters, sys.stdout) is its job.
# ftlint: noqa: FT302


def main():
    # Modules may print while they import; keep our stdout for the JSON alone.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    json.dump(probe(sys.argv[1:]), out)
    out.flush()


if __name__ == "__main__":
    main()
