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
    run = run_ftlint("--no-cache", "--fix", "--min-confidence", "low", ".", cwd=tmp_path)
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
