"""Apply fixes in one pass (:mod:`ftlint.fixes.fixer` proves the result
before anything is written).

Only the nodes on the way from the module to an edited node are rebuilt, so a
fix costs one code generation, not a re-validation of the whole tree.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import sys
from collections import Counter
from typing import Callable, Iterable, Optional, Sequence

import libcst as cst

from ftlint.analysis.model import ModuleModel
from ftlint.fixes import Edit, Fix, Statement
from ftlint.fixes.tree import code_children, code_parents, per_model, plain_with_lock

Action = Callable[[cst.CSTNode], cst.CSTNode]


def _wrap(edit: Edit, made: set[int]) -> Action:
    """The action for ``edit``; ``made`` collects the `with` blocks it creates."""
    def action(updated: cst.CSTNode) -> cst.CSTNode:
        if edit.new is not None:
            if isinstance(edit.new, cst.With):
                made.add(id(edit.new))
            return edit.new
        item = cst.WithItem(cst.parse_expression(edit.wrap))
        wrapped = cst.With(items=[item], body=cst.IndentedBlock([updated.with_changes(leading_lines=())]),
                           leading_lines=updated.leading_lines)
        made.add(id(wrapped))
        return wrapped
    return action


# How many plain statements may sit between two `with` blocks of one lock
# for the blocks to be joined across them.
_JOIN_ACROSS = 3


def _quiet(statement: cst.CSTNode) -> bool:
    """A line that calls nothing and cannot leave the block: a plain
    assignment of names, attributes and constants. Holding a lock over it
    costs nothing and runs no one else's code."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    if not all(isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign, cst.Pass))
               for small in statement.body):
        return False
    stack: list = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Call, cst.Yield, cst.Await, cst.Lambda, cst.Comment)):
            return False
        stack.extend(node.children)
    return not any(line.comment is not None for line in statement.leading_lines)


def _join(items: list, made: set[int]) -> list:
    """Two `with` blocks of the same lock side by side, one of them a fix's,
    become one: the lock is taken once, for both. So do two such blocks with
    a few quiet lines between them (a setter's fields, locked one by one,
    are set under one acquisition)."""
    out: list = []
    for item in items:
        lock = plain_with_lock(item)
        between = 0
        while (lock is not None and between < _JOIN_ACROSS and len(out) > between + 1
               and _quiet(out[-1 - between])):
            between += 1
        if between and plain_with_lock(out[-1 - between]) == lock and (
                id(item) in made or id(out[-1 - between]) in made):
            block, quiet = out[-1 - between], out[len(out) - between:]
            merged = block.with_changes(body=block.body.with_changes(
                body=[*block.body.body, *quiet]))
            del out[len(out) - between - 1:]
            out.append(merged)
            made.add(id(merged))
        last = out[-1] if out else None
        # A comment on the second `with` line would have no line left.
        if (lock is not None and (id(item) in made or id(last) in made)
                and plain_with_lock(last) == lock and item.body.header.comment is None):
            first, *rest = item.body.body  # the lines above the second stay above it
            moved = [first.with_changes(leading_lines=(*item.leading_lines, *first.leading_lines)),
                     *rest]
            merged = last.with_changes(body=last.body.with_changes(body=[*last.body.body, *moved]))
            made.add(id(merged))
            out[-1] = merged
            continue
        out.append(item)
    return out


def _parse_statements(statements: Iterable[Statement]) -> list[cst.BaseStatement]:
    return [cst.parse_statement(s.code) for s in statements]


def _after_docstring(body: Sequence[cst.BaseStatement]) -> int:
    first = body[0] if body else None
    if (isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr)
            and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))):
        return 1
    return 0


def _indented(suite: cst.BaseSuite) -> cst.IndentedBlock:
    """A one-line suite (`def __init__(self): self.n = 0`) as an indented block
    that new statements can join: its statements stay on one line, after the
    docstring, which keeps a line of its own."""
    if isinstance(suite, cst.IndentedBlock):
        return suite
    smalls = list(suite.body)
    lines = []
    if len(smalls) > 1 and _after_docstring([cst.SimpleStatementLine(smalls[:1])]):
        lines.append(cst.SimpleStatementLine([smalls[0].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)]))
        smalls = smalls[1:]
    lines.append(cst.SimpleStatementLine(smalls, trailing_whitespace=suite.trailing_whitespace))
    return cst.IndentedBlock(lines)


