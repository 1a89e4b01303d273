"""Run ``ftlint --fix --unsafe-fixes`` over a copy of the running interpreter's
standard library and check the three fixer guarantees at scale:

1. every file it wrote still compiles;
2. a second run changes nothing (the fixes converge);
3. nothing crashed (exit codes 0 or 1 only, no traceback).

It also counts the findings (every confidence) before and after, by
confidence: fixes should leave fewer, and add few of their own.

    python benchmarks/stdlib_fix.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from pathlib import Path

SKIP = {"test", "tests", "idlelib", "lib2to3", "site-packages", "__pycache__"}


def digest(root: Path) -> dict[Path, str]:
    return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.py"))}


def run(exe: str, root: Path) -> tuple[int, float, str]:
    start = time.perf_counter()
    proc = subprocess.run([exe, "--fix", "--unsafe-fixes", "--no-cache", "--exit-zero", "-q",
                           str(root)], capture_output=True, text=True)
    return proc.returncode, time.perf_counter() - start, proc.stderr


def findings(exe: str, root: Path) -> Counter:
    proc = subprocess.run([exe, "--format", "json", "--min-confidence", "low", "--no-cache",
                           "--exit-zero", str(root)], capture_output=True, text=True)
    return Counter(f["confidence"] for f in json.loads(proc.stdout) if f["code"].startswith("FT")
                   and not f["code"].startswith("FT0"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="copy into DIR and keep it")
    parser.add_argument("--ftlint", default=str(Path(sys.executable).with_name("ftlint")))
    args = parser.parse_args()
    source = Path(sysconfig.get_paths()["stdlib"])
    work = args.keep or Path(tempfile.mkdtemp(prefix="stdlib-fix-")) / "stdlib"
    shutil.copytree(source, work, ignore=lambda d, names: [n for n in names if n in SKIP])
    before = digest(work)
    compiled_before = {p for p in before if _compiles(work / p)}
    lines = sum((work / p).read_bytes().count(b"\n") for p in before)
    found_before = findings(args.ftlint, work)
    code, first, err1 = run(args.ftlint, work)
    after = digest(work)
    changed = [p for p in after if after[p] != before.get(p)]
    broken = [p for p in changed if p in compiled_before and not _compiles(work / p)]
    code2, second, err2 = run(args.ftlint, work)
    again = [p for p, h in digest(work).items() if h != after[p]]
    crashed = code not in (0, 1) or code2 not in (0, 1) or "Traceback" in err1 + err2
    found_after = findings(args.ftlint, work)
    print(f"Python {sys.version.split()[0]}: {len(after)} stdlib files, {lines:,} lines")
    print(f"first run  {first:7.1f} s   files fixed: {len(changed)}")
    print(f"second run {second:7.1f} s   files changed again: {len(again)}")
    print(f"fixed files that no longer compile: {len(broken)}")
    print(f"crashed: {'yes' if crashed else 'no'}")
    for level in ("high", "medium", "low"):
        print(f"{level:6} findings before {found_before[level]:5}   after {found_after[level]:5}")
    for p in (broken + again)[:20]:
        print(f"  {p}")
    if not args.keep:
        shutil.rmtree(work.parent, ignore_errors=True)
    return 1 if broken or again or crashed else 0


def _compiles(path: Path) -> bool:
    try:
        compile(path.read_bytes(), str(path), "exec")
        return True
    except (SyntaxError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(main())
