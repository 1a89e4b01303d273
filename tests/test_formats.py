"""Output formats: github, sarif, junit, and the text output's extras."""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from collections import Counter
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, ftlint_executable
from test_cli import LINE, RACY, write

from ftlint.diagnostics import DOCS_URL
from ftlint.docs import render_rule
from ftlint.output import FORMATS
from ftlint.output.github import escape_data, escape_property
from ftlint.rules import ALL_RULES

SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text("utf-8"))

# Reachable from a thread: both findings are high confidence.
THREADED = textwrap.dedent('''\
    import threading

    _count = 0
    _seen = {}


    def work(item):
        global _count
        _count += 1
        if item not in _seen:
            _seen[item] = []


    def start():
        threading.Thread(target=work, args=(1,)).start()
''')
# Nothing says this class is shared: low confidence.
LOW = textwrap.dedent('''\
    class Counter:
        def __init__(self):
            self.n = 0

        def hit(self):
            self.n += 1
''')
BROKEN = "x = 1\nprint 'hello %s' % x\n"
NO_COLOR_ENV = {"NO_COLOR": "", "FORCE_COLOR": ""}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def project(tmp_path):
    return write(tmp_path, {"racy.py": RACY, "pkg/threaded.py": THREADED, "pkg/low.py": LOW,
                            "pkg/broken.py": BROKEN, "pkg/clean.py": "X = 1\n"})


def sarif_of(run_ftlint, *args, cwd):
    proc = run_ftlint("--min-confidence", "low", "--format", "sarif", *args, cwd=cwd, env=NO_COLOR_ENV)
    assert proc.stderr == ""
    return proc, json.loads(proc.stdout)


def findings_of(run_ftlint, cwd):
    """The same run as JSON: what every other format must account for."""
    return json.loads(run_ftlint("--min-confidence", "low", "--format", "json", ".", cwd=cwd, env=NO_COLOR_ENV).stdout)


def results_by_code(log):
    return {r["ruleId"]: r for r in log["runs"][0]["results"]}


def test_format_choices_come_from_formats(run_ftlint):
    helptext = run_ftlint("check", "--help").stdout
    assert "[" + "|".join(FORMATS) + "]" in helptext
    assert {"text", "json", "github", "sarif", "junit"} <= set(FORMATS)
    for option in ("--show-source", "--color / --no-color"):
        assert option in helptext


# -- github -------------------------------------------------------------------

# A workflow command: ::kind key=value,key=value::data. Values and data carry
# no raw CR/LF and only %XX escapes; property values no raw ':' or ','.
_ESCAPED = r"(?:[^%\r\n]|%25|%0D|%0A)"
_VALUE = r"(?:[^%\r\n:,]|%25|%0D|%0A|%3A|%2C)+"
COMMAND = re.compile(
    rf"^::(?P<kind>warning|error) (?P<props>\w+={_VALUE}(?:,\w+={_VALUE})*)::(?P<data>{_ESCAPED}*)$"
)


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    m = COMMAND.match(line)
    assert m, f"not a workflow command: {line!r}"
    props = dict(item.split("=", 1) for item in m["props"].split(","))
    assert set(props) <= {"file", "line", "col", "endLine", "endColumn", "title"}
    return m["kind"], props, m["data"]


def test_github_annotations(project, run_ftlint):
    proc = run_ftlint("--min-confidence", "low", "--format", "github", ".", cwd=project, env=NO_COLOR_ENV)
    assert proc.returncode == 1 and proc.stderr == ""
    commands = [parse_command(line) for line in proc.stdout.splitlines()]
    by_title = {props["title"]: (kind, props, data) for kind, props, data in commands}
    assert len(commands) == len(findings_of(run_ftlint, project))

    kind, props, data = by_title["FT102 global-read-modify-write"]
    assert kind == "warning" and props["file"] == "racy.py"
    assert (props["line"], props["col"], props["endLine"], props["endColumn"]) == ("13", "5", "13", "16")
    assert data == "Global `_count` is read, changed and written back without a lock (medium confidence)"

    # A span over several lines: GitHub takes no columns then.
    multi = [c for c in commands if c[1]["file"] == "racy.py" and c[1]["title"].startswith("FT203")]
    assert multi[0][1] == {"file": "racy.py", "line": "6", "endLine": "7",
                           "title": "FT203 check-then-act"}

    threaded = [c for c in commands if c[1]["file"] == "pkg/threaded.py"]
    assert {c[2].rsplit("(", 1)[1] for c in threaded} == {"high confidence)"}
    low = [c for c in commands if c[1]["file"] == "pkg/low.py"]
    assert low and low[0][2].endswith("(low confidence)")

    kind, props, data = by_title["FT002 syntax-error"]
    assert kind == "error" and props["file"] == "pkg/broken.py" and props["line"] == "2"
    assert "confidence)" not in data


