"""``ftlint deps``: would this environment keep the GIL disabled?

On a free-threaded CPython, importing one extension module that does not
declare the ``Py_mod_gil`` slot turns the GIL back on for the whole process,
with nothing but a RuntimeWarning. This package audits the installed
distributions of an interpreter for such modules: statically from their
metadata (RECORD, WHEEL tags, classifiers) and, on a free-threaded
interpreter, by importing them in throw-away child processes.
"""

from ftlint.deps.audit import Options, run_audit
from ftlint.deps.model import DepsError, Report, Verdict

__all__ = ["DepsError", "Options", "Report", "Verdict", "run_audit"]
