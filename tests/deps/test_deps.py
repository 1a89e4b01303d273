"""``ftlint deps``: unit tests of its parts, and end-to-end runs against a
real free-threaded CPython venv holding small extension packages built here.

The free-threaded interpreter comes from $FTLINT_FT_PYTHON, else
~/.cache/ft-python/bin/python3.13t; without one those tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Optional

import pytest
from packaging.requirements import Requirement

from ftlint.deps.model import DepsError, Distribution, Verdict
from ftlint.deps.probe import probe_one
from ftlint.deps.requirements import Declared, read_requirements_file, resolve
from ftlint.deps.verdict import built_locally, free_threaded_tags, judge


def ftlint_exe() -> str:
    candidate = Path(sys.executable).with_name("ftlint")
    found = str(candidate) if candidate.exists() else shutil.which("ftlint")
    if found is None:
        pytest.fail("the ftlint console script is not installed (pip install -e .)")
    return found


def run_deps(*args: str, cwd: Optional[Path] = None,
             env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess:
    """--no-index: these tests must not ask this machine's package index (the
    lookups are tested against a local one in tests/test_deps_available.py)."""
    return subprocess.run([ftlint_exe(), "deps", "--no-index", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


def run_json(*args: str, **kwargs) -> tuple[int, dict]:
    proc = run_deps(*args, "--format", "json", **kwargs)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def by_name(report: dict) -> dict[str, dict]:
    return {d["name"]: d for d in report["distributions"]}


def dist(name: str = "demo", *, modules: tuple[str, ...] = (), tags: tuple[str, ...] = (),
         requires: tuple[str, ...] = (), version: str = "1.0",
         direct_url: Optional[str] = None) -> Distribution:
    files = tuple(m.replace(".", "/") + ".cpython-313t-x86_64-linux-gnu.so" for m in modules)
    return Distribution(name=name, version=version, location="/site", file_list="RECORD",
                        extension_files=files, extension_modules=modules, wheel_tags=tags,
                        direct_url=direct_url, classifiers=(), requires=requires)


# --- the free-threaded environment ------------------------------------------

@pytest.fixture(scope="session")
def ft_venv(ft_ext_venv: Path) -> Path:
    """The shared venv of tests/conftest.py (ft-ready-ext, gil-needing-ext,
    ft-pure-pkg, broken-ext) plus three plain modules for the probe's edge
    cases. Returns the venv's python."""
    python = ft_ext_venv
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([str(python), "-c", where], capture_output=True, text=True,
                          check=True).stdout.strip()
    (Path(site) / "ftlint_test_sleepy.py").write_text("import time\ntime.sleep(60)\n")
    (Path(site) / "ftlint_test_crashy.py").write_text("import os\nos.abort()\n")
    (Path(site) / "ftlint_test_noisy.py").write_text("print('noise on stdout')\n")
    return python


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory without pyproject.toml above it, so that the default scope
    is the whole environment unless a test writes one."""
    return tmp_path


@pytest.mark.freethreaded
def test_probe_flags_exactly_the_gil_needing_extension(ft_venv: Path, workdir: Path) -> None:
    marker = workdir / "imported.txt"
    env = {**os.environ, "GIL_NEEDING_EXT_IMPORT_MARKER": str(marker),
           "PYTHON_GIL": "0"}  # must not leak into the probe, or nothing is ever caught
    code, report = run_json("--python", str(ft_venv), cwd=workdir, env=env)
    dists = by_name(report)
    assert code == 1
    assert report["probe"]["ran"] is True
    assert report["interpreter"]["free_threaded"] is True
    assert [d["name"] for d in report["distributions"]
            if d["verdict"] == "gil-re-enabling"] == ["gil-needing-ext"]
    bad = dists["gil-needing-ext"]
    assert bad["probe"]["ran"] and bad["probe"]["gil_enabled_after"]
    assert bad["probe"]["module"] == "gil_needing_ext._legacy"
    assert "RuntimeWarning" in bad["probe"]["warning"]
    assert "gil_needing_ext._legacy" in bad["evidence"] and "RuntimeWarning" in bad["evidence"]
    assert bad["has_extensions"] and bad["extension_modules"] == ["gil_needing_ext._legacy"]
    good = dists["ft-ready-ext"]
    assert good["verdict"] == "ready"
    assert good["probe"]["ran"] and good["probe"]["gil_enabled_after"] is False
    assert good["free_threaded_wheel"] and any("cp313t" in t for t in good["wheel_tags"])
    assert good["classifiers"] == ["Programming Language :: Python :: Free Threading :: 3 - Stable"]
    assert dists["ft-pure-pkg"]["verdict"] == "pure-python"
    assert dists["ft-pure-pkg"]["probe"]["ran"] is False
    broken = dists["broken-ext"]
    assert broken["verdict"] == "unknown"
    assert "broken_ext._native" in broken["probe"]["error"]
    assert marker.read_text() == "imported\n"  # the probe really imported it


@pytest.mark.freethreaded
def test_text_report_names_the_culprit(ft_venv: Path, workdir: Path) -> None:
    proc = run_deps("--python", str(ft_venv), cwd=workdir)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("name "))
    for column in ("version", "compiled", "ft wheel", "classifier", "verdict", "evidence"):
        assert column in header
    row = next(line for line in lines if line.startswith("gil-needing-ext "))
    assert row.index("gil-re-enabling") == header.index("verdict")  # aligned
    assert ("re-enables the GIL: gil-needing-ext (imported gil_needing_ext._legacy: "
            "RuntimeWarning") in proc.stdout


@pytest.mark.freethreaded
def test_only_good_requirements_exit_0_and_follow_transitive(
        ft_venv: Path, workdir: Path) -> None:
    reqs = workdir / "requirements.txt"
    reqs.write_text("# pure, pulls in ft-ready-ext\nft-pure-pkg>=2\n")
    code, report = run_json("--python", str(ft_venv), "--requirements", str(reqs), cwd=workdir)
    assert code == 0
    dists = by_name(report)
    assert set(dists) == {"ft-pure-pkg", "ft-ready-ext"}
    assert dists["ft-ready-ext"]["verdict"] == "ready"
    assert dists["ft-ready-ext"]["required_by"] == "ft-pure-pkg"
    assert report["missing"] == []
    assert report["scope"] == {"kind": "requirements", "source": str(reqs), "note": None}


@pytest.mark.freethreaded
def test_missing_requirement_is_reported(ft_venv: Path, workdir: Path) -> None:
    reqs = workdir / "requirements.txt"
    reqs.write_text("ft-ready-ext\nnot-installed-dist>=1.0\nft-pure-pkg>=99\n")
    proc = run_deps("--python", str(ft_venv), "-r", str(reqs), cwd=workdir)
    assert proc.returncode == 1
    assert f"not-installed-dist>=1.0 (required by {reqs}) is not installed" in proc.stdout
    assert "ft-pure-pkg>=99" in proc.stdout and "version 2.1 is installed" in proc.stdout
    code, report = run_json("--python", str(ft_venv), "-r", str(reqs), cwd=workdir)
    assert {"requirement": "not-installed-dist>=1.0", "required_by": str(reqs),
            "installed": None} in report["missing"]


@pytest.mark.freethreaded
def test_pyproject_dependencies_are_the_default_scope(ft_venv: Path, workdir: Path) -> None:
    (workdir / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\ndependencies = ["ft-ready-ext"]\n')
    (workdir / "sub").mkdir()
    code, report = run_json("--python", str(ft_venv), cwd=workdir / "sub")
    assert code == 0
    assert report["scope"]["kind"] == "pyproject"
    assert [d["name"] for d in report["distributions"]] == ["ft-ready-ext"]
    code, report = run_json("--python", str(ft_venv), "--all", cwd=workdir)
    assert code == 1 and "gil-needing-ext" in by_name(report)


@pytest.mark.freethreaded
def test_no_import_does_not_probe(ft_venv: Path, workdir: Path) -> None:
    marker = workdir / "imported.txt"
    env = {**os.environ, "GIL_NEEDING_EXT_IMPORT_MARKER": str(marker)}
    proc = run_deps("--python", str(ft_venv), "--no-import", cwd=workdir, env=env)
    assert "Probe:       not run: --no-import was given" in proc.stdout
    code, report = run_json("--python", str(ft_venv), "--no-import", cwd=workdir, env=env)
    assert not marker.exists()
    assert report["probe"]["ran"] is False and "--no-import" in report["probe"]["reason"]
    assert all(not d["probe"]["ran"] for d in report["distributions"])
    # Built here, so a cp313t tag proves nothing: unknown, not ready.
    dists = by_name(report)
    for name in ("gil-needing-ext", "ft-ready-ext"):
        assert dists[name]["verdict"] == "unknown"
        assert dists[name]["built_locally"] is True
    assert code == 0
    assert run_deps("--python", str(ft_venv), "--no-import", "--strict",
                    cwd=workdir).returncode == 1


@pytest.mark.freethreaded
def test_probe_survives_timeouts_crashes_and_stdout_noise(ft_venv: Path) -> None:
    slow = probe_one(str(ft_venv), ["ftlint_test_sleepy"], timeout=1)
    assert slow.error == "timed out after 1 s while importing ftlint_test_sleepy"
    crash = probe_one(str(ft_venv), ["ftlint_test_crashy"], timeout=30)
    assert crash.error is not None
    assert "killed by SIGABRT while importing ftlint_test_crashy" in crash.error
    noisy = probe_one(str(ft_venv), ["ftlint_test_noisy"], timeout=30)
    assert noisy.error is None and noisy.imported == ("ftlint_test_noisy",)
    assert slow.failed and crash.failed and not noisy.failed
    # A probe that did not finish means the distribution could not be audited.
    assert judge(dist(modules=("x",)), slow).verdict is Verdict.ERROR


# --- the running (GIL) interpreter and bad input ------------------------------

@pytest.mark.skipif(bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
                    reason="needs a GIL-enabled interpreter running the tests")
def test_gil_interpreter_reports_probe_not_run(workdir: Path) -> None:
    code, report = run_json("--all", cwd=workdir)
    assert report["probe"]["ran"] is False
    assert "not a free-threaded build" in report["probe"]["reason"]
    assert report["interpreter"]["free_threaded"] is False
    assert all(not d["probe"]["ran"] for d in report["distributions"])
    assert "ftlint" in by_name(report)
    assert all(d["verdict"] != "gil-re-enabling" for d in report["distributions"])
    text = run_deps("--all", cwd=workdir).stdout
    assert "Probe:       not run:" in text and "not a free-threaded build" in text


@pytest.mark.parametrize("args, message", [
    (["--python", "/nonexistent/bin/python"], "--python /nonexistent/bin/python: no such file"),
    (["--requirements", "no-such-requirements.txt"], "cannot read requirements file"),
    (["--all", "--requirements", "r.txt"], "cannot be used together"),
])
def test_bad_input_exits_2_without_traceback(workdir: Path, args: list[str],
                                             message: str) -> None:
    proc = run_deps(*args, cwd=workdir)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_python_that_is_not_python_exits_2(workdir: Path) -> None:
    fake = workdir / "python"
    fake.write_text("#!/bin/sh\necho not python\n")
    fake.chmod(0o755)
    proc = run_deps("--python", str(fake), cwd=workdir)
    assert proc.returncode == 2
    assert "did not answer like a Python interpreter" in proc.stderr


def test_invalid_requirement_line_exits_2(workdir: Path) -> None:
    (workdir / "r.txt").write_text("good-name\nbad name ==\n")
    proc = run_deps("-r", "r.txt", cwd=workdir)
    assert proc.returncode == 2 and "r.txt:2: invalid requirement" in proc.stderr


# --- parts --------------------------------------------------------------------

def test_requirements_file_syntax(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("click>=8  # inline comment\n")
    (tmp_path / "r.txt").write_text(
        "# comment\n-r base.txt\n--index-url https://example.invalid/simple\n"
        "-e ./local\npackaging \\\n  >=23\n./wheels/x.whl\n"
        "libcst==1.8.6 --hash=sha256:abc\n")
    declared = read_requirements_file(tmp_path / "r.txt")
    assert [str(r) for r in declared.requirements] == ["click>=8", "packaging>=23",
                                                       "libcst==1.8.6"]
    assert len(declared.skipped) == 2  # the editable and the path


def test_resolve_follows_markers_extras_and_reports_missing() -> None:
    installed = {d.key: d for d in [
        dist("App", requires=("Lib[fast]>=1", "win-only; sys_platform == 'win32'",
                              "ghost", "docs-tool; extra == 'docs'")),
        dist("lib", requires=("speedups; extra == 'fast'", "base")),
        dist("speedups", modules=("speedups._c",)),
        dist("base", version="0.9"),
    ]}
    declared = Declared("reqs.txt", [Requirement("app"), Requirement("base>=1")])
    selected, missing = resolve(declared, installed, {"sys_platform": "linux"})
    assert selected == {"app": "reqs.txt", "base": "reqs.txt", "lib": "App", "speedups": "lib"}
    assert [(m.requirement, m.installed) for m in missing] == [
        ("base>=1", "0.9"), ("ghost", None)]


def test_wheel_tags() -> None:
    published = dist(modules=("m",),
                     tags=("cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64",))
    assert free_threaded_tags(published) == ("cp313t",)
    assert not built_locally(published)
    assert judge(published).verdict is Verdict.READY
    local = dist(modules=("m",), tags=("cp313-cp313t-linux_x86_64",))
    assert built_locally(local) and judge(local).verdict is Verdict.UNKNOWN
    from_dir = dist(modules=("m",), tags=("cp314-cp314t-macosx_11_0_arm64",),
                    direct_url='{"url": "file:///src/x", "dir_info": {}}')
    assert built_locally(from_dir)
    gil_only = dist(modules=("m",), tags=("cp313-cp313-manylinux_2_17_x86_64",))
    assert free_threaded_tags(gil_only) == () and judge(gil_only).verdict is Verdict.UNKNOWN
    assert judge(dist()).verdict is Verdict.PURE_PYTHON


def test_deps_error_is_an_exception() -> None:
    with pytest.raises(DepsError, match="cannot read requirements file"):
        read_requirements_file(Path("definitely-missing.txt"))