def test_github_escaping(tmp_path, run_ftlint):
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"
    # A path with ':', ',' and '%' in it, and a parser message.
    write(tmp_path, {"odd:name,v2%.py": RACY, "bad.py": BROKEN})
    proc = run_ftlint("--format", "github", ".", cwd=tmp_path, env=NO_COLOR_ENV)
    commands = [parse_command(line) for line in proc.stdout.splitlines()]
    assert {props["file"] for _, props, _ in commands} == {"odd%3Aname%2Cv2%25.py", "bad.py"}
    error = next(data for kind, _, data in commands if kind == "error")
    assert "Missing parentheses" in error
    assert "%" not in error.replace("%25", "").replace("%0A", "")


def test_github_prints_nothing_when_clean(tmp_path, run_ftlint):
    write(tmp_path, {"clean.py": "X = 1\n"})
    proc = run_ftlint("--format", "github", ".", cwd=tmp_path, env=NO_COLOR_ENV)
    assert proc.returncode == 0 and proc.stdout == ""


# -- sarif ----------------------------------------------------------------------

def validate(log) -> None:
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)


def test_schema_validation_catches_mistakes():
    """The shipped schema really constrains: a wrong log must fail."""
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]}
    validate(good)
    for bad in ({"version": "2.0.0", "runs": []},
                {"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]},
                {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                               "results": [{"message": {"text": "m"},
                                                            "level": "fatal"}]}]}):
        with pytest.raises(jsonschema.ValidationError):
            validate(bad)


