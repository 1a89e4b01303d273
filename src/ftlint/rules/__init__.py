"""The rule registry: one module per rule, listed here in code order."""

from __future__ import annotations

from ftlint.rules.base import Rule
from ftlint.rules.ft101_unguarded_global_mutation import UnguardedGlobalMutation
from ftlint.rules.ft102_global_read_modify_write import GlobalReadModifyWrite
from ftlint.rules.ft103_lazy_global_init import LazyGlobalInit
from ftlint.rules.ft104_shared_class_state import SharedClassState
from ftlint.rules.ft105_mutable_default_state import MutableDefaultState
from ftlint.rules.ft106_function_attribute_state import FunctionAttributeState
from ftlint.rules.ft107_mutable_shared_constant import MutableSharedConstant

ALL_RULES: dict[str, type[Rule]] = {
    rule.code: rule
    for rule in (
        UnguardedGlobalMutation,
        GlobalReadModifyWrite,
        LazyGlobalInit,
        SharedClassState,
        MutableDefaultState,
        FunctionAttributeState,
        MutableSharedConstant,
    )
}


def get_rule(code_or_name: str) -> type[Rule] | None:
    key = code_or_name.strip()
    if key.upper() in ALL_RULES:
        return ALL_RULES[key.upper()]
    for rule in ALL_RULES.values():
        if rule.name == key:
            return rule
    return None


def default_states() -> dict[str, bool]:
    return {code: rule.default_enabled for code, rule in ALL_RULES.items()}