def _prepend(statements: list[Statement], spaced: bool = False) -> Action:
    """Put ``statements`` first in a body, after its docstring; with
    ``spaced`` (a class body), a blank line keeps them apart from it."""
    def action(updated: cst.CSTNode) -> cst.CSTNode:
        block = _indented(updated.body)
        at = _after_docstring(block.body)
        added = _parse_statements(statements)
        rest = list(block.body[at:])
        if spaced and isinstance(updated.body, cst.IndentedBlock):
            if at:
                added[0] = added[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
            if rest and isinstance(rest[0], (cst.FunctionDef, cst.ClassDef)) and not any(
                    line.comment is None for line in rest[0].leading_lines):
                # A method right below gets the blank line a class attribute
                # and a method keep between them.
                rest[0] = rest[0].with_changes(
                    leading_lines=[cst.EmptyLine(indent=False), *rest[0].leading_lines])
        new = list(block.body[:at]) + added + rest
        return updated.with_changes(body=block.with_changes(body=new))
    return action


def _imports_end(module: cst.Module) -> int:
    """Index after the leading docstring, `__future__` and import statements.

    Blocks that only import (`try: import ujson as json` / `except
    ImportError: import json`, `if TYPE_CHECKING: ...`) belong to the
    imports; dunder assignments (`__all__ = [...]`), which PEP 8 allows
    above them, are passed over."""
    end = _after_docstring(module.body)
    for index in range(end, len(module.body)):
        statement = module.body[index]
        if isinstance(statement, cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body):
            end = index + 1
        elif _future_import(statement):
            end = index + 1  # `from __future__ import x; y = 1`: nothing goes above it
            break
        elif _import_block(statement):
            end = index + 1
        elif not _dunder_assignment(statement):
            break
    return end


def _import_block(statement: cst.BaseStatement) -> bool:
    """A `try` or `if` at the top of a module whose blocks only import (and
    set a flag or a fallback: `HAS_UJSON = False`, `json = None`)."""
    if not isinstance(statement, (cst.Try, cst.If)):
        return False
    blocks: list[cst.BaseSuite] = []
    current: Optional[cst.CSTNode] = statement
    while isinstance(current, (cst.If, cst.Else)):
        blocks.append(current.body)
        current = current.orelse if isinstance(current, cst.If) else None
    if isinstance(statement, cst.Try):
        blocks.append(statement.body)
        blocks += [handler.body for handler in statement.handlers]
        blocks += [part.body for part in (statement.orelse, statement.finalbody) if part is not None]
    imports = 0
    for block in blocks:
        lines = block.body if isinstance(block, cst.IndentedBlock) else [block]
        for line in lines:
            if not isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                return False
            for small in line.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    imports += 1
                elif not (isinstance(small, cst.Pass) or (
                        isinstance(small, cst.Assign) and all(
                            isinstance(t.target, cst.Name) for t in small.targets)
                        and isinstance(small.value, (cst.Name, cst.SimpleString, cst.Integer)))):
                    return False
    return imports > 0


def _dunder_assignment(statement: cst.BaseStatement) -> bool:
    """`__all__ = [...]`, `__version__ = "1.0"`: module metadata."""
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Assign, cst.AnnAssign)) and all(
            isinstance(t, cst.Name) and t.value.startswith("__") and t.value.endswith("__")
            for t in ([x.target for x in small.targets] if isinstance(small, cst.Assign)
                      else [small.target]))
        for small in statement.body)


def _future_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(s, cst.ImportFrom) and isinstance(s.module, cst.Name)
        and s.module.value == "__future__" for s in statement.body)


def _has_import(module: cst.Module, name: str) -> bool:
    return any(isinstance(s, cst.SimpleStatementLine) and any(
        isinstance(small, cst.Import) and any(a.asname is None and module.code_for_node(a.name) == name
                                              for a in small.names)
        for small in s.body) for s in module.body)


