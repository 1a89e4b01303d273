"""The project pass: thread entry points, reachability across modules,
configured entry points and decorators, and not-thread-safe declarations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import ROOT, write_files

from ftlint.rules.base import expected_findings

PROJECT = ROOT / "fixtures" / "projects" / "webapp"


def _expected(root: Path) -> set[tuple[str, int, str, str]]:
    out = set()
    for path in sorted(root.rglob("*.py")):
        for row, code, conf in expected_findings(path.read_text()):
            out.add((path.relative_to(root).as_posix(), row, code, conf))
    return out


def test_reachability_across_modules(tmp_path, run_ftlint):
    root = tmp_path / "webapp"
    shutil.copytree(PROJECT, root)
    proc = run_ftlint("--min-confidence", "low", "--format", "json", ".", cwd=root)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    got = {(d["filename"], d["location"]["row"], d["code"], d["confidence"]) for d in data}
    assert got == _expected(root)
    reasons = {(d["filename"], d["code"]): d["confidence_reason"] for d in data}
    assert "configured entry point `*.route`" in reasons[("webapp/views.py", "FT205")]
    assert "Thread()" in reasons[("webapp/jobs.py", "FT102")]
    assert "declares itself not thread-safe" in reasons[("webapp/single.py", "FT203")]


def test_single_file_has_no_cross_module_facts(tmp_path, run_ftlint):
    root = tmp_path / "webapp"
    shutil.copytree(PROJECT, root)
    proc = run_ftlint("--format", "json", "webapp/stats.py", cwd=root)
    [finding] = [d for d in json.loads(proc.stdout) if d["location"]["row"] == 7]
    assert finding["confidence"] == "medium", "without views.py nothing shows a thread"


def test_not_thread_safe_can_be_ignored(tmp_path, run_ftlint):
    root = tmp_path / "webapp"
    shutil.copytree(PROJECT, root)
    config = root / "pyproject.toml"
    config.write_text(config.read_text() + 'not-thread-safe = "ignore"\n')
    data = json.loads(run_ftlint("--min-confidence", "low", "--format", "json", ".", cwd=root).stdout)
    assert not [d for d in data if d["filename"] == "webapp/single.py"]


def test_min_confidence_applies_after_reachability(tmp_path, run_ftlint):
    root = tmp_path / "webapp"
    shutil.copytree(PROJECT, root)
    data = json.loads(run_ftlint("--format", "json", "--min-confidence", "high", ".",
                                 cwd=root).stdout)
    assert {d["confidence"] for d in data} == {"high"}
    assert {(d["filename"], d["code"]) for d in data} == {
        ("webapp/stats.py", "FT201"), ("webapp/views.py", "FT205"), ("webapp/jobs.py", "FT102")}


def test_startup_follows_calls_across_modules_but_not_from_tests(tmp_path, run_ftlint):
    """A helper that only start-up code calls is start-up code, even when a
    test calls it too; one that a request handler also calls is not."""
    files = {
        "app/__init__.py": "",
        "app/settings.py": (
            "import os\n\n\n"
            "def load_env(values):\n"
            "    for key, value in values.items():\n"
            "        os.environ[key] = value\n\n\n"
            "def set_mode(mode):\n"
            "    os.environ['MODE'] = mode\n"
            "    return mode\n"),
        "app/server.py": (
            "from app.settings import load_env, set_mode\n\n\n"
            "class DevServer:\n"
            "    def run(self, server):\n"
            "        load_env({'A': '1'})\n"
            "        set_mode('dev')\n"
            "        server.serve_forever()\n\n\n"
            "def handle(request):\n"
            "    set_mode(request.mode)\n"),
        "tests/test_settings.py": (
            "from app.settings import load_env\n\n\n"
            "def test_load_env():\n"
            "    load_env({'B': '2'})\n"),
    }
    write_files(tmp_path, files)
    proc = run_ftlint("--min-confidence", "low", "--select", "FT302", "--format", "json",
                      "app", "tests", cwd=tmp_path)
    found = {(d["filename"], d["location"]["row"]): d for d in json.loads(proc.stdout)}
    env = found[("app/settings.py", 6)]
    assert env["confidence"] == "low"
    assert "called only from start-up code such as `DevServer.run()`" in env["confidence_reason"]
    assert found[("app/settings.py", 10)]["confidence"] == "medium"  # handle() calls it too


def test_a_context_manager_only_tests_use_is_low(tmp_path, run_ftlint):
    """A public context manager that lends its caller a change (`cd()`,
    like `contextlib.chdir()`) is low when only tests use it: the code using
    it is what races. One the library itself uses stays reported, and so
    does one whose file is checked without its callers (as a pre-commit
    hook checks the changed files only): nothing shows who uses it."""
    helpers = (
        "import contextlib\nimport os\n\n\n"
        "@contextlib.contextmanager\n"
        "def cd(path):\n"
        "    old = os.getcwd()\n"
        "    os.chdir(path)\n"
        "    try:\n"
        "        yield\n"
        "    finally:\n"
        "        os.chdir(old)\n\n\n"
        "@contextlib.contextmanager\n"
        "def env(name, value):\n"
        "    old = os.environ.get(name)\n"
        "    os.environ[name] = value\n"
        "    try:\n"
        "        yield\n"
        "    finally:\n"
        "        os.environ[name] = old\n")
    files = {
        "lib/__init__.py": "",
        "lib/helpers.py": helpers,
        "lib/client.py": (
            "from lib.helpers import env\n\n\n"
            "def fetch(url, proxy):\n"
            "    with env('https_proxy', proxy):\n"
            "        return url\n"),
        "tests/test_helpers.py": (
            "from lib.helpers import cd, env\n\n\n"
            "def test_cd(tmp_path):\n"
            "    with cd(tmp_path):\n"
            "        pass\n"),
    }
    write_files(tmp_path, files)

    def confidences(*paths):
        proc = run_ftlint("--min-confidence", "low", "--select", "FT302", "--format", "json",
                          *paths, cwd=tmp_path)
        return {d["location"]["row"]: d["confidence"] for d in json.loads(proc.stdout)
                if d["filename"] == "lib/helpers.py"}

    whole = confidences("lib", "tests")
    assert whole[8] == "low" and whole[12] == "low"  # cd(): only the test uses it
    assert whole[18] == "high"  # env(): fetch() uses it
    alone = confidences("lib/helpers.py")
    assert alone[8] == "medium"


def test_a_private_modules_class_made_at_import_time_is_start_up(tmp_path, run_ftlint):
    """`ANY = Symbol("ANY")` at the top of a module runs `Symbol.__new__`
    (then `__init__`) once, at import time. A class of a private module
    (`pkg._utils`) is the package's own, so that import-time call makes its
    check-then-act set-up; the same class in a public module may be called
    by the package's users at any time, and stays medium."""
    symbol = (
        "class Symbol:\n"
        "    symbols = {}\n\n"
        "    def __new__(cls, name):\n"
        "        if name in cls.symbols:\n"
        "            return cls.symbols[name]\n"
        "        obj = super().__new__(cls)\n"
        "        cls.symbols[name] = obj\n"
        "        return obj\n\n"
        "    def __init__(self, name):\n"
        "        self.name = name\n")
    files = {
        "pkg/__init__.py": "",
        "pkg/_utils.py": symbol,
        "pkg/markers.py": symbol,
        "pkg/base.py": ("from pkg._utils import Symbol\n"
                        "from pkg.markers import Symbol as Marker\n\n"
                        "ANY = Symbol('ANY')\n"
                        "NONE = Marker('NONE')\n"),
    }
    write_files(tmp_path, files)
    proc = run_ftlint("--min-confidence", "low", "--select", "FT203", "--format", "json",
                      "pkg", cwd=tmp_path)
    found = {d["filename"]: d for d in json.loads(proc.stdout) if d["location"]["row"] == 5}
    private = found["pkg/_utils.py"]
    assert private["confidence"] == "low"
    assert "called only at import time, by the top-level code of `pkg.base`" in \
        private["confidence_reason"]
    assert found["pkg/markers.py"]["confidence"] == "medium"


