"""Time a cold ftlint run over the running interpreter's standard library.

Prints lines/s for the bare libcst parse (the floor), for libcst with the
ScopeProvider + QualifiedNameProvider + PositionProvider metadata that a
naive design would use, and for ftlint's full analysis, all measured in this
same run on the same files, one process each, plus the parallel CLI run.

    python benchmarks/stdlib_speed.py [--limit N] [--jobs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import libcst as cst
from importlib.metadata import version
from libcst.metadata import (
    MetadataWrapper, PositionProvider, QualifiedNameProvider, ScopeProvider,
)

from ftlint.api import _raise_recursion_limit, lint_source


def stdlib_files(limit: int | None) -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"test", "tests", "idlelib", "site-packages", "lib2to3", "__pycache__"}
    files = sorted(p for p in root.rglob("*.py") if not skip & set(p.relative_to(root).parts))
    return files[:limit] if limit else files


def timed(label: str, sources: list[bytes], func, repeat: int = 1) -> float:
    """Best of ``repeat`` runs: the minimum is the least disturbed by noise."""
    elapsed = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        failures = 0
        for src in sources:
            try:
                func(src)
            except Exception:
                failures += 1
        elapsed = min(elapsed, time.perf_counter() - start)
    note = f" ({failures} files failed)" if failures else ""
    lines = sum(s.count(b"\n") for s in sources)
    print(f"{label:<44} {elapsed:8.2f} s  {lines / elapsed:10,.0f} lines/s{note}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N files")
    parser.add_argument("--jobs", type=int, default=None, help="workers for the CLI run")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--skip-metadata", action="store_true",
                        help="skip the slow libcst-metadata comparison")
    args = parser.parse_args()
    _raise_recursion_limit()
    files = stdlib_files(args.limit)
    sources = [p.read_bytes() for p in files]
    lines = sum(s.count(b"\n") for s in sources)
    print(f"Python {sys.version.split()[0]}, libcst {version('libcst')}: "
          f"{len(files)} stdlib files, {lines:,} lines")
    parse = timed("libcst parse only", sources, cst.parse_module, args.repeat)
    ours = timed("ftlint: parse + analysis + rules + positions", sources,
                 lambda s: lint_source(s, "x.py"), args.repeat)
    if not args.skip_metadata:
        def with_metadata(src: bytes) -> None:
            wrapper = MetadataWrapper(cst.parse_module(src), unsafe_skip_copy=True)
            wrapper.resolve_many([ScopeProvider, QualifiedNameProvider, PositionProvider])
        meta = timed("libcst parse + Scope/QualifiedName/Position", sources, with_metadata)
        print(f"{'  metadata design / parse':<44} {meta / parse:8.1f} x")
    print(f"{'  ftlint / parse':<44} {ours / parse:8.2f} x")
    exe = Path(sys.executable).with_name("ftlint")
    root = Path(sysconfig.get_paths()["stdlib"])
    cmd = [str(exe), "--exit-zero", "--quiet", "--no-cache",
           "--extend-exclude", "test,tests,idlelib,lib2to3", str(root)]
    if args.jobs:
        cmd[1:1] = ["--jobs", str(args.jobs)]
    if exe.exists() and not args.limit:
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        elapsed = time.perf_counter() - start
        print(f"{'ftlint CLI, cold, all CPUs':<44} {elapsed:8.2f} s  {lines / elapsed:10,.0f} lines/s")


if __name__ == "__main__":
    main()
