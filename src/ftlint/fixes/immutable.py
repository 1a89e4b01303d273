"""FT107: a container that is never mutated becomes an immutable one.

Unsafe: code elsewhere (another module, a test) may still mutate it, or use
list-only operations such as `+ [...]`, which a tuple rejects.
"""

from __future__ import annotations

from typing import Union

import libcst as cst

from ftlint.analysis.model import Binding, ModuleModel
from ftlint.fixes import UNSAFE, Declined, Edit, Fix
from ftlint.fixes.tree import code


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