def test_registration_functions_of_module_and_class_registries_are_set_up(tmp_path, run_ftlint):
    """`register_backend()` and a classmethod `unregister_type()` fill a
    registry kept on the module or the class, which programs do while they
    set up: what they change, and what they do, is start-up code. Not when
    code that runs later calls them (a lazy registration on first use), nor
    the other functions of such a registry (an `unregister()` that nothing
    calls, when constructors register), and not a method of an instance,
    whose object serves while others register."""
    files = {
        "pkg/__init__.py": "",
        "pkg/backends.py": (
            "import threading\n"
            "_BACKENDS = {}\n\n"
            "def register_backend(name, cls):\n"
            "    if name in _BACKENDS:\n"                         # 5
            "        raise ValueError(name)\n"
            "    _BACKENDS[name] = cls\n\n"
            "class Serializer:\n"
            "    _types = {}\n\n"
            "    @classmethod\n"
            "    def unregister_type(cls, kind):\n"
            "        if kind in cls._types:\n"                    # 14
            "            del cls._types[kind]\n\n"
            "def serve():\n"
            "    for name in _BACKENDS:\n"                        # 18
            "        print(name)\n\n"
            "threading.Thread(target=serve).start()\n"),
        "pkg/lazy.py": (
            "import threading\n"
            "_CODECS = {}\n\n"
            "def register_codec(name):\n"
            "    if name not in _CODECS:\n"                       # 5
            "        _CODECS[name] = object()\n\n"
            "def encode(name):\n"
            "    register_codec(name)\n"
            "    return _CODECS[name]\n\n"
            "threading.Thread(target=encode, args=('a',)).start()\n"),
        "pkg/exits.py": (
            "_handlers = {}\n\n"
            "def register(func):\n"
            "    _handlers[id(func)] = func\n"
            "    return id(func)\n\n"
            "def unregister(ident):\n"
            "    if ident in _handlers:\n"                        # 8
            "        del _handlers[ident]\n\n"
            "class Tube:\n"
            "    def __init__(self):\n"
            "        register(self.close)\n\n"
            "    def close(self):\n"
            "        pass\n"),
        "pkg/daemon.py": (
            "import threading\n\n"
            "class Daemon:\n"
            "    def __init__(self):\n"
            "        self.objects = {}\n"
            "        self._lock = threading.Lock()\n"
            "        threading.Thread(target=self.loop).start()\n\n"
            "    def register(self, name, obj):\n"
            "        self.objects[name] = obj\n\n"
            "    def loop(self):\n"
            "        for name in self.objects:\n"                 # 13
            "            print(name)\n"),
    }
    write_files(tmp_path, files)
    proc = run_ftlint("--min-confidence", "low", "--format", "json", "pkg", cwd=tmp_path)
    found = {(d["filename"], d["location"]["row"], d["code"]): d for d in json.loads(proc.stdout)}
    for key in [("pkg/backends.py", 5, "FT203"), ("pkg/backends.py", 14, "FT203"),
                ("pkg/backends.py", 18, "FT206")]:
        assert found[key]["confidence"] == "low", key
    assert "changes a module-level registry (`_BACKENDS`), which programs fill while they set up" \
        in found[("pkg/backends.py", 18, "FT206")]["confidence_reason"]
    assert "changes a class-level registry (`Serializer._types`)" in \
        found[("pkg/backends.py", 14, "FT203")]["confidence_reason"]
    # A constructor registers at run time, so the registry's unregister()
    # runs then too, though nothing in the package calls it.
    assert found[("pkg/exits.py", 8, "FT203")]["confidence"] != "low"
    assert found[("pkg/lazy.py", 5, "FT203")]["confidence"] != "low"
    assert found[("pkg/daemon.py", 13, "FT206")]["confidence"] == "high"