def _blank_lines(statement: cst.BaseStatement) -> list[cst.EmptyLine]:
    """The blank lines above ``statement``, up to its first comment."""
    out = []
    for line in getattr(statement, "leading_lines", ()):
        if line.comment is not None:
            break
        out.append(line)
    return out


def _module_action(original: cst.Module, imports: set[str],
                   placements: list[tuple[int, bool, Statement]]) -> Action:
    """New imports go after the leading imports. Each new statement goes after
    its anchor (the guarded binding) or just before it (a function that uses
    it), spaced like the anchor, and never above the imports."""
    end = _imports_end(original)
    after: dict[int, list[Statement]] = {}
    before: dict[int, list[Statement]] = {}
    for index, is_before, statement in placements:
        if is_before and index >= end:
            before.setdefault(index, []).append(statement)
        else:
            after.setdefault(max(index - 1 if is_before else index, end - 1), []).append(statement)

    def parsed(group: Iterable[Statement]) -> list[cst.BaseStatement]:
        return _parse_statements(sorted(group, key=lambda s: s.key))

    missing = sorted(name for name in imports if not _has_import(original, name))
    third_party = bool(missing) and missing[0].partition(".")[0] not in sys.stdlib_module_names
    if not missing:
        slot = None
    elif third_party:
        slot = _third_party_slot(original, end, missing[0])
    else:
        slot = _stdlib_slot(original, end, missing[0])
    # A third-party import below imports of the standard library only starts
    # a section of its own, set off by a blank line.
    new_section = third_party and slot is None and _only_stdlib_imports(original, end)
    # The module's first import: set off from the docstring above and the
    # code below, as PEP 8 and the formatters space them.
    first = bool(missing) and end == _after_docstring(original.body)
    # After `from __future__ import ...` alone, the new import starts a
    # section of its own: a blank line above it, and below it.
    after_future = bool(missing) and slot is None and not first and _future_import(
        original.body[end - 1])

    def action(updated: cst.CSTNode) -> cst.CSTNode:
        new_imports = [cst.parse_statement(f"import {name}\n") for name in missing]
        if (first and end > 0) or after_future or new_section:
            new_imports[0] = new_imports[0].with_changes(leading_lines=[cst.EmptyLine()])
        out: list[cst.BaseStatement] = list(new_imports) if end == 0 else []
        for index, statement in enumerate(updated.body):
            if (first or after_future) and index == end:
                statement = _spaced_below_imports(statement)
            if index in before:
                group = parsed(before[index])
                group[0] = group[0].with_changes(leading_lines=_blank_lines(statement))
                out.extend(group)
            if slot is not None and index == slot[0] and new_imports:
                # In the standard library's group, in isort's order.
                if slot[1] != "joins":
                    new_imports[0] = new_imports[0].with_changes(
                        leading_lines=statement.leading_lines)
                    statement = statement.with_changes(
                        leading_lines=[cst.EmptyLine()] if slot[1] == "section" else ())
                out.extend(new_imports)
            out.append(statement)
            if index == end - 1 and slot is None:
                out.extend(new_imports)
            out.extend(parsed(after.get(index, ())))
        return updated.with_changes(body=out)
    return action


def _spaced_below_imports(statement: cst.BaseStatement) -> cst.BaseStatement:
    """``statement`` with the blank lines that separate it from imports above:
    two before a function or class, one before anything else."""
    if any(line.comment is None for line in statement.leading_lines):
        return statement  # already set off
    blank = 2 if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) else 1
    return statement.with_changes(
        leading_lines=[cst.EmptyLine()] * blank + list(statement.leading_lines))


