"""The rules, discovered from the ``ftNNN_<name>.py`` files of this package
(:mod:`ftlint.rules.catalog`). ``ALL_RULES`` imports them on first use, so
that importing this package costs nothing until a file is analysed."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ftlint.rules.catalog import catalog, default_states

if TYPE_CHECKING:
    from ftlint.rules.base import Rule

__all__ = ["ALL_RULES", "default_states", "get_rule"]


def _load() -> dict[str, type[Rule]]:
    rules = {}
    for code, info in catalog().items():
        module = importlib.import_module(f"{__name__}.{info.module}")
        rules[code] = getattr(module, info.class_name)
    return rules


def __getattr__(name: str):
    if name == "ALL_RULES":
        rules = _load()
        globals()["ALL_RULES"] = rules
        return rules
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_rule(code_or_name: str) -> type[Rule] | None:
    from ftlint.rules import ALL_RULES

    key = code_or_name.strip()
    if key.upper() in ALL_RULES:
        return ALL_RULES[key.upper()]
    for rule in ALL_RULES.values():
        if rule.name == key:
            return rule
    return None
