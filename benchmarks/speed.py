"""ftlint's speed and memory on a standard library, against its floor and its peers.

Every command runs as a fresh process on the same copy of the library (tests,
idlelib and lib2to3 left out), in rounds: each round runs every command once,
so that a slow moment of the machine falls on all of them alike. It prints the
median of the rounds and the ratios the targets are stated in:

- cold: ``ftlint --no-cache`` against a bare libcst parse of the same files
  on as many processes, and against flake8 with its default plugins;
- ``--format json`` against text;
- warm: a second run with nothing changed, and with one file touched;
- peak RSS: the largest process of a cold run;
- fix: ``ftlint --fix`` (on a fresh copy each round) against a cold check;
- free-threaded: a cold run on 1 and 2 threads with ``--ft-python``.

    python benchmarks/speed.py [--stdlib DIR] [--repeat N] [--jobs N]
                               [--ft-python PYTHON] [--skip-fix] [--skip-peers]

flake8 runs from its own virtual environment (created under ``~/.cache``),
so that it does not load ftlint's plugin; ruff runs if it is installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

SKIP = {"test", "tests", "idlelib", "lib2to3", "site-packages", "__pycache__"}
FLAKE8 = "flake8==7.3.0"
# Run in a fresh interpreter: the wall time of a command, and the peak RSS of
# the largest process it started (its own or a worker's), in KB.
MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""
PARSE = """
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

def parse(path):
    import libcst
    sys.setrecursionlimit(20_000)
    try:
        libcst.parse_module(Path(path).read_bytes())
    except Exception:
        pass

if __name__ == "__main__":
    files = [str(p) for p in sorted(Path(sys.argv[2]).rglob("*.py"))]
    with ProcessPoolExecutor(int(sys.argv[1])) as pool:
        list(pool.map(parse, files, chunksize=4))
"""


def default_stdlib() -> Path:
    """CPython 3.13's library if pyenv has one (the issue's reference), else ours."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(pyenv.glob("3.13*/lib/python3.13"))
    return found[-1] if found else Path(sysconfig.get_paths()["stdlib"])


def copy_library(source: Path, target: Path) -> tuple[int, int]:
    files = lines = 0
    for path in sorted(source.rglob("*.py")):
        rel = path.relative_to(source)
        if SKIP & set(rel.parts):
            continue
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        files += 1
        lines += path.read_bytes().count(b"\n")
    return files, lines


def flake8_executable() -> str | None:
    venv = Path.home() / ".cache" / "ftlint-bench" / "flake8-venv"
    exe = venv / "bin" / "flake8"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", FLAKE8])
        if done.returncode != 0:
            return None
    return str(exe)


def measure(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=cwd, text=True,
                         capture_output=True, env={**os.environ, **(env or {})}, check=True)
    wall, rss, code = out.stdout.split()
    if int(code) not in (0, 1):
        raise SystemExit(f"failed ({code}): {' '.join(command)}")
    return float(wall), int(rss)