def _stdlib_slot(module: cst.Module, end: int, name: str) -> Optional[tuple[int, str]]:
    """Where a new ``import name`` of the standard library goes among the
    leading imports, as isort orders them: (index of the statement it goes
    before, how). "takes": at the head of a group, it takes the lines above
    that statement; "joins": right after the last plain import of the
    standard library; "section": before the first third-party or local
    import, as a section of its own. None: after all the imports."""
    plain, froms, others = [], [], []
    for index in range(_after_docstring(module.body), end):
        statement = module.body[index]
        if _future_import(statement) or _dunder_assignment(statement):
            continue
        if not isinstance(statement, cst.SimpleStatementLine):
            # A block of imports (`try: import ujson as json`): code between
            # the groups, which a new import never goes into.
            others.append((index, ""))
            continue
        small = statement.body[0]
        if isinstance(small, cst.Import):
            top = module.code_for_node(small.names[0].name).partition(".")[0]
            (plain if top in sys.stdlib_module_names else others).append((index, top))
        elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            top = module.code_for_node(small.module).partition(".")[0]
            (froms if top in sys.stdlib_module_names else others).append((index, top))
        else:
            others.append((index, ""))
    for index, top in plain:
        if top > name:
            return index, "takes"
    if plain:
        following = [i for i, _ in froms + others if i > plain[-1][0]]
        return (min(following), "joins") if following else None
    if froms:
        return froms[0][0], "takes"
    return (others[0][0], "section") if others else None


def _import_tops(module: cst.Module, end: int) -> list[tuple[int, str, bool]]:
    """(index, top-level module, from the standard library) of each plain or
    absolute `from` import among the leading imports."""
    found = []
    for index in range(_after_docstring(module.body), end):
        statement = module.body[index]
        if not isinstance(statement, cst.SimpleStatementLine) or _future_import(statement):
            continue
        small = statement.body[0]
        if isinstance(small, cst.Import):
            top = module.code_for_node(small.names[0].name).partition(".")[0]
        elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            top = module.code_for_node(small.module).partition(".")[0]
        else:
            continue
        found.append((index, top, top in sys.stdlib_module_names))
    return found


def _only_stdlib_imports(module: cst.Module, end: int) -> bool:
    tops = _import_tops(module, end)
    return bool(tops) and all(stdlib for _, _, stdlib in tops)


def _third_party_slot(module: cst.Module, end: int, name: str) -> Optional[tuple[int, str]]:
    """Where a new ``import name`` of a third-party package (`pytest`) goes:
    in the first group of other imports, before the first that sorts after
    it; None: after all the imports (a section of its own when the others
    are all from the standard library)."""
    for index, top, stdlib in _import_tops(module, end):
        if not stdlib and top > name:
            return index, "takes"
    return None


def _merge(statements: Iterable[Statement]) -> dict[int, list[Statement]]:
    """Group by anchor, one statement per key; the reentrant variant wins."""
    by_key: dict[str, Statement] = {}
    for s in statements:
        if s.key not in by_key or (s.reentrant and not by_key[s.key].reentrant):
            by_key[s.key] = s
    grouped: dict[int, list[Statement]] = {}
    for s in by_key.values():
        grouped.setdefault(id(s.anchor), []).append(s)
    return grouped


def touched(fix: Fix) -> list[cst.CSTNode]:
    return [e.node for e in fix.edits]


def _lineage(parent_of: dict[int, cst.CSTNode], node: cst.CSTNode) -> set[int]:
    """``node`` and its ancestors."""
    ids = set()
    current: Optional[cst.CSTNode] = node
    while current is not None:
        ids.add(id(current))
        current = parent_of.get(id(current))
    return ids


def _roots(model: ModuleModel, fix: Fix) -> Optional[frozenset]:
    """The top-level statements that the edits of ``fix`` lie in (None when
    one edits the module itself), once per fix."""
    cache = per_model(model, "fix roots", dict)
    if id(fix) not in cache:
        parent_of = code_parents(model)
        roots: Optional[set] = set()
        for edit in fix.edits:
            node = edit.node
            if node is model.module:
                roots = None
                break
            parent = parent_of.get(id(node))
            while parent is not None and parent is not model.module:
                node, parent = parent, parent_of.get(id(parent))
            roots.add(id(node))
        cache[id(fix)] = (fix, None if roots is None else frozenset(roots))
    return cache[id(fix)][1]


