#!/usr/bin/env python3
"""Measure how many of ftlint's findings on real packages are real races.

packages.toml pins well-kept PyPI packages (exact sdists) and the folders of
each that are checked; labels.toml records a verdict for judged findings
(real / benign / false).  The script downloads the sdists (into a cache outside
the repository), runs the installed ftlint on them at its defaults, matches
every finding against the labels and prints, for the newest held-out split
first, then the older held-out splits, the tuning split and all packages: per
confidence and per rule the number of findings, how many were judged real,
benign or false, how many are unjudged, and precision.  It exits 0 whatever the figures: it is a measurement.
Standard library only (3.11+).
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIDENCES = ("high", "medium", "low")
VERDICTS = ("real", "benign", "false")
SPLITS = ("heldout19", "heldout18", "heldout17", "heldout16", "heldout15", "heldout14", "heldout13", "heldout12", "heldout11", "heldout10", "heldout9", "heldout8", "heldout7", "heldout6", "heldout5", "heldout4", "heldout3", "heldout2", "heldout", "tune")  # in the order they are reported
SPLIT_TITLES = {"heldout19": "nineteenth held-out split", "heldout18": "eighteenth held-out split", "heldout17": "seventeenth held-out split", "heldout16": "sixteenth held-out split", "heldout15": "fifteenth held-out split", "heldout14": "fourteenth held-out split", "heldout13": "thirteenth held-out split", "heldout12": "twelfth held-out split", "heldout11": "eleventh held-out split", "heldout10": "tenth held-out split", "heldout9": "ninth held-out split", "heldout8": "eighth held-out split", "heldout7": "seventh held-out split", "heldout6": "sixth held-out split", "heldout5": "fifth held-out split", "heldout4": "fourth held-out split", "heldout3": "third held-out split", "heldout2": "second held-out split",
                "heldout": "held-out split", "tune": "tuning split", "all": "all packages"}
ARCHIVES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
LOW_SAMPLE_SEED = 20261202  # the seed of the random sample of low findings
LOW_SAMPLE_SIZE = 40


# --- configuration --------------------------------------------------------

@dataclass(frozen=True)
class Package:
    name: str
    version: str
    top: str
    paths: tuple[str, ...]
    split: str

    @property
    def key(self) -> str:
        return f"{self.name.lower()}-{self.version}"


@dataclass(frozen=True)
class Label:
    package: str
    path: str
    rule: str
    line: str
    occurrence: int
    verdict: str
    reason: str
    sampled: bool

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return (self.package.lower(), self.path, self.rule, self.line, self.occurrence)


def load_packages(path: Path) -> list[Package]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    packages, seen = [], set()
    for n, raw in enumerate(data.get("package", []), 1):
        try:
            pkg = Package(raw["name"], raw["version"], raw["top"], tuple(raw["paths"]), raw["split"])
        except KeyError as exc:
            raise ValueError(f"package #{n}: missing field {exc}") from exc
        if pkg.split not in SPLITS:
            raise ValueError(f"{pkg.name}: split must be one of {SPLITS}")
        if pkg.name.lower() in seen:
            raise ValueError(f"duplicate package {pkg.name}")
        seen.add(pkg.name.lower())
        packages.append(pkg)
    return packages


def load_labels(path: Path) -> dict[tuple, Label]:
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    labels: dict[tuple, Label] = {}
    for n, raw in enumerate(data.get("label", []), 1):
        try:
            label = Label(raw["package"], raw["path"], raw["rule"], raw["line"],
                          int(raw.get("occurrence", 0)), raw["verdict"], raw.get("reason", ""),
                          bool(raw.get("sampled", False)))
        except KeyError as exc:
            raise ValueError(f"label #{n}: missing field {exc}") from exc
        if label.verdict not in VERDICTS:
            raise ValueError(f"label #{n} ({label.path}): verdict must be one of {VERDICTS}")
        if not label.reason.strip():
            raise ValueError(f"label #{n} ({label.path}): a reason is required")
        if label.key in labels:
            raise ValueError(f"label #{n}: duplicate key {label.key}")
        labels[label.key] = label
    return labels


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


def extract(archive: Path, dest: Path) -> None:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
        return
    with tarfile.open(archive) as tf:
        if hasattr(tarfile, "data_filter"):
            tf.extractall(dest, filter="data")
        else:
            tf.extractall(dest)


def unpacked(pkg: Package, cache: Path, offline: bool) -> Path:
    """The unpacked sdist of *pkg* (its top folder), downloading it if needed."""
    dest = cache / "src" / pkg.key
    if not (dest / ".complete").exists():
        dist = cache / "dist" / pkg.key
        got = sorted(p for p in dist.glob("*") if p.name.endswith(ARCHIVES)) if dist.is_dir() else []
        if not got:
            if offline:
                raise RuntimeError("not in the cache (--offline)")
            dist.mkdir(parents=True, exist_ok=True)
            print(f"fetching {pkg.name}=={pkg.version} ...", file=sys.stderr, flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                # The package's own sdist only: "--no-binary :all:" would
                # also build its build requirements from source, just to read
                # its metadata.
                proc = run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", pkg.name,
                            f"{pkg.name}=={pkg.version}", "-d", tmp])
                files = [p for p in Path(tmp).iterdir() if p.name.endswith(ARCHIVES)]
                if proc.returncode != 0 or not files:
                    raise RuntimeError(f"pip download failed: {last_line(proc.stderr or proc.stdout)}")
                got = [Path(shutil.move(str(files[0]), dist / files[0].name))]
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        extract(got[0], dest)
        (dest / ".complete").touch()
    top = dest / pkg.top
    if not top.is_dir():
        raise RuntimeError(f"the sdist has no top folder {pkg.top!r}")
    return top


# --- linting and matching -------------------------------------------------

@dataclass
class Finding:
    package: Package
    path: str
    rule: str
    row: int
    col: int
    confidence: str
    message: str
    reason: str
    line: str
    occurrence: int
    label: Label | None = None

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return (self.package.name.lower(), self.path, self.rule, self.line, self.occurrence)

    @property
    def verdict(self) -> str:
        return self.label.verdict if self.label else "unjudged"

    @property
    def counted(self) -> str:
        """The verdict that counts in the figures: a low finding counts only if
        its label was made for the random sample, so that low precision is
        estimated from a random sample and not from findings that happened to be
        judged at another confidence."""
        if self.label and self.confidence == "low" and not self.label.sampled:
            return "unjudged"
        return self.verdict

    def where(self) -> str:
        return f"{self.package.name}: {self.path}:{self.row}:{self.col}"


def ftlint_command(given: str | None) -> list[str]:
    if given:
        return [given]
    exe = shutil.which("ftlint")
    if exe:
        return [exe]
    return [sys.executable, "-m", "ftlint"]


FTLINT_CONFIGS = (".ftlint.toml", "ftlint.toml")


def own_config(top: Path) -> str | None:
    """An ftlint configuration the sdist carries, which would replace the
    defaults the benchmark judges."""
    for path in (top / name for name in FTLINT_CONFIGS):
        if path.is_file():
            return path.name
    pyproject = top / "pyproject.toml"
    try:
        if pyproject.is_file() and "ftlint" in tomllib.loads(
                pyproject.read_text(encoding="utf-8")).get("tool", {}):
            return "pyproject.toml [tool.ftlint]"
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        pass
    return None


def lint(pkg: Package, top: Path, ftlint: list[str], config: Path | None, jobs: int) -> list[dict]:
    """ftlint's findings on the package, run from its top folder as its
    maintainer would run `ftlint .`: with no configuration file, the top
    folder (where its pyproject.toml, setup.cfg or setup.py is) is the
    project root, so the console scripts it declares count as start-up code.
    ``config`` (an empty file) is the earlier way, which made a temporary
    folder the root: kept for comparing with figures measured that way."""
    paths = [p for p in pkg.paths if (top / p).exists()]
    missing = [p for p in pkg.paths if p not in paths]
    if missing:
        print(f"warning: {pkg.name}: no {', '.join(missing)} in the sdist", file=sys.stderr)
    found = own_config(top)
    if found is not None:
        raise RuntimeError(f"the sdist has its own ftlint configuration ({found}); "
                           "the benchmark judges ftlint's defaults")
    cmd = [*ftlint, "check", "--format", "json", "--min-confidence", "low", "--exit-zero",
           "--no-cache", "--jobs", str(jobs), *(("--config", str(config)) if config else ()),
           *paths]
    if shutil.which("nice"):
        cmd = ["nice", "-n", "10", *cmd]
    proc = run(cmd, cwd=top, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"ftlint exited {proc.returncode}: {last_line(proc.stderr or proc.stdout)}")
    return json.loads(proc.stdout or "[]")


class Sources:
    """Line texts of the linted files, and occurrence indexes of stripped lines."""

    def __init__(self, top: Path):
        self.top = top
        self.lines: dict[str, list[str]] = {}

    def get(self, path: str) -> list[str]:
        if path not in self.lines:
            try:
                text = (self.top / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            self.lines[path] = text.splitlines()
        return self.lines[path]

    def key_line(self, path: str, row: int) -> tuple[str, int]:
        lines = self.get(path)
        if not 0 < row <= len(lines):
            return "", 0
        text = lines[row - 1].strip()
        return text, sum(1 for ln in lines[:row - 1] if ln.strip() == text)


def collect(pkg: Package, top: Path, raw: list[dict], labels: dict) -> list[Finding]:
    sources = Sources(top)
    out = []
    for item in raw:
        path = Path(item["filename"])
        path = (path.relative_to(top) if path.is_absolute() else path).as_posix()
        row = item["location"]["row"]
        text, occ = sources.key_line(path, row)
        f = Finding(pkg, path, item["code"], row, item["location"]["column"],
                    item.get("confidence", "low"), item.get("message", ""),
                    item.get("confidence_reason", ""), text, occ)
        f.label = labels.get(f.key)
        out.append(f)
    out.sort(key=lambda f: (f.package.name.lower(), f.path, f.row, f.col, f.rule))
    return out


def low_sample(findings: list[Finding], split: str, size: int, seed: int) -> list[Finding]:
    """The fixed random sample of low findings of one split to judge.

    The pool is the split's low findings in a stable order (package, path, row,
    column, rule); random.Random(seed).sample picks *size* of them."""
    pool = [f for f in findings if f.confidence == "low" and f.package.split == split]
    return random.Random(seed).sample(pool, min(size, len(pool)))


# --- reporting ------------------------------------------------------------

@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)

    def add(self, f: Finding) -> None:
        self.counts["n"] += 1
        self.counts[f.counted] += 1

    @property
    def judged(self) -> int:
        return sum(self.counts[v] for v in VERDICTS)

    def precision(self) -> tuple[float | None, float | None]:
        j = self.judged
        if not j:
            return None, None
        return self.counts["real"] / j, (self.counts["real"] + self.counts["benign"]) / j


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


HEADER = f"{'':<22}{'findings':>9}{'real':>6}{'benign':>7}{'false':>6}{'unjudged':>9}" \
         f"{'real/judged':>13}{'(real+benign)/judged':>22}"


def row(name: str, t: Tally) -> str:
    p, pb = t.precision()
    c = t.counts
    return f"{name:<22}{c['n']:>9}{c['real']:>6}{c['benign']:>7}{c['false']:>6}{c['unjudged']:>9}" \
           f"{pct(p):>13}{pct(pb):>22}"


def weighted(per_conf: dict[str, Tally], levels: tuple[str, ...]) -> tuple[str, str]:
    """Precision over *levels*, each level's judged precision weighted by its count."""
    total = sum(per_conf[c].counts["n"] for c in levels)
    if not total:
        return "-", "-"
    p = pb = 0.0
    for c in levels:
        n = per_conf[c].counts["n"]
        if not n:
            continue
        a, b = per_conf[c].precision()
        if a is None:
            return "-", "-"
        p += n * a
        pb += n * b
    return pct(p / total), pct(pb / total)


