"""Fault injection, for ftlint's own tests of per-file isolation.

The tests run the real command line on real files; only the failure is
injected, through the environment: ``FTLINT_TEST_FAULT=STAGE:KIND:NAME`` makes
``STAGE`` (``analyze``, ``fix`` or ``noqa``) fail for the file whose base name is
``NAME``, by raising (``KIND`` = ``raise``) or by killing its process with a
segmentation fault (``KIND`` = ``crash``, as a bug in native code would).
Unset, it costs one dictionary look-up per file.
"""

from __future__ import annotations

import os

VARIABLE = "FTLINT_TEST_FAULT"


def inject(stage: str, path: str) -> None:
    spec = os.environ.get(VARIABLE)
    if not spec:
        return
    want, _, rest = spec.partition(":")
    kind, _, name = rest.partition(":")
    if want != stage or os.path.basename(path) != name:
        return
    if kind == "crash":
        import faulthandler

        faulthandler._sigsegv()  # a real SIGSEGV, as from a C extension
    raise RuntimeError(f"fault injected in {stage} ({VARIABLE})")
