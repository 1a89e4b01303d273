"""Configuration as ruff finds it: each file takes the nearest configuration
file above it; ``extend``; ``--config`` as a file or inline overrides;
``--show-settings`` and ``--show-files``. Through the installed command (and
the real flake8), in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import CHECK_THEN_ACT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<row>\d+):(?P<col>\d+): (?P<code>FT\d{3})\b")

# A read-modify-write of a global (FT102), nothing else.
COUNTER = textwrap.dedent('''\
    _count = 0


    def bump():
        global _count
        _count += 1
''')


def write(tmp: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return tmp


def found(proc: subprocess.CompletedProcess, prefix: str = "") -> set[tuple[str, str]]:
    """(path as the root names it, code) of each finding; ``prefix`` is
    put before the paths of a run from a subdirectory."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1), proc.stderr
    return {(prefix + m["path"], m["code"])
            for m in map(LINE.match, proc.stdout.splitlines()) if m}


def settings_shown(proc: subprocess.CompletedProcess) -> tuple[str, dict]:
    """(the configuration file, the settings) that --show-settings printed."""
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Resolved settings for: ")
    assert lines[1].startswith("Settings path: ")
    return lines[1].removeprefix("Settings path: "), tomllib.loads("\n".join(lines[2:]))


# -- the nearest configuration of each file ------------------------------------

def test_same_findings_from_the_root_and_from_the_subproject(tmp_path, run_ftlint):
    write(tmp_path, {
        "pyproject.toml": "[tool.ftlint]\n",
        "sub/pyproject.toml": '[tool.ftlint]\nignore = ["FT203"]\n',
        "a.py": CHECK_THEN_ACT,
        "sub/b.py": CHECK_THEN_ACT,
    })
    whole = found(run_ftlint(".", cwd=tmp_path))
    assert ("a.py", "FT203") in whole
    in_sub = {f for f in whole if f[0].startswith("sub/")}
    assert in_sub and ("sub/b.py", "FT203") not in in_sub
    assert found(run_ftlint(cwd=tmp_path / "sub"), prefix="sub/") == in_sub
    assert found(run_ftlint("sub", cwd=tmp_path)) == in_sub
    # A pre-commit batch of files from both projects: each keeps its own.
    assert found(run_ftlint("a.py", "sub/b.py", cwd=tmp_path)) == whole


def test_ftlint_toml_files_are_found_and_take_precedence(tmp_path, run_ftlint):
    write(tmp_path, {
        "pyproject.toml": '[tool.ftlint]\nignore = ["FT101"]\n',
        "p/pyproject.toml": '[tool.ftlint]\nignore = ["FT101"]\n',
        "p/b.py": CHECK_THEN_ACT,
    })
    where, settings = settings_shown(run_ftlint("--show-settings", "p/b.py", cwd=tmp_path))
    assert where == str(tmp_path / "p" / "pyproject.toml") and settings["ignore"] == ["FT101"]
    assert ("p/b.py", "FT203") in found(run_ftlint(".", cwd=tmp_path))

    write(tmp_path, {"p/ftlint.toml": 'ignore = ["FT203"]\n'})
    where, settings = settings_shown(run_ftlint("--show-settings", "p/b.py", cwd=tmp_path))
    assert where == str(tmp_path / "p" / "ftlint.toml") and settings["ignore"] == ["FT203"]
    assert ("p/b.py", "FT203") not in found(run_ftlint(".", cwd=tmp_path))

    write(tmp_path, {"p/.ftlint.toml": 'select = ["FT203"]\n'})
    where, settings = settings_shown(run_ftlint("--show-settings", "p/b.py", cwd=tmp_path))
    assert where == str(tmp_path / "p" / ".ftlint.toml")
    assert settings["select"] == ["FT203"] and settings["ignore"] == []
    assert found(run_ftlint(".", cwd=tmp_path)) == {("p/b.py", "FT203")}


def test_pyproject_without_ftlint_table_is_skipped(tmp_path, run_ftlint):
    write(tmp_path, {
        "ftlint.toml": 'ignore = ["FT203"]\n',
        "sub/pyproject.toml": "[tool.black]\nline-length = 100\n",
        "sub/b.py": CHECK_THEN_ACT,
    })
    where, _ = settings_shown(run_ftlint("--show-settings", "sub/b.py", cwd=tmp_path))
    assert where == str(tmp_path / "ftlint.toml")
    assert ("b.py", "FT203") not in found(run_ftlint(cwd=tmp_path / "sub"))
    assert ("sub/b.py", "FT203") not in found(run_ftlint(cwd=tmp_path))


