"""Which rules exist, read from the rule files without importing them.

A rule is a class in ``ftlint/rules/ftNNN_<name>.py`` with literal ``code``
and ``name`` attributes (and ``default_enabled = False`` if it is opt-in).
Dropping such a file in this folder is all it takes to add a rule: the
command line, the configuration, the docs and the engine all find it here.

The catalogue is read statically, the way build tools read a ``__version__``,
because the rule modules import libcst: validating ``--select`` or choosing
the enabled rules must not load the parser when every result comes from the
cache. ``tests/test_rule_catalog.py`` checks that it matches the classes.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

RULE_FILE = re.compile(r"^ft\d{3}_\w+\.py$")


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    default_enabled: bool
    module: str  # the module's name in this package
    class_name: str


def _literal(statement: ast.stmt) -> tuple[str, object] | None:
    if (isinstance(statement, (ast.Assign, ast.AnnAssign))
            and isinstance(statement.value, ast.Constant)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            return targets[0].id, statement.value.value
    return None


def _read(path: Path) -> RuleInfo:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        values = dict(filter(None, map(_literal, node.body)))
        if isinstance(values.get("code"), str) and isinstance(values.get("name"), str):
            return RuleInfo(values["code"], values["name"], values.get("default_enabled", True)
                            is not False, path.stem, node.name)
    raise RuntimeError(f"{path.name}: no rule class with literal `code` and `name` attributes")


@functools.lru_cache(maxsize=None)
def catalog() -> dict[str, RuleInfo]:
    """Code -> the rule's catalogue entry, in code order."""
    files = sorted(p for p in Path(__file__).parent.iterdir() if RULE_FILE.match(p.name))
    infos = [_read(p) for p in files]
    return {info.code: info for info in sorted(infos, key=lambda i: i.code)}


def default_states() -> dict[str, bool]:
    """Code -> whether the rule runs without a selection."""
    return {code: info.default_enabled for code, info in catalog().items()}


def known_codes() -> frozenset[str]:
    return frozenset(catalog())
