#!/usr/bin/env python3
"""Score ftlint on real thread-safety bugs and correctly guarded look-alikes.

Each case in cases.toml names a file of a released PyPI package (or of CPython's
standard library) and a line range. The file is downloaded when the script runs
(never stored in this repository) and linted; a bug is found when a finding of
the case's category (FT1/FT2/FT3) starts in its range (give or take SLACK lines),
a look-alike is a false alarm when one starts in its range. Cases marked
`heldout = "DATE"` (the newest held-out batch, never studied) are scored on their
own first, then those marked `heldout = true` (an older held-out part, studied
since), then the rest, then all of them.
The script reports and exits 0: it is a measurement, not a test. Standard library
only (3.11+).
"""
import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

HERE = Path(__file__).resolve().parent
CATEGORIES = ("FT1", "FT2", "FT3")
KINDS = ("bug", "lookalike")
PARTS = ("fresh", "heldout", "rest")  # fresh: the newest held-out batch, never run before
SLACK = 2  # lines of slack around a bug's range
ARCHIVES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".whl")


class CaseError(Exception):
    """A case could not be evaluated (download, lookup or ftlint failure)."""

    def __init__(self, message: str, skip: bool = False):
        super().__init__(message)
        self.skip = skip  # True: not the case's fault (offline, no apt, no ftlint)


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    package: str
    version: str
    path: str
    lines: tuple[int, int]
    category: str
    rules: tuple[str, ...] = ()
    pattern: str = ""
    source: str = ""
    fixed_in: str = ""
    dist: str = ""  # "wheel" skips the sdist attempt
    note: str = ""
    # In the held-out part: not to be studied while tuning ftlint. A string
    # names a later held-out batch (its date), scored on its own first.
    heldout: bool | str = False

    @property
    def part(self) -> str:
        if isinstance(self.heldout, str):
            return "fresh"
        return "heldout" if self.heldout else "rest"

    @property
    def key(self) -> str:
        return f"{self.package.lower()}-{self.version}"


@dataclass
class Result:
    case: Case
    status: str  # found | missed | clean | false-alarm | skipped | error
    detail: str = ""
    matched: list[dict] = field(default_factory=list)


def load_cases(path: Path) -> list[Case]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cases, seen = [], set()
    for n, raw in enumerate(data.get("case", []), 1):
        try:
            lines = tuple(raw["lines"])
            case = Case(**{**raw, "lines": lines, "rules": tuple(raw.get("rules", ()))})
        except (KeyError, TypeError) as exc:
            raise ValueError(f"case #{n} ({raw.get('id', 'no id')}): missing or unknown field: {exc}") from exc
        if case.id in seen:
            raise ValueError(f"duplicate case id {case.id!r}")
        if case.kind not in KINDS or case.category not in CATEGORIES:
            raise ValueError(f"{case.id}: bad kind or category")
        if len(lines) != 2 or not 0 < lines[0] <= lines[1]:
            raise ValueError(f"{case.id}: lines must be [first, last]")
        if not isinstance(case.heldout, (bool, str)):
            raise ValueError(f"{case.id}: heldout must be true, false or a batch's date")
        seen.add(case.id)
        cases.append(case)
    return cases


# --- fetching -------------------------------------------------------------

def run(cmd: list[str], cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, "", f"timed out after {timeout}s")
    except OSError as exc:
        return subprocess.CompletedProcess(cmd, 127, "", str(exc))


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no output"


def extract(archive: Path, dest: Path, only: str | None = None) -> None:
    """Unpack a tar or zip archive; with *only*, keep members whose path contains it."""
    if archive.name.endswith((".zip", ".whl")):
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if only is None or only in n]
            zf.extractall(dest, members=names)
        return
    with tarfile.open(archive) as tf:
        members = [m for m in tf.getmembers() if only is None or only in m.name]
        if hasattr(tarfile, "data_filter"):
            tf.extractall(dest, members=members, filter="data")
        else:
            tf.extractall(dest, members=members)


