"""The code ``--fix`` writes reads like a maintainer's: a new import goes in
the standard library's group, as isort and ruff's I001 order imports; a
cache fill that calls out builds its value outside any lock; and a finding
no fix can address says what to do instead."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from ftlint import api
from ftlint.config import Settings
from ftlint.diagnostics import Confidence


def _src(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def _fix(source: str, unsafe: bool = False):
    settings = replace(Settings(), min_confidence=Confidence.LOW)
    result = api.fix_source(_src(source), "mod.py", settings, unsafe)
    assert result.error is None, result.error
    again = api.fix_source(result.new_source, "mod.py", settings, unsafe)
    assert again.new_source == result.new_source  # idempotent
    return result


def _ruff() -> str:
    found = Path(sys.executable).with_name("ruff")
    if found.exists():
        return str(found)
    which = shutil.which("ruff")
    if which is None:
        pytest.fail("ruff is not installed (pip install -e '.[test]')")
    return which


def _isort_problems(tmp_path: Path, code: str) -> str:
    """What ruff's I001 (isort) says about ``code``: empty when it is sorted."""
    path = tmp_path / "sorted_check.py"
    path.write_text(code)
    run = subprocess.run([_ruff(), "check", "--isolated", "--select", "I001", "--no-cache",
                          "--output-format", "concise", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode in (0, 1), run.stderr
    return "" if run.returncode == 0 else run.stdout


def _counts_under_threads(code: str, module: dict | None = None) -> int:
    """Run the fixed counter module: 4 threads call bump() 200 times each."""
    namespace = dict(module or {})
    exec(compile(code, "mod.py", "exec"), namespace)
    workers = [threading.Thread(target=lambda: [namespace["bump"]() for _ in range(200)])
               for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return namespace["_count"]


# -- 1. A new import goes in the standard library's group ---------------------

COUNTER = '''
_count = 0


def bump():
    global _count
    _count += 1
'''

IMPORT_CASES = {
    "docstring only": ('"""Counter."""\n', '"""Counter."""\n\nimport threading\n'),
    "no imports": ("", "import threading\n"),
    "import os only": ("import os\n", "import os\nimport threading\n"),
    "future only": ('"""Counter."""\n\nfrom __future__ import annotations\n',
                    '"""Counter."""\n\nfrom __future__ import annotations\n\n'
                    "import threading\n"),
    "future, stdlib, third-party, first-party": (
        '"""Counter."""\n\nfrom __future__ import annotations\n\nimport os\nimport sys\n\n'
        "import requests\n\nfrom . import x\n",
        '"""Counter."""\n\nfrom __future__ import annotations\n\nimport os\nimport sys\n'
        "import threading\n\nimport requests\n\nfrom . import x\n"),
    "a later stdlib import": ("import os\nimport zlib\n", "import os\nimport threading\nimport zlib\n"),
    "from-imports of the stdlib only": (
        "from collections import OrderedDict\n\nimport requests\n",
        "import threading\nfrom collections import OrderedDict\n\nimport requests\n"),
    "third-party only": ("import requests\n", "import threading\n\nimport requests\n"),
    "first-party only": ('"""Counter."""\n\nfrom . import x\n',
                         '"""Counter."""\n\nimport threading\n\nfrom . import x\n'),
    "try and TYPE_CHECKING blocks": (
        "import os\nfrom typing import TYPE_CHECKING\n\ntry:\n    import ujson as json\n"
        "except ImportError:\n    import json\n\nif TYPE_CHECKING:\n    from foo import Bar\n",
        "import os\nimport threading\nfrom typing import TYPE_CHECKING\n\ntry:\n"
        "    import ujson as json\nexcept ImportError:\n    import json\n\n"
        "if TYPE_CHECKING:\n    from foo import Bar\n"),
    "imports after a try block": (
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n\nimport os\n",
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n\n"
        "import os\nimport threading\n"),
    "__all__ above the imports": ('"""Counter."""\n\n__all__ = ["bump"]\n\nimport os\n',
                                  '"""Counter."""\n\n__all__ = ["bump"]\n\nimport os\n'
                                  "import threading\n"),
}


@pytest.mark.parametrize("head, fixed_head", IMPORT_CASES.values(), ids=IMPORT_CASES.keys())
def test_new_import_goes_in_the_standard_library_group(tmp_path, head: str, fixed_head: str):
    source = head + ("\n" if head else "") + _src(COUNTER)
    result = _fix(source)
    assert [o.code for o in result.applied] == ["FT102"]
    expected = fixed_head + "\n" + _src(COUNTER).replace(
        "_count = 0\n", "_count = 0\n_count_lock = threading.Lock()\n", 1).replace(
        "    _count += 1\n", "    with _count_lock:\n        _count += 1\n")
    assert result.new_source == expected
    # Sorted as isort sorts it, whenever the original was.
    if not _isort_problems(tmp_path, source):
        assert _isort_problems(tmp_path, result.new_source) == ""
    compile(result.new_source, "mod.py", "exec")


def test_the_modules_own_spelling_of_threading_is_reused():
    aliased = _fix("import threading as th\n" + _src(COUNTER)).new_source
    assert "import threading\n" not in aliased
    assert "_count_lock = th.Lock()\n" in aliased
    assert _counts_under_threads(aliased) == 800
    named = _fix("from threading import Lock\n" + _src(COUNTER)).new_source
    assert "import threading\n" not in named
    assert "_count_lock = Lock()\n" in named
    assert _counts_under_threads(named) == 800
    # `import threading` next to `from threading import ...`: the usual spelling.
    both = _fix("import threading\nfrom threading import Event\n" + _src(COUNTER)).new_source
    assert "_count_lock = threading.Lock()\n" in both


def test_a_from_import_without_the_kind_needed_gets_threading(tmp_path):
    # The region re-enters the module's own code: it needs an RLock, which
    # `from threading import Lock` does not name.
    source = _src('''
        from threading import Lock

        _count = 0


        def helper():
            return 1


        def bump():
            global _count
            _count += helper()
    ''')
    fixed = _fix(source).new_source
    assert "_count_lock = threading.RLock()\n" in fixed
    assert fixed.startswith("import threading\nfrom threading import Lock\n")
    assert _isort_problems(tmp_path, fixed) == ""
    assert _counts_under_threads(fixed) == 800


IMPORT_PACKAGE = {
    "__init__.py": "",
    "helper.py": "VALUE = 1\n",
    "plain.py": '"""Counter, no imports."""\n' + COUNTER,
    "sections.py": ('"""Counter with every kind of import."""\n\nfrom __future__ import annotations\n\n'
                    "import os\n\nimport click\n\nfrom . import helper\n" + COUNTER
                    + "\n\ndef where():\n    return os.sep, click.echo, helper.VALUE\n"),
    "guarded.py": ("import os\nfrom typing import TYPE_CHECKING\n\ntry:\n    import ujson as json\n"
                   "except ImportError:\n    import json\n\nif TYPE_CHECKING:\n"
                   "    from collections import OrderedDict\n" + COUNTER
                   + "\n\ndef where():\n    return os.sep, json.dumps\n"),
    "aliased.py": "import threading as th\n" + COUNTER,
}


def test_cli_fix_places_imports_as_isort_would(tmp_path, run_ftlint):
    package = tmp_path / "pkg"
    package.mkdir()
    for name, code in IMPORT_PACKAGE.items():
        (package / name).write_text(code)
    run = run_ftlint("--no-cache", "--fix", "--exit-non-zero-on-fix", "--min-confidence", "low",
                     ".", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr  # files were rewritten
    assert "Fixed" in run.stdout
    for name in ("plain.py", "sections.py", "guarded.py", "aliased.py"):
        fixed = (package / name).read_text()
        assert "with _count_lock:" in fixed, name
        assert _isort_problems(tmp_path, fixed) == "", (name, fixed)
    sections = (package / "sections.py").read_text()
    assert "import os\nimport threading\n\nimport click\n\nfrom . import helper\n" in sections
    assert "from __future__ import annotations\n\nimport os\n" in sections
    guarded = (package / "guarded.py").read_text()
    assert guarded.startswith("import os\nimport threading\nfrom typing import TYPE_CHECKING\n")
    assert "    import threading" not in guarded  # never inside the try or the if
    plain = (package / "plain.py").read_text()
    assert plain.startswith('"""Counter, no imports."""\n\nimport threading\n\n_count = 0\n')
    assert "import threading\n" not in (package / "aliased.py").read_text()
    # The fixed modules import and count right under threads.
    check = subprocess.run([sys.executable, "-c", textwrap.dedent('''
        import importlib, threading
        for name in ("plain", "sections", "guarded", "aliased"):
            module = importlib.import_module("pkg." + name)
            workers = [threading.Thread(target=lambda: [module.bump() for _ in range(300)])
                       for _ in range(4)]
            [w.start() for w in workers]
            [w.join() for w in workers]
            assert module._count == 1200, (name, module._count)
        print("ok")
    ''')], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "ok", check.stderr


# -- 2. A fill whose value calls out is built outside any lock ----------------

FILLS = {
    "one store in the `if`": ('''
        _cache = {}


        def get(k, loader):
            if k not in _cache:
                _cache[k] = loader(k)
            return _cache[k]
    ''', '''
        _cache = {}


        def get(k, loader):
            if k not in _cache:
                _cache.setdefault(k, loader(k))
            return _cache[k]
    '''),
    "built in steps, then stored": ('''
        _cache = {}


        def get(k, loader):
            if k not in _cache:
                raw = loader(k)
                data = raw.upper()
                _cache[k] = data
            return _cache.get(k)
    ''', '''
        _cache = {}


        def get(k, loader):
            if k not in _cache:
                raw = loader(k)
                data = raw.upper()
                _cache.setdefault(k, data)
            return _cache.get(k)
    '''),
    "a guard clause, then the value returned": ('''
        _cache = {}


        def get(k, loader):
            if k in _cache:
                return _cache[k]
            value = loader(k)
            _cache[k] = value
            return value
    ''', '''
        _cache = {}


        def get(k, loader):
            if k in _cache:
                return _cache[k]
            value = loader(k)
            value = _cache.setdefault(k, value)
            return value
    '''),
    "filled in the `else`": ('''
        _cache = {}


        def get(k, loader):
            if k in _cache:
                return _cache[k]
            else:
                _cache[k] = loader(k)
                return _cache[k]
    ''', '''
        _cache = {}


        def get(k, loader):
            if k in _cache:
                return _cache[k]
            else:
                _cache.setdefault(k, loader(k))
                return _cache[k]
    '''),
    "a function of another package": ('''
        import yaml

        _configs = {}


        def config(path):
            if path not in _configs:
                _configs[path] = yaml.safe_load(path)
            return _configs[path]
    ''', '''
        import yaml

        _configs = {}


        def config(path):
            if path not in _configs:
                _configs.setdefault(path, yaml.safe_load(path))
            return _configs[path]
    '''),
    "an import": ('''
        import sys

        _loaded = {}


        def load(name):
            if name not in _loaded:
                __import__(name)
                _loaded[name] = sys.modules[name]
            return _loaded[name]
    ''', '''
        import sys

        _loaded = {}


        def load(name):
            if name not in _loaded:
                __import__(name)
                _loaded.setdefault(name, sys.modules[name])
            return _loaded[name]
    '''),
    "a lock of the module guards other writes": ('''
        import threading

        _cache = {}
        _lock = threading.Lock()


        def get(k, loader):
            if k not in _cache:
                _cache[k] = loader(k)
            return _cache[k]


        def clear():
            with _lock:
                _cache.clear()
    ''', '''
        import threading

        _cache = {}
        _lock = threading.Lock()


        def get(k, loader):
            if k not in _cache:
                value = loader(k)
                with _lock:
                    _cache.setdefault(k, value)
            return _cache[k]


        def clear():
            with _lock:
                _cache.clear()
    '''),
    "a lock of the object guards other writes": ('''
        import threading


        class Client:
            def __init__(self, loader):
                self._lock = threading.Lock()
                self._cache = {}
                self._loader = loader

            def get(self, k):
                if k not in self._cache:
                    self._cache[k] = self._loader(k)
                return self._cache[k]

            def clear(self):
                with self._lock:
                    self._cache.clear()
    ''', '''
        import threading


        class Client:
            def __init__(self, loader):
                self._lock = threading.Lock()
                self._cache = {}
                self._loader = loader

            def get(self, k):
                if k not in self._cache:
                    value = self._loader(k)
                    with self._lock:
                        self._cache.setdefault(k, value)
                return self._cache[k]

            def clear(self):
                with self._lock:
                    self._cache.clear()
    '''),
    "a mapping of unknown type": ('''
        import collections

        _cache = collections.UserDict()


        def get(k, loader):
            if k not in _cache:
                _cache[k] = loader(k)
            return _cache[k]
    ''', '''
        import collections
        import threading

        _cache = collections.UserDict()
        _cache_lock = threading.Lock()


        def get(k, loader):
            if k not in _cache:
                value = loader(k)
                with _cache_lock:
                    if k not in _cache:
                        _cache[k] = value
            return _cache[k]
    '''),
    "a lazy module singleton (FT103)": ('''
        _instance = None


        def get(factory):
            global _instance
            if _instance is None:
                _instance = factory()
            return _instance
    ''', '''
        import threading

        _instance = None
        _instance_lock = threading.Lock()


        def get(factory):
            global _instance
            if _instance is None:
                instance = factory()
                with _instance_lock:
                    if _instance is None:
                        _instance = instance
            return _instance
    '''),
    "a lazy attribute (FT204)": ('''
        import threading


        class Pool:
            def __init__(self, factory):
                self._lock = threading.Lock()
                self._factory = factory
                self._conn = None

            def conn(self):
                if self._conn is None:
                    self._conn = self._factory()
                return self._conn


        POOL = Pool(object)
    ''', '''
        import threading


        class Pool:
            def __init__(self, factory):
                self._lock = threading.Lock()
                self._factory = factory
                self._conn = None

            def conn(self):
                if self._conn is None:
                    value = self._factory()
                    with self._lock:
                        if self._conn is None:
                            self._conn = value
                return self._conn


        POOL = Pool(object)
    '''),
}


@pytest.mark.parametrize("before, after", FILLS.values(), ids=FILLS.keys())
def test_a_fill_that_calls_out_is_built_outside_the_lock(before: str, after: str):
    result = _fix(before)
    assert result.new_source == _src(after)
    assert result.applied and not [o for o in result.unfixed if o.code != "FT101"]


def _race(get, *args) -> tuple[set, int]:
    """Eight threads ask for the same key at once; the builder is slow.
    (ids of the values they got, how many values were built)."""
    built = []
    barrier = threading.Barrier(8)

    def loader(*_):
        built.append(1)
        threading.Event().wait(0.02)  # long enough for the others to miss
        return object()

    got = []

    def worker():
        barrier.wait()
        got.append(id(get(*args, loader)))

    workers = [threading.Thread(target=worker) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return set(got), len(built)


@pytest.mark.parametrize("name", ["one store in the `if`", "a guard clause, then the value returned",
                                  "a lock of the module guards other writes",
                                  "a mapping of unknown type"])
def test_the_published_value_is_the_one_every_caller_gets(name: str):
    fixed = _fix(FILLS[name][0]).new_source
    namespace: dict = {}
    exec(compile(fixed, "mod.py", "exec"), namespace)
    get = namespace["get"]
    # One thread: built once, then served from the cache, as before.
    calls = []
    first = get("k", lambda k: calls.append(k) or [k])
    assert get("k", lambda k: calls.append(k) or [k]) is first and calls == ["k"]
    # Many threads: however many built it, all got the value stored.
    got, built = _race(get, "other")
    assert len(got) == 1 and built >= 1
    assert get("other", None) is not None


def test_the_singleton_built_outside_the_lock_is_one_object():
    fixed = _fix(FILLS["a lazy module singleton (FT103)"][0]).new_source
    namespace: dict = {}
    exec(compile(fixed, "mod.py", "exec"), namespace)
    built = []
    barrier = threading.Barrier(8)

    def factory():
        built.append(1)
        threading.Event().wait(0.02)
        return object()

    got = []

    def worker():
        barrier.wait()
        got.append(namespace["get"](factory))

    workers = [threading.Thread(target=worker) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len({id(g) for g in got}) == 1 and got[0] is namespace["_instance"]


def test_a_fill_that_uses_the_value_further_keeps_the_old_answer():
    # The object is populated after it is stored: publishing it earlier
    # would hand other threads an unpopulated object, so no fix.
    result = _fix('''
        _cache = {}


        def get(key, build):
            if key not in _cache:
                _cache[key] = build(key)
                _cache[key].ready = True
            return _cache[key]
    ''')
    assert not result.applied
    assert any("a callable passed in" in o.reason for o in result.unfixed)


FILL_PACKAGE = {
    "__init__.py": "",
    "remote.py": _src('''
        import threading

        CALLS = []


        def fetch(url):
            CALLS.append(url)
            threading.Event().wait(0.02)
            return {"url": url}
    '''),
    "cache.py": _src('''
        """A cache of remote documents."""

        import threading

        from . import remote

        _cache = {}
        _lock = threading.Lock()


        def get(url):
            if url not in _cache:
                _cache[url] = remote.fetch(url)
            return _cache[url]


        def clear():
            with _lock:
                _cache.clear()
    '''),
}


def test_cli_fix_publishes_a_remote_value_under_the_lock(tmp_path, run_ftlint):
    package = tmp_path / "docs_cache"
    package.mkdir()
    for name, code in FILL_PACKAGE.items():
        (package / name).write_text(code)
    run = run_ftlint("--no-cache", "--fix", "--show-fixes", ".", cwd=tmp_path)
    assert "publish it with `setdefault` under `_lock`" in run.stdout, run.stdout + run.stderr
    fixed = (package / "cache.py").read_text()
    assert ("        value = remote.fetch(url)\n        with _lock:\n"
            "            _cache.setdefault(url, value)\n") in fixed
    assert run_ftlint("--no-cache", ".", cwd=tmp_path).returncode == 0
    check = subprocess.run([sys.executable, "-c", textwrap.dedent('''
        import threading
        from docs_cache import cache, remote
        got = []
        barrier = threading.Barrier(6)
        def worker():
            barrier.wait()
            got.append(cache.get("u"))
        workers = [threading.Thread(target=worker) for _ in range(6)]
        [w.start() for w in workers]
        [w.join() for w in workers]
        assert all(g is got[0] for g in got) and got[0] is cache.get("u")
        before = len(remote.CALLS)
        cache.get("u")
        assert len(remote.CALLS) == before  # served from the cache
        print("ok")
    ''')], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "ok", check.stderr


# -- 3. A finding no fix can address says what to do instead -----------------

DEAD_ENDS = {
    # A lone atomic write, raced by a loop that cannot be copied in one step.
    "ordered.py": (_src('''
        from collections import OrderedDict

        _sessions = OrderedDict()


        def open_session(key, session):
            _sessions[key] = session


        def dump():
            out = []
            for key in _sessions:
                out.append(key)
            return out
    '''), [("FT206", "copying an OrderedDict is not one atomic step: guard the loop and the "
                     "writes with one lock")]),
    # A loop that changes the list it iterates.
    "listeners.py": (_src('''
        _listeners = []


        def subscribe(fn):
            _listeners.append(fn)


        def fire(event):
            for fn in _listeners:
                if fn(event):
                    _listeners.remove(fn)
    '''), [("FT206", "collect the changes and make them after the loop")]),
    # Two locks for one state: which one is meant is the author's call.
    "two_locks.py": (_src('''
        import threading

        _a = threading.Lock()
        _b = threading.Lock()
        _items = []


        def add(x):
            with _a:
                _items.append(x)


        def add_again(x):
            with _a:
                _items.append(x)


        def drop(x):
            with _b:
                _items.remove(x)
    '''), [("FT205", "take `_a` here too, or use one lock for both")]),
}


def test_cli_fix_leaves_dead_ends_with_advice(tmp_path, run_ftlint):
    for name, (code, _) in DEAD_ENDS.items():
        (tmp_path / name).write_text(code)
    run = run_ftlint("--no-cache", "--fix", "--show-fixes", ".", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    for name, (code, advice) in DEAD_ENDS.items():
        assert (tmp_path / name).read_text() == code  # nothing a fix could do
        for rule, words in advice:
            reported = [line for line in run.stdout.splitlines()
                        if line.startswith(f"{name}:") and f" {rule} [" in line]
            assert reported, (name, rule, run.stdout)
            assert all(words in line for line in reported), (words, reported)
            # --show-fixes gives the same words as the reason.
            assert any(line.strip().startswith(f"not fixed {rule}") and words in line
                       for line in run.stdout.splitlines()), (words, run.stdout)
    # The same message wherever findings go: the API (the flake8 plugin, the
    # language server and JSON output carry the diagnostic's message).
    # The lone atomic store is low (the loop is what breaks, and FT206 says
    # so), but it carries its advice too.
    low = replace(Settings(), min_confidence=Confidence.LOW)
    messages = [d.message for d in api.lint_source(DEAD_ENDS["ordered.py"][0], "ordered.py",
                                                   low).diagnostics]
    assert any("the loop in `dump()` is not: guard the loop and the writes with one lock, "
               "or add `# noqa: FT101`" in m for m in messages), messages


def test_a_loop_fixed_by_a_snapshot_takes_the_advice_away(tmp_path, run_ftlint):
    # The advice holds while the loop is there; FT206's snapshot of an exact
    # dict is the fix it points to, and the write then drops to low.
    (tmp_path / "sessions.py").write_text(_src('''
        _sessions = {}


        def open_session(key, session):
            _sessions[key] = session


        def dump():
            for key in _sessions:
                print(key)
    '''))
    before = run_ftlint("--no-cache", ".", cwd=tmp_path).stdout
    assert "FT206" in before and "FT101" not in before  # the loop, not the atomic store
    hidden = run_ftlint("--no-cache", "--min-confidence", "low", ".", cwd=tmp_path).stdout
    assert "loop over a copy there (`list(...)`)" in hidden
    run_ftlint("--no-cache", "--fix", ".", cwd=tmp_path)
    assert "for key in list(_sessions):" in (tmp_path / "sessions.py").read_text()
    assert run_ftlint("--no-cache", ".", cwd=tmp_path).returncode == 0


def test_every_rule_page_says_what_to_do_when_no_fix_applies():
    from ftlint.docs import render_rule
    from ftlint.rules import ALL_RULES

    for code, rule in ALL_RULES.items():
        page = render_rule(rule)
        section = page.split("## When no fix applies", 1)[1].split("\n## ", 1)[0]
        assert f"# noqa: {code}" in " ".join(section.split()), code


THIRD_PARTY_CASES = {
    "below the standard library only": ("import os\n", "import os\n\nimport pytest\n"),
    "with a from-import": ("import os\nfrom os import path\n",
                           "import os\nfrom os import path\n\nimport pytest\n"),
    "among other third-party imports": (
        "import os\n\nimport attr\nimport zope\n",
        "import os\n\nimport attr\nimport pytest\nimport zope\n"),
    "after the third-party imports": (
        "import os\n\nimport attr\n", "import os\n\nimport attr\nimport pytest\n"),
}


@pytest.mark.parametrize("head, fixed_head", THIRD_PARTY_CASES.values(),
                         ids=THIRD_PARTY_CASES.keys())
def test_a_third_party_import_goes_where_isort_puts_it(tmp_path, head: str, fixed_head: str):
    test = 'def test_env():\n    os.environ["A"] = "1"\n'
    source = head + ("\n\n" if head else "") + test
    settings = replace(Settings(), min_confidence=Confidence.LOW, extend_select=("FT306",))
    result = api.fix_source(source, "test_mod.py", settings, False)
    assert result.error is None, result.error
    assert [o.code for o in result.applied] == ["FT306"]
    assert result.new_source.startswith(fixed_head), result.new_source
    if not _isort_problems(tmp_path, source):
        assert _isort_problems(tmp_path, result.new_source) == ""
