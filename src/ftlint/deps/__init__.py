"""``ftlint deps``: would this environment keep the GIL disabled?

On a free-threaded CPython, importing one extension module that does not
declare the ``Py_mod_gil`` slot turns the GIL back on for the whole process,
with nothing but a RuntimeWarning. This package audits the installed
distributions of an interpreter for such modules: statically from their
metadata (RECORD, WHEEL tags, classifiers) and, on a free-threaded
interpreter, by importing them in throw-away child processes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ftlint.deps.audit import Options, run_audit
    from ftlint.deps.model import DepsError, Report, Verdict

__all__ = ["DepsError", "Options", "Report", "Verdict", "run_audit"]

# Loaded on first use (PEP 562): the CLI registers `ftlint deps` at start-up,
# and `ftlint check` should not pay for the audit machinery.
_LAZY = {"Options": "audit", "run_audit": "audit", "DepsError": "model",
         "Report": "model", "Verdict": "model"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"ftlint.deps.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
