"""Pathological inputs through the installed ``ftlint`` CLI: time, memory, outcome.

Generates each input at two or three sizes in a temporary directory, runs
``ftlint FILE`` and ``ftlint --fix FILE`` (on a fresh copy) with a timeout,
and prints the wall time, the CPU time, the peak RSS of the run and what
came of it: checked, reported as too large, too deep or too long, or a
crash/timeout. The last column is the growth of CPU time and of peak RSS
from the previous size of the same input: about the size ratio when the cost
is linear.

    python benchmarks/limits.py [--timeout 120] [--only NAME ...] [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1024 * 1024


def realistic(size: int) -> str:
    """A module of classes and functions, one check-then-act in 50 blocks."""
    out = ['"""Generated."""\n']
    total = i = 0
    while total < size:
        block = f'''
_registry_{i} = {{}}


class Handler{i}:
    """Handles things of kind {i}."""

    limit = {i}

    def __init__(self, name, values=None):
        self.name = name
        self.values = list(values or ())

    def total(self, scale=2):
        total = 0
        for x in self.values:
            if x > self.limit:
                total += x * scale
            else:
                total -= x
        return total


def lookup_{i}(key, default=None):
    value = _registry_{i}.get(key, default)
    return value if value is not None else "missing: %s" % (key,)
'''
        if i % 50 == 0:
            block += f'''

def register_{i}(key, value):
    if key not in _registry_{i}:
        _registry_{i}[key] = value
'''
        out.append(block)
        total += len(block)
        i += 1
    return "".join(out)


def check_then_acts(n: int) -> str:
    """N functions, each a check-then-act on one module dict."""
    return "_cache = {}\n\n" + "".join(
        f"\ndef get_{i}(k):\n    if k not in _cache:\n        _cache[k] = {i}\n    return _cache[k]\n"
        for i in range(n))


def nested_functions(n: int) -> str:
    """N functions nested as deep as CPython allows (98 levels), chain after chain."""
    out = ["_state = {}\n"]
    depth = 0
    for i in range(n):
        if depth == 98:
            depth = 0
        out.append("    " * depth + f"def f{i}(k):\n")
        out.append("    " * (depth + 1) + f"_state[k] = {i}\n")
        depth += 1
    return "".join(out)


def deep_nested_functions(n: int) -> str:
    """N functions, each inside the previous one (CPython refuses 100 levels)."""
    return "".join("    " * i + f"def f{i}():\n" for i in range(n)) + "    " * n + "pass\n"


def nested_tuple(n: int) -> str:
    return "x = " + "(" * n + ")" * n + "\n"


def nested_dict(n: int) -> str:
    return "x = " + "{1: " * n + "1" + "}" * n + "\n"


def lambda_chain(n: int) -> str:
    return "x = " + "lambda: " * n + "1\n"


def plus_chain(n: int) -> str:
    return "x = " + " + ".join(["a"] * n) + "\n"


def many_statements(n: int) -> str:
    """N short sums with a finding every 100 lines: many chains, each short."""
    return "_total = {}\n" + "".join(
        f"x{i} = a + b * c - d\n" if i % 100 else f"def f{i}(k):\n    _total[k] = a + b\n"
        for i in range(n))


# name -> (generator, sizes, what a size is)
INPUTS = {
    "realistic module": (lambda mb: realistic(int(mb * MB)), [0.25, 0.5, 1], "MB"),
    "20 MB module": (lambda mb: realistic(int(mb * MB)), [20], "MB"),
    "check-then-acts on one dict": (check_then_acts, [500, 1000, 2000], "functions"),
    "nested functions (98 deep, chained)": (nested_functions, [500, 1000, 2000], "functions"),
    "nested functions (each in the last)": (deep_nested_functions, [2000], "functions"),
    "nested tuple": (nested_tuple, [200, 1500], "deep"),
    "nested dict": (nested_dict, [5000], "deep"),
    "lambda chain": (lambda_chain, [250, 500, 5000], "deep"),
    "`+` chain": (plus_chain, [250, 500, 100_000], "terms"),
    "short statements": (many_statements, [25_000, 50_000, 100_000], "lines"),
}
QUICK = {"realistic module": [0.25, 0.5], "check-then-acts on one dict": [250, 500],
         "nested functions (98 deep, chained)": [250, 500], "short statements": [5000, 10000],
         "lambda chain": [250, 500, 5000], "`+` chain": [250, 500, 100_000]}


def outcome(proc: subprocess.CompletedProcess) -> str:
    if proc.returncode < 0:
        return f"crashed (signal {-proc.returncode})"
    out = proc.stdout + proc.stderr
    if "internal error" in out or "FT000" in out or proc.returncode == 2:
        return "internal error"
    for marker, what in (("max-file-size", "too large"), ("brackets at line", "too deep"),
                         ("levels of indentation", "too deep"), ("chains more than", "too long"),
                         ("`elif` branches", "too long"), ("string literals", "too long")):
        if marker in out:
            return f"reported {what}"
    if "FT002" in out:
        return "FT002 (not checked)"
    findings = [line for line in proc.stdout.splitlines() if ": FT" in line]
    fixed = next((line for line in out.splitlines() if line.startswith("Fixed ")), "")
    return f"checked, {len(findings)} findings" + (f"; {fixed.rstrip('.')}" if fixed else "")


def run(exe: str, args: list[str], timeout: float) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MB, outcome) of one CLI run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run([exe, "--no-cache", *args], capture_output=True, text=True,
                              timeout=timeout)
        result = outcome(proc)
    except subprocess.TimeoutExpired:
        result = f"timeout after {timeout:.0f} s"
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of the children is the largest of any child so far: run each
    # measurement in a fresh process (see main) so that it is this run's.
    return wall, cpu, after.ru_maxrss / 1024, result


def measure_one(exe: str, args: list[str], timeout: float) -> None:
    wall, cpu, rss, result = run(exe, args, timeout)
    print(f"{wall}\t{cpu}\t{rss}\t{result}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--only", nargs="*", help="names of inputs (substrings)")
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    exe = shutil.which("ftlint") or str(Path(sys.executable).with_name("ftlint"))
    if opts.measure:  # one run in this fresh process, for its own peak RSS
        measure_one(exe, [a for a in opts.args if a != "--"], opts.timeout)
        return 0
    print(f"ftlint: {exe}\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print(f"{'input':<38} {'size':>22} {'mode':<6} {'wall s':>7} {'CPU s':>7} {'RSS MB':>7}"
          f"  {'growth CPU/RSS':<15} outcome")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (make, sizes, unit) in INPUTS.items():
            if opts.only and not any(o in name for o in opts.only):
                continue
            if opts.quick:
                if name not in QUICK:
                    continue
                sizes = QUICK[name]
            previous: dict[str, tuple[float, float, float]] = {}
            for size in sizes:
                source = make(size)
                path = Path(tmp, "input.py")
                for mode in ("check", "--fix"):
                    path.write_text(source)
                    args = [str(path)] if mode == "check" else ["--fix", str(path)]
                    proc = subprocess.run(
                        [sys.executable, __file__, "--timeout", str(opts.timeout), "--measure", "--", *args],
                        capture_output=True, text=True)
                    wall, cpu, rss, result = proc.stdout.strip().split("\t")
                    wall, cpu, rss = float(wall), float(cpu), float(rss)
                    growth = ""
                    if mode in previous and result.startswith("checked"):
                        p_size, p_cpu, p_rss = previous[mode]
                        growth = f"x{size / p_size:g}: {cpu / max(p_cpu, 1e-9):.2f}/{rss / p_rss:.2f}"
                    if result.startswith("checked"):
                        previous[mode] = (size, cpu, rss)
                    label = f"{size:g} {unit}"
                    if unit != "MB":
                        label += f", {len(source) / 1024:.0f} KB" if len(source) < MB \
                            else f", {len(source) / MB:.1f} MB"
                    print(f"{name:<38} {label:>22} {mode:<6} {wall:>7.1f} {cpu:>7.1f} "
                          f"{rss:>7.0f}  {growth:<15} {result}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