def report(title: str, findings: list[Finding], min_conf: str, out) -> dict:
    levels_all = CONFIDENCES[:CONFIDENCES.index(min_conf) + 1]
    levels_med = ("high", "medium")
    per_conf = {c: Tally() for c in CONFIDENCES}
    for f in findings:
        per_conf[f.confidence].add(f)
    outside = Counter(f.verdict for f in findings if f.confidence == "low" and f.counted != f.verdict)
    summary: dict = {"per_confidence": {c: dict(per_conf[c].counts) for c in CONFIDENCES}}
    print(f"\n=== {title} ===", file=out)
    print(HEADER, file=out)
    for c in CONFIDENCES:
        print(row(c + (" (sampled)" if c == "low" else ""), per_conf[c]), file=out)
    if outside:
        print(f"  (low findings judged outside the sample, not counted: "
              f"{', '.join(f'{n} {v}' for v, n in sorted(outside.items()))})", file=out)
    views = [("medium and above", levels_med)]
    if levels_all != levels_med:
        views.insert(0, (f"everything (>= {min_conf})", levels_all))
    for name, levels in views:
        t = Tally(sum((per_conf[c].counts for c in levels), Counter()))
        print(row(name, t), file=out)
        if "low" in levels:
            wp, wpb = weighted(per_conf, levels)
            print(f"{'  weighted by level':<22}{'':>9}{'':>6}{'':>7}{'':>6}{'':>9}{wp:>13}{wpb:>22}", file=out)
            summary["weighted_everything"] = [wp, wpb]
    for name, levels in views:
        rules: dict[str, Tally] = defaultdict(Tally)
        for f in findings:
            if f.confidence in levels:
                rules[f.rule].add(f)
        print(f"\n  by rule, {name}:", file=out)
        print("  " + HEADER, file=out)
        for rule in sorted(rules):
            print("  " + row(rule, rules[rule]), file=out)
        summary[f"per_rule {name}"] = {r: dict(t.counts) for r, t in sorted(rules.items())}
    return summary


