"""Lexical scopes, just enough to tell globals from locals.

A name is local to a function if the function binds it anywhere and does not
declare it ``global``; so accesses through bare names are parked on their
function's frame and resolved when the function has been read completely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from ftlint.analysis.model import Access, Binding, Function


@dataclass
class Frame:
    kind: str  # "module", "class", "function"
    function: Optional[Function] = None
    class_name: Optional[str] = None
    locals: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)
    reassigned: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    mutable_defaults: dict[str, Binding] = field(default_factory=dict)
    pending: list[Access] = field(default_factory=list)
    aliases: dict[str, tuple] = field(default_factory=dict)  # x = d.get(k): x -> key of d
    # names = list(d.keys()): names -> key of d (a copy of its keys, soon stale)
    key_snapshots: dict[str, tuple] = field(default_factory=dict)
    # Locals bound to shared containers: `data = self._data`, `m = MAPS[fmt]`.
    container_aliases: dict[str, cst.BaseExpression] = field(default_factory=dict)
    global_reads: dict[str, int] = field(default_factory=dict)  # reads of `global` names
    global_read_locks: dict[str, tuple] = field(default_factory=dict)  # locks at the first read
    thread_ids: set[str] = field(default_factory=set)  # tid = threading.get_ident()
    # Locals bound to an iterator or generator, and to a new lock.
    local_iterators: dict[str, cst.BaseExpression] = field(default_factory=dict)
    local_locks: dict[str, tuple[cst.BaseExpression, str]] = field(default_factory=dict)
    attr_aliases: set[str] = field(default_factory=set)  # locals bound to an attribute
    lock_uses: dict[str, int] = field(default_factory=dict)  # with / acquire / release
    name_counts: dict[str, int] = field(default_factory=dict)  # here and in nested code
    # Saved analysis state of the enclosing code, restored on leaving.
    saved: tuple = ()

    def bind(self, name: str) -> None:
        self.locals.add(name)
        self.container_aliases.pop(name, None)
        if name in self.params:
            self.reassigned.add(name)


def bind_target(frame: Frame, node: cst.CSTNode) -> None:
    """Record the names an assignment target binds in ``frame``."""
    if isinstance(node, cst.Name):
        frame.bind(node.value)
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            bind_target(frame, element.value)
    elif isinstance(node, cst.StarredElement):
        bind_target(frame, node.value)


def resolve_pending(frame: Frame, parent: Optional[Frame]) -> list[Access]:
    """Settle the frame's name accesses; return those that reach module scope.

    Accesses to the enclosing function's names move to its frame, so a
    closure's write to an outer local is dropped there, not reported.
    """
    escaped: list[Access] = []
    for access in frame.pending:
        name = access.ref[1]
        if name in frame.globals:
            escaped.append(access)
        elif name in frame.locals or name in frame.params:
            default = frame.mutable_defaults.get(name)
            if default is not None and name not in frame.reassigned and access.ref[0] == "name":
                access.ref = default.ref
                escaped.append(access)
        elif name in frame.nonlocals:
            continue
        elif parent is not None and parent.kind == "function":
            parent.pending.append(access)
        else:
            escaped.append(access)
    frame.pending = []
    return escaped