def test_sub_config_exclude_applies_in_its_subtree(tmp_path, run_ftlint):
    write(tmp_path, {
        "pyproject.toml": "[tool.ftlint]\n",
        "sub/pyproject.toml": '[tool.ftlint]\nextend-exclude = ["gen", "/only.py"]\n',
        "gen/x.py": CHECK_THEN_ACT,
        "only.py": CHECK_THEN_ACT,
        "sub/gen/y.py": CHECK_THEN_ACT,
        "sub/only.py": CHECK_THEN_ACT,
        "sub/deep/only.py": CHECK_THEN_ACT,
        "sub/b.py": CHECK_THEN_ACT,
    })
    expected = ["gen/x.py", "only.py", "sub/b.py", "sub/deep/only.py"]
    shown = run_ftlint("--show-files", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == expected
    assert {path for path, _ in found(run_ftlint(cwd=tmp_path))} == set(expected)
    from_sub = run_ftlint("--show-files", cwd=tmp_path / "sub")
    assert from_sub.stdout.splitlines() == ["b.py", "deep/only.py"]
    # The root's exclude of a subproject's directory still skips it.
    write(tmp_path, {"pyproject.toml": '[tool.ftlint]\nextend-exclude = ["sub"]\n'})
    assert run_ftlint("--show-files", cwd=tmp_path).stdout.splitlines() == ["gen/x.py", "only.py"]


def test_per_file_ignores_are_anchored_at_their_config(tmp_path, run_ftlint):
    write(tmp_path, {
        "pyproject.toml": "[tool.ftlint]\n",
        "sub/pyproject.toml": '[tool.ftlint.per-file-ignores]\n"/pkg/*.py" = ["FT203"]\n',
        "pkg/m.py": CHECK_THEN_ACT,
        "sub/pkg/m.py": CHECK_THEN_ACT,
    })
    whole = found(run_ftlint(cwd=tmp_path))
    assert ("pkg/m.py", "FT203") in whole and ("sub/pkg/m.py", "FT203") not in whole
    assert found(run_ftlint(cwd=tmp_path / "sub"), prefix="sub/") == {
        f for f in whole if f[0].startswith("sub/")}


def test_cross_module_reachability_spans_configurations(tmp_path, run_ftlint):
    """A thread started in one project reaches code under another
    configuration; each configuration's entry points apply to its files."""
    write(tmp_path, {
        "pyproject.toml": "[tool.ftlint]\n",
        "pkg/__init__.py": "",
        "pkg/server.py": """\
            import threading

            from pkg.sub import worker


            def start():
                threading.Thread(target=worker.bump).start()
            """,
        "pkg/sub/__init__.py": "",
        "pkg/sub/.ftlint.toml": 'ignore = ["FT203"]\nthread-entry-points = ["*.handle"]\n',
        "pkg/sub/worker.py": COUNTER,
        "pkg/sub/handler.py": COUNTER.replace("bump", "handle"),
        "pkg/other.py": COUNTER.replace("bump", "handle"),
    })
    proc = run_ftlint("--format", "json", "--min-confidence", "low", ".", cwd=tmp_path)
    data = {(d["filename"], d["code"]): d for d in json.loads(proc.stdout)}
    worker = data[("pkg/sub/worker.py", "FT102")]
    assert worker["confidence"] == "high" and "started by `Thread()`" in worker["confidence_reason"]
    handler = data[("pkg/sub/handler.py", "FT102")]
    assert handler["confidence"] == "high" and "`*.handle`" in handler["confidence_reason"]
    # The root's configuration has no entry points: its own `handle` stays medium.
    assert data[("pkg/other.py", "FT102")]["confidence"] == "medium"


# -- extend --------------------------------------------------------------------

def test_extend_inherits_and_keeps_the_base_patterns_at_its_dir(tmp_path, run_ftlint):
    write(tmp_path, {
        "pyproject.toml": textwrap.dedent('''\
            [tool.ftlint]
            ignore = ["FT203"]
            [tool.ftlint.per-file-ignores]
            "sub/legacy/*.py" = ["FT102"]
            '''),
        "sub/ftlint.toml": 'extend = "../pyproject.toml"\nextend-ignore = ["FT101"]\n',
        "sub/b.py": CHECK_THEN_ACT,
        "sub/legacy/old.py": COUNTER,
        "sub/new.py": COUNTER,
    })
    _, settings = settings_shown(run_ftlint("--show-settings", "sub/b.py", cwd=tmp_path))
    assert settings["ignore"] == ["FT203"] and settings["extend-ignore"] == ["FT101"]
    assert settings["root"] == str((tmp_path / "sub").resolve())
    for cwd, prefix in ((tmp_path, ""), (tmp_path / "sub", "sub/")):
        assert found(run_ftlint(cwd=cwd), prefix=prefix) == {("sub/new.py", "FT102")}


def test_extend_cycle_and_missing_base_are_errors(tmp_path, run_ftlint):
    write(tmp_path, {
        "a/ftlint.toml": 'extend = "../b/ftlint.toml"\n',
        "b/ftlint.toml": 'extend = "../a/ftlint.toml"\n',
        "a/x.py": CHECK_THEN_ACT,
        "c/ftlint.toml": 'extend = "nope.toml"\n',
        "c/x.py": CHECK_THEN_ACT,
    })
    cycle = run_ftlint("a", cwd=tmp_path)
    assert cycle.returncode == 2 and "Traceback" not in cycle.stderr
    assert "ftlint: error:" in cycle.stderr and "cycle" in cycle.stderr
    missing = run_ftlint("c", cwd=tmp_path)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "nope.toml" in missing.stderr and "not found" in missing.stderr


# -- --config ------------------------------------------------------------------

def test_inline_config_overrides_every_configuration(tmp_path, run_ftlint):
    write(tmp_path, {
        "pyproject.toml": "[tool.ftlint]\n",
        "sub/pyproject.toml": '[tool.ftlint]\nignore = ["FT203"]\n',
        "a.py": CHECK_THEN_ACT + "\n" + COUNTER,
        "sub/b.py": CHECK_THEN_ACT + "\n" + COUNTER,
    })
    plain = found(run_ftlint(cwd=tmp_path))
    assert ("a.py", "FT102") in plain and ("sub/b.py", "FT102") in plain
    proc = run_ftlint("--config", "extend-ignore = ['FT102']", cwd=tmp_path)
    assert found(proc) == {f for f in plain if f[1] != "FT102"}
    assert ("sub/b.py", "FT203") not in found(proc), "sub's own ignore still holds"
    # --config overrides come first, then the specific options.
    only = run_ftlint("--config", "select = ['FT1']", "--select", "FT203", cwd=tmp_path)
    assert {code for _, code in found(only)} == {"FT203"}
    high = run_ftlint("--config", "min-confidence = 'high'", cwd=tmp_path)
    assert found(high) == set()


def test_inline_config_errors(tmp_path, run_ftlint):
    write(tmp_path, {"a.py": CHECK_THEN_ACT})
    unknown = run_ftlint("--config", "selct = ['FT1']", "a.py", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "unknown option 'selct'" in unknown.stderr
    assert "did you mean 'select'?" in unknown.stderr
    bad = run_ftlint("--config", "ignore = [", "a.py", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "no such configuration file" in bad.stderr and "TOML" in bad.stderr
    value = run_ftlint("--config", "min-confidence = 'sure'", "a.py", cwd=tmp_path)
    assert value.returncode == 2 and "invalid confidence 'sure'" in value.stderr


def test_config_file_with_inline_overrides(tmp_path, run_ftlint):
    write(tmp_path, {
        "conf/ftlint.toml": 'select = ["FT1"]\n',
        "sub/pyproject.toml": '[tool.ftlint]\nselect = ["FT2"]\n',
        "a.py": CHECK_THEN_ACT + "\n" + COUNTER,
        "sub/b.py": CHECK_THEN_ACT + "\n" + COUNTER,
    })
    # An explicit file is the one configuration of every file, as in ruff.
    proc = run_ftlint("--config", "conf/ftlint.toml", ".", cwd=tmp_path)
    assert {code[:3] for _, code in found(proc)} == {"FT1"}
    assert {path for path, _ in found(proc)} == {"a.py", "sub/b.py"}
    both = run_ftlint("--config", "conf/ftlint.toml", "--config", "extend-ignore = ['FT102']",
                      ".", cwd=tmp_path)
    assert {code for _, code in found(both)} == {code for _, code in found(proc)} - {"FT102"}
    assert found(both)
    two = run_ftlint("--config", "conf/ftlint.toml", "--config", "sub/pyproject.toml", ".",
                     cwd=tmp_path)
    assert two.returncode == 2 and "only one configuration file" in two.stderr


# -- --show-settings, --show-files ---------------------------------------------

def test_show_settings_and_show_files(tmp_path, run_ftlint):
    write(tmp_path, {
        "pyproject.toml": textwrap.dedent('''\
            [tool.ftlint]
            min-confidence = "high"
            extend-exclude = ["skip"]
            [tool.ftlint.per-file-ignores]
            "tests/*" = ["FT1"]
            '''),
        "a.py": CHECK_THEN_ACT,
        "skip/s.py": CHECK_THEN_ACT,
        "pkg/z.py": CHECK_THEN_ACT,
        "pkg/b.pyi": "",
        "notes.txt": "",
    })
    where, settings = settings_shown(run_ftlint("--show-settings", "a.py", cwd=tmp_path))
    assert where == str(tmp_path / "pyproject.toml")
    assert settings["min-confidence"] == "high"
    assert settings["extend-exclude"] == ["skip"]
    assert settings["per-file-ignores"] == {"tests/*": ["FT1"]}
    assert settings["select"] == ["FT"] and settings["respect-gitignore"] is True
    # The command line's options are part of what is shown.
    _, flagged = settings_shown(run_ftlint("--show-settings", "--select", "FT2", "a.py",
                                           cwd=tmp_path))
    assert flagged["select"] == ["FT2"]
    files = run_ftlint("--show-files", cwd=tmp_path)
    assert files.returncode == 0 and files.stdout.splitlines() == ["a.py", "pkg/b.pyi", "pkg/z.py"]
    assert run_ftlint("--show-files", "pkg", "a.py", cwd=tmp_path).stdout.splitlines() == [
        "a.py", "pkg/b.pyi", "pkg/z.py"]
    two = run_ftlint("--show-settings", "a.py", "pkg", cwd=tmp_path)
    assert two.returncode == 2 and "one PATH" in two.stderr
    fix = run_ftlint("--show-files", "--fix", cwd=tmp_path)
    assert fix.returncode == 2 and "--fix" in fix.stderr


def test_show_settings_without_configuration(tmp_path, run_ftlint):
    write(tmp_path, {"a.py": CHECK_THEN_ACT})
    where, settings = settings_shown(run_ftlint("--show-settings", "a.py", cwd=tmp_path))
    assert where == "(none: the defaults)" and settings["min-confidence"] == "medium"


# -- the result cache ------------------------------------------------------------

def test_cache_keeps_the_settings_of_each_subproject(tmp_path, run_ftlint):
    write(tmp_path, {
        "pyproject.toml": "[tool.ftlint]\n",
        "one/pyproject.toml": '[tool.ftlint]\nignore = ["FT203"]\n',
        "two/pyproject.toml": '[tool.ftlint]\nignore = ["FT102"]\n',
        "one/m.py": CHECK_THEN_ACT + "\n" + COUNTER,
        "two/m.py": CHECK_THEN_ACT + "\n" + COUNTER,
    })
    fresh = found(run_ftlint("--no-cache", cwd=tmp_path))
    assert ("one/m.py", "FT102") in fresh and ("one/m.py", "FT203") not in fresh
    assert ("two/m.py", "FT203") in fresh and ("two/m.py", "FT102") not in fresh
    assert found(run_ftlint(cwd=tmp_path)) == fresh
    assert (tmp_path / ".ftlint_cache").is_dir(), "the root configuration's cache"
    assert found(run_ftlint(cwd=tmp_path)) == fresh, "from the cache"
    # From a subproject, its own settings, whichever cache answers.
    assert found(run_ftlint("one", cwd=tmp_path)) == {f for f in fresh if f[0].startswith("one/")}
    # A changed sub-configuration changes its files' results, not the others'.
    write(tmp_path, {"two/pyproject.toml": '[tool.ftlint]\nignore = ["FT203"]\n'})
    again = found(run_ftlint(cwd=tmp_path))
    assert again == found(run_ftlint("--no-cache", cwd=tmp_path))
    assert ("two/m.py", "FT102") in again and ("two/m.py", "FT203") not in again


# -- the flake8 plugin -----------------------------------------------------------

def test_flake8_plugin_uses_each_files_nearest_config(tmp_path):
    from test_flake8 import flake8_executable

    exe = flake8_executable()
    write(tmp_path, {
        ".flake8": "[flake8]\nselect = FT\n",
        "pyproject.toml": "[tool.ftlint]\n",
        "a.py": CHECK_THEN_ACT,
        "sub/pyproject.toml": '[tool.ftlint]\nignore = ["FT203"]\n',
        "sub/b.py": CHECK_THEN_ACT,
        "other/ftlint.toml": 'ignore = ["FT203"]\n',
        "other/c.py": CHECK_THEN_ACT,
    })
    proc = subprocess.run([exe, "a.py", "sub/b.py", "other/c.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert "Traceback" not in proc.stderr, proc.stderr
    got = {(m["path"].removeprefix("./"), m["code"])
           for m in map(LINE.match, proc.stdout.splitlines()) if m}
    assert ("a.py", "FT203") in got
    assert ("sub/b.py", "FT203") not in got and ("other/c.py", "FT203") not in got
    assert any(path == "sub/b.py" for path, _ in got), "sub/b.py is still checked"
    # The same findings as the command line's.
    cli = subprocess.run([str(Path(sys.executable).with_name("ftlint")), "--no-cache", "."],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert got == found(cli)
