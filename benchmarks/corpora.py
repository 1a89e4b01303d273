#!/usr/bin/env python3
"""Run ``check`` and ``--fix`` over large corpora and report every failure.

Corpora:

* the whole standard library (``test/`` included, ``site-packages`` excluded)
  of every interpreter found: each ``pyenv versions --bare`` entry under
  ``pyenv root``, each ``--python EXE``, and a free-threaded build named by
  ``$FTLINT_FT_PYTHON`` or installed in ``~/.cache/ft-python``;
* the test and fixture folders of a few large projects (PROJECTS below),
  downloaded when the script runs as pinned sdists from PyPI into a cache
  directory (``--cache-dir``, default ``~/.cache/ftlint-corpora``); no
  third-party code is kept in this repository.

For each file (in-process, through the API, on a pool of processes with a
per-file timeout, each file in its own ``try``) it runs ``lint_source`` with
every rule at every confidence, then ``fix_source`` with the unsafe fixes (and
the safe ones alone with ``--modes safe,unsafe``), and checks the result:

* internal errors: an exception in ftlint, an FT000 finding, a fix the fixer
  could not apply, or a file that timed out;
* non-compiling fixes: the fixed code does not parse, or does not compile
  while the original did (checked here and, for code this interpreter cannot
  compile, by the corpus's own interpreter), or the fixer refuses its own
  output as "does not parse/compile";
* non-idempotent fixes: fixing the fixed code changes it again, or the
  fixer refuses its own output as "not idempotent".

It prints per-corpus counts (files, lines, time, findings, fixed files) and
every failure, and exits 1 if there is any. Fixes the fixer made and then
refused because they did not remove their finding are counted ("no-effect")
but are not failures. ``--cli`` runs the installed
``ftlint`` instead, on a temporary copy of each corpus (check, ``--fix
--unsafe-fixes``, then ``--fix --unsafe-fixes`` again), to catch what only the
command line does.

    python benchmarks/corpora.py --list
    python benchmarks/corpora.py --corpus 'stdlib-3.11*' --corpus 'stdlib-3.13*t:test'
    python benchmarks/corpora.py --corpus 'django*' --cli
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Optional

# Large test suites shipped in their sdists: (corpus, PyPI name, version,
# folders inside the unpacked sdist, relative to its top directory).
PROJECTS = (
    ("django-tests", "Django", "5.1.4", ("tests",)),
    ("sqlalchemy-tests", "SQLAlchemy", "2.0.36", ("test",)),
    ("pytest-tests", "pytest", "8.3.4", ("testing",)),
    ("sympy-tests", "sympy", "1.13.3", ("sympy/**/tests",)),
    ("twisted-tests", "Twisted", "24.11.0", ("src/twisted/**/test",)),
)

SKIP_DIRS = {"site-packages", "__pycache__", "dist-packages"}
DEFAULT_TIMEOUT = 300.0  # seconds per file (one file of findings can take a while)


# --------------------------------------------------------------------- corpora


@dataclass
class Corpus:
    name: str
    root: Path  # what file paths are shown relative to
    folders: tuple  # folders under root to walk (() = root itself)
    python: Optional[str] = None  # the interpreter whose code this is (compile checks)
    origin: str = ""  # how it was found, for the report

    def files(self) -> list:
        tops = [self.root / f for f in self.folders] if self.folders else [self.root]
        out = set()
        for top in tops:
            if not top.is_dir():
                continue
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
                out.update(Path(dirpath) / n for n in filenames if n.endswith(".py"))
        return sorted(out)


_PROBE = ("import sys, sysconfig; print(sysconfig.get_paths()['stdlib']); "
          "print('.'.join(map(str, sys.version_info[:3]))); "
          "print(sysconfig.get_config_var('Py_GIL_DISABLED') or 0)")


def probe(exe: str) -> Optional[tuple]:
    """(stdlib folder, version, free-threaded) of an interpreter, or None."""
    try:
        proc = subprocess.run([exe, "-E", "-s", "-c", _PROBE], capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = proc.stdout.split()
    if proc.returncode != 0 or len(lines) < 3:
        return None
    return Path(lines[0]), lines[1], lines[2] not in ("0", "None")


def interpreters(extra: Iterable[str]) -> list:
    """(executable, how it was found) for every interpreter to take a stdlib from."""
    found = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            root = subprocess.run([pyenv, "root"], capture_output=True, text=True,
                                  timeout=60).stdout.strip()
            names = subprocess.run([pyenv, "versions", "--bare"], capture_output=True,
                                   text=True, timeout=60).stdout.split()
        except (OSError, subprocess.TimeoutExpired):
            root, names = "", []
        for name in names:
            if "/" in name or name == "system":  # virtualenvs share their base's stdlib
                continue
            bindir = Path(root) / "versions" / name / "bin"
            exe = next((bindir / n for n in ("python3", "python") if (bindir / n).exists()), None)
            if exe is not None:
                found.append((str(exe), f"pyenv {name}"))
    found += [(exe, "--python") for exe in extra]
    ft = os.environ.get("FTLINT_FT_PYTHON")
    if ft:
        found.append((ft, "$FTLINT_FT_PYTHON"))
    else:
        builds = sorted(glob.glob(str(Path.home() / ".cache" / "ft-python" / "bin" / "python3.*t")))
        if builds:
            found.append((builds[-1], "~/.cache/ft-python"))
    return found


def stdlib_corpora(extra: Iterable[str]) -> list:
    corpora, seen = [], set()
    for exe, origin in interpreters(extra):
        info = probe(exe)
        if info is None:
            print(f"corpora: {exe} ({origin}) does not run; skipped", file=sys.stderr)
            continue
        stdlib, version, free = info
        if stdlib.resolve() in seen or not stdlib.is_dir():
            continue
        seen.add(stdlib.resolve())
        corpora.append(Corpus(f"stdlib-{version}{'t' if free else ''}", stdlib, (), exe,
                              f"{origin}: {exe}"))
    return corpora


def project_corpora(cache: Path, offline: bool, wanted) -> list:
    corpora = []
    for name, package, version, folders in PROJECTS:
        if not wanted(name):
            continue
        try:
            top = unpack(cache, package, version, offline)
        except RuntimeError as exc:
            print(f"corpora: {name}: {exc}; skipped", file=sys.stderr)
            continue
        expanded = []
        for folder in folders:
            expanded += sorted(str(Path(p).relative_to(top)) for p in
                               glob.glob(str(top / folder), recursive=True) if Path(p).is_dir())
        if not expanded:
            print(f"corpora: {name}: {package} {version} has no {', '.join(folders)}; skipped",
                  file=sys.stderr)
            continue
        corpora.append(Corpus(name, top, tuple(expanded), None,
                              f"PyPI sdist {package}=={version}: {', '.join(folders)}"))
    return corpora


def unpack(cache: Path, package: str, version: str, offline: bool) -> Path:
    """The top folder of the unpacked sdist, downloading it when needed."""
    dest = cache / "src" / f"{package.lower()}-{version}"
    if (dest / ".complete").exists():
        return next(p for p in dest.iterdir() if p.is_dir())
    dist = cache / "dist"
    dist.mkdir(parents=True, exist_ok=True)
    stem = f"{package}-{version}".lower().replace("-", "_")
    archive = next((p for p in dist.iterdir()
                    if p.name.lower().replace("-", "_").startswith(stem)
                    and p.name.endswith((".tar.gz", ".zip"))), None)
    if archive is None:
        if offline:
            raise RuntimeError("not in the cache (--offline)")
        print(f"corpora: downloading {package}=={version} ...", file=sys.stderr, flush=True)
        # The sdist of the package only: "--no-binary :all:" would also build
        # its build requirements from source (Cython, for SQLAlchemy) just to
        # read its metadata.
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                                   "--no-binary", package, f"{package}=={version}", "-d", tmp],
                                  capture_output=True, text=True)
            got = [p for p in Path(tmp).iterdir() if p.name.endswith((".tar.gz", ".zip"))]
            if proc.returncode != 0 or not got:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no sdist"]
                raise RuntimeError(f"pip download failed: {tail[0]}")
            archive = Path(shutil.move(str(got[0]), dist / got[0].name))
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            z.extractall(dest)
    else:
        with tarfile.open(archive) as t:
            if hasattr(tarfile, "data_filter"):
                t.extractall(dest, filter="data")
            else:  # pragma: no cover - before 3.8.17/3.11.4
                t.extractall(dest)
    (dest / ".complete").touch()
    return next(p for p in dest.iterdir() if p.is_dir())


# --------------------------------------------------------------- per-file work


@dataclass
class Problem:
    kind: str  # "internal error", "non-compiling", "non-idempotent", "timeout"
    path: str
    stage: str  # lint / fix-safe / fix-unsafe / refix-... / cli
    detail: str


@dataclass
class FileOutcome:
    path: str
    lines: int = 0
    seconds: float = 0.0
    findings: int = 0
    unparsed: bool = False  # FT001/FT002: not Python this parser reads
    fixed: dict = field(default_factory=dict)  # mode -> number of fixes applied
    refusals: dict = field(default_factory=dict)  # reason -> count (other than failures)
    problems: list = field(default_factory=list)
    deferred: list = field(default_factory=list)  # (mode, original, fixed) to compile elsewhere


class _Timeout(BaseException):  # not an Exception: ftlint's own handlers must not eat it
    pass


def _on_alarm(signum, frame):
    raise _Timeout()


def _init_worker() -> None:
    from ftlint import workers

    sys.setrecursionlimit(max(sys.getrecursionlimit(), workers.RECURSION_LIMIT))
    signal.signal(signal.SIGALRM, _on_alarm)


def _compiles(source) -> bool:
    try:
        compile(source, "<corpus>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError):
        return False
    return True


def _short(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "ftlint" in f.filename] or frames
    where = f" at {Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else ""
    return f"{type(exc).__name__}: {exc}{where}"[:500]


def _where(diagnostic) -> str:
    """The last frame of ftlint in an FT000's traceback."""
    frames = re.findall(r'File "(.*?)", line (\d+), in (\w+)',
                        (diagnostic.extra or {}).get("traceback", ""))
    ours = [f for f in frames if "ftlint" in f[0]] or frames
    return f" at {Path(ours[-1][0]).name}:{ours[-1][1]} {ours[-1][2]}" if ours else ""