def overlaps(model: ModuleModel, a: Fix, b: Fix) -> bool:
    """One fix edits a node inside (or equal to) a node the other edits; the
    same shared edit in both is no clash."""
    roots_a, roots_b = _roots(model, a), _roots(model, b)
    if roots_a is not None and roots_b is not None and not roots_a & roots_b:
        # In different top-level statements: no edit can lie inside the
        # other's. Each new fix is compared with every chosen one, and
        # walking up both lineages each time made --fix quadratic.
        return False
    parent_of = code_parents(model)

    def clash(x: Edit, y: Edit) -> bool:
        if x.shared and y.shared and x.node is y.node:
            return False
        return id(x.node) in _lineage(parent_of, y.node) or id(y.node) in _lineage(parent_of, x.node)

    return any(clash(x, y) for x in a.edits for y in b.edits)


def encloses(model: ModuleModel, big: Fix, small: Fix) -> bool:
    """Every node ``small`` edits lies inside (or is) a node ``big`` edits,
    and ``small`` is not the same set of nodes."""
    parent_of = code_parents(model)
    mine = {id(e.node) for e in big.edits}
    return bool(small.edits) and all(mine & _lineage(parent_of, e.node) for e in small.edits) and not (
        {id(e.node) for e in small.edits} >= mine)


def apply(model: ModuleModel, fixes: Sequence[Fix]) -> cst.Module:
    """The module with ``fixes`` (already free of overlaps) applied."""
    module = model.module
    actions: dict[int, list[Action]] = {}
    made: set[int] = set()  # the `with` blocks the edits create
    for fix in fixes:
        for edit in fix.edits:
            actions.setdefault(id(edit.node), []).append(_wrap(edit, made))
    for group, spaced in ((_merge(s for f in fixes for s in f.class_statements), True),
                          (_merge(s for f in fixes for s in f.init_statements), False)):
        for anchor_id, statements in group.items():
            actions.setdefault(anchor_id, []).append(_prepend(statements, spaced))
    imports = {name for f in fixes for name in f.imports}
    module_statements = _merge(s for f in fixes for s in f.module_statements)
    index_of = {id(s): i for i, s in enumerate(module.body)}
    placements = [(index_of[anchor_id], statement.before, statement)
                  for anchor_id, group in module_statements.items() if anchor_id in index_of
                  for statement in group]
    if imports or placements:
        actions.setdefault(id(module), []).append(_module_action(module, imports, placements))
    parent_of = code_parents(model)
    needed: set[int] = set()
    for node_id in actions:
        current = node_id
        while current is not None and current not in needed:
            needed.add(current)
            parent = parent_of.get(current)
            current = id(parent) if parent is not None else None
    new = _rebuild(module, needed, actions, made)
    removes = any(e.new is cst.RemovalSentinel.REMOVE or isinstance(e.new, cst.FlattenSentinel)
                  for f in fixes for e in f.edits)
    return _drop_orphaned_imports(model, new) if removes else new


def _names(node: cst.CSTNode) -> Counter:
    """How often each name is read outside import statements (a read-only
    walk: libcst's visitors rebuild every node they pass)."""
    seen: Counter = Counter()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            seen[current.value] += 1
        elif not isinstance(current, (cst.Import, cst.ImportFrom)):
            stack.extend(code_children(current))
    return seen


def _names_after(model: ModuleModel, new: cst.Module) -> tuple[Counter, Counter]:
    """The names read in the module before and after the fixes: the counts of
    the top-level statements the fixes left alone are the same objects', and
    are counted once per module."""
    facts = getattr(model, "facts", None)
    original = model.module
    if facts is None:
        return _names(original), _names(new)
    if "names" not in facts:
        per = {id(s): _names(s) for s in original.body}
        total: Counter = Counter()
        for counts in per.values():
            total.update(counts)
        facts["names"] = (per, total)
    per, total = facts["names"]
    kept = {id(s) for s in new.body} & set(per)
    after = Counter(total)
    for statement in original.body:
        if id(statement) not in kept:
            after.subtract(per[id(statement)])
    for statement in new.body:
        if id(statement) not in kept:
            after.update(_names(statement))
    return total, after