def test_sarif_is_valid_and_complete(project, run_ftlint):
    proc, log = sarif_of(run_ftlint, ".", cwd=project)
    assert proc.returncode == 1
    validate(log)
    assert log["version"] == "2.1.0" and "sarif-schema-2.1.0.json" in log["$schema"]
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ftlint" and driver["version"] and driver["informationUri"]

    rules = driver["rules"]
    ids = [r["id"] for r in rules]
    assert ids[:len(ALL_RULES)] == list(ALL_RULES) and {"FT001", "FT002"} <= set(ids)
    assert len(set(ids)) == len(ids)
    for rule in rules[:len(ALL_RULES)]:
        cls = ALL_RULES[rule["id"]]
        assert rule["name"] == cls.name
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["markdown"] == rule["help"]["text"] == render_rule(cls)
        assert rule["helpUri"] == DOCS_URL.format(code=rule["id"])
        assert rule["properties"]["precision"] in ("very-high", "high", "medium", "low")
        assert rule["properties"]["problem.severity"] in ("error", "warning", "recommendation")
        assert "concurrency" in rule["properties"]["tags"]

    results = run["results"]
    assert len(results) == len(findings_of(run_ftlint, project))
    for result in results:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not location["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert (project / location["artifactLocation"]["uri"]).is_file()
        region = location["region"]
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= set(region)
        assert (region["endLine"], region["endColumn"]) > (region["startLine"], region["startColumn"])
        assert set(result["properties"]) == {"confidence", "confidence_reason"}
        assert result["partialFingerprints"]
        assert 0 <= result["rank"] <= 100

    levels = {(Path(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).name,
               r["ruleId"]): (r["level"], r["properties"]["confidence"]) for r in results}
    assert levels[("threaded.py", "FT102")] == ("error", "high")
    assert levels[("racy.py", "FT102")] == ("warning", "medium")
    assert levels[("low.py", "FT201")] == ("note", "low")
    assert levels[("broken.py", "FT002")][0] == "error"

    ft102 = next(r for r in results if r["ruleId"] == "FT102"
                 and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "racy.py")
    assert ft102["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 13, "startColumn": 5, "endLine": 13, "endColumn": 16,
        "snippet": {"text": "_count += 1"}}
    assert ft102["message"]["text"].startswith("Global `_count`")
    assert ft102["properties"]["confidence_reason"]


def test_sarif_with_no_findings_is_valid(tmp_path, run_ftlint):
    write(tmp_path, {"clean.py": "X = 1\n"})
    proc, log = sarif_of(run_ftlint, ".", cwd=tmp_path)
    assert proc.returncode == 0
    validate(log)
    assert log["runs"][0]["results"] == []


def test_sarif_uris_are_relative_posix_and_encoded(tmp_path, run_ftlint):
    write(tmp_path, {"sub dir/my mod.py": RACY})
    _, log = sarif_of(run_ftlint, str(tmp_path / "sub dir"), cwd=tmp_path)
    validate(log)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"]}
    assert uris == {"sub%20dir/my%20mod.py"}


def test_sarif_fingerprints_survive_moved_lines(tmp_path, run_ftlint):
    write(tmp_path, {"racy.py": RACY})
    _, before = sarif_of(run_ftlint, "racy.py", cwd=tmp_path)
    write(tmp_path, {"racy.py": '"""A docstring."""\n\nimport os\n\n\n' + RACY})
    _, after = sarif_of(run_ftlint, "racy.py", cwd=tmp_path)
    old, new = results_by_code(before), results_by_code(after)
    assert set(old) == set(new) == {"FT102", "FT203"}
    for code in old:
        assert old[code]["partialFingerprints"] == new[code]["partialFingerprints"]
        start = lambda r: r["locations"][0]["physicalLocation"]["region"]["startLine"]  # noqa: E731
        assert start(new[code]) == start(old[code]) + 5
    assert old["FT102"]["partialFingerprints"] != old["FT203"]["partialFingerprints"]
    # The same code in another function is another finding.
    write(tmp_path, {"racy.py": RACY.replace("def hit", "def tick")})
    _, renamed = sarif_of(run_ftlint, "racy.py", cwd=tmp_path)
    assert (results_by_code(renamed)["FT102"]["partialFingerprints"]
            != old["FT102"]["partialFingerprints"])


def test_sarif_fingerprints_tell_twins_apart(tmp_path, run_ftlint):
    twins = textwrap.dedent('''\
        _count = 0


        def hit():
            global _count
            _count += 1
            _count += 1
    ''')
    write(tmp_path, {"twins.py": twins})
    _, log = sarif_of(run_ftlint, "twins.py", cwd=tmp_path)
    prints = [json.dumps(r["partialFingerprints"]) for r in log["runs"][0]["results"]]
    assert len(prints) == 2 and len(set(prints)) == 2


# -- junit ----------------------------------------------------------------------

def test_junit_structure(project, run_ftlint):
    proc = run_ftlint("--min-confidence", "low", "--format", "junit", ".", cwd=project, env=NO_COLOR_ENV)
    assert proc.returncode == 1 and proc.stderr == ""
    assert proc.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(proc.stdout.encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"racy.py", "pkg/threaded.py", "pkg/low.py", "pkg/broken.py",
                          "pkg/clean.py"}
    with_findings = {d["filename"] for d in findings_of(run_ftlint, project)
                     if not d["code"].startswith("FT00")}
    assert with_findings == {"racy.py", "pkg/threaded.py", "pkg/low.py"}
    assert suite.get("tests") == "5" and suite.get("failures") == "3" and suite.get("errors") == "1"
    failures = sum(len(case.findall("failure")) for case in cases.values())
    assert failures == len(findings_of(run_ftlint, project)) - 1
    assert root.get("tests") == "5"

    racy = cases["racy.py"].findall("failure")
    assert [f.get("type") for f in racy] == ["FT203 check-then-act", "FT102 global-read-modify-write"]
    assert racy[1].get("message").startswith("13:5: FT102 Global `_count`")
    first_line = racy[1].text.splitlines()[0]
    assert LINE.match(first_line) and first_line.startswith("racy.py:13:5: FT102 [medium]")
    assert list(cases["pkg/clean.py"]) == []
    errors = cases["pkg/broken.py"].findall("error")
    assert len(errors) == 1 and errors[0].get("type") == "FT002 syntax-error"
    assert cases["pkg/threaded.py"].get("classname") == "pkg.threaded"


def test_junit_clean_run(tmp_path, run_ftlint):
    write(tmp_path, {"clean.py": "X = 1\n"})
    proc = run_ftlint("--format", "junit", ".", cwd=tmp_path, env=NO_COLOR_ENV)
    assert proc.returncode == 0
    suite = ET.fromstring(proc.stdout.encode("utf-8")).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "0")


# -- text -----------------------------------------------------------------------

def test_text_groups_findings_by_rule(project, run_ftlint):
    proc = run_ftlint("--min-confidence", "low", ".", cwd=project, env=NO_COLOR_ENV)
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("[*] ") and lines[-1].endswith(" fixable with `ftlint --fix`.")
    assert lines[-2].startswith("Found ") and "in 5 files checked." in lines[-2]
    grouped = lines[lines.index("") + 1:-2]
    counts = Counter((d["code"], d["name"]) for d in findings_of(run_ftlint, project))
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    assert grouped == [f"  {n}  {code}  {name}" for (code, name), n in expected]
    assert ("FT002", "syntax-error") in counts and ("FT203", "check-then-act") in counts
    assert "\x1b" not in proc.stdout