REFUSAL_KINDS = (
    ("not idempotent", "non-idempotent"),
    ("does not compile", "non-compiling"),
    ("does not parse", "non-compiling"),
    ("cannot be checked", "non-compiling"),
    ("could not apply the fixes", "internal error"),
)


def refusal_kind(reason: str) -> Optional[str]:
    return next((kind for text, kind in REFUSAL_KINDS if text in reason), None)


def check_file(path: str, shown: str, modes: tuple, timeout: float) -> FileOutcome:
    """Everything for one file; never raises."""
    out = FileOutcome(shown)
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        data = Path(path).read_bytes()
        out.lines = data.count(b"\n")
        _work(data, path, out, modes)
    except _Timeout:
        out.problems.append(Problem("timeout", shown, "", f"over {timeout:g} s"))
    except BaseException as exc:  # noqa: BLE001 - one file must not hide the others
        out.problems.append(Problem("internal error", shown, "", _short(exc)))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        out.seconds = time.perf_counter() - start
    return out


def _settings():
    from ftlint.config import Settings
    from ftlint.diagnostics import Confidence
    from ftlint.rules import ALL_RULES

    return Settings(extend_select=tuple(sorted(ALL_RULES)), min_confidence=Confidence.LOW)


def _work(data: bytes, path: str, out: FileOutcome, modes: tuple) -> None:
    import libcst as cst

    from ftlint.api import fix_source, lint_source

    settings = _settings()
    shown = out.path

    def problem(kind, stage, detail):
        out.problems.append(Problem(kind, shown, stage, detail))

    try:
        result = lint_source(data, path, settings)
    except Exception as exc:  # noqa: BLE001
        problem("internal error", "lint", _short(exc))
        return
    for d in result.diagnostics:
        if d.code == "FT000":
            problem("internal error", "lint", f"FT000 {d.message}{_where(d)}"[:500])
        elif d.is_error:
            out.unparsed = True
    diagnostics = [d for d in result.diagnostics if not d.is_error]
    out.findings = len(diagnostics)
    if not diagnostics or out.unparsed:
        return
    original_compiles = _compiles(data)
    for mode in modes:
        unsafe = mode == "unsafe"
        stage = f"fix-{mode}"
        try:
            fixed = fix_source(data, path, settings, unsafe=unsafe, diagnostics=diagnostics)
        except Exception as exc:  # noqa: BLE001
            problem("internal error", stage, _short(exc))
            continue
        reasons = [fixed.error] if fixed.error else []
        reasons += [o.reason for o in fixed.unfixed if o.reason]
        for reason in dict.fromkeys(reasons):
            kind = refusal_kind(reason)
            if kind is not None:
                problem(kind, stage, f"refused: {reason}"[:500])
        for o in fixed.unfixed:
            if o.reason and refusal_kind(o.reason) is None:
                key = (f"the fix did not remove {o.code}" if "did not remove" in o.reason
                       else o.reason.split(" at ")[0].split(";")[0][:80])
                out.refusals[key] = out.refusals.get(key, 0) + 1
        if not fixed.changed:
            continue
        out.fixed[mode] = len(fixed.applied)
        new = fixed.new_source
        try:
            cst.parse_module(new)
        except Exception as exc:  # noqa: BLE001
            problem("non-compiling", stage, f"the fixed code does not parse: {_short(exc)}")
            continue
        if original_compiles:
            if not _compiles(new):
                problem("non-compiling", stage, "the fixed code does not compile")
                continue
        else:  # newer syntax than this interpreter's: the corpus's own one checks it
            out.deferred.append((mode, data, new))
        try:
            again_lint = lint_source(new, path, settings)
            again_diags = [d for d in again_lint.diagnostics if not d.is_error]
            if any(d.code == "FT000" for d in again_lint.diagnostics):
                problem("internal error", f"relint-{mode}", "FT000 on the fixed code")
            again = fix_source(new, path, settings, unsafe=unsafe, diagnostics=again_diags)
        except Exception as exc:  # noqa: BLE001
            problem("internal error", f"refix-{mode}", _short(exc))
            continue
        if again.changed and again.new_source != new:
            fixes = ", ".join(sorted({f"{o.code} at {o.row}:{o.column}" for o in again.applied}))
            problem("non-idempotent", f"refix-{mode}", f"a second fix changes it: {fixes}"[:500])


