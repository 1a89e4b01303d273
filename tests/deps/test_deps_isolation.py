"""``ftlint deps``: what it runs from the audited environment, and how it
carries on when one distribution cannot be audited.

The environments are real virtual environments of real interpreters: the one
running the tests, every CPython 3.8+ that pyenv has (if pyenv is installed),
and the free-threaded one of tests/conftest.py. Their distributions are
written by hand (METADATA, RECORD, WHEEL), as an installer would leave them,
so that broken ones can be made on purpose.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest


def run_deps(*args: str, cwd: Optional[Path] = None,
             env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it."""
    exe = Path(sys.executable).with_name("ftlint")
    found = str(exe) if exe.exists() else shutil.which("ftlint")
    if found is None:
        pytest.fail("the ftlint console script is not installed (pip install -e .)")
    # --no-index: these tests never ask a package index for advice.
    return subprocess.run([found, "deps", "--no-index", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


def by_name(report: dict) -> dict[str, dict]:
    return {d["name"]: d for d in report["distributions"]}

# --- interpreters and environments -------------------------------------------


def _works(python: Path) -> Optional[str]:
    """'3.12' when ``python`` runs (a pyenv shim may not), else None."""
    proc = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _gil_interpreters() -> dict[str, Path]:
    """One GIL CPython per minor version 3.8-3.13 that this machine has."""
    candidates: list[Path] = [Path(sys.executable)]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        if root:
            candidates += sorted(Path(root).glob("versions/3.*/bin/python3.*[0-9]"))
    for minor in range(8, 14):
        found = shutil.which(f"python3.{minor}")
        if found:
            candidates.append(Path(found))
    found_by_version: dict[str, Path] = {}
    for candidate in candidates:
        if not candidate.is_file() or candidate.name.endswith("t"):
            continue
        version = _works(candidate)
        if version and version not in found_by_version and (
                tuple(map(int, version.split("."))) >= (3, 8)):
            found_by_version[version] = candidate
    return found_by_version


_GIL_PYTHONS = _gil_interpreters()
VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


def gil_python(version: str) -> Path:
    if version not in _GIL_PYTHONS:
        pytest.skip(f"no CPython {version} here (pyenv install {version} to test it)")
    return _GIL_PYTHONS[version]


def make_venv(base: Path, where: Path, system_site: bool = False) -> Path:
    """A venv without pip (nothing installed but what a test writes); returns
    its python."""
    command = [str(base), "-m", "venv", "--without-pip", str(where)]
    if system_site:
        command.insert(-1, "--system-site-packages")
    proc = subprocess.run(command, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return where / "bin" / "python"


def site_packages(python: Path) -> Path:
    """The venv's site-packages, asked without running its site hooks."""
    code = ("import sysconfig, sys; "
            "print(sysconfig.get_path('purelib', vars={'base': sys.argv[1]}))")
    out = subprocess.run([str(python), "-I", "-S", "-c", code, str(python.parent.parent)],
                         capture_output=True, text=True, check=True).stdout.strip()
    return Path(out)


def write_dist(site: Path, name: str, version: str = "1.0", *, files: tuple[str, ...] = (),
               requires: tuple[str, ...] = (), tag: str = "py3-none-any",
               record: Optional[str] = None) -> Path:
    """A distribution as pip leaves it: its files, and a .dist-info with
    METADATA, WHEEL, INSTALLER and RECORD."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
             *(f"Requires-Dist: {r}" for r in requires)]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    (info / "WHEEL").write_text(f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n")
    (info / "INSTALLER").write_text("pip\n")
    for path in files:
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_text("" if path.endswith(".py") else "not really compiled\n")
    if record is None:
        record = "".join(f"{path},,\n" for path in files) + "".join(
            f"{info.name}/{n},,\n" for n in ("METADATA", "WHEEL", "INSTALLER", "RECORD"))
    (info / "RECORD").write_text(record)
    return info


def sys_path_from_site(python: Path) -> list[str]:
    """What site adds to sys.path when the interpreter starts normally (this
    runs the environment's start-up hooks: only for environments without)."""
    code = "import sys, json; print(json.dumps(sys.path))"
    full = json.loads(subprocess.run([str(python), "-I", "-c", code], capture_output=True,
                                     text=True, check=True).stdout)
    bare = json.loads(subprocess.run([str(python), "-I", "-S", "-c", code], capture_output=True,
                                     text=True, check=True).stdout)
    return [p for p in full if p not in bare]


def names_seen_by_import_system(python: Path) -> list[str]:
    """The distributions importlib.metadata lists in a normal start."""
    code = ("import json; from importlib import metadata; "
            "print(json.dumps([d.metadata['Name'] for d in metadata.distributions()]))")
    out = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return sorted({n.lower() for n in json.loads(out) if n})


def run_json(*args: str, **kwargs) -> tuple[subprocess.CompletedProcess, dict]:
    proc = run_deps(*args, "--format", "json", **kwargs)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(proc.stdout)


# --- 1. --no-import runs nothing from the environment --------------------------

def plant_hooks(site: Path, markers: Path) -> dict[str, Path]:
    """Start-up hooks that leave a file behind when they run: an import line in
    a .pth file, sitecustomize and usercustomize."""
    markers.mkdir()
    planted = {name: markers / name for name in ("pth", "sitecustomize", "usercustomize")}
    (site / "zz_hook.pth").write_text(
        f"import os; open({str(planted['pth'])!r}, 'w').close()\n")
    for module in ("sitecustomize", "usercustomize"):
        (site / f"{module}.py").write_text(
            f"open({str(planted[module])!r}, 'w').close()\n")
    return planted


def populate(site: Path, tmp: Path) -> Path:
    """Two distributions in site-packages, one in a directory that a .pth path
    line adds; returns that directory."""
    write_dist(site, "pure-demo", "2.0", files=("pure_demo/__init__.py",),
               requires=("compiled-demo>=1",))
    write_dist(site, "compiled-demo", "1.5",
               files=("compiled_demo/__init__.py", "compiled_demo/_speedups.so"),
               tag="cp313-cp313-linux_x86_64")
    extra = tmp / "extra-dir"
    write_dist(extra, "extra-demo", "0.1", files=("extra_demo.py",))
    (site / "aa_paths.pth").write_text(f"# a comment\n{extra}\n{tmp / 'not-there'}\n")
    return extra


@pytest.mark.parametrize("version", VERSIONS)
def test_no_import_runs_no_pth_or_sitecustomize(version: str, tmp_path: Path) -> None:
    check_no_import_runs_nothing(gil_python(version), tmp_path)


@pytest.mark.freethreaded
def test_no_import_runs_no_pth_or_sitecustomize_free_threaded(ft_python: Path,
                                                              tmp_path: Path) -> None:
    check_no_import_runs_nothing(ft_python, tmp_path)


def check_no_import_runs_nothing(base: Path, tmp_path: Path) -> None:
    python = make_venv(base, tmp_path / "venv")
    site = site_packages(python)
    extra = populate(site, tmp_path)
    planted = plant_hooks(site, tmp_path / "markers")

    proc, report = run_json("--python", str(python), "--no-import", "--all", cwd=tmp_path)

    assert [name for name, marker in planted.items() if marker.exists()] == []
    assert proc.stderr == ""  # and no notice, since nothing is imported
    dists = by_name(report)
    assert set(dists) == {"pure-demo", "compiled-demo", "extra-demo"}
    assert dists["pure-demo"]["version"] == "2.0"
    assert dists["pure-demo"]["verdict"] == "pure-python"
    assert dists["compiled-demo"]["extension_modules"] == ["compiled_demo._speedups"]
    assert report["interpreter"]["prefix"] == str(tmp_path / "venv")
    assert report["interpreter"]["site_packages"] == [str(site), str(extra)]

    # The hooks are live: a normal start of the same interpreter runs them, and
    # finds the same directories as ftlint did.
    assert report["interpreter"]["site_packages"] == sys_path_from_site(python)
    assert all(marker.exists() for marker in planted.values() if marker.name != "usercustomize")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("setting", ["false", "TRUE", None])
def test_no_import_follows_include_system_site_packages(version: str, setting: Optional[str],
                                                        tmp_path: Path) -> None:
    python = make_venv(gil_python(version), tmp_path / "venv")
    write_dist(site_packages(python), "venv-only", files=("venv_only.py",))
    cfg = tmp_path / "venv" / "pyvenv.cfg"
    lines = [ln for ln in cfg.read_text().splitlines()
             if not ln.lower().startswith("include-system-site-packages")]
    if setting is not None:  # absent: site's default is to include them
        lines.append(f"Include-System-Site-Packages =  {setting} ")
    cfg.write_text("\n".join(lines) + "\n")

    _, report = run_json("--python", str(python), "--no-import", "--all", cwd=tmp_path)

    listed = sorted(d["name"].lower() for d in report["distributions"])
    assert listed == names_seen_by_import_system(python)
    assert report["interpreter"]["site_packages"] == sys_path_from_site(python)
    system = setting is None or setting.lower() == "true"
    assert (len(report["interpreter"]["site_packages"]) > 1) is system


def test_no_import_lists_a_system_interpreter_like_site_does(tmp_path: Path) -> None:
    """Outside a venv: the base installation's own site directories (on a
    Debian-patched interpreter, its dist-packages)."""
    base = Path(sys.base_prefix) / "bin" / Path(sys.executable).name
    python = base if base.is_file() else Path(sys.executable)
    _, report = run_json("--python", str(python), "--no-import", "--all", cwd=tmp_path)
    assert report["interpreter"]["site_packages"] == sys_path_from_site(python)
    listed = sorted(d["name"].lower() for d in report["distributions"])
    assert listed == names_seen_by_import_system(python)


# --- 3. one distribution never ends the run -----------------------------------

@pytest.fixture
def broken_venv(tmp_path: Path) -> Path:
    """The running interpreter's venv, with a good distribution and four whose
    metadata cannot be read."""
    python = make_venv(Path(sys.executable), tmp_path / "venv")
    site = site_packages(python)
    write_dist(site, "good-dist", files=("good_dist.py",))
    bad_meta = write_dist(site, "bad-metadata", "3.0", files=("bad_metadata.py",))
    (bad_meta / "METADATA").write_bytes(b"Metadata-Version: 2.1\nName: bad-\xff\xfe\n")
    dir_record = write_dist(site, "record-is-dir", "1.1", files=("record_is_dir.py",))
    (dir_record / "RECORD").unlink()
    (dir_record / "RECORD").mkdir()  # unreadable, even for root
    write_dist(site, "bad-record", files=("bad_record.py",),
               record="bad_record.py,sha256=x,12,extra,columns\n")
    (site / "ghost-0.5.dist-info").mkdir()  # left behind, without METADATA
    return python


def test_broken_distributions_are_errors_and_the_rest_is_audited(
        broken_venv: Path, tmp_path: Path) -> None:
    proc, report = run_json("--python", str(broken_venv), "--no-import", "--all", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    dists = by_name(report)
    assert dists["good-dist"]["verdict"] == "pure-python"
    assert dists["good-dist"]["error"] is None
    errors = {name: d["error"] for name, d in dists.items() if d["verdict"] == "error"}
    assert set(errors) == {"bad_metadata", "record-is-dir", "bad-record", "ghost"}, dists
    assert "UnicodeDecodeError" in errors["bad_metadata"]
    assert errors["record-is-dir"].startswith("cannot read RECORD")
    assert "TypeError" in errors["bad-record"]
    assert errors["ghost"].startswith("no METADATA file")
    assert dists["ghost"]["version"] == "0.5"
    assert all(d["evidence"] == d["error"] for d in dists.values() if d["error"])
    assert report["summary"]["error"] == 4 and report["summary"]["exit_code"] == 1

    text = run_deps("--python", str(broken_venv), "--no-import", "--all", cwd=tmp_path)
    assert text.returncode == 1
    row = next(ln for ln in text.stdout.splitlines() if ln.startswith("record-is-dir "))
    assert " error " in row and "cannot read RECORD" in row
    assert ("4 of 5 could not be audited (error): bad_metadata, bad-record, ghost, "
            "record-is-dir") in text.stdout
    assert "All 5" not in text.stdout


def test_a_broken_distribution_out_of_scope_does_not_fail_the_run(
        broken_venv: Path, tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("good-dist\n")
    proc, report = run_json("--python", str(broken_venv), "--no-import", "-r", "r.txt",
                            cwd=tmp_path)
    assert proc.returncode == 0
    assert [d["name"] for d in report["distributions"]] == ["good-dist"]


# --- 4. small things ---------------------------------------------------------------

def test_only_missing_requirements_do_not_read_as_all_ready(tmp_path: Path) -> None:
    python = make_venv(Path(sys.executable), tmp_path / "venv")
    (tmp_path / "r.txt").write_text("not-installed-a\nnot-installed-b>=2\n")
    proc = run_deps("--python", str(python), "--no-import", "-r", "r.txt", cwd=tmp_path)
    assert proc.returncode == 1
    assert "All 0" not in proc.stdout
    assert proc.stdout.rstrip().endswith(
        "2 requirements are not satisfied.\nNo installed distribution was audited.")


def test_whole_error_of_an_interpreter_that_fails_is_shown(tmp_path: Path) -> None:
    """Like a pyenv shim for a version that is not selected: the useful part
    is not the last line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python3.99"
    shim.write_text("#!/bin/sh\n"
                    "echo \"pyenv: python3.99: command not found\" >&2\n"
                    "echo >&2\n"
                    "echo \"The \\`python3.99' command exists in these Python versions:\" >&2\n"
                    "echo \"  3.99.1\" >&2\n"
                    "echo >&2\n"
                    "echo \"Note: See 'pyenv help global' for tips\" >&2\n"
                    "exit 127\n")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    proc = run_deps("--python", "python3.99", "--no-import", cwd=tmp_path, env=env)
    assert proc.returncode == 2
    assert "could not list its distributions (exit status 127):" in proc.stderr
    for line in ("pyenv: python3.99: command not found", "command exists in these",
                 "    3.99.1", "Note: See 'pyenv help global'"):
        assert line in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_says_what_runs() -> None:
    proc = run_deps("--help")
    text = " ".join(proc.stdout.split())
    assert "-I -S" in text and "sitecustomize" in text
    assert "IMPORTING RUNS THE PACKAGES' CODE" in text
    assert "could not be audited (error)" in text


# --- 2 and 3 with the probe: a free-threaded interpreter -----------------------

@pytest.fixture
def ft_probe_venv(ft_python: Path, tmp_path: Path) -> Path:
    """A free-threaded venv with one pure-Python 'extension' that imports fine
    and two whose import crashes the interpreter or hangs, plus a .pth hook."""
    python = make_venv(ft_python, tmp_path / "ftvenv")
    site = site_packages(python)
    # '.so' is among every interpreter's extension suffixes: the probe takes
    # 'pkg/_ext.so' for the module pkg._ext, and importing it runs pkg/__init__.py
    # first, which is where these misbehave (the '.so' is never loaded).
    write_dist(site, "calm-pkg", files=("calm_pkg/__init__.py", "calm_pkg/_ext.so"))
    (site / "calm_pkg" / "__init__.py").write_text(  # stands in for the '.so'
        "import sys, types\nsys.modules[__name__ + '._ext'] = types.ModuleType('_ext')\n")
    write_dist(site, "crashy-pkg", files=("crashy_pkg/__init__.py", "crashy_pkg/_ext.so"))
    (site / "crashy_pkg" / "__init__.py").write_text("import os\nos.abort()\n")
    write_dist(site, "hangs-pkg", files=("hangs_pkg/__init__.py", "hangs_pkg/_ext.so"))
    (site / "hangs_pkg" / "__init__.py").write_text(
        "import subprocess, sys, time\n"
        # a grandchild that would keep the pipes open if only the child died
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        "time.sleep(120)\n")
    write_dist(site, "plain-pkg", files=("plain_pkg.py",))
    return python


@pytest.mark.freethreaded
def test_probe_says_what_it_will_import_before_it_runs(ft_probe_venv: Path,
                                                       tmp_path: Path) -> None:
    site = site_packages(ft_probe_venv)
    marker = tmp_path / "pth-ran"
    # The announcement must be on stderr before the environment's code runs:
    # the hook records whether it had been printed by then (stderr is a file).
    log = tmp_path / "stderr.txt"
    (site / "zz_hook.pth").write_text(
        f"import os; open({str(marker)!r}, 'a').write(open({str(log)!r}).read())\n")
    (tmp_path / "r.txt").write_text("calm-pkg\nplain-pkg\n")
    with open(log, "w") as err:
        exe = Path(sys.executable).with_name("ftlint")
        proc = subprocess.run([str(exe) if exe.exists() else "ftlint", "deps",
                               "--python", str(ft_probe_venv), "-r", "r.txt"],
                              stdout=subprocess.PIPE, stderr=err, text=True, cwd=tmp_path,
                              timeout=120)
    stderr = log.read_text()
    assert proc.returncode == 0, stderr + proc.stdout
    notice = [ln for ln in stderr.splitlines() if ln.startswith("ftlint deps:")]
    assert len(notice) == 1
    assert "import the extension modules of 1 distribution (calm-pkg)" in notice[0]
    assert "--no-import avoids it" in notice[0] and str(ft_probe_venv) in notice[0]
    assert notice[0] in marker.read_text()  # said before the first .pth ran
    assert "Probe:       ran: imported the extension modules of 1 distribution" in proc.stdout


@pytest.mark.freethreaded
def test_probe_crash_and_hang_are_errors_and_others_are_audited(
        ft_probe_venv: Path, tmp_path: Path) -> None:
    start = time.monotonic()
    proc, report = run_json("--python", str(ft_probe_venv), "--all", "--timeout", "5",
                            cwd=tmp_path)
    elapsed = time.monotonic() - start
    assert proc.returncode == 1
    assert elapsed < 60  # the sleeping grandchild did not hold the run open
    dists = by_name(report)
    assert dists["calm-pkg"]["verdict"] == "ready"
    assert dists["plain-pkg"]["verdict"] == "pure-python"
    crashy, hangs = dists["crashy-pkg"], dists["hangs-pkg"]
    assert crashy["verdict"] == "error" and hangs["verdict"] == "error"
    assert crashy["probe"]["failed"] and hangs["probe"]["failed"]
    assert re.search(r"killed by SIGABRT while importing crashy_pkg\._ext", crashy["error"])
    assert "timed out after 5 s while importing hangs_pkg._ext" in hangs["error"]
    assert report["summary"]["error"] == 2

    text = run_deps("--python", str(ft_probe_venv), "--all", "--timeout", "5", cwd=tmp_path)
    assert text.returncode == 1
    assert "2 of 4 could not be audited (error): crashy-pkg, hangs-pkg" in text.stdout
