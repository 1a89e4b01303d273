"""``ftlint watch -- COMMAND``: runs of the installed console script on small
sample apps, under the free-threaded venv of tests/conftest.py
(``ft_ext_venv``: ft-ready-ext declares Py_mod_gil, gil-needing-ext does
not) and, for the GIL-build case, under the interpreter running the tests.

Tests that need a free-threaded interpreter skip with the reason when there
is none ($FTLINT_FT_PYTHON, or ~/.cache/ft-python/bin/python3.13t).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path
from typing import Optional

import pytest

from conftest import ftlint_executable

GIL_BUILD = not sysconfig.get_config_var("Py_GIL_DISABLED")
CULPRIT = "gil_needing_ext._legacy"

# Two threads that each spin for a fixed time: without the GIL they keep two
# cores busy; with it, one. `--gil` first imports the GIL-needing extension.
THREADS = textwrap.dedent("""\
    import sys
    import threading
    import time

    if "--gil" in sys.argv:
        import gil_needing_ext

    def spin():
        end = time.perf_counter() + 1.0
        while time.perf_counter() < end:
            pass

    workers = [threading.Thread(target=spin) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print("spun")
""")


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def watch(*args: str, cwd: Path, env: Optional[dict[str, str]] = None,
          input: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run([ftlint_executable(), "watch", *args], cwd=cwd, input=input,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def watch_json(*args: str, cwd: Path, **kwargs) -> tuple[subprocess.CompletedProcess, dict]:
    report = cwd / "watch-report.json"
    proc = watch("--format", "json", "-o", str(report), *args, cwd=cwd, **kwargs)
    assert report.exists(), proc.stderr
    return proc, json.loads(report.read_text())


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """app.py imports mylib, which imports the GIL-needing extension's package."""
    return write(tmp_path, {
        "app.py": "import mylib\n\nprint('answer', mylib.answer())\nraise SystemExit(3)\n",
        "mylib.py": "import gil_needing_ext\n\n\ndef answer():\n"
                    "    return gil_needing_ext.answer()\n",
        "good.py": "import ft_ready_ext\n\nprint('answer', ft_ready_ext.answer())\n",
        "threads.py": THREADS,
    })


# --- the GIL stays off, or an import turns it on ----------------------------------

@pytest.mark.freethreaded
def test_gil_free_extension_keeps_the_gil_off(ft_ext_venv: Path, app: Path) -> None:
    proc = watch("--", str(ft_ext_venv), "good.py", cwd=app)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "answer 42\n"  # the app's own output, untouched
    assert proc.stderr.startswith("ftlint watch: the GIL stayed disabled\n"), proc.stderr
    assert "free-threaded build" in proc.stderr
    _, report = watch_json("--", str(ft_ext_venv), "good.py", cwd=app)
    assert (report["verdict"], report["gil_enabled"], report["cause"]) == (
        "gil-disabled", False, None)
    assert report["interpreter"]["free_threaded"] is True


@pytest.mark.freethreaded
def test_names_the_import_and_its_importer_chain(ft_ext_venv: Path, app: Path) -> None:
    proc = watch("--", str(ft_ext_venv), "app.py", cwd=app)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == "answer 42\n"
    report = proc.stderr[proc.stderr.index("ftlint watch:"):]  # after CPython's warning
    assert report.startswith(f"ftlint watch: the GIL was enabled by importing {CULPRIT}\n")
    assert "(exit code 3)" in report  # the app's exit code
    lines = [line.strip() for line in report.splitlines()]
    chain = lines.index("import chain: __main__ (app.py:1): import mylib")
    assert lines[chain + 1] == "-> mylib (mylib.py:1): import gil_needing_ext"
    assert lines[chain + 2].startswith("-> gil_needing_ext (")
    assert lines[chain + 2].endswith(f": from {CULPRIT} import answer  # noqa: E402")
    assert lines[chain + 3].startswith(f"-> {CULPRIT} (")
    assert f"CPython said: RuntimeWarning: The global interpreter lock (GIL) has been " \
           f"enabled to load module '{CULPRIT}'" in report

    proc, report = watch_json("--", str(ft_ext_venv), "app.py", cwd=app)
    assert proc.returncode == 1 and proc.stdout == "answer 42\n"
    assert report["verdict"] == "gil-enabled" and report["gil_enabled"] is True
    assert report["exit_code"] == 3 and report["signal"] is None
    cause = report["cause"]
    assert (cause["how"], cause["module"], cause["thread"]) == ("import", CULPRIT, "MainThread")
    assert cause["file"].endswith(".so") and "gil_needing_ext" in cause["file"]
    assert [link["module"] for link in cause["chain"]] == [
        "__main__", "mylib", "gil_needing_ext", CULPRIT]
    main, mylib = cause["chain"][:2]
    assert (Path(main["file"]).name, main["line"], main["code"]) == ("app.py", 1, "import mylib")
    assert (Path(mylib["file"]).name, mylib["line"]) == ("mylib.py", 1)
    assert CULPRIT in cause["warning"]


@pytest.mark.freethreaded
def test_an_import_in_a_thread_and_a_function(ft_ext_venv: Path, app: Path) -> None:
    write(app, {"lazy.py": textwrap.dedent("""\
        import importlib
        import threading


        def load():
            importlib.import_module("mylib")


        loader = threading.Thread(target=load, name="loader")
        loader.start()
        loader.join()
    """)})
    _, report = watch_json("--", str(ft_ext_venv), "lazy.py", cwd=app)
    cause = report["cause"]
    assert cause["thread"] == "loader"
    first = cause["chain"][0]
    assert (first["module"], first["function"], first["line"]) == ("__main__", "load", 6)
    assert [link["module"] for link in cause["chain"][1:]] == ["mylib", "gil_needing_ext",
                                                               CULPRIT]


@pytest.mark.freethreaded
def test_a_child_process_that_enables_the_gil(ft_ext_venv: Path, app: Path) -> None:
    write(app, {"pool.py": textwrap.dedent("""\
        import multiprocessing


        def work(n):
            if n == 1:
                import mylib
            return n


        if __name__ == "__main__":
            multiprocessing.set_start_method("spawn")
            with multiprocessing.Pool(2) as pool:
                print(pool.map(work, range(4)))
    """)})
    proc, report = watch_json("--", str(ft_ext_venv), "pool.py", cwd=app)
    assert proc.returncode == 1 and proc.stdout == "[0, 1, 2, 3]\n"
    cause = report["cause"]
    assert cause["module"] == CULPRIT and cause["pid"] != report["pid"]
    assert [(link["module"], link["function"]) for link in cause["chain"][-4:-2]] == [
        ("__mp_main__", "work"), ("mylib", "<module>")]
    main = next(p for p in report["processes"] if p["pid"] == report["pid"])
    assert main["gil_enabled"] is False  # the parent process kept it off
    assert any(p["cause"] == CULPRIT for p in report["processes"])


@pytest.mark.freethreaded
def test_gil_enabled_by_a_pth_file_before_the_hook(ft_ext_venv: Path, app: Path) -> None:
    """A .pth file's import line runs before sitecustomize: ftlint cannot see
    the import, but says the GIL was on from the start and lists the
    extension modules already loaded."""
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    packages = subprocess.run([str(ft_ext_venv), "-c", where], capture_output=True,
                              text=True, check=True).stdout.strip()
    subprocess.run([str(ft_ext_venv), "-m", "venv", "--without-pip", str(app / "venv")],
                   check=True)
    python = app / "venv" / "bin" / "python"
    own = subprocess.run([str(python), "-c", where], capture_output=True, text=True,
                         check=True).stdout.strip()
    # A path line (the shared venv's packages), then an import line.
    (Path(own) / "zz_preload.pth").write_text(f"{packages}\nimport gil_needing_ext\n")
    proc, report = watch_json("--", str(python), "good.py", cwd=app)
    assert proc.returncode == 1 and proc.stdout == "answer 42\n", proc.stderr
    cause = report["cause"]
    assert cause["how"] == "before-watch" and cause["module"] is None
    assert cause["extensions"] == [CULPRIT]
    text = watch("--", str(python), "good.py", cwd=app).stderr
    assert "the GIL was enabled before ftlint's hook started" in text
    assert f"extension modules loaded: {CULPRIT}" in text


# --- CPU use ------------------------------------------------------------------------

def _cores_busy_unwatched(python: Path, app: Path) -> float:
    """CPU/wall of the threads sample run directly: whether this machine lets
    one process's threads run on several cores at once."""
    started = time.perf_counter()
    process = subprocess.Popen([str(python), "threads.py"], cwd=app, stdout=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return (usage.ru_utime + usage.ru_stime) / (time.perf_counter() - started)


@pytest.mark.freethreaded
@pytest.mark.skipif(not hasattr(os, "wait4"), reason="CPU time is measured with os.wait4")
def test_threads_use_several_cores_without_the_gil(ft_ext_venv: Path, app: Path) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two cores")
    direct = _cores_busy_unwatched(ft_ext_venv, app)
    if direct < 1.5:
        pytest.skip(f"this machine does not run one process's threads on two cores at once: "
                    f"the sample kept {direct:.2f} cores busy without ftlint")
    proc, report = watch_json("--", str(ft_ext_venv), "threads.py", cwd=app)
    assert proc.returncode == 0 and proc.stdout == "spun\n"
    cpu = report["cpu"]
    assert cpu["threads_peak"] >= 3 and cpu["threads_started"] == 2
    assert cpu["cores_busy"] > 1.2, cpu
    assert cpu["capped"] is False


@pytest.mark.freethreaded
@pytest.mark.skipif(not hasattr(os, "wait4"), reason="CPU time is measured with os.wait4")
def test_threads_capped_at_one_core_with_the_gil(ft_ext_venv: Path, app: Path) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("'capped at one core' means something only with two cores or more")
    proc = watch("--", str(ft_ext_venv), "threads.py", "--gil", cwd=app)
    assert proc.returncode == 1 and proc.stdout == "spun\n"
    assert "capped at about one core: 3 threads ran at once" in proc.stderr, proc.stderr
    assert "(as the GIL does)" in proc.stderr
    _, report = watch_json("--", str(ft_ext_venv), "threads.py", "--gil", cwd=app)
    cpu = report["cpu"]
    assert cpu["capped"] is True and cpu["cores_busy"] <= 1.1, cpu
    assert cpu["threads_peak"] == 3 and cpu["cores"] >= 2
    assert cpu["wall_time"] >= 1.0 and cpu["cpu_time"] > 0.5
    assert "cpu_time" in cpu["measured"]


# --- interpreters, environment and exit codes -------------------------------------

@pytest.mark.skipif(not GIL_BUILD, reason="needs a GIL build running the tests")
def test_gil_build_is_reported_as_not_free_threaded(tmp_path: Path) -> None:
    write(tmp_path, {"hello.py": "print('hello')\n"})
    proc = watch("--", sys.executable, "hello.py", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "hello\n"
    assert proc.stderr.startswith(f"ftlint watch: not a free-threaded interpreter: "
                                  f"{sys.executable} is a GIL build, where the GIL is always "
                                  f"on\n"), proc.stderr
    assert "run the command with python3.13t or python3.14t" in proc.stderr
    _, report = watch_json("--", sys.executable, "hello.py", cwd=tmp_path)
    assert report["verdict"] == "not-free-threaded" and report["gil_enabled"] is None
    assert report["interpreter"]["free_threaded"] is False


@pytest.mark.freethreaded
def test_output_input_and_exit_code_pass_through(ft_ext_venv: Path, tmp_path: Path) -> None:
    write(tmp_path, {"echo.py": textwrap.dedent("""\
        import sys
        line = sys.stdin.readline()
        print("out:", line.strip())
        print("err:", line.strip(), file=sys.stderr)
        sys.exit(7)
    """)})
    report = tmp_path / "report.txt"
    proc = watch("-o", str(report), "--", str(ft_ext_venv), "echo.py", cwd=tmp_path,
                 input="hello\n")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "out: hello\n", "err: hello\n")
    assert "(exit code 7)" in report.read_text()


@pytest.mark.freethreaded
def test_json_shape(ft_ext_venv: Path, app: Path) -> None:
    _, report = watch_json("--", str(ft_ext_venv), "app.py", cwd=app)
    assert set(report) == {"command", "pid", "verdict", "gil_enabled", "exit_code", "signal",
                           "interpreter", "cause", "cpu", "processes", "notes"}
    assert report["command"] == [str(ft_ext_venv), "app.py"]
    assert set(report["interpreter"]) == {"executable", "implementation", "version",
                                          "free_threaded", "gil_flag"}
    assert set(report["cpu"]) == {"wall_time", "cpu_time", "cores_busy", "cores",
                                  "threads_peak", "threads_started", "os_threads_peak",
                                  "capped", "measured"}
    assert {"how", "pid", "module", "file", "detected_by", "warning", "time", "thread",
            "chain", "stack", "concurrent", "extensions"} == set(report["cause"])
    for link in report["cause"]["chain"]:
        assert set(link) == {"module", "function", "file", "line", "code"}
    [process] = report["processes"]
    assert process["pid"] == report["pid"] and process["finished"] is True
    assert process["gil_enabled"] is True and process["cause"] == CULPRIT


@pytest.mark.freethreaded
def test_python_gil_is_removed_and_forcing_is_reported(ft_ext_venv: Path, app: Path) -> None:
    proc, report = watch_json("--", str(ft_ext_venv), "app.py", cwd=app,
                              env={"PYTHON_GIL": "0"})
    assert proc.returncode == 1 and report["cause"]["module"] == CULPRIT
    assert report["notes"] and "PYTHON_GIL=0 was set" in report["notes"][0]
    forced_off = watch("--", str(ft_ext_venv), "-X", "gil=0", "app.py", cwd=app)
    assert forced_off.returncode == 2
    assert "the GIL was forced off (-X gil=0)" in forced_off.stderr
    forced_on, report = watch_json("--", str(ft_ext_venv), "-X", "gil=1", "good.py", cwd=app)
    assert forced_on.returncode == 1 and report["cause"]["how"] == "forced"


@pytest.mark.freethreaded
def test_python_option_and_the_users_sitecustomize(ft_ext_venv: Path, tmp_path: Path) -> None:
    own = write(tmp_path / "own", {"sitecustomize.py": "MARK = 'mine'\n"})
    write(tmp_path, {"show.py": textwrap.dedent("""\
        import sys
        import sitecustomize
        print(sitecustomize.MARK, any("ftlint-watch" in p for p in sys.path), sys.executable)
    """)})
    venv = ft_ext_venv.parent.parent
    proc = watch("--python", str(venv), "--", "python", "show.py", cwd=tmp_path,
                 env={"PYTHONPATH": str(own)})
    assert proc.returncode == 0, proc.stderr
    mark, leaked, executable = proc.stdout.split()
    assert (mark, leaked) == ("mine", "False")  # its own sitecustomize ran; ours left sys.path
    assert Path(executable).parent == ft_ext_venv.parent


@pytest.mark.parametrize("args, message", [
    ([], "no command to watch"),
    (["--", "ftlint-no-such-command"], "ftlint-no-such-command: command not found"),
    (["--python", "/nonexistent/python", "--", "python", "x.py"], "no such file"),
    (["--python", sys.executable, "--", "ls"], "--python replaces a leading 'python'"),
])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    proc = watch(*args, cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_not_watched_when_python_skips_site(tmp_path: Path) -> None:
    proc = watch("--", sys.executable, "-S", "-c", "print('ran')", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "ran\n"
    assert "no Python process of the command could be watched" in proc.stderr


def test_the_watch_flag_still_checks_files() -> None:
    """`ftlint --watch PATHS` is the check's option; `ftlint watch` the command."""
    flag = subprocess.run([ftlint_executable(), "--watch", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert flag.returncode == 0 and flag.stdout.startswith("Usage: ftlint check")
    command = subprocess.run([ftlint_executable(), "watch", "--help"], capture_output=True,
                             text=True, timeout=60)
    assert command.stdout.startswith("Usage: ftlint watch") and "ftlint --watch" in command.stdout