# -------------------------------------------------------------- compile checks

_COMPILER = r"""
import sys
bad = []
for name in sys.argv[1:]:
    ok = []
    for part in ("orig", "new"):
        f = open(name + "." + part, "rb")
        try:
            src = f.read()
        finally:
            f.close()
        try:
            compile(src, name, "exec")
            ok.append(True)
        except (SyntaxError, ValueError, OverflowError):
            ok.append(False)
    if ok[0] and not ok[1]:
        bad.append(name)
sys.stdout.write("\n".join(bad))
"""


def compile_elsewhere(python: Optional[str], items: list) -> list:
    """Names (shown paths) of fixed files that ``python`` cannot compile while
    it compiles the original; items are (shown, original, fixed)."""
    if not items or not python:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for i, (shown, orig, new) in enumerate(items):
            base = os.path.join(tmp, str(i))
            Path(base + ".orig").write_bytes(orig)
            Path(base + ".new").write_bytes(new if isinstance(new, bytes) else new.encode())
            names.append(base)
        proc = subprocess.run([python, "-E", "-s", "-c", _COMPILER, *names], capture_output=True,
                              text=True)
        bad = set(proc.stdout.split())
    return [shown for (shown, _, _), base in zip(items, names) if base in bad]


# ---------------------------------------------------------------- running


