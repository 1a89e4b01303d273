"""``ftlint report``: the page, the Markdown comment and the JSON, on a sample
project, through the installed console script; and the page as a person
sees it, in a real headless browser (Debian's chromium, driven by
Playwright) with JavaScript off."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import ftlint_executable

PYPROJECT = """\
[project]
name = "shop"
version = "1.0"
dependencies = ["click>=8"]

[tool.ftlint]
min-confidence = "medium"
"""

ORDERS = '''\
import threading

_total = 0
_seen = {}
_log = []


def worker():
    global _total
    _total += 1


def record(key):
    if key not in _seen:
        _seen[key] = True


def note(line):
    _log.append(line)


def start():
    threading.Thread(target=worker).start()


class Tally:
    def __init__(self):
        self.n = 0

    def bump(self):
        self.n += 1
'''

VIEWS = '''\
import threading

_hits = {}
_count = 0


def hit(page):
    _hits[page] = _hits.get(page, 0) + 1


def bump():
    global _count
    _count += 1


def serve():
    threading.Thread(target=bump).start()
'''

# A directory whose name a page must not take for markup.
ODD_DIR = "odd<b>&dir"
ODD = '''\
_cache = {}


def get(key):
    if key not in _cache:
        _cache[key] = key * 2
    return _cache[key]
'''

NEW = '''\
_sessions = {}


def session(user):
    if user not in _sessions:
        _sessions[user] = {"user": user}
    return _sessions[user]
'''


def ftlint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([ftlint_executable(), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"})


def check_json(project: Path, *args: str) -> list[dict]:
    proc = ftlint("--format", "json", *args, "src", cwd=project)
    assert proc.returncode in (0, 1), proc.stderr
    return [d for d in json.loads(proc.stdout) if d["code"] not in ("FT000", "FT001", "FT002")]


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project with a baseline recorded, then one finding fixed (the
    check-then-act in orders.py, now under a lock) and two files added."""
    root = tmp_path_factory.mktemp("report") / "shop"
    write(root, "pyproject.toml", PYPROJECT)
    write(root, "src/shop/__init__.py", "")
    write(root, "src/shop/orders.py", ORDERS)
    write(root, f"src/{ODD_DIR}/odd.py", ODD)
    recorded = ftlint("src", "--baseline", "base.json", cwd=root)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    write(root, "src/shop/api/__init__.py", "")
    write(root, "src/shop/api/views.py", VIEWS)
    fixed = ORDERS.replace("_seen = {}\n", "_seen = {}\n_lock = threading.Lock()\n").replace(
        "    if key not in _seen:\n        _seen[key] = True\n",
        "    with _lock:\n        if key not in _seen:\n            _seen[key] = True\n")
    write(root, "src/shop/orders.py", fixed)
    write(root, "src/shop/sessions.py", NEW)
    return root