def excerpt(top: Path, f: Finding, context: int = 3) -> str:
    lines = Sources(top).get(f.path)
    lo, hi = max(1, f.row - context), min(len(lines), f.row + context)
    return "\n".join(f"    {'>' if n == f.row else ' '}{n:5} {lines[n - 1]}" for n in range(lo, hi + 1))


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def label_stub(f: Finding, sampled: bool = False) -> str:
    lines = ["[[label]]", f"package = {toml_str(f.package.name)}", f"path = {toml_str(f.path)}",
             f"rule = {toml_str(f.rule)}", f"line = {toml_str(f.line)}"]
    if f.occurrence:
        lines.append(f"occurrence = {f.occurrence}")
    if sampled:
        lines.append("sampled = true")
    lines += ['verdict = ""', 'reason = ""']
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "ftlint-precision",
                    help="where sdists are downloaded and unpacked (default: %(default)s)")
    ap.add_argument("--offline", action="store_true", help="use only the cache")
    ap.add_argument("--ftlint", help="the ftlint executable (default: `ftlint` on PATH)")
    ap.add_argument("--jobs", type=int, default=1, help="ftlint --jobs (default: 1)")
    ap.add_argument("--only", action="append", default=[], metavar="PKG", help="only this package (repeatable)")
    ap.add_argument("--min-confidence", choices=CONFIDENCES, default="low",
                    help="the default output whose figures are printed besides 'medium and above'"
                         " (default: low, ftlint's default today)")
    ap.add_argument("--labels", type=Path, default=HERE / "labels.toml")
    ap.add_argument("--packages", type=Path, default=HERE / "packages.toml")
    ap.add_argument("--unjudged", action="store_true",
                    help="print unjudged findings at medium or above with a code excerpt")
    ap.add_argument("--stubs", action="store_true",
                    help="with --unjudged or --sample-low, print a labels.toml stub per finding")
    ap.add_argument("--sample-low", action="store_true",
                    help=f"print the random samples of {LOW_SAMPLE_SIZE} low findings of each split"
                         f" (seed {LOW_SAMPLE_SEED}) and which of them are judged")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the findings and figures as JSON")
    ap.add_argument("--root-elsewhere", action="store_true",
                    help="lint with an empty configuration file in a temporary folder, which then"
                         " is the project root (how figures before 2026-12-06's seventh pass were"
                         " measured: the package's console scripts are not seen)")
    args = ap.parse_args(argv)

    try:
        packages = load_packages(args.packages)
        labels = load_labels(args.labels)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.only:
        wanted = {n.lower() for n in args.only}
        packages = [p for p in packages if p.name.lower() in wanted]

    ftlint = ftlint_command(args.ftlint)
    findings: list[Finding] = []
    tops: dict[str, Path] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = None
        if args.root_elsewhere:
            config = Path(tmp) / "ftlint.toml"  # empty: ftlint's defaults, rooted in `tmp`
            config.write_text("", encoding="utf-8")
        for pkg in packages:
            try:
                top = unpacked(pkg, args.cache_dir, args.offline)
                raw = lint(pkg, top, ftlint, config, args.jobs)
            except (RuntimeError, OSError, tarfile.TarError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
                print(f"error: {pkg.name}=={pkg.version}: {exc}", file=sys.stderr)
                failed.append(pkg.name)
                continue
            tops[pkg.name] = top
            findings += collect(pkg, top, raw, labels)

    out = sys.stdout
    version = run([*ftlint, "--version"]).stdout.strip()
    print(f"ftlint: {version or 'unknown version'}; {len(findings)} findings in "
          f"{len(packages) - len(failed)} packages; {len(labels)} labels", file=out)
    if failed:
        print(f"not measured (download or ftlint failed): {', '.join(failed)}", file=out)
    summary: dict = {"ftlint": version, "min_confidence": args.min_confidence, "splits": {}}
    for split in (*SPLITS, "all"):
        chosen = [f for f in findings if split == "all" or f.package.split == split]
        names = sorted({p.name for p in packages if split == "all" or p.split == split} - set(failed))
        summary["splits"][split] = report(f"{SPLIT_TITLES[split]}: {', '.join(names)}", chosen,
                                          args.min_confidence, out)

    used = {f.key for f in findings}
    stale = [lab for key, lab in labels.items() if key not in used
             and any(p.name.lower() == lab.package.lower() for p in packages)]
    unjudged = [f for f in findings if f.label is None and f.confidence in ("high", "medium")]
    print(f"\nunjudged findings at medium or above: {len(unjudged)}", file=out)
    stubbed: set = set()
    for f in unjudged:
        print(f"  [{f.package.split}] {f.where()}: {f.rule} [{f.confidence}] {f.message}", file=out)
        if args.unjudged:
            print(excerpt(tops[f.package.name], f), file=out)
            print(f"    reason: {f.reason}", file=out)
            if args.stubs and f.key in stubbed:
                # Two findings of one rule on one line share a key: one label.
                print("# (the label above covers this finding too)", file=out)
            elif args.stubs:
                stubbed.add(f.key)
                print(label_stub(f), file=out)
    print(f"labels that match no finding today: {len(stale)}", file=out)
    for lab in stale:
        print(f"  {lab.package}: {lab.path}: {lab.rule}: {lab.line!r} ({lab.verdict})", file=out)

    for split in (SPLITS if args.sample_low else ()):
        sample = low_sample(findings, split, LOW_SAMPLE_SIZE, LOW_SAMPLE_SEED)
        done = sum(1 for f in sample if f.label and f.label.sampled)
        print(f"\nlow sample ({SPLIT_TITLES[split]}, seed {LOW_SAMPLE_SEED}): {done}/{len(sample)} judged", file=out)
        for f in sample:
            print(f"  {f.where()}: {f.rule} [{f.verdict}] {f.message}", file=out)
            if not (f.label and f.label.sampled):
                print(excerpt(tops[f.package.name], f), file=out)
                print(f"    reason: {f.reason}", file=out)
                if args.stubs:
                    print(label_stub(f, sampled=True), file=out)

    if args.json:
        summary["findings"] = [{
            "package": f.package.name, "split": f.package.split, "path": f.path, "row": f.row,
            "col": f.col, "rule": f.rule, "confidence": f.confidence, "message": f.message,
            "confidence_reason": f.reason, "line": f.line, "occurrence": f.occurrence,
            "verdict": f.verdict, "label_reason": f.label.reason if f.label else "",
        } for f in findings]
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
