"""FT107: a container that is never mutated becomes an immutable one.

Unsafe: code elsewhere (another module, a test) may still mutate it, or use
list-only operations such as `+ [...]`, which a tuple rejects.
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst

from ftlint.analysis.model import Binding, ModuleModel
from ftlint.fixes import UNSAFE, Declined, Edit, Fix
from ftlint.fixes.tree import code, parents, walk


def _module_free(model: ModuleModel, name: str) -> bool:
    """``name`` is unbound here, or bound by a plain ``import name``."""
    if model.binding(("global", name)) is None:
        return True
    return any(isinstance(small, cst.Import) and any(
        a.asname is None and code(model, a.name) == name for a in small.names)
        for statement in model.module.body if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body)


def freeze_fix(model: ModuleModel, binding: Binding) -> Union[Fix, Declined]:
    value = binding.node
    statement = binding.statement
    if isinstance(statement, cst.SimpleStatementLine) and not isinstance(statement.body[0], cst.Assign):
        return Declined("an annotated or augmented assignment; the annotation would be wrong")
    writes = [a for a in model.writes(binding.ref) if a.op != "rebind"]
    if writes:
        return Declined("it is mutated while the module is imported")
    if not isinstance(value, _DISPLAYS):
        return Declined("only list, set and dict displays are rewritten")
    why = _used_as_value(model, binding)
    if why:
        return Declined(why)
    displays = [v for v in binding.others if isinstance(v, _DISPLAYS)]
    if any(type(v) is not type(value) for v in displays):
        return Declined("another binding of it is a different container")
    if any(_builds_mutable(v) for v in binding.others):
        return Declined("another binding of it builds a mutable container")
    # Every binding of the name (`X = [...]` in both branches of an `if`)
    # changes, or the one left mutable would be reported again.
    edits = []
    for node in (*displays, value):
        new = _frozen(model, node)
        if isinstance(new, Declined):
            return new
        edits.append(Edit(node, new=new))
    if isinstance(value, cst.List):
        return Fix(UNSAFE, "Use a tuple", tuple(edits))
    if isinstance(value, cst.Set):
        return Fix(UNSAFE, "Use a frozenset", tuple(edits))
    return Fix(UNSAFE, "Use `types.MappingProxyType`", tuple(edits), imports=("types",))


_DISPLAYS = (cst.List, cst.Set, cst.Dict)

# Built-ins that only read their argument, whatever its container type.
_READERS = frozenset({
    "len", "sorted", "tuple", "list", "set", "frozenset", "dict", "iter", "enumerate", "any",
    "all", "min", "max", "sum", "reversed", "repr", "str", "bool", "zip", "map", "filter",
})
# Read-only methods that the immutable replacement has too.
_READ_METHODS = {
    cst.List: frozenset({"index", "count"}),
    cst.Set: frozenset({"copy", "union", "intersection", "difference", "symmetric_difference",
                        "issubset", "issuperset", "isdisjoint"}),
    cst.Dict: frozenset({"get", "keys", "values", "items", "copy"}),
}


def _used_as_value(model: ModuleModel, binding: Binding) -> Optional[str]:
    """Why a use of the container could break once it is immutable: it is
    passed on, aliased, combined with `+` or `|`, updated in place or
    rebound with an augmented assignment, anywhere in the module."""
    ref = binding.ref
    name = ref[-1]
    methods = _READ_METHODS[type(binding.node)]
    parent_of = parents(model)
    for node in walk(model.module):
        if ref[0] == "global":
            if not (isinstance(node, cst.Name) and node.value == name):
                continue
        elif not (isinstance(node, cst.Attribute) and node.attr.value == name):
            continue
        parent = parent_of.get(id(node))
        if isinstance(parent, cst.Attribute) and parent.value is node:
            call = parent_of.get(id(parent))
            if isinstance(call, cst.Call) and call.func is parent and parent.attr.value in methods:
                continue
            return f"`{name}.{parent.attr.value}` may need the mutable type"
        if isinstance(node, cst.Name) and isinstance(parent, cst.Attribute) and parent.attr is node:
            continue  # `obj.NAME`: another object's attribute
        if isinstance(parent, cst.Subscript) and parent.value is node:
            continue  # reads; writes were counted as mutations
        if isinstance(parent, cst.ComparisonTarget) and isinstance(
                parent.operator, (cst.In, cst.NotIn)) and parent.comparator is node:
            continue
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            continue
        if isinstance(parent, (cst.AssignTarget, cst.ImportAlias, cst.Param, cst.Global,
                               cst.NameItem, cst.FunctionDef, cst.ClassDef, cst.Arg)) and (
                not isinstance(parent, cst.Arg)):
            continue  # the binding itself, a declaration, or a keyword's name
        if isinstance(parent, cst.Arg) and parent.value is node:
            call = parent_of.get(id(parent))
            if parent.keyword is None and isinstance(call, cst.Call) and (
                    (isinstance(call.func, cst.Name) and call.func.value in _READERS)
                    or (isinstance(call.func, cst.Attribute) and call.func.attr.value == "join")
                    or parent.star == "*"):
                continue
            return f"`{name}` is passed to a call that may need the mutable type"
        if isinstance(parent, cst.StarredElement):
            continue
        if isinstance(parent, (cst.AugAssign, cst.BinaryOperation)):
            return f"`{name}` is combined with an operator; the immutable type may reject it"
        return f"`{name}` is used as a value (an alias, a return, a call); it may need the mutable type"
    return None
_MUTABLE_BUILDERS = {"list", "set", "dict", "bytearray"}


def _builds_mutable(node: cst.CSTNode) -> bool:
    """A comprehension or a call of list(), set(), dict(): no display to rewrite."""
    if isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp)):
        return True
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
            and node.func.value in _MUTABLE_BUILDERS)


def _frozen(model: ModuleModel, value: cst.CSTNode) -> Union[cst.CSTNode, Declined]:
    if isinstance(value, cst.List):
        elements = list(value.elements)
        if len(elements) == 1 and not isinstance(elements[0].comma, cst.Comma):
            elements[0] = elements[0].with_changes(comma=cst.Comma())
        return cst.Tuple(elements, lpar=[cst.LeftParen(whitespace_after=value.lbracket.whitespace_after)],
                         rpar=[cst.RightParen(whitespace_before=value.rbracket.whitespace_before)])
    if isinstance(value, cst.Set):
        if model.binding(("global", "frozenset")) is not None:
            return Declined("`frozenset` is shadowed")
        return cst.Call(cst.Name("frozenset"), [cst.Arg(value)])
    if isinstance(value, cst.Dict):
        if not _module_free(model, "types"):
            return Declined("`types` names something else in this module")
        return cst.Call(cst.parse_expression("types.MappingProxyType"), [cst.Arg(value)])
    return Declined("only list, set and dict displays are rewritten")