def test_text_quiet_and_statistics_unchanged(project, run_ftlint):
    quiet = run_ftlint("--min-confidence", "low", "--quiet", ".", cwd=project, env=NO_COLOR_ENV)
    assert all(LINE.match(line) for line in quiet.stdout.splitlines())
    stats = run_ftlint("--min-confidence", "low", "--statistics", ".", cwd=project, env=NO_COLOR_ENV)
    counts = Counter((d["code"], d["name"]) for d in findings_of(run_ftlint, project))
    assert [line.split("\t") for line in stats.stdout.splitlines()] == [
        [f"{n:>5}", code, name] for (code, name), n in sorted(counts.items())]


def test_show_source_underlines_the_reported_columns(tmp_path, run_ftlint):
    write(tmp_path, {"racy.py": RACY})
    proc = run_ftlint("--show-source", "racy.py", cwd=tmp_path, env=NO_COLOR_ENV)
    text = proc.stdout
    assert textwrap.dedent('''\
        racy.py:13:5: FT102 [*] [medium] Global `_count` is read, changed and written back without a lock
           |
        13 |     _count += 1
           |     ^^^^^^^^^^^
           |
    ''') in text
    assert textwrap.dedent('''\
        racy.py:6:5: FT203 [*] [medium] Check-then-act on shared `_cache`: another thread can act between the check and the act
          |
        6 |     if key not in _cache:
          |     ^^^^^^^^^^^^^^^^^^^^^
        7 |         _cache[key] = key * 2
          |         ^^^^^^^^^^^^^^^^^^^^^
          |
    ''') in text
    assert text.splitlines()[-2:] == ["Found 2 findings (2 medium) in 1 file checked.",
                                      "[*] 2 fixable with `ftlint --fix`."]
    quiet = run_ftlint("--show-source", "--quiet", "racy.py", cwd=tmp_path, env=NO_COLOR_ENV)
    assert "Found" not in quiet.stdout and "^^^" in quiet.stdout


def test_show_source_with_tabs_and_wide_characters(tmp_path, run_ftlint):
    source = "_n = 0\n\n\ndef hit():\n\tglobal _n\n\t_n += len('日本')\n"
    write(tmp_path, {"tabs.py": source})
    proc = run_ftlint("--show-source", "tabs.py", cwd=tmp_path, env=NO_COLOR_ENV)
    lines = proc.stdout.splitlines()
    shown = next(i for i, line in enumerate(lines) if line.startswith("6 |"))
    code, carets = lines[shown], lines[shown + 1]
    assert code == "6 |     _n += len('日本')"
    assert carets == "  |     " + "^" * (len("_n += len('')") + 4)


@pytest.mark.parametrize("args, env, coloured", [
    ((), {}, False),
    (("--color",), {}, True),
    ((), {"FORCE_COLOR": "1"}, True),
    ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    (("--color",), {"NO_COLOR": "1"}, True),
    (("--no-color",), {"FORCE_COLOR": "1"}, False),
])
def test_colour_choice_when_piped(tmp_path, run_ftlint, args, env, coloured):
    write(tmp_path, {"racy.py": RACY})
    proc = run_ftlint(*args, "--show-source", "racy.py", cwd=tmp_path, env={**NO_COLOR_ENV, **env})
    assert ("\x1b[" in proc.stdout) is coloured
    assert ANSI.sub("", proc.stdout) == run_ftlint("--show-source", "racy.py", cwd=tmp_path,
                                                   env=NO_COLOR_ENV).stdout


def run_on_tty(args, cwd, env):
    pty = pytest.importorskip("pty")
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen([ftlint_executable(), *args], cwd=cwd, stdout=secondary,
                                stderr=subprocess.DEVNULL,
                                env={**os.environ, "TERM": "xterm", **env})
        os.close(secondary)
        chunks = []
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO once the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=120)
    finally:
        os.close(primary)
    return b"".join(chunks).decode("utf-8")


def test_colour_on_a_terminal(tmp_path):
    write(tmp_path, {"racy.py": RACY})
    coloured = run_on_tty(["racy.py"], tmp_path, NO_COLOR_ENV)
    assert "\x1b[" in coloured
    plain = ANSI.sub("", coloured).replace("\r\n", "\n")
    assert "racy.py:13:5: FT102 [*] [medium] Global `_count`" in plain
    assert plain.splitlines()[-2:] == ["Found 2 findings (2 medium) in 1 file checked.",
                                       "[*] 2 fixable with `ftlint --fix`."]
    assert "\x1b[" not in run_on_tty(["racy.py"], tmp_path, {"NO_COLOR": "1", "FORCE_COLOR": ""})
