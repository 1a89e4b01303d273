"""Prove that ``ftlint --fix`` does not break real packages: run each package's own
test suite on its original sdist, then after ``ftlint --fix`` and after
``ftlint --fix --unsafe-fixes``, and report every test that passed before and
fails (or is gone) after.

    nice python benchmarks/fixsuites/run.py [--only NAME ...] [--python EXE ...]
        [--offline] [--cache-dir DIR] [--json FILE]

Exit 1 if any fix introduced a new test failure, 2 on a setup error.
The packages are listed in packages.toml next to this file.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODES = {"original": None, "fix": ["--fix"], "unsafe": ["--fix", "--unsafe-fixes"]}
FREE_THREADED_NAMES = ("python3.14t", "python3.13t")


@dataclass
class Result:
    package: str
    version: str
    python: str
    mode: str
    exit_code: int | None = None
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    new_failures: list[str] = field(default_factory=list)
    findings: int = 0
    fixes_applied: int = 0
    fixes_declined: int = 0
    fixed_codes: dict[str, int] = field(default_factory=dict)
    check_seconds: float = 0.0
    fix_seconds: float = 0.0
    test_seconds: float = 0.0
    note: str = ""
    statuses: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ratio(self) -> float | None:
        return self.fix_seconds / self.check_seconds if self.fix_seconds and self.check_seconds else None


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def default_pythons() -> list[str]:
    found = [shutil.which("python3") or "python3"]
    for name in FREE_THREADED_NAMES:
        exe = shutil.which(name)
        if exe:
            found.append(exe)
            break
    # python3 may itself be the free-threaded build: keep one of each
    unique: dict[tuple[str, bool], str] = {}
    for exe in found:
        unique.setdefault(describe(exe), exe)
    return list(unique.values())


def describe(exe: str) -> tuple[str, bool]:
    """(label such as 'cp313t', free-threaded?) of an interpreter."""
    out = sh([exe, "-c", "import sys, sysconfig; print(sys.implementation.cache_tag, "
              "int(bool(sysconfig.get_config_var('Py_GIL_DISABLED'))))"])
    if out.returncode:
        raise SystemExit(f"cannot run {exe}: {out.stderr.strip()}")
    tag, ft = out.stdout.split()
    tag = tag.replace("cpython-", "cp")
    return tag + ("t" if ft == "1" else ""), ft == "1"


def fetch_sdist(pkg: dict, cache: Path, offline: bool) -> Path:
    """Download (once) and unpack (once) the sdist; return the unpacked tree."""
    dl = cache / "sdists" / f"{pkg['name']}-{pkg['version']}"
    dl.mkdir(parents=True, exist_ok=True)
    archives = [p for p in dl.iterdir() if p.name.endswith((".tar.gz", ".zip"))]
    if not archives:
        if offline:
            raise SystemExit(f"--offline: no sdist of {pkg['name']} in {dl}")
        out = sh([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", pkg["name"],
                  "-d", str(dl), f"{pkg['name']}=={pkg['version']}"])
        archives = [p for p in dl.iterdir() if p.name.endswith((".tar.gz", ".zip"))]
        if out.returncode or not archives:
            raise SystemExit(f"pip download {pkg['name']} failed:\n{out.stderr}")
    archive = archives[0]
    tree = cache / "trees" / f"{pkg['name']}-{pkg['version']}"
    if not tree.exists():
        tmp = tree.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if archive.name.endswith(".zip"):
            shutil.unpack_archive(archive, tmp)
        else:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
        (top,) = list(tmp.iterdir())
        top.rename(tree)
        tmp.rmdir()
    return tree


def ensure_venv(pkg: dict, exe: str, tag: str, cache: Path, sdist_dir: Path, offline: bool) -> Path:
    """A venv per package and interpreter with the test requirements and the
    sdist itself (--no-deps, for its metadata); reused when complete."""
    venv = cache / "venvs" / f"{pkg['name']}-{pkg['version']}-{tag}"
    py = venv / "bin" / "python"
    stamp = venv / ".fixsuites-ready"
    wanted = json.dumps([pkg.get("requires", []), pkg.get("deps", [])])
    if stamp.exists() and stamp.read_text() == wanted:
        return py
    if offline:
        raise SystemExit(f"--offline: no ready venv {venv}")
    shutil.rmtree(venv, ignore_errors=True)
    log(f"  creating venv {venv.name}")
    for cmd in ([exe, "-m", "venv", str(venv)],
                [str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"],
                [str(py), "-m", "pip", "install", "-q", *pkg.get("requires", []), *pkg.get("deps", [])]
                if pkg.get("requires") or pkg.get("deps") else None,
                [str(py), "-m", "pip", "install", "-q", "--no-deps",
                 str(next(p for p in sdist_dir.iterdir() if p.name.endswith((".tar.gz", ".zip"))))]):
        if cmd is None:
            continue
        out = sh(cmd)
        if out.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    stamp.write_text(wanted)
    return py


def read_sources(root: Path, dirs: list[str]) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8", errors="replace")
            for d in dirs for p in sorted((root / d).rglob("*.py"))}


def unified_diff(before: dict[str, str], after: dict[str, str]) -> str:
    out = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name, ""), after.get(name, "")
        if a != b:
            out.extend(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                            f"a/{name}", f"b/{name}"))
    return "".join(out)


def run_ftlint(ftlint: str, root: Path, dirs: list[str], flags: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = sh([ftlint, "check", "--no-cache", "--exit-zero", *flags, *dirs], cwd=root)
    elapsed = time.perf_counter() - start
    if out.returncode not in (0, 1) or "Traceback" in out.stderr:
        raise SystemExit(f"ftlint {' '.join(flags)} crashed on {root}:\n{out.stderr}")
    return elapsed, out.stdout


def junit_statuses(xml: Path) -> dict[str, str]:
    statuses: dict[str, str] = {}
    if not xml.exists():
        return statuses
    for case in ET.parse(xml).iter("testcase"):
        tid = f"{case.get('classname', '')}::{case.get('name', '')}"
        kinds = {child.tag for child in case}
        status = ("failed" if "failure" in kinds else "error" if "error" in kinds
                  else "skipped" if "skipped" in kinds else "passed")
        # a teardown error adds a second <error> to a passed case: keep the worst
        if statuses.get(tid) in ("failed", "error"):
            continue
        statuses[tid] = status
    return statuses


def unittest_statuses(text: str) -> dict[str, str]:
    """Statuses from ``unittest -v``: "test_x (mod.Class.test_x) ... ok", where a
    docstring may put the " ... verdict" on the next line."""
    statuses: dict[str, str] = {}
    pending = None
    for line in text.splitlines():
        m = re.match(r"(\w+) \(([\w.]+)\)", line)
        if m:
            pending = f"{m.group(2)}"
        if " ... " not in line or pending is None:
            continue
        verdict = line.rpartition(" ... ")[2].strip().lower()
        statuses[pending] = ("passed" if verdict.startswith(("ok", "expected failure"))
                             else "skipped" if verdict.startswith("skipped")
                             else "error" if verdict.startswith("error") else "failed")
        pending = None
    for line in text.splitlines():
        for word, status in (("ERROR: ", "error"), ("FAIL: ", "failed")):
            m = re.match(word + r"\w+ \(([\w.]+)\)", line)
            if m and statuses.get(m.group(1)) not in ("failed", "error"):
                statuses[m.group(1)] = status
    return statuses


def run_tests(pkg: dict, py: Path, ft: bool, tree: Path, workdir: Path) -> tuple[int | None, dict[str, str], float, str]:
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    env["PYTHONPATH"] = os.pathsep.join(str(tree / p) for p in pkg.get("pythonpath", ["."]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["VIRTUAL_ENV"] = str(py.parent.parent)
    env["PATH"] = str(py.parent) + os.pathsep + env.get("PATH", "")
    if ft:
        env["PYTHON_GIL"] = "0"
    else:
        env.pop("PYTHON_GIL", None)
    module = pkg["import"]
    where = sh([str(py), "-c", f"import {module}; print({module}.__file__)"], cwd=tree, env=env)
    if where.returncode or not Path(where.stdout.strip()).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"{module} does not import from the copy {tree}: {where.stdout}{where.stderr}")
    cmd = [str(py), *pkg["test"]]
    xml = workdir / "junit.xml"
    if pkg["runner"] == "pytest":
        cmd += ["-p", "no:cacheprovider", f"--junitxml={xml}"]
    start = time.perf_counter()
    try:
        out = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True,
                             timeout=pkg.get("timeout", 900))
        code, text = out.returncode, out.stdout + out.stderr
    except subprocess.TimeoutExpired as exc:
        code, text = None, f"TIMEOUT\n{exc.stdout or ''}{exc.stderr or ''}"
    elapsed = time.perf_counter() - start
    statuses = junit_statuses(xml) if pkg["runner"] == "pytest" else unittest_statuses(text)
    return code, statuses, elapsed, text


def count_fixes(output: str) -> tuple[int, int, dict[str, int]]:
    applied = declined = 0
    codes: dict[str, int] = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "fixed":
            applied += 1
            codes[words[1]] = codes.get(words[1], 0) + 1
        elif len(words) >= 4 and words[:2] == ["not", "fixed"]:
            declined += 1
    return applied, declined, codes


def run_package(pkg: dict, pythons: list[tuple[str, str, bool]], args, ftlint: str) -> list[Result]:
    cache: Path = args.cache_dir
    log(f"== {pkg['name']} {pkg['version']}")
    tree = fetch_sdist(pkg, cache, args.offline)
    venvs = {exe: ensure_venv(pkg, exe, tag, cache, cache / "sdists" / f"{pkg['name']}-{pkg['version']}",
                              args.offline)
             for exe, tag, _ in pythons}
    work = cache / "work" / f"{pkg['name']}-{pkg['version']}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    original_src = read_sources(tree, pkg["fix"])
    # the check time: a plain run on the original tree (no cache), like a user's first run
    check_copy = work / "check"
    shutil.copytree(tree, check_copy)
    # best of two, so that the first run's cold file cache does not count against the check
    check_seconds, check_out = min(run_ftlint(ftlint, check_copy, pkg["fix"], ["--format", "json"])
                                   for _ in range(2))
    findings = len(json.loads(check_out or "[]"))
    shutil.rmtree(check_copy)

    results: list[Result] = []
    baseline: dict[str, dict[str, str]] = {}
    for mode, flags in MODES.items():
        fixed = work / mode
        shutil.copytree(tree, fixed)
        applied = declined = 0
        codes: dict[str, int] = {}
        fix_seconds = 0.0
        if flags is not None:
            fix_seconds, fix_out = run_ftlint(ftlint, fixed, pkg["fix"], [*flags, "--show-fixes"])
            applied, declined, codes = count_fixes(fix_out)
            (work / f"{mode}.ftlint.txt").write_text(fix_out)
            (work / f"{mode}.diff").write_text(unified_diff(original_src, read_sources(fixed, pkg["fix"])))
        for exe, tag, ft in pythons:
            test_tree = work / f"{mode}-{tag}"
            shutil.copytree(fixed, test_tree)
            code, statuses, test_seconds, text = run_tests(pkg, venvs[exe], ft, test_tree, work)
            (work / f"{mode}-{tag}.log").write_text(text)
            xml = work / "junit.xml"
            if xml.exists():
                xml.rename(work / f"{mode}-{tag}.junit.xml")
            r = Result(pkg["name"], pkg["version"], tag, mode, exit_code=code,
                       passed=sum(s == "passed" for s in statuses.values()),
                       failed=sum(s == "failed" for s in statuses.values()),
                       errors=sum(s == "error" for s in statuses.values()),
                       skipped=sum(s == "skipped" for s in statuses.values()),
                       findings=findings, fixes_applied=applied, fixes_declined=declined,
                       fixed_codes=codes, check_seconds=check_seconds if flags else 0.0,
                       fix_seconds=fix_seconds, test_seconds=test_seconds, statuses=statuses)
            if code is None:
                r.note = "timeout"
            elif not statuses:
                r.note = "no test results parsed"
            if flags is None:
                baseline[tag] = statuses
            else:
                before = baseline.get(tag, {})
                lost = sorted(t for t, s in before.items()
                              if s == "passed" and statuses.get(t, "missing") != "passed")
                flaky = set(pkg.get("flaky", []))
                r.new_failures = [t for t in lost if t not in flaky]
                if len(r.new_failures) < len(lost):
                    r.note = "known flaky: " + ", ".join(t for t in lost if t in flaky)
            shutil.rmtree(test_tree)
            log(f"  {tag:8} {mode:9} exit={code} passed={r.passed} failed={r.failed} errors={r.errors} "
                f"new_failures={len(r.new_failures)} fixes={applied} ({test_seconds:.1f}s)")
            results.append(r)
        shutil.rmtree(fixed)
    return results


def table(results: list[Result]) -> str:
    head = ("package", "python", "mode", "passed", "failed", "errors", "skipped", "new fail",
            "findings", "fixed", "declined", "check s", "fix s", "fix/check", "tests s")
    rows = [head]
    for r in results:
        rows.append((f"{r.package} {r.version}", r.python, r.mode, str(r.passed), str(r.failed),
                     str(r.errors), str(r.skipped), str(len(r.new_failures)) if r.mode != "original" else "-",
                     str(r.findings), str(r.fixes_applied) if r.mode != "original" else "-",
                     str(r.fixes_declined) if r.mode != "original" else "-",
                     f"{r.check_seconds:.2f}" if r.mode != "original" else "-",
                     f"{r.fix_seconds:.2f}" if r.mode != "original" else "-",
                     f"{r.ratio:.2f}" if r.ratio else "-",
                     f"{r.test_seconds:.1f}" + (" (timeout)" if r.exit_code is None else "")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="Run it under nice: the test suites use the CPUs.")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this package (repeatable, case-insensitive)")
    parser.add_argument("--python", action="append", metavar="EXE",
                        help="interpreter to run the tests with (repeatable; default: python3 "
                             "and the first of python3.14t/python3.13t on PATH)")
    parser.add_argument("--offline", action="store_true",
                        help="use only the cached sdists and venvs; download nothing")
    parser.add_argument("--cache-dir", type=Path,
                        default=Path("~/.cache/ftlint-fixsuites").expanduser(),
                        help="sdists, venvs and work trees (default: ~/.cache/ftlint-fixsuites)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    parser.add_argument("--ftlint", default=shutil.which("ftlint")
                        or str(Path(sys.executable).with_name("ftlint")),
                        help="the ftlint executable (default: the one on PATH)")
    parser.add_argument("--packages", type=Path, default=HERE / "packages.toml", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cache_dir = args.cache_dir.expanduser().resolve()

    packages = tomllib.loads(args.packages.read_text())["package"]
    if args.only:
        wanted = {n.lower() for n in args.only}
        unknown = wanted - {p["name"].lower() for p in packages}
        if unknown:
            parser.error(f"unknown package(s): {', '.join(sorted(unknown))}")
        packages = [p for p in packages if p["name"].lower() in wanted]
    else:
        for p in packages:
            if p.get("skip"):
                log(f"skipping {p['name']}: {p['skip']} (--only {p['name']} runs it)")
        packages = [p for p in packages if not p.get("skip")]
    pythons = []
    for exe in args.python or default_pythons():
        tag, ft = describe(exe)
        pythons.append((exe, tag, ft))
    version = sh([args.ftlint, "--version"]).stdout.strip()
    log(f"{version}; interpreters: {', '.join(t for _, t, _ in pythons)}")

    results: list[Result] = []
    for pkg in packages:
        results.extend(run_package(pkg, pythons, args, args.ftlint))

    print(table(results))
    ratios = {}
    for r in results:
        if r.ratio and (r.package, r.mode) not in ratios:
            ratios[(r.package, r.mode)] = r.ratio
    if ratios:
        values = sorted(ratios.values())
        print(f"\nfix run time / check time: median {values[len(values) // 2]:.2f}, "
              f"min {values[0]:.2f}, max {values[-1]:.2f}")
    broken = [r for r in results if r.new_failures]
    empty = [r for r in results if r.mode == "original" and not r.passed]
    for r in empty:
        print(f"\nSETUP ERROR {r.package} {r.python}: no test passed on the original code "
              f"(see {args.cache_dir / 'work' / (r.package + '-' + r.version) / ('original-' + r.python + '.log')})")
    for r in results:
        if r.note:
            print(f"note {r.package} {r.python} {r.mode}: {r.note}")
    for r in broken:
        print(f"\nNEW FAILURES {r.package} {r.python} {r.mode}: "
              f"(diff in {args.cache_dir / 'work' / (r.package + '-' + r.version) / (r.mode + '.diff')})")
        for tid in r.new_failures:
            print(f"  {tid}")
    if args.json:
        args.json.write_text(json.dumps({"ftlint": version, "results": [
            {k: v for k, v in asdict(r).items() if k != "statuses"} | {"ratio": r.ratio} for r in results
        ]}, indent=2))
    return 1 if broken else 2 if empty else 0


if __name__ == "__main__":
    sys.exit(main())