@dataclass
class Summary:
    corpus: str
    origin: str
    mode: str
    files: int = 0
    lines: int = 0
    seconds: float = 0.0
    findings: int = 0
    unparsed: int = 0
    fixed_files: int = 0
    fixes: int = 0
    internal_errors: int = 0
    non_compiling: int = 0
    non_idempotent: int = 0
    timeouts: int = 0
    ineffective: int = 0  # refused as "the fix did not remove ...": reported, not a failure
    problems: list = field(default_factory=list)
    slowest: list = field(default_factory=list)
    refusals: dict = field(default_factory=dict)

    @property
    def failures(self) -> int:
        return self.internal_errors + self.non_compiling + self.non_idempotent + self.timeouts

    def add(self, p: Problem) -> None:
        self.problems.append(p)
        attr = {"internal error": "internal_errors", "non-compiling": "non_compiling",
                "non-idempotent": "non_idempotent", "timeout": "timeouts"}[p.kind]
        setattr(self, attr, getattr(self, attr) + 1)


def run_api(corpus: Corpus, files: list, modes: tuple, jobs: int, timeout: float) -> Summary:
    summary = Summary(corpus.name, corpus.origin, "api " + "+".join(modes))
    start = time.perf_counter()
    outcomes: dict = {}
    pending = [(str(f), str(f.relative_to(corpus.root))) for f in files]
    deaths: Counter = Counter()
    while pending:
        todo, pending = pending, []
        try:
            with ProcessPoolExecutor(jobs, initializer=_init_worker) as pool:
                futures = {pool.submit(check_file, p, s, modes, timeout): (p, s) for p, s in todo}
                done = 0
                for future in as_completed(futures):
                    p, s = futures[future]
                    outcomes[s] = future.result()
                    for problem in outcomes[s].problems:  # as found: a long run shows them early
                        print(f"  {problem.kind}: {s} [{problem.stage}] {problem.detail}",
                              file=sys.stderr, flush=True)
                    done += 1
                    if done % 200 == 0:
                        print(f"  {corpus.name}: {done}/{len(todo)} files, "
                              f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        except BrokenProcessPool:
            # A worker died (out of memory, a crash in native code): run what
            # is left again; a file that breaks two pools is reported.
            for p, s in todo:
                if s in outcomes:
                    continue
                deaths[s] += 1
                if deaths[s] >= 2 or len(todo) == 1:
                    outcomes[s] = FileOutcome(s, problems=[Problem(
                        "internal error", s, "worker", "the worker process died")])
                else:
                    pending.append((p, s))
            if len(pending) > 1 and deaths and max(deaths.values()) >= 1:
                jobs = 1  # find the culprit alone
    summary.seconds = time.perf_counter() - start
    deferred = []
    for s in sorted(outcomes):
        o = outcomes[s]
        summary.files += 1
        summary.lines += o.lines
        summary.findings += o.findings
        summary.unparsed += o.unparsed
        summary.fixed_files += bool(o.fixed)
        summary.fixes += max(o.fixed.values(), default=0)
        for p in o.problems:
            summary.add(p)
        for reason, n in o.refusals.items():
            summary.refusals[reason] = summary.refusals.get(reason, 0) + n
            if "did not remove" in reason:
                summary.ineffective += n
        deferred += [(f"{s}\0{mode}", orig, new) for mode, orig, new in o.deferred]
    for key in compile_elsewhere(corpus.python, deferred):
        shown, mode = key.split("\0")
        summary.add(Problem("non-compiling", shown, f"fix-{mode}",
                            f"the fixed code does not compile on {corpus.name}"))
    summary.slowest = [(o.path, round(o.seconds, 1)) for o in
                       sorted(outcomes.values(), key=lambda o: -o.seconds)[:5]]
    return summary


def _digest(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*.py")}


def run_cli(corpus: Corpus, files: list, ftlint: str, jobs: int) -> Summary:
    """The installed command line on a temporary copy of the corpus."""
    from ftlint.rules import ALL_RULES

    summary = Summary(corpus.name, corpus.origin, "cli")
    common = ["--no-cache", "--exit-zero", "--min-confidence", "low", "-j", str(jobs),
              "--extend-select", ",".join(sorted(ALL_RULES)), "--exclude", "__pycache__"]
    with tempfile.TemporaryDirectory(prefix="ftlint-corpus-") as tmp:
        work = Path(tmp) / corpus.name
        originals = {}
        for f in files:
            rel = f.relative_to(corpus.root).as_posix()
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = f.read_bytes()
            target.write_bytes(data)
            originals[rel] = data
            summary.files += 1
            summary.lines += data.count(b"\n")
        start = time.perf_counter()

        def ftlint_run(*args):
            proc = subprocess.run([ftlint, "check", *common, *args, str(work)],
                                  capture_output=True, text=True)
            if proc.returncode not in (0, 1) or "Traceback" in proc.stderr:
                tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                summary.add(Problem("internal error", "(whole run)", "cli " + " ".join(args),
                                    f"exit {proc.returncode}: {tail}"[:500]))
            for line in proc.stderr.splitlines():
                if "internal error" in line or "FT000" in line:
                    summary.add(Problem("internal error", line.split(":")[1].strip()
                                        if line.count(":") > 1 else "?", "cli", line[:500]))
                elif "left unchanged:" in line:
                    reason = line.split("left unchanged:", 1)[1].strip()
                    kind = refusal_kind(reason)
                    where = line.split(":")[1].strip()
                    if kind is not None:
                        summary.add(Problem(kind, where, "cli --fix", f"refused: {reason}"))
            return proc

        proc = ftlint_run("--format", "json")
        try:
            found = json.loads(proc.stdout or "[]")
        except ValueError:
            found = []
            summary.add(Problem("internal error", "(whole run)", "cli check",
                                "the JSON output does not parse"))
        summary.findings = sum(1 for d in found if not d["code"].startswith("FT0"))
        summary.unparsed = len({d["filename"] for d in found
                                if d["code"] in ("FT001", "FT002")})
        for d in found:
            if d["code"] == "FT000":
                summary.add(Problem("internal error", d["filename"], "cli check", d["message"]))
        ftlint_run("-q", "--fix", "--unsafe-fixes")
        after = _digest(work)
        changed = [rel for rel, h in after.items()
                   if h != hashlib.sha256(originals[rel]).hexdigest()]
        summary.fixed_files = len(changed)
        deferred = []
        for rel in changed:
            new = (work / rel).read_bytes()
            if _compiles(originals[rel]):
                if not _compiles(new):
                    summary.add(Problem("non-compiling", rel, "cli --fix",
                                        "the fixed code does not compile"))
            else:
                deferred.append((rel, originals[rel], new))
        for rel in compile_elsewhere(corpus.python, deferred):
            summary.add(Problem("non-compiling", rel, "cli --fix",
                                f"the fixed code does not compile on {corpus.name}"))
        ftlint_run("-q", "--fix", "--unsafe-fixes")
        for rel, h in _digest(work).items():
            if h != after[rel]:
                summary.add(Problem("non-idempotent", rel, "cli --fix (second run)",
                                    "a second --fix changes it"))
        summary.seconds = time.perf_counter() - start
    return summary


# ---------------------------------------------------------------- reporting


def report(summaries: list, show: int) -> None:
    head = (f"{'corpus':20} {'mode':16} {'files':>6} {'lines':>9} {'time s':>7} "
            f"{'findings':>8} {'unparsed':>8} {'fixed':>6} {'internal':>8} "
            f"{'non-comp':>8} {'non-idem':>8} {'timeout':>7} {'no-effect':>9}")
    print(head)
    print("-" * len(head))
    total = Summary("total", "", "")
    for s in summaries:
        print(f"{s.corpus:20} {s.mode:16} {s.files:6} {s.lines:9,} {s.seconds:7.0f} "
              f"{s.findings:8} {s.unparsed:8} {s.fixed_files:6} {s.internal_errors:8} "
              f"{s.non_compiling:8} {s.non_idempotent:8} {s.timeouts:7} {s.ineffective:9}")
        for name in ("files", "lines", "seconds", "findings", "unparsed", "fixed_files",
                     "internal_errors", "non_compiling", "non_idempotent", "timeouts",
                     "ineffective"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
    if len(summaries) > 1:
        print("-" * len(head))
        s = total
        print(f"{'total':20} {'':16} {s.files:6} {s.lines:9,} {s.seconds:7.0f} "
              f"{s.findings:8} {s.unparsed:8} {s.fixed_files:6} {s.internal_errors:8} "
              f"{s.non_compiling:8} {s.non_idempotent:8} {s.timeouts:7} {s.ineffective:9}")
    for s in summaries:
        print(f"\n{s.corpus} ({s.origin})")
        if s.slowest:
            print("  slowest: " + ", ".join(f"{p} {t} s" for p, t in s.slowest[:3]))
        for p in s.problems[:show]:
            print(f"  {p.kind}: {p.path} [{p.stage}] {p.detail}")
        if len(s.problems) > show:
            print(f"  ... and {len(s.problems) - show} more (--show N)")


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", action="append", default=[], metavar="GLOB[:FOLDER]",
                    help="run only the corpora whose name matches GLOB (repeatable); "
                         ":FOLDER keeps only that folder of it, e.g. 'stdlib-3.13*t:test'")
    ap.add_argument("--python", action="append", default=[], metavar="EXE",
                    help="also take the standard library of this interpreter (repeatable)")
    ap.add_argument("--no-stdlib", action="store_true", help="skip the standard libraries")
    ap.add_argument("--no-projects", action="store_true", help="skip the downloaded projects")
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "ftlint-corpora",
                    help="where sdists are downloaded and unpacked (default: %(default)s)")
    ap.add_argument("--offline", action="store_true", help="use only what is already cached")
    ap.add_argument("--modes", default="unsafe",
                    help="comma-separated fix modes to run: safe, unsafe (default: %(default)s)")
    ap.add_argument("--jobs", "-j", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="seconds per file (default: %(default)s)")
    ap.add_argument("--cli", action="store_true",
                    help="run the installed ftlint on a copy of each corpus instead of the API")
    ap.add_argument("--ftlint", default=shutil.which("ftlint") or
                    str(Path(sys.executable).with_name("ftlint")))
    ap.add_argument("--list", action="store_true", help="list the corpora and exit")
    ap.add_argument("--json", type=Path, help="also write the results to this file")
    ap.add_argument("--show", type=int, default=50, help="failures shown per corpus")
    args = ap.parse_args(argv)

    patterns = [(c.split(":", 1) + [""])[:2] for c in args.corpus]

    def wanted(name: str) -> bool:
        return not patterns or any(fnmatch.fnmatch(name, g) for g, _ in patterns)

    corpora = [] if args.no_stdlib else stdlib_corpora(args.python)
    if not args.no_projects:
        corpora += project_corpora(args.cache_dir.expanduser(), args.offline, wanted)
    selected = []
    for c in corpora:
        for g, folder in patterns or [("*", "")]:
            if fnmatch.fnmatch(c.name, g):
                if folder:
                    c = Corpus(f"{c.name}:{folder}", c.root, (folder,), c.python, c.origin)
                selected.append(c)
                break
    if args.list:
        for c in selected:
            files = c.files()
            lines = sum(f.read_bytes().count(b"\n") for f in files)
            print(f"{c.name:20} {len(files):6} files {lines:10,} lines  {c.origin}")
        return 0
    if not selected:
        print("corpora: nothing to run", file=sys.stderr)
        return 2
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if not set(modes) <= {"safe", "unsafe"}:
        ap.error("--modes takes safe and/or unsafe")
    summaries = []
    for c in selected:
        files = c.files()
        print(f"corpora: {c.name}: {len(files)} files ({c.origin})", file=sys.stderr, flush=True)
        s = (run_cli(c, files, args.ftlint, args.jobs) if args.cli
             else run_api(c, files, modes, args.jobs, args.timeout))
        summaries.append(s)
        print(f"corpora: {c.name}: done in {s.seconds:.0f} s, {s.failures} failures",
              file=sys.stderr, flush=True)
    report(summaries, args.show)
    if args.json:
        args.json.write_text(json.dumps([dict(asdict(s), failures=s.failures)
                                         for s in summaries], indent=1, default=str))
    return 1 if any(s.failures for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
