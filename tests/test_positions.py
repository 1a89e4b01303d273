"""Finding positions: generating only the functions that hold findings must
place every node exactly where generating the whole module does."""

from __future__ import annotations

import libcst as cst
import pytest

from ftlint import positions
from ftlint.config import Settings
from ftlint.diagnostics import Confidence
from ftlint.engine import _owners, analyze

RACE = "    global count\n    count += 1\n"

MODULES = {
    "decorated methods, comments indented apart": (
        "import functools\n\ncount = 0\n\n\nclass A:\n"
        "# a comment at column 0, before a method\n"
        "    @functools.lru_cache(\n        maxsize=None)\n"
        "    def bump(self):\n" + RACE.replace("    ", "        ") + "\n"
        "    async def other(self):\n        global count\n        count += 2\n"
    ),
    "same name defined twice, under if and else": (
        "import sys\n\ncount = 0\n\nif sys.platform == 'win32':\n"
        "    def bump():\n        global count\n        count += 1\n"
        "else:\n    def bump():\n        global count\n        count -= 1\n"
    ),
    "a def inside a string comes first": (
        'DOC = """\ndef bump():\n    pass\n"""\n\ncount = 0\n\n\ndef bump():\n' + RACE
    ),
    "multi-line string inside the function": (
        "count = 0\n\n\ndef bump():\n    text = '''\nnot indented\n  at all'''\n" + RACE +
        "    return text\n"
    ),
    "tabs and CRLF": (
        "count = 0\r\n\r\n\r\nclass A:\r\n\tdef bump(self):\r\n\t\tglobal count\r\n"
        "\t\tcount += 1\r\n"
    ),
    "nested functions": (
        "count = 0\n\n\ndef outer():\n    def bump():\n" + RACE.replace("    ", "        ") +
        "    return bump\n"
    ),
    "module-level finding and a function's": (
        "import threading\n\nitems = []\ncount = 0\n\n\ndef bump():\n" + RACE +
        "\n\nfor item in items:\n    items.append(item)\n"
    ),
}


# Where the def found first in the text is not the function (it is in a
# string), the function cannot be placed and the module is generated.
FALLS_BACK = {"a def inside a string comes first"}


@pytest.mark.parametrize("name", list(MODULES))
def test_function_by_function_equals_the_whole_module(name: str, monkeypatch) -> None:
    source = MODULES[name]
    placed = []
    in_function = positions._in_function
    monkeypatch.setattr(positions, "_in_function",
                        lambda *args: placed.append(in_function(*args)) or placed[-1])
    analysis = analyze(source, "m.py", Settings(min_confidence=Confidence.LOW))
    assert analysis.found, "the example must have findings"
    nodes = [f.node for _, f in analysis.found]
    owners = _owners(analysis.model, analysis.found)
    assert owners, "the example must have findings inside functions"
    fast = positions.compute_positions(analysis.tree, nodes, owners, source)
    whole = positions.compute_positions(analysis.tree, nodes)
    assert fast == whole
    assert len(fast) == len({id(n) for n in nodes})
    if name in FALLS_BACK:
        assert None in placed
    else:
        assert placed and None not in placed, "each function is placed on its own"


def test_a_function_that_cannot_be_placed_falls_back() -> None:
    """Ordinal past the defs found in the text: the module is generated."""
    source = "count = 0\n\n\ndef bump():\n" + RACE
    tree = cst.parse_module(source)
    function = tree.body[1]
    target = function.body.body[1]
    found = positions.compute_positions(tree, [target], {id(target): (function, 5)}, source)
    assert found == positions.compute_positions(tree, [target])
    assert found[id(target)][0].row == 6