@pytest.fixture(scope="module")
def data(project: Path) -> dict:
    proc = ftlint("report", "--baseline", "base.json", "--format", "json", "src", cwd=project)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def page(project: Path) -> str:
    proc = ftlint("report", "--baseline", "base.json", "-o", "report.html", "src", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("Wrote report.html: ")
    return (project / "report.html").read_text(encoding="utf-8")


def test_the_sample_has_every_confidence(project: Path):
    everything = check_json(project, "--min-confidence", "low")
    assert {d["confidence"] for d in everything} == {"high", "medium", "low"}


def test_counts_match_the_check(project: Path, data: dict):
    left = check_json(project, "--baseline", "base.json")
    shown = check_json(project)
    everything = check_json(project, "--min-confidence", "low")
    totals = data["totals"]
    assert totals["reported"] == len(left) > 0
    assert totals["reported"] + totals["baselined"] == len(shown)
    assert totals["baselined"] > 0
    assert totals["reported"] + totals["baselined"] + totals["hidden"] == len(everything)
    by_confidence = Counter(d["confidence"] for d in left)
    assert {c: totals[c] for c in ("high", "medium", "low")} == \
        {c: by_confidence[c] for c in ("high", "medium", "low")}
    hidden = Counter(d["confidence"] for d in everything) - Counter(
        d["confidence"] for d in shown)
    assert totals["hidden_by_confidence"] == {c: hidden[c] for c in ("high", "medium", "low")}
    fixes = Counter((d["fix"] or {}).get("applicability") for d in left)
    assert totals["fixable_safe"] == fixes["safe"]
    assert totals["fixable_unsafe"] == fixes["unsafe"]
    assert data["files_checked"] == 6 and data["not_checked"] == []


def test_baseline_fixed_and_new(data: dict):
    baseline = data["baseline"]
    assert baseline["fixed"] == 1
    assert baseline["fixed_findings"][0]["path"] == "src/shop/orders.py"
    assert baseline["fixed_findings"][0]["code"] == "FT203"
    assert baseline["new"] == data["totals"]["reported"]  # views.py and sessions.py are new
    new = {f["path"] for f in data["findings"] if f["status"] == "reported"}
    assert new == {"src/shop/api/views.py", "src/shop/sessions.py"}
    assert baseline["recorded"] == baseline["still"] + baseline["fixed"]
    assert baseline["still"] >= data["totals"]["baselined"]


def test_hotspots_are_ordered_and_add_up(data: dict):
    for groups in (data["directories"], data["rules"]):
        keys = [(-g["reported"], -g["high"], -g["medium"], -g["low"], -g["hidden"],
                 -g["baselined"]) for g in groups]
        assert keys == sorted(keys)
        for field in ("reported", "high", "medium", "low", "hidden", "baselined"):
            assert sum(g[field] for g in groups) == data["totals"][field]
    assert {g["directory"] for g in data["directories"]} >= {"src/shop", "src/shop/api",
                                                             f"src/{ODD_DIR}"}


def test_page_shows_the_sections_and_numbers(page: str, data: dict):
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower() and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    for section in ("summary", "hotspots", "progress", "dependencies", "findings"):
        assert f'<section id="{section}">' in page
    totals = data["totals"]
    for label, number in (("Findings left", totals["reported"]),
                          ("Hidden (below min-confidence)", totals["hidden"]),
                          ("Baselined", totals["baselined"]),
                          ("Fixed since the baseline", 1),
                          ("Fixable with ftlint --fix", totals["fixable_safe"]),
                          ("Files checked", 6)):
        assert (f'<span class="label">{label}</span><span class="number">{number}</span>'
                in page), label
    assert page.count("<svg") == 2  # findings per directory; readiness


def test_page_tables_follow_the_hotspot_order(page: str, data: dict):
    hotspots = page.split('<section id="hotspots">')[1].split("<h3>Findings per rule")[0]
    shown = re.findall(r'<tr><td class="path">(.*?)</td><td class="n[^"]*">(\d+)</td>', hotspots)
    expected = [(g["directory"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
                 str(g["reported"])) for g in data["directories"]]
    assert shown == expected


def test_page_escapes_paths(page: str):
    assert "odd&lt;b&gt;&amp;dir" in page
    assert ODD_DIR not in page


def test_page_shows_dependency_readiness(page: str):
    section = page.split('<section id="dependencies">')[1].split("</section>")[0]
    assert "ftlint deps --no-import" in section
    assert "<td>click</td>" in section and "pure-python" in section


def test_markdown_for_a_pull_request(project: Path, data: dict):
    proc = ftlint("report", "--baseline", "base.json", "-o", "report.md", "src", cwd=project)
    assert proc.returncode == 0, proc.stderr
    text = (project / "report.md").read_text(encoding="utf-8")
    assert text.startswith("## ftlint report: shop\n")
    assert f"| Findings left | **{data['totals']['reported']}**" in text
    assert "| Fixed since the baseline (`base.json`) | **1** of" in text
    assert "### Hotspots" in text and "### Dependency readiness" in text
    assert f"| `src/{ODD_DIR}` |" in text  # a code span: shown as is, never markup
    outside_code = re.sub(r"`[^`]*`", "", text)
    assert "<" not in outside_code and ">" not in outside_code
    rows = re.findall(r"^\| `(.*?)` \| (\d+) \|", text.split("| directory |")[1], re.M)
    assert [r[0] for r in rows] == [g["directory"] for g in data["directories"]][:5]


def test_since_an_earlier_report(project: Path, tmp_path: Path):
    work = tmp_path / "shop"
    shutil.copytree(project, work)
    first = ftlint("report", "--no-deps", "-o", "before.json", "src", cwd=work)
    assert first.returncode == 0, first.stderr
    (work / "src" / "shop" / "sessions.py").unlink()  # its one finding is gone
    write(work, "src/shop/later.py", NEW.replace("_sessions", "_users"))
    proc = ftlint("report", "--no-deps", "--since", "before.json", "--format", "json", "src",
                  cwd=work)
    assert proc.returncode == 0, proc.stderr
    since = json.loads(proc.stdout)["since"]
    assert (since["fixed"], since["new"]) == (1, 1)
    assert since["fixed_findings"][0]["path"] == "src/shop/sessions.py"


def test_deps_json_is_shown_and_escaped(project: Path, tmp_path: Path):
    saved = {"interpreter": {"executable": "python3.13t", "version": "3.13.5",
                             "implementation": "CPython", "prefix": "/venv",
                             "free_threaded": True, "gil_enabled": False},
             "probe": {"ran": True, "reason": "imported 2 distributions"},
             "scope": {"kind": "pyproject", "source": "pyproject.toml", "note": None},
             "distributions": [
                 {"name": "<script>alert(1)</script>", "version": "1", "verdict": "gil-re-enabling",
                  "evidence": "imported x._ext: RuntimeWarning: <b>GIL</b>"},
                 {"name": "fast", "version": "2", "verdict": "ready", "evidence": "probed"}],
             "missing": [], "warnings": []}
    deps = tmp_path / "deps.json"
    deps.write_text(json.dumps(saved), encoding="utf-8")
    out = tmp_path / "page.html"
    proc = ftlint("report", "--deps-json", str(deps), "-o", str(out), "src", cwd=project)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "<b>GIL" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "1 of 2 dependencies runs without the GIL (1 gil-re-enabling)" in page
    md = ftlint("report", "--deps-json", str(deps), "--format", "markdown", "src", cwd=project)
    assert "| gil\\-re\\-enabling |" not in md.stdout  # verdicts stay readable
    assert "| gil-re-enabling | 1 | \\<script\\>alert(1)\\</script\\> |" in md.stdout


def test_no_declared_dependencies_are_not_audited(tmp_path: Path):
    write(tmp_path, "src/app.py", ODD)
    proc = ftlint("report", "--format", "json", "src", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    deps = json.loads(proc.stdout)["dependencies"]
    assert deps["mode"] == "none" and deps["note"].startswith("Not audited: no pyproject.toml")


@pytest.mark.parametrize("args, message", [
    (("--baseline", "missing.json"), "--baseline missing.json: no such file"),
    (("--since", "pyproject.toml"), "--since pyproject.toml: not JSON"),
    (("--deps-json", "base.json"), "not the output of `ftlint deps --format json`"),
    (("--no-deps", "--deps-json", "base.json"), "--no-deps cannot be used with --deps-json"),
    (("--select", "XX999"), "XX999"),
    (("--python", "no-such-python-here"), "--python no-such-python-here: no such file"),
])
def test_bad_input_exits_2_and_writes_nothing(project: Path, tmp_path: Path, args, message):
    out = tmp_path / "kept.html"
    out.write_text("an earlier report", encoding="utf-8")
    proc = ftlint("report", *args, "-o", str(out), "src", cwd=project)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert out.read_text(encoding="utf-8") == "an earlier report"


def test_an_output_that_cannot_be_written_exits_2(project: Path, tmp_path: Path):
    proc = ftlint("report", "--no-deps", "-o", str(tmp_path / "missing" / "r.html"), "src",
                  cwd=project)
    assert proc.returncode == 2
    assert "cannot write" in proc.stderr


def test_no_python_files_is_an_error(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    proc = ftlint("report", "--no-deps", "empty", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no Python files found in empty" in proc.stderr


# --- in a browser --------------------------------------------------------------


def _chromium() -> str:
    found = shutil.which("chromium") or next(
        (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)),
        None)
    if found is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium): "
                    "the page is not rendered")
    return found


def test_page_in_a_browser_without_javascript(project: Path, page: str, data: dict,
                                              tmp_path: Path):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    executable = _chromium()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        try:
            context = browser.new_context(java_script_enabled=False,
                                          viewport={"width": 1200, "height": 900})
            tab = context.new_page()
            tab.goto((project / "report.html").as_uri())
            body = tab.inner_text("body")
            for heading in ("Summary", "Hotspots", "Findings per directory", "Findings per rule",
                            "Fixed, left and baselined", "Dependency readiness", "Findings left"):
                assert tab.get_by_role("heading", name=heading, exact=True).is_visible(), heading
            totals = data["totals"]
            assert f"Findings left\n{totals['reported']}\n" in body
            assert f"Baselined\n{totals['baselined']}\n" in body
            assert f"src/{ODD_DIR}" in body  # the name as written, not markup
            for chart in tab.locator("svg.chart").all():
                box = chart.bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 20
            bars = tab.locator("#hotspots svg rect[fill]")
            assert bars.count() > len(data["directories"])  # legend swatches and segments
            rows = tab.locator("#findings table tr")
            assert not rows.first.is_visible()  # the list opens on a click, without a script
            tab.locator("#findings summary").click()
            assert rows.count() == totals["reported"] + 1 and rows.last.is_visible()
            shot = tmp_path / "report.png"
            tab.screenshot(path=str(shot), full_page=True)
            tab.emulate_media(media="print")
            assert tab.locator("#hotspots svg.chart").bounding_box()["width"] > 300
            printed = tmp_path / "report.pdf"
            tab.pdf(path=str(printed))
        finally:
            browser.close()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000
    assert printed.read_bytes()[:5] == b"%PDF-"


def test_markdown_escaping():
    from ftlint.report.render_markdown import code, text

    assert code("a`b") == "``a`b``"
    assert code("x|y") == "`x\\|y`"
    assert text("<img src=x> *bold* [link](u)") == \
        "\\<img src=x\\> \\*bold\\* \\[link\\](u)"
    assert text("a\nb") == "a b"