def test_console_scripts_are_start_up_roots(tmp_path, run_ftlint):
    """A function named in `[project.scripts]` (or setup.cfg's
    console_scripts) starts the program: what it and its helpers change
    process-wide happens before any thread exists."""
    files = {
        "tool/__init__.py": "",
        "tool/cli.py": (
            "import os, warnings\n\n\n"
            "def run():\n"
            "    os.environ['TOOL_HOME'] = os.getcwd()\n"
            "    serve()\n\n\n"
            "def serve():\n"
            "    warnings.simplefilter('ignore')\n"
            "    print('serving')\n"),
    }
    write_files(tmp_path, files)

    def confidences():
        proc = run_ftlint("--min-confidence", "low", "--select", "FT302", "--format", "json",
                          "--no-cache", "tool", cwd=tmp_path)
        return {d["location"]["row"]: (d["confidence"], d["confidence_reason"])
                for d in json.loads(proc.stdout)}

    before = confidences()
    assert before[5][0] == "medium" and before[10][0] == "medium", before
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "tool"\nversion = "1"\n\n[project.scripts]\ntool = "tool.cli:run"\n')
    after = confidences()
    assert after[5][0] == "low" and "console script `tool`" in after[5][1], after
    assert after[10][0] == "low" and "start-up code such as `run()`" in after[10][1], after
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "setup.cfg").write_text(
        "[options.entry_points]\nconsole_scripts =\n    tool = tool.cli:run\n")
    assert confidences()[5][0] == "low"
    (tmp_path / "setup.cfg").unlink()
    # setup.py is read, not run: the literal entry points of its setup() call...
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup\n"
        "setup(name='tool', entry_points={'console_scripts': ['tool = tool.cli:run']})\n")
    after = confidences()
    assert after[5][0] == "low" and "console script `tool`" in after[5][1], after
    # ... and the functions that its `scripts=` files call.
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup\nsetup(name='tool', scripts=['bin/tool-run'])\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "tool-run").write_text(
        "#!/usr/bin/env python\nimport tool.cli\n\nif __name__ == '__main__':\n"
        "    tool.cli.run()\n")
    after = confidences()
    assert after[5][0] == "low" and "console script `tool-run`" in after[5][1], after
    # A setup.py that is not plain literals declares nothing, and breaks nothing.
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(**CONFIG)\n")
    assert confidences()[5][0] == "medium"


def test_threads_started_by_tests_do_not_raise_library_code(tmp_path, run_ftlint):
    """A test that starts threads on a library function shows how the test
    drives it, not the program's threads; the library's own thread does."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "stats.py").write_text(
        "_hits = 0\n_runs = 0\n\n\n"
        "def hit():\n    global _hits\n    _hits += 1\n    return _hits\n\n\n"
        "def run():\n    global _runs\n    _runs += 1\n    return _runs\n")
    (tmp_path / "pkg" / "worker.py").write_text(
        "import threading\n\nfrom pkg.stats import run\n\n\n"
        "def start():\n    threading.Thread(target=run).start()\n")
    (tmp_path / "tests" / "test_stats.py").write_text(
        "import threading\n\nfrom pkg.stats import hit\n\n\n"
        "def test_hits():\n    threads = [threading.Thread(target=hit) for _ in range(4)]\n"
        "    for t in threads:\n        t.start()\n")
    data = json.loads(run_ftlint("--min-confidence", "low", "--format", "json", ".",
                                 cwd=tmp_path).stdout)
    got = {d["location"]["row"]: d["confidence"] for d in data if d["filename"] == "pkg/stats.py"}
    assert got == {7: "medium", 13: "high"}, data