class Fetcher:
    def __init__(self, cache: Path, offline: bool):
        self.cache, self.offline = cache, offline
        self.failed: dict[str, CaseError] = {}  # a failed download is tried once per run

    def file_for(self, case: Case) -> Path:
        root = self.unpacked(case)
        want = case.path.strip("/")
        hits = [p for p in root.rglob(Path(want).name)
                if p.is_file() and (p.relative_to(root).as_posix() == want
                                    or p.relative_to(root).as_posix().endswith("/" + want))]
        if not hits:
            raise CaseError(f"{want} not found in {case.key}")
        return min(hits, key=lambda p: len(p.parts))

    def unpacked(self, case: Case) -> Path:
        dest = self.cache / "src" / case.key
        if (dest / ".complete").exists():
            return dest
        if case.key in self.failed:
            raise self.failed[case.key]
        try:
            archive = self.download(case)
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            extract(archive, dest, "/Lib/" if case.package == "cpython" else None)
        except (CaseError, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            error = CaseError(f"{case.key}: {exc}", skip=getattr(exc, "skip", False))
            self.failed[case.key] = error
            raise error from exc
        (dest / ".complete").touch()
        return dest

    def download(self, case: Case) -> Path:
        target = self.cache / "dist" / case.key
        done = archives(target, case.package == "cpython")
        if done:
            return done[0]
        if self.offline:
            raise CaseError("not in the cache (--offline)", skip=True)
        target.mkdir(parents=True, exist_ok=True)
        print(f"fetching {case.key} ...", file=sys.stderr, flush=True)
        return self.debian_python(case, target) if case.package == "cpython" else self.pypi(case, target)

    def pypi(self, case: Case, target: Path) -> Path:
        spec = f"{case.package}=={case.version}"
        tries = [("wheel", "--only-binary")] if case.dist == "wheel" else \
            [("sdist", "--no-binary"), ("wheel", "--only-binary")]
        errors = []
        for label, flag in tries:
            with tempfile.TemporaryDirectory() as tmp:
                # The flag names the package only: with ":all:", an sdist's
                # build requirements would be built from source too.
                proc = run([sys.executable, "-m", "pip", "download", "--no-deps",
                            flag, case.package, spec, "-d", tmp])
                got = [p for p in Path(tmp).iterdir() if p.name.endswith(ARCHIVES)]
                if proc.returncode == 0 and got:
                    return Path(shutil.move(str(got[0]), target / got[0].name))
                errors.append(f"{label}: {last_line(proc.stderr or proc.stdout)}")
        raise CaseError(f"pip download {spec} failed ({'; '.join(errors)})")

    def debian_python(self, case: Case, target: Path) -> Path:
        """Fetch the upstream CPython tarball from Debian's source packages."""
        if not shutil.which("apt-get"):
            raise CaseError("cpython cases need apt-get (Debian's source packages)", skip=True)
        work = self.cache / "apt"
        for sub in ("parts", "lists/partial", "cache/archives/partial"):
            (work / sub).mkdir(parents=True, exist_ok=True)
        (work / "parts" / "src.sources").write_text(
            "Types: deb-src\nURIs: " + debian_mirror() + "\n"
            "Suites: bullseye bookworm trixie sid\nComponents: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
        apt = ["-o", "Dir::Etc::SourceList=/dev/null", "-o", f"Dir::Etc::SourceParts={work / 'parts'}",
               "-o", f"Dir::State::Lists={work / 'lists'}", "-o", f"Dir::Cache={work / 'cache'}", "-q"]
        pkg = "python" + ".".join(case.version.split(".")[:2])

        def listed(refresh: bool) -> list[str]:
            """Debian versions of *pkg* whose upstream part is case.version."""
            if refresh:
                proc = run(["apt-get", *apt, "update"])
                if proc.returncode != 0:
                    raise CaseError(f"apt-get update failed: {last_line(proc.stderr)}", skip=True)
            shown = run(["apt-cache", *apt, "showsrc", pkg]).stdout
            return sorted({v for ln in shown.splitlines() if ln.startswith("Version:")
                           for v in [ln.split(":", 1)[1].strip()]
                           if v.split(":")[-1].split("-")[0] == case.version}, reverse=True)

        have_lists = any((work / "lists").glob("*Sources*"))
        wanted = listed(refresh=not have_lists)
        if not wanted and have_lists:  # the lists kept from an earlier run may be stale
            wanted = listed(refresh=True)
        if not wanted:
            raise CaseError(f"Debian's archive offers no {pkg} {case.version}", skip=True)
        for debver in wanted:
            run(["apt-get", *apt, "source", "--download-only", f"{pkg}={debver}"], cwd=target)
            orig = archives(target, upstream_only=True)
            if orig:
                return orig[0]
        raise CaseError(f"apt-get source {pkg}={wanted[0]} downloaded nothing")


def archives(folder: Path, upstream_only: bool = False) -> list[Path]:
    """Archives already downloaded to *folder* (for Debian: the upstream tarball only)."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.name.endswith(ARCHIVES)]
    return sorted(p for p in found if not upstream_only or ".orig.tar." in p.name)


def debian_mirror() -> str:
    for sources in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in sources.read_text(errors="replace").splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) > 2 and parts[0] == "deb" and "security" not in parts[1]:
                return parts[1]
    return "http://deb.debian.org/debian"


# --- linting and scoring --------------------------------------------------

def lint(ftlint: str, file: Path) -> list[dict]:
    """Run ftlint on one file; return its findings as {code, row, message, confidence}."""
    with tempfile.TemporaryDirectory() as tmp:  # keep any cache files out of the tree
        proc = run([ftlint, "--format", "json", "--min-confidence", "low", "--select", "FT", str(file)],
                   cwd=Path(tmp), timeout=300)
    if proc.returncode not in (0, 1):
        raise CaseError(f"ftlint exited {proc.returncode}: {last_line(proc.stderr or proc.stdout)}")
    try:
        return [{"code": str(f["code"]), "row": int(f["location"]["row"]),
                 "message": f.get("message", ""), "confidence": f.get("confidence", "")}
                for f in json.loads(proc.stdout or "[]")]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CaseError(f"cannot parse ftlint JSON ({exc!r}): {proc.stdout[:60]!r}") from exc


def score(case: Case, findings: list[dict]) -> Result:
    slack = SLACK if case.kind == "bug" else 0
    lo, hi = case.lines[0] - slack, case.lines[1] + slack
    matched = [f for f in findings if f["code"].startswith(case.category) and lo <= f["row"] <= hi]
    detail = ", ".join(f"{f['code']}@{f['row']}" for f in sorted(matched, key=lambda f: (f["row"], f["code"])))
    if case.kind == "bug":
        return Result(case, "found" if matched else "missed", detail, matched)
    return Result(case, "false-alarm" if matched else "clean", detail, matched)


RANKS = {"low": 0, "medium": 1, "high": 2}


def evaluate(cases: list[Case], fetcher: Fetcher, ftlint: str | None, show: TextIO | None,
             min_confidence: str = "low") -> list[Result]:
    """Score every case, counting findings at *min_confidence* or above; with
    *show*, also print each case's lines to it."""
    results, lint_cache = [], {}
    for case in cases:
        try:
            file = fetcher.file_for(case)
            if show:
                text = file.read_text(encoding="utf-8", errors="replace").splitlines()
                print(f"--- {case.id}: {file}", file=show)
                for n in range(case.lines[0], min(case.lines[1], len(text)) + 1):
                    print(f"{n:6d}  {text[n - 1]}", file=show)
            if ftlint is None:
                raise CaseError("ftlint not found (put it on PATH or pass --ftlint)", skip=True)
            if file not in lint_cache:
                lint_cache[file] = lint(ftlint, file)
            shown = [f for f in lint_cache[file]
                     if RANKS.get(f["confidence"], 0) >= RANKS[min_confidence]]
            results.append(score(case, shown))
        except CaseError as exc:
            results.append(Result(case, "skipped" if exc.skip else "error", str(exc)))
    return results


def summarize(results: list[Result]) -> dict:
    summary = {}
    for cat in (*CATEGORIES, "overall"):
        mine = [r for r in results if cat in ("overall", r.case.category)]
        bugs = [r for r in mine if r.case.kind == "bug" and r.status in ("found", "missed")]
        looks = [r for r in mine if r.case.kind == "lookalike" and r.status in ("clean", "false-alarm")]
        summary[cat] = {
            "found": sum(r.status == "found" for r in bugs), "bugs": len(bugs),
            "false_alarms": sum(r.status == "false-alarm" for r in looks), "lookalikes": len(looks),
            "not_evaluated": sum(r.status in ("skipped", "error") for r in mine),
        }
    return summary


def summarize_parts(results: list[Result]) -> dict:
    """Summaries of the held-out part, the rest, and all cases, in that order."""
    parts = {part: summarize([r for r in results if r.case.part == part]) for part in PARTS
             if any(r.case.part == part for r in results)}
    parts["all"] = summarize(results)
    return parts


PART_TITLES = {"fresh": "fresh held-out batch", "heldout": "held-out part (studied since)",
               "rest": "the rest", "all": "all cases"}


def pct(num: int, den: int) -> str:
    return f"{100 * num / den:.0f}%" if den else "n/a"


def print_summary(summary: dict) -> None:
    for cat, s in summary.items():
        extra = f", {s['not_evaluated']} not evaluated" if s["not_evaluated"] else ""
        print(f"{cat + ':':<8} recall {s['found']}/{s['bugs']} ({pct(s['found'], s['bugs'])}), "
              f"false alarms {s['false_alarms']}/{s['lookalikes']}{extra}")


def print_report(results: list[Result], parts: dict) -> None:
    """The case table (held-out cases first), then the summary of each part."""
    width = max([len(r.case.id) for r in results] + [4])
    print(f"{'case':<{width}}  {'part':<7}  {'kind':<9}  {'cat':<3}  {'status':<11}  detail")
    for r in sorted(results, key=lambda r: PARTS.index(r.case.part)):
        print(f"{r.case.id:<{width}}  {r.case.part:<7}  {r.case.kind:<9}  {r.case.category:<3}  {r.status:<11}  {r.detail}")
    for name, summary in parts.items():
        mine = [r for r in results if name in ("all", r.case.part)]
        if not mine:
            continue
        print(f"\n{PART_TITLES[name]} ({len(mine)}):")
        print_summary(summary)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=Path, default=HERE / "cases.toml", help="cases file (default: %(default)s)")
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "ftlint-realworld",
                    help="where downloads are kept (default: %(default)s)")
    ap.add_argument("--offline", action="store_true", help="use only what is already in the cache")
    ap.add_argument("--ftlint", help="ftlint executable (default: ftlint on PATH)")
    ap.add_argument("--only", action="append", default=[], metavar="TEXT",
                    help="run only cases whose id contains TEXT (repeatable)")
    ap.add_argument("--kind", choices=KINDS, help="run only bugs or only look-alikes")
    ap.add_argument("--category", choices=CATEGORIES, help="run only one category")
    ap.add_argument("--part", choices=PARTS,
                    help="run only the fresh held-out batch, the older held-out cases or the rest")
    ap.add_argument("--min-confidence", choices=tuple(RANKS), default="low",
                    help="count only findings at this confidence or above (default: low, every "
                         "finding; `medium` is what `ftlint` shows by default)")
    ap.add_argument("--show-lines", action="store_true", help="print each case's source lines (to check ranges)")
    ap.add_argument("--json", nargs="?", const="-", metavar="FILE",
                    help="write the results as JSON to FILE, or to stdout instead of the table")
    args = ap.parse_args(argv)

    try:
        cases = load_cases(args.cases)
    except (OSError, ValueError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        print(f"error: cannot read {args.cases}: {exc}", file=sys.stderr)
        return 2
    cases = [c for c in cases if (not args.only or any(t in c.id for t in args.only))
             and args.kind in (None, c.kind) and args.category in (None, c.category)
             and args.part in (None, c.part)]
    ftlint = shutil.which(args.ftlint or "ftlint")
    if ftlint:
        ftlint = str(Path(ftlint).absolute())  # ftlint runs in a scratch directory
    else:
        print("warning: ftlint not found; files are fetched but not scored", file=sys.stderr)

    show = (sys.stderr if args.json == "-" else sys.stdout) if args.show_lines else None
    results = evaluate(cases, Fetcher(args.cache_dir.expanduser(), args.offline), ftlint, show,
                       args.min_confidence)
    parts = summarize_parts(results)
    if args.json != "-":
        print_report(results, parts)
    if args.json:
        payload = json.dumps({
            "ftlint": ftlint, "slack": SLACK, "summary": parts["all"],
            "summary_fresh": parts.get("fresh"), "summary_heldout": parts.get("heldout"),
            "summary_rest": parts.get("rest"),
            "cases": [{**asdict(r.case), "status": r.status, "detail": r.detail, "findings": r.matched}
                      for r in results]}, indent=2)
        if args.json == "-":
            print(payload)
        else:
            Path(args.json).write_text(payload + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