def _bound_name(module: cst.Module, alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return module.code_for_node(alias.name).split(".")[0]


def _drop_orphaned_imports(model: ModuleModel, new: cst.Module) -> cst.Module:
    """Remove a top-level import that the fixes left unused: the name was read
    before and is mentioned nowhere now (not in code, strings or comments)."""
    before, after = _names_after(model, new)
    orphans = {name for name, count in before.items() if count and not after[name]}
    if not orphans:
        return new
    body: list[cst.BaseStatement] = []
    carry: Sequence[cst.EmptyLine] = ()
    for statement in new.body:
        if carry and not statement.leading_lines:
            statement = statement.with_changes(leading_lines=carry)
        carry = ()
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
        if (isinstance(small, (cst.Import, cst.ImportFrom)) and len(statement.body) == 1
                and not isinstance(small.names, cst.ImportStar) and not _commented(statement)):
            rest = new.deep_replace(statement, cst.SimpleStatementLine(body=[cst.Pass()])).code
            keep = [a for a in small.names if _bound_name(new, a) not in orphans
                    or re.search(rf"\b{re.escape(_bound_name(new, a))}\b", rest)]
            if not keep:
                carry = statement.leading_lines
                continue
            if len(keep) != len(small.names):
                keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                statement = statement.with_changes(body=[small.with_changes(names=keep)])
        body.append(statement)
    return new.with_changes(body=body)


def _commented(statement: cst.SimpleStatementLine) -> bool:
    return (any(line.comment is not None for line in statement.leading_lines)
            or statement.trailing_whitespace.comment is not None)


def _rebuild(node: cst.CSTNode, needed: set[int], actions: dict[int, list[Action]],
             made: set[int]) -> cst.CSTNode:
    if id(node) not in needed:
        return node
    changes = {}
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if isinstance(value, cst.CSTNode):
            new = _rebuild(value, needed, actions, made)
            if new is not value:
                changes[field.name] = new
        elif type(value) in (tuple, list) and any(
                isinstance(v, cst.CSTNode) and id(v) in needed for v in value):
            items: list = []
            for v in value:
                new = _rebuild(v, needed, actions, made) if isinstance(v, cst.CSTNode) else v
                # An edit may remove a statement, or put several in its place.
                if isinstance(new, cst.FlattenSentinel):
                    items.extend(new.nodes)
                elif new is not cst.RemovalSentinel.REMOVE:
                    items.append(new)
            changes[field.name] = type(value)(_join(items, made) if made else items)
    updated = node.with_changes(**changes) if changes else node
    for action in actions.get(id(node), ()):
        updated = action(updated)
    return updated


def edits_json(model: ModuleModel, fix: Fix) -> dict:
    """The fix in ruff's JSON shape: line-range edits of the file's text.

    A fix rebuilds only the statements it changes, and the module's others
    stay the same objects: only the code of the changed top-level statements
    is generated and compared, not the whole module twice per fix."""
    new = apply(model, [fix])
    same_ends = (len(new.header) == len(model.module.header)
                 and all(a is b for a, b in zip(new.header, model.module.header))
                 and new.footer == model.module.footer
                 and new.has_trailing_newline == model.module.has_trailing_newline)
    pairs = None
    facts = model.facts  # type: ignore[attr-defined]
    if same_ends and facts.get("text") is not None and model.module.has_trailing_newline:
        lazy = _StatementSegments(model.module, facts["text"],
                                  facts.setdefault("statement_segments", {}))
        try:
            pairs = _changed_runs(model.module, new, lazy)
        except _NotFound:
            pairs = None
    if pairs is None:
        segments = _segments(model)
        if segments is None or not same_ends:  # compare the whole module
            pairs = [(_rows(model.module.code), _rows(new.code), 0)]
        else:
            pairs = _changed_runs(model.module, new, segments)
    edits = []
    for before, after, first_row in pairs:
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            edits.append({
                "content": "".join(after[j1:j2]),
                "location": {"row": first_row + i1 + 1, "column": 1},
                "end_location": {"row": first_row + i2 + 1, "column": 1},
            })
    return {"applicability": fix.applicability, "message": fix.message, "edits": edits}


def _rows(code: str) -> list[str]:
    """The lines of ``code``, ends kept, split where rows end: at "\\n" only,
    not at the form feeds and other breaks str.splitlines() also splits at."""
    return [line for line in re.split(r"(?<=\n)", code) if line]


class _NotFound(Exception):
    """A statement's code is not found once in the module's text."""


class _StatementSegments(dict):
    """What :func:`_segments` gives, computed per statement when asked: the
    statement's code found in the module's text, where it must occur once
    and at the start of a line. Generating every statement's code cost a
    third of a JSON run; a fix needs the few it replaced and a neighbour."""

    def __init__(self, module: cst.Module, text: str, cache: dict):
        super().__init__()
        self.module, self.text, self.cache = module, text, cache
        self.statements = {id(s): s for s in module.body}

    def __missing__(self, key: int) -> tuple[int, list[str]]:
        if key not in self.cache:
            code = self.module.code_for_node(self.statements[key])
            text = self.text
            at = text.find(code)
            unique = (at >= 0 and (at == 0 or text[at - 1] == "\n")
                      and text.find(code, at + 1) < 0)
            self.cache[key] = ((text.count("\n", 0, at), _rows(code))
                               if unique and code.endswith("\n") else None)
        if self.cache[key] is None:
            raise _NotFound
        return self.cache[key]


def _segments(model: ModuleModel) -> Optional[dict[int, tuple[int, list[str]]]]:
    """id(top-level statement) -> (its first row, 0-based; its lines), once
    per module; None if the statements' code and the header do not make up
    the module's code (then edits compare the whole module)."""
    facts = model.facts  # type: ignore[attr-defined]
    if "segments" not in facts:
        # The module's code is its header's, its statements' and its footer's
        # (libcst's Module codegen), except that a file without a last
        # newline drops it: such a file takes the slow way.
        module = model.module
        header = "".join(module.code_for_node(line) for line in module.header)
        found: dict[int, tuple[int, list[str]]] = {}
        row = header.count("\n")
        parts = [header]
        for statement in module.body:
            text = module.code_for_node(statement)
            lines = _rows(text)
            found[id(statement)] = (row, lines)
            row += len(lines)
            parts.append(text)
        joined = "".join(parts)
        good = (module.has_trailing_newline and joined.count("\n") == row
                and joined.endswith("\n"))
        facts["segments"] = found if good else None
    return facts["segments"]


def _changed_runs(old: cst.Module, new: cst.Module,
                  segments: dict[int, tuple[int, list[str]]]
                  ) -> list[tuple[list[str], list[str], int]]:
    """(old lines, new lines, first row) of each run of top-level statements
    that the fix replaced or added, between statements it left alone."""
    runs = []
    i = j = 0
    old_body, new_body = old.body, new.body
    kept = {id(s) for s in new_body} & {id(s) for s in old_body}
    while i < len(old_body) or j < len(new_body):
        if i < len(old_body) and j < len(new_body) and old_body[i] is new_body[j]:
            i += 1
            j += 1
            continue
        start_i, start_j = i, j
        while i < len(old_body) and id(old_body[i]) not in kept:
            i += 1
        while j < len(new_body) and id(new_body[j]) not in kept:
            j += 1
        if i == start_i and j == start_j:  # a kept statement moved: compare the rest
            i, j = len(old_body), len(new_body)
        before = [line for s in old_body[start_i:i] for line in segments[id(s)][1]]
        after = [line for s in new_body[start_j:j] for line in _rows(new.code_for_node(s))]
        if start_i < len(old_body):
            row = segments[id(old_body[start_i])][0]
        else:  # added at the end
            row = (segments[id(old_body[-1])][0] + len(segments[id(old_body[-1])][1])
                   if old_body else 0)
        runs.append((before, after, row))
    return runs


__all__ = ["apply", "edits_json", "encloses", "overlaps"]
