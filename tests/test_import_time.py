"""Code that runs while modules are imported or classes are defined, and
demonstration code under ``if __name__ == "__main__":``, runs before the
program has threads: its findings are low, with the reason. Code that runs
later, such as the wrapper a decorator returns, keeps its confidence."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import write_files


def _findings(run_ftlint, root: Path, *paths: str) -> dict[tuple[str, int], dict]:
    proc = run_ftlint("--no-cache", "--min-confidence", "low", "--format", "json", *paths, cwd=root)
    return {(d["filename"], d["location"]["row"]): d for d in json.loads(proc.stdout)}


REGISTRY = (
    "_registrars = {}\n"                                     # 1
    "\n"
    "\n"
    "def _inspects(*types):\n"                               # 4
    "    def decorate(fn):\n"
    "        for type_ in types:\n"
    "            if type_ in _registrars:\n"                 # 7
    "                raise ValueError(type_)\n"
    "            _registrars[type_] = fn\n"
    "        return fn\n"
    "    return decorate\n"
    "\n"
    "\n"
    "def _self_inspects(cls):\n"                             # 14
    "    if cls in _registrars:\n"                           # 15
    "        raise ValueError(cls)\n"
    "    _registrars[cls] = True\n"
    "    return cls\n"
    "\n"
    "\n"
    "def _late(type_, fn):\n"                                # 21
    "    if type_ not in _registrars:\n"                     # 22
    "        _registrars[type_] = fn\n"
    "\n"
    "\n"
    "def at_run_time(type_):\n"
    "    _late(type_, None)\n"
)

USER = (
    "from pkg import registry\n"
    "\n"
    "\n"
    "@registry._self_inspects\n"
    "class A:\n"
    "    pass\n"
    "\n"
    "\n"
    "@registry._inspects(int)\n"
    "def f(x):\n"
    "    return x\n"
    "\n"
    "\n"
    "registry._late(str, None)\n"
)


def test_helpers_other_modules_call_at_import_time_are_setup(tmp_path, run_ftlint):
    write_files(tmp_path, {"pkg/__init__.py": "", "pkg/registry.py": REGISTRY, "pkg/user.py": USER})
    found = _findings(run_ftlint, tmp_path, "pkg")
    for row in (7, 15):  # a decorator factory's `decorate`, a plain decorator
        assert found[("pkg/registry.py", row)]["confidence"] == "low", found[("pkg/registry.py", row)]
        assert ("called only at import time, by the top-level code of `pkg.user`"
                in found[("pkg/registry.py", row)]["confidence_reason"])
    # `_late` is also called by a function that runs later: not set-up code.
    assert found[("pkg/registry.py", 22)]["confidence"] == "medium"


def test_without_the_importing_module_the_helper_is_reported(tmp_path, run_ftlint):
    write_files(tmp_path, {"pkg/__init__.py": "", "pkg/registry.py": REGISTRY, "pkg/user.py": USER})
    found = _findings(run_ftlint, tmp_path, "pkg/registry.py")
    assert found[("pkg/registry.py", 15)]["confidence"] == "medium"


def test_public_functions_called_at_import_time_stay_reported(tmp_path, run_ftlint):
    """Users of a package may call its public functions at any time; only
    decorators and registration functions (``register*``) count."""
    write_files(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/cache.py": (
            "_cache = {}\n\n\n"
            "def lookup(key):\n"
            "    if key not in _cache:\n"          # 5
            "        _cache[key] = len(key)\n"
            "    return _cache[key]\n\n\n"
            "def register_kind(kind):\n"
            "    if kind not in _cache:\n"         # 11
            "        _cache[kind] = 0\n"),
        "pkg/main.py": "from pkg.cache import lookup, register_kind\n\nlookup('a')\nregister_kind('b')\n",
    })
    found = _findings(run_ftlint, tmp_path, "pkg")
    assert found[("pkg/cache.py", 5)]["confidence"] == "medium"
    assert found[("pkg/cache.py", 11)]["confidence"] == "low"


def test_a_decorators_wrapper_runs_at_call_time(tmp_path, run_ftlint):
    write_files(tmp_path, {"counted.py": (
        "_count = 0\n\n\n"
        "def _counted(fn):\n"
        "    def wrapper(*args):\n"
        "        global _count\n"
        "        _count += 1\n"                         # 7
        "        return fn(*args)\n"
        "    return wrapper\n\n\n"
        "@_counted\n"
        "def work():\n"
        "    pass\n")})
    found = _findings(run_ftlint, tmp_path, "counted.py")
    assert found[("counted.py", 7)]["confidence"] == "medium"


def test_class_creation_hooks_run_at_import_time(tmp_path, run_ftlint):
    write_files(tmp_path, {"hooks.py": (
        "class Meta(type):\n"
        "    seen = {}\n\n"
        "    def __init__(cls, name, bases, ns):\n"
        "        super().__init__(name, bases, ns)\n"
        "        if name not in Meta.seen:\n"              # 6
        "            Meta.seen[name] = cls\n\n\n"
        "class Plugin:\n"
        "    registry = {}\n\n"
        "    def __init_subclass__(cls, **kwargs):\n"
        "        if cls.__name__ not in Plugin.registry:\n"  # 14
        "            Plugin.registry[cls.__name__] = cls\n\n"
        "    def add(self, name):\n"
        "        if name not in Plugin.registry:\n"          # 18
        "            Plugin.registry[name] = self\n")})
    found = _findings(run_ftlint, tmp_path, "hooks.py")
    for row in (6, 14):
        assert found[("hooks.py", row)]["confidence"] == "low"
        assert "runs when a class is defined, at import time" in found[("hooks.py", row)]["confidence_reason"]
    assert found[("hooks.py", 18)]["confidence"] == "medium"


def test_an_instance_made_in_the_main_block_is_no_evidence_of_sharing(tmp_path, run_ftlint):
    body = (
        "import sys\n\n\n"
        "class Decoder:\n"
        "    def __init__(self):\n"
        "        self.style = 0\n\n"
        "    def feed(self, n):\n"
        "        self.style += n\n\n\n"               # 9
        "{guard}\n"
        "    decoder = Decoder()\n"
        "    decoder.feed(1)\n")
    for guard in ('if __name__ == "__main__":', 'if sys.platform != "win32" and __name__ == "__main__":'):
        write_files(tmp_path, {"demo.py": body.format(guard=guard), "shared.py": body.format(guard="if True:")})
        found = _findings(run_ftlint, tmp_path, "demo.py", "shared.py")
        assert found[("demo.py", 9)]["confidence"] == "low", guard
        assert found[("shared.py", 9)]["confidence"] == "medium"
        assert "the module holds an instance of `Decoder`" in found[("shared.py", 9)]["confidence_reason"]


def test_a_docstring_that_says_not_thread_safe_in_markup_counts(tmp_path, run_ftlint):
    body = (
        "class Connection:\n"
        '    """A connection.\n\n'
        "    The Connection object is {words} thread-safe. Share it with care.\n"
        '    """\n\n'
        "    def __init__(self):\n"
        "        self._lock = None\n"
        "        self.count = 0\n\n"
        "    def bump(self):\n"
        "        self.count += 1\n"                    # 12
        "\n\n"
        "CONNECTION = Connection()\n")
    for words, expected in (("**not**", "low"), ("*not*", "low"), ("``not``", "low"), ("", "medium")):
        write_files(tmp_path, {"conn.py": body.format(words=words)})
        found = _findings(run_ftlint, tmp_path, "conn.py")
        assert found[("conn.py", 12)]["confidence"] == expected, words


