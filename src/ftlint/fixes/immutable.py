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
    if isinstance(value, cst.List):
        elements = list(value.elements)
        if len(elements) == 1 and not isinstance(elements[0].comma, cst.Comma):
            elements[0] = elements[0].with_changes(comma=cst.Comma())
        new = cst.Tuple(elements, lpar=[cst.LeftParen(whitespace_after=value.lbracket.whitespace_after)],
                        rpar=[cst.RightParen(whitespace_before=value.rbracket.whitespace_before)])
        return Fix(UNSAFE, "Use a tuple", (Edit(value, new=new),))
    if isinstance(value, cst.Set):
        if model.binding(("global", "frozenset")) is not None:
            return Declined("`frozenset` is shadowed")
        new = cst.Call(cst.Name("frozenset"), [cst.Arg(value)])
        return Fix(UNSAFE, "Use a frozenset", (Edit(value, new=new),))
    if isinstance(value, cst.Dict):
        if not _module_free(model, "types"):
            return Declined("`types` names something else in this module")
        new = cst.Call(cst.parse_expression("types.MappingProxyType"), [cst.Arg(value)])
        return Fix(UNSAFE, "Use `types.MappingProxyType`", (Edit(value, new=new),), imports=("types",))
    return Declined("only list, set and dict displays are rewritten")
