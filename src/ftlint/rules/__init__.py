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
from ftlint.rules.ft201_attribute_read_modify_write import AttributeReadModifyWrite
from ftlint.rules.ft202_container_read_modify_write import ContainerReadModifyWrite
from ftlint.rules.ft203_check_then_act import CheckThenAct
from ftlint.rules.ft204_lazy_attribute_init import LazyAttributeInit
from ftlint.rules.ft205_inconsistent_locking import InconsistentLocking
from ftlint.rules.ft206_unguarded_iteration import UnguardedIteration
from ftlint.rules.ft207_publish_before_populate import PublishBeforePopulate
from ftlint.rules.ft301_shared_iterator import SharedIterator
from ftlint.rules.ft302_process_global_mutation import ProcessGlobalMutation
from ftlint.rules.ft303_switch_interval_reliance import SwitchIntervalReliance
from ftlint.rules.ft304_refcount_reliance import RefcountReliance
from ftlint.rules.ft305_lock_created_at_use import LockCreatedAtUse

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
        AttributeReadModifyWrite,
        ContainerReadModifyWrite,
        CheckThenAct,
        LazyAttributeInit,
        InconsistentLocking,
        UnguardedIteration,
        PublishBeforePopulate,
        SharedIterator,
        ProcessGlobalMutation,
        SwitchIntervalReliance,
        RefcountReliance,
        LockCreatedAtUse,
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
