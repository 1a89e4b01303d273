"""``for k in list(d): d[k]``: the copy of the keys goes stale while other
threads delete from ``d``, and the lookup raises KeyError (CPython's own
``linecache.checkcache`` had this bug). ftlint reports the lookup and
declines to fix it, saying what to do."""
from __future__ import annotations

import json

SOURCE = (
    "cache = {}\n"
    "\n"
    "\n"
    "def check(name=None):\n"
    "    if name is None:\n"
    "        names = list(cache.keys())\n"
    "    elif name in cache:\n"
    "        names = [name]\n"
    "    else:\n"
    "        return\n"
    "    for name in names:\n"
    "        entry = cache[name]\n"          # 12
    "        if entry is None:\n"
    "            cache.pop(name, None)\n"
    "\n"
    "\n"
    "def show():\n"
    "    for key in sorted(cache):\n"
    "        print(cache.get(key))\n"        # a .get() cannot fail
    "    for key in list(cache):\n"
    "        cache[key] = 1\n"               # a store: not a lookup
)


def test_a_lookup_through_a_stale_copy_of_the_keys_is_reported(tmp_path, run_ftlint):
    (tmp_path / "lines.py").write_text(SOURCE)
    proc = run_ftlint("--no-cache", "--format", "json", "--select", "FT203", "lines.py", cwd=tmp_path)
    found = json.loads(proc.stdout)
    assert [d["location"]["row"] for d in found] == [12], found
    assert "copy of the keys" in found[0]["confidence_reason"]
    assert found[0]["fix"] is None


def test_the_lookup_is_not_fixed_and_the_reason_says_what_to_do(tmp_path, run_ftlint):
    (tmp_path / "lines.py").write_text(SOURCE)
    proc = run_ftlint("--no-cache", "--fix", "--show-fixes", "--select", "FT203", "lines.py", cwd=tmp_path)
    assert (tmp_path / "lines.py").read_text() == SOURCE
    assert "`.get()`" in proc.stdout + proc.stderr


def test_a_loop_over_a_local_list_is_not_a_snapshot(tmp_path, run_ftlint):
    (tmp_path / "local.py").write_text(
        "cache = {}\n\n\ndef f(names):\n    for name in names:\n        print(cache[name])\n"
        "\n\ndef g(name):\n    cache.pop(name, None)\n")
    proc = run_ftlint("--no-cache", "--format", "json", "--select", "FT203", "local.py", cwd=tmp_path)
    assert json.loads(proc.stdout) == []


def test_a_defaultdict_lookup_cannot_fail(tmp_path, run_ftlint):
    (tmp_path / "dd.py").write_text(
        "import collections\n\ncache = collections.defaultdict(list)\n\n\n"
        "def f():\n    for key in list(cache):\n        print(cache[key])\n"
        "\n\ndef g(key):\n    cache.pop(key, None)\n")
    proc = run_ftlint("--no-cache", "--format", "json", "--select", "FT203", "dd.py", cwd=tmp_path)
    assert json.loads(proc.stdout) == []
    (tmp_path / "dd.py").write_text((tmp_path / "dd.py").read_text().replace(
        "collections.defaultdict(list)", "{}"))
    proc = run_ftlint("--no-cache", "--format", "json", "--select", "FT203", "dd.py", cwd=tmp_path)
    assert [d["location"]["row"] for d in json.loads(proc.stdout)] == [8]
