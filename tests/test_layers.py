"""The layers stay apart: the engine, the fixer and the cache never import
the front-end API (no import circle), and the modules a cached run needs
never import libcst."""

from __future__ import annotations

import subprocess
import sys


def imported_after(modules: list[str]) -> set[str]:
    code = (f"import sys; import {', '.join(modules)}; "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith(('ftlint', 'libcst')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_engine_and_fixer_do_not_import_the_api() -> None:
    loaded = imported_after(["ftlint.engine", "ftlint.fixes.fixer", "ftlint.fixes.run",
                             "ftlint.cache", "ftlint.project", "ftlint.results",
                             "ftlint.workers"])
    assert "ftlint.engine" in loaded and "ftlint.fixes.fixer" in loaded
    assert "ftlint.api" not in loaded


def test_a_cached_run_needs_no_parser() -> None:
    loaded = imported_after(["ftlint.cli", "ftlint.api", "ftlint.cache", "ftlint.project",
                             "ftlint.output"])
    assert "ftlint.api" in loaded
    assert not {m for m in loaded if m == "libcst" or m.startswith("libcst.")}
    assert "ftlint.engine" not in loaded