def test_a_check_that_only_saves_a_call_is_no_race(tmp_path, run_ftlint):
    write_files(tmp_path, {"state.py": (
        "class State:\n"
        "    def __init__(self):\n"
        "        self.callables = {}\n\n"
        "    def forget(self, key):\n"
        "        if self.callables:\n"
        "            self.callables.pop(key, None)\n"      # 7
        "        if len(self.callables) > 9:\n"
        "            flush(list(self.callables))\n"
        "            self.callables.clear()\n"             # test at 8: drops what came since
        "        if key in self.callables:\n"
        "            return self.callables.pop(key, None).close()\n"  # test at 11: result used
        "\n\n"
        "STATE = State()\n")})
    found = _findings(run_ftlint, tmp_path, "state.py")
    rows = {row for (_, row), d in found.items() if d["code"] == "FT203"}
    assert rows == {8, 11}, rows


def test_queue_hooks_run_under_the_queues_mutex(tmp_path, run_ftlint):
    write_files(tmp_path, {"q.py": (
        "import queue\n\n\n"
        "class Dedup(queue.Queue):\n"
        "    def _put(self, item):\n"
        "        self.count += 1\n"                 # 6
        "        self.queue.append(item)\n\n"
        "    def drop(self):\n"
        "        self.count -= 1\n\n\n"              # 10
        "SHARED = Dedup()\n")})
    found = _findings(run_ftlint, tmp_path, "q.py")
    assert ("q.py", 6) not in found
    assert found[("q.py", 10)]["confidence"] in ("medium", "high")


def test_a_command_classes_main_method_is_start_up(tmp_path, run_ftlint):
    write_files(tmp_path, {"cli.py": (
        "import os\n\n\n"
        "class Command:\n"
        "    def main(self, args):\n"
        "        os.environ['MODE'] = 'cli'\n"   # 6
        "        return 0\n\n"
        "    def invoke(self):\n"
        "        os.environ['MODE'] = 'library'\n"  # 10
        "        return self.main([])\n")})
    found = _findings(run_ftlint, tmp_path, "cli.py")
    assert found[("cli.py", 6)]["confidence"] == "low"
    assert "a program's entry point" in found[("cli.py", 6)]["confidence_reason"]
    assert found[("cli.py", 10)]["confidence"] != "low"