def compile_ftlint() -> None:
    """Write ftlint's bytecode first, as pip does when it installs a wheel:
    an editable install run with PYTHONDONTWRITEBYTECODE set (as some
    sandboxes and containers do) compiles every module it imports on every
    run, which a warm run (a few hundred milliseconds) would mostly measure."""
    import ftlint

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(ftlint.__file__).parent)],
                   env=env, stdout=subprocess.DEVNULL, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdlib", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--ft-python", default=None,
                        help="a free-threaded interpreter with ftlint installed")
    parser.add_argument("--skip-fix", action="store_true")
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()

    ftlint = str(Path(sys.executable).with_name("ftlint"))
    compile_ftlint()
    stdlib = args.stdlib or default_stdlib()
    work = Path(tempfile.mkdtemp(prefix="ftlint-speed-"))
    lib = work / "lib"
    files, lines = copy_library(stdlib, lib)
    cache = work / "cache"
    common = ["--exit-zero", "--quiet", "--jobs", str(args.jobs)]
    touched = lib / "json" / "decoder.py"

    commands: dict[str, tuple[list[str], object]] = {
        "libcst parse": ([sys.executable, "-c", PARSE, str(args.jobs), "lib"], None),
        "ftlint cold": ([ftlint, *common, "--no-cache", "lib"], None),
        "ftlint cold, --format json": ([ftlint, *common, "--no-cache", "--format", "json",
                                        "lib"], None),
        "ftlint warm, nothing changed": ([ftlint, *common, "--cache-dir", str(cache), "lib"],
                                         None),
        "ftlint warm, one file touched": ([ftlint, *common, "--cache-dir", str(cache), "lib"],
                                          "touch"),
    }
    if not args.skip_fix:
        commands["ftlint --fix"] = ([ftlint, *common, "--no-cache", "--fix", "fixlib"], "copy")
    if not args.skip_peers:
        flake8 = flake8_executable()
        if flake8:
            commands["flake8, default plugins"] = ([flake8, "--exit-zero", "-j", str(args.jobs),
                                                    "lib"], None)
        ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
        if Path(ruff).exists():
            commands["ruff"] = ([ruff, "check", "--no-cache", "--exit-zero", "-q", "lib"], None)
    if args.ft_python and subprocess.run([args.ft_python, "-c", "import ftlint, libcst"],
                                         capture_output=True).returncode != 0:
        # A run that fails at once would time nothing and report a speed.
        print(f"skipping the free-threaded rows: {args.ft_python} cannot import ftlint and "
              "libcst (install them into it first)", file=sys.stderr)
        args.ft_python = None
    if args.ft_python:
        for n in (1, 2):
            commands[f"3.13t ftlint cold, {n} thread{'s' if n > 1 else ''}"] = (
                [args.ft_python, "-m", "ftlint", *common[:2], "--jobs", str(n), "--no-cache",
                 "lib"], None)

    print(f"{files} files, {lines:,} lines from {stdlib}; {args.jobs} processes; "
          f"median of {args.repeat} rounds")
    subprocess.run([ftlint, *common, "--cache-dir", str(cache), "lib"], cwd=work,
                   stdout=subprocess.DEVNULL)  # fill the cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, list[int]] = {name: [] for name in commands}
    for round_ in range(args.repeat):
        for name, (command, prepare) in commands.items():
            if prepare == "touch":
                with open(touched, "a") as fh:
                    fh.write(f"# round {round_}\n")
            elif prepare == "copy":
                shutil.rmtree(work / "fixlib", ignore_errors=True)
                shutil.copytree(lib, work / "fixlib")
            env = {"PYTHON_GIL": "0"} if name.startswith("3.13t") else None
            wall, peak = measure(command, work, env)
            times[name].append(wall)
            rss[name].append(peak)
        print(f"  round {round_ + 1} done", file=sys.stderr)

    median = {name: statistics.median(v) for name, v in times.items()}
    print(f"{'command':<36} {'median s':>9} {'lines/s':>10} {'peak RSS MB':>12}")
    for name in commands:
        print(f"{name:<36} {median[name]:9.2f} {lines / median[name]:10,.0f} "
              f"{max(rss[name]) / 1024:12.0f}")
    print()

    def ratio(label: str, a: str, b: str, target: str) -> None:
        if a in median and b in median:
            print(f"{label:<52} {median[a] / median[b]:6.2f}  (target {target})")

    ratio("cold / libcst parse on as many processes", "ftlint cold", "libcst parse", "<= 1.25")
    ratio("cold / flake8, default plugins", "ftlint cold", "flake8, default plugins", "< 1")
    ratio("--format json / text", "ftlint cold, --format json", "ftlint cold", "<= 1")
    ratio("--fix / cold check", "ftlint --fix", "ftlint cold", "<= 3")
    ratio("3.13t: 1 thread / 2 threads (scaling)", "3.13t ftlint cold, 1 thread",
          "3.13t ftlint cold, 2 threads", "report")
    print(f"{'warm, nothing changed (s)':<52} {median['ftlint warm, nothing changed']:6.2f}"
          "  (target <= 0.5)")
    print(f"{'warm, one file touched (s)':<52} {median['ftlint warm, one file touched']:6.2f}"
          "  (target <= 1)")
    print(f"{'peak RSS of a cold run, largest process (MB)':<52} "
          f"{max(rss['ftlint cold']) / 1024:6.0f}  (target <= 300)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
