"""The gate before libcst: what it refuses, what it lets through, and that a
refused file is one FT002 finding instead of a crashed run."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import CHECK_THEN_ACT

from ftlint import gate


def nested(n: int, open_: str = "(", close: str = ")") -> str:
    return "x = " + open_ * n + "1" + close * n + "\n"


def indented(levels: int) -> str:
    return "".join("    " * i + "if x:\n" for i in range(levels)) + "    " * levels + "pass\n"


def cpython_accepts(source: str) -> bool:
    try:
        compile(source, "<test>", "exec", dont_inherit=True)
    except (SyntaxError, MemoryError, RecursionError):
        return False
    return True


@pytest.mark.parametrize("open_, close", [("(", ")"), ("[", "]"), ("{", "}"), ("f(", ")")])
def test_200_nested_brackets_pass_201_are_refused(open_, close):
    assert gate.check(nested(200, open_, close)) is None
    refusal = gate.check(nested(201, open_, close))
    assert refusal is not None
    assert "nesting deeper than 200 brackets at line 1" in refusal.message
    assert "CPython rejects it too" in refusal.message
    assert refusal.row == 1


@pytest.mark.skipif(sys.version_info < (3, 9), reason="3.8's parser had other limits")
def test_the_bracket_bound_is_cpythons():
    assert cpython_accepts(nested(200))
    assert not cpython_accepts(nested(201))


def test_indentation_bound_is_cpythons():
    assert gate.check(indented(99)) is None
    for levels in (100, 101):
        refusal = gate.check(indented(levels))
        assert refusal is not None and "100 levels of indentation" in refusal.message
        assert refusal.row == 101
    assert cpython_accepts(indented(99))
    assert not cpython_accepts(indented(100))


def test_a_deep_dict_is_refused_where_it_crosses_the_bound():
    source = "a = 1\n\nx = " + "{1: " * 5000 + "1" + "}" * 5000 + "\n"
    refusal = gate.check(source)
    assert refusal is not None and refusal.row == 3
    assert refusal.column == len("x = ") + 4 * 200 + 1


def test_brackets_in_strings_and_comments_do_not_count():
    deep = "(" * 500
    source = (f"# {deep}\n"
              f"a = '{deep}'\n"
              f'b = """\n{deep}\n"""\n'
              f"c = rb'{deep}'\n"
              f"d = f'{{{{{deep}}}}}'\n")
    assert gate.check(source) is None


@pytest.mark.parametrize("source", [
    # Python 3.12: the same quotes nested inside a replacement field.
    'x = f"{d["key"]} and {f"{y!r:>{width}}"}"\n',
    'x = f"{", ".join(f"{k}={v}" for k, v in items)}"\n',
    'x = f"""{\n    a["b"]  # a comment, 3.12\n}"""\n',
    # Python 3.14: template strings.
    'x = t"{a} {b:{c}}" + Rt"{{((((}}"\n',
    'x = f"\\N{LEFT CURLY BRACKET} {y}"\n',
])
def test_newer_string_syntax_is_let_through(source):
    assert gate.check(source) is None


def test_an_fstring_field_is_measured_on_its_own():
    # 150 outside and 150 inside: CPython 3.11 and older accept it (the field
    # is parsed on its own), so the gate must too.
    source = "x = " + "(" * 150 + 'f"{' + "(" * 150 + "1" + ")" * 150 + '}"' + ")" * 150 + "\n"
    assert gate.check(source) is None
    deep = 'x = f"{' + "(" * 201 + "1" + ")" * 201 + '}"\n'
    assert gate.check(deep) is not None


@pytest.mark.parametrize("source", [
    "x = " + "lambda: " * 1001 + "1\n",
    "x = " + "lambda a, b: " * 1001 + "1\n",
    "x = " + "not " * 1001 + "y\n",
    "x = " + " + ".join(["a"] * 1002) + "\n",
    "x = a" + ".b" * 1001 + "\n",
    "x = " + "a if b else " * 501 + "c\n",
])
def test_long_operator_chains_are_refused(source):
    refusal = gate.check(source)
    assert refusal is not None
    assert "chains more than 1,000 operators at line 1" in refusal.message


def test_chains_under_the_bound_and_long_flat_literals_pass():
    assert gate.check("x = " + " + ".join(["a"] * 900) + "\n") is None
    assert gate.check("x = [" + ", ".join(["a + b"] * 50_000) + "]\n") is None
    assert gate.check("\n".join(f"x{i} = a + b + c" for i in range(5000)) + "\n") is None


def test_elif_chains():
    chain = "if a:\n    pass\n" + "elif a:\n    pass\n" * 2000
    assert gate.check(chain) is None
    refusal = gate.check(chain + "elif a:\n    pass\n")
    assert refusal is not None and "more than 2,000 `elif` branches" in refusal.message


def test_size_bound():
    source = b"x = 1\n" * 200_000  # 1.1 MB
    assert gate.check(source, max_file_size=2 * 1024 * 1024) is None
    assert gate.check(source, max_file_size=0) is None  # no limit
    refusal = gate.check(source, max_file_size=1024 * 1024)
    assert refusal is not None
    assert refusal.message == "not checked: 1.1 MB is over the max-file-size of 1 MB"


def test_max_file_size_from_config(tmp_path, run_ftlint):
    (tmp_path / "pyproject.toml").write_text('[tool.ftlint]\nmax-file-size = "1KB"\n')
    (tmp_path / "big.py").write_text("x = 1\n" * 300)
    (tmp_path / "small.py").write_text("_cache = {}\n\ndef put(k):\n    _cache[k] = 1\n")
    proc = run_ftlint("--min-confidence", "low", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    found = {(d["filename"].rsplit("/", 1)[-1], d["code"]): d for d in json.loads(proc.stdout)}
    assert found[("big.py", "FT002")]["message"] == (
        "not checked: 1.8 KB is over the max-file-size of 1 KB")
    assert ("small.py", "FT101") in found

    (tmp_path / "pyproject.toml").write_text('[tool.ftlint]\nmax-file-size = "big"\n')
    proc = run_ftlint(cwd=tmp_path)
    assert proc.returncode == 2
    assert "max-file-size" in proc.stderr


RACY = CHECK_THEN_ACT


@pytest.mark.parametrize("extra", [["--jobs", "2"], ["--jobs", "2", "--fix"]])
def test_a_deep_tuple_among_20_files_is_one_finding_not_a_crash(tmp_path, run_ftlint, extra):
    for i in range(20):
        (tmp_path / f"racy_{i:02}.py").write_text(RACY)
    (tmp_path / "deep.py").write_text("x = " + "(" * 1500 + ")" * 1500 + "\n")
    proc = run_ftlint("--no-cache", *extra, ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "BrokenProcessPool" not in proc.stderr + proc.stdout
    assert "internal error" not in proc.stderr
    deep = [line for line in proc.stdout.splitlines() if line.startswith("deep.py:")]
    assert deep == ["deep.py:1:205: FT002 [error] not checked: nesting deeper than 200 "
                    "brackets at line 1 (CPython rejects it too)"]
    if "--fix" in extra:
        assert "Fixed 20 findings in 20 files." in proc.stdout
        assert "with _cache_lock:" in (tmp_path / "racy_07.py").read_text()
    else:
        assert sum(line.startswith("racy_") for line in proc.stdout.splitlines()) == 20
