"""Tree queries the fix builders share: parents, purity, comments."""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ftlint.analysis.model import ModuleModel
from ftlint.analysis.walk import children, code_children  # noqa: F401 - shared
from ftlint.analysis.names import all_params, binds, target_binds


def walk_code(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and the nodes of its code below it: names, calls, statements,
    but not whitespace, comments or punctuation (half of a tree's nodes).
    For searches that look for names, calls or loops; :func:`walk` sees all."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(code_children(current))


def parents(model: ModuleModel, root: Optional[cst.CSTNode] = None) -> dict[int, cst.CSTNode]:
    """id(node) -> parent under ``root`` (default: the module), built once per
    root. Fix builders pass the enclosing function, which keeps plain linting
    from paying for a walk of the whole module."""
    root = model.module if root is None else root
    facts = getattr(model, "facts", None)  # a FixContext keeps them for its fixes
    cache = facts.setdefault("parents", {}) if facts is not None else {}
    found = cache.get(id(root))
    if found is None:
        found = {}
        stack = [root]
        while stack:
            node = stack.pop()
            for child in children(node):
                found[id(child)] = node
                stack.append(child)
        cache[id(root)] = found
    return found


def code_parents(model: ModuleModel) -> dict[int, cst.CSTNode]:
    """id(node) -> parent, over the module's code only (no whitespace,
    comments or punctuation, half of a tree's nodes), built once per model.
    Enough to find the ancestors of anything a fix edits: statements,
    blocks, decorators, expressions and arguments are all code."""
    return _code_index(model)[0]


def module_names(model: ModuleModel) -> frozenset[str]:
    """Every name (`cst.Name`) that appears in the module's code."""
    return _code_index(model)[1]


def _code_index(model: ModuleModel) -> tuple[dict[int, cst.CSTNode], frozenset[str]]:
    """One walk over the module's code for the facts every fix of a file
    asks about the whole module: the parent of each node, and the names."""
    facts = getattr(model, "facts", None)
    cache = facts if facts is not None else {}
    found = cache.get("code index")
    if found is None:
        parents_of: dict[int, cst.CSTNode] = {}
        names: set[str] = set()
        stack: list[cst.CSTNode] = [model.module]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Name):
                names.add(node.value)
            for child in code_children(node):
                parents_of[id(child)] = node
                stack.append(child)
        found = cache["code index"] = (parents_of, frozenset(names))
    return found


def scope_of(model: ModuleModel, function) -> cst.CSTNode:
    """The smallest tree a builder needs: the function, else the module."""
    return function.node if function is not None else model.module


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def uses_of_local(function: cst.FunctionDef, name: str) -> int:
    """How often ``name`` appears in ``function``'s body as the function's
    own variable: a nested function or lambda that binds ``name`` itself
    (and does not declare it `nonlocal`) has a variable of its own, so its
    body does not count; its defaults, annotations and decorators, evaluated
    out here, do. Everything else counts, attribute names included: a count
    may be too high (the caller then leaves the code alone), never too low.

    Counting the nested function's own `old` made a fix depend on another
    fix in the same pass removing it: the second pass then did what the
    first had declined."""
    count = 0
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name) and node.value == name:
            count += 1
        if isinstance(node, (cst.FunctionDef, cst.Lambda)) and _binds_own(node, name):
            stack.extend(_evaluated_outside(node))
            continue
        stack.extend(children(node))
    return count


def _evaluated_outside(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The parts of a function or lambda that run in the enclosing scope."""
    out: list[cst.CSTNode] = []
    for param in all_params(node.params):
        out += [p for p in (param.default, param.annotation) if p is not None]
    if isinstance(node, cst.FunctionDef):
        out += [d for d in node.decorators]
        if node.returns is not None:
            out.append(node.returns)
        out.append(node.name)
    return out


def _binds_own(node: cst.CSTNode, name: str) -> bool:
    """``name`` is a local of function or lambda ``node`` (a parameter, or
    bound in its own body and not declared `nonlocal`). Bindings in scopes
    nested further, and comprehension variables, are not its own."""
    if any(p.name.value == name for p in all_params(node.params)):
        return True
    if isinstance(node, cst.Lambda):
        return False  # a walrus in it would bind there too; counting it only declines
    bound = declared = False
    stack: list[cst.CSTNode] = [node.body]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Nonlocal) and any(n.name.value == name for n in current.names):
            declared = True
        elif isinstance(current, cst.Global) and any(n.name.value == name for n in current.names):
            return True  # the module's variable, not the enclosing function's
        elif isinstance(current, (cst.FunctionDef, cst.ClassDef)):
            bound = bound or current.name.value == name
            if isinstance(current, cst.FunctionDef):
                stack.extend(_evaluated_outside(current))
            else:
                stack.extend((*current.decorators, *(a.value for a in current.bases),
                              *(a.value for a in current.keywords)))
            continue
        elif isinstance(current, cst.Lambda):
            stack.extend(_evaluated_outside(current))
            continue
        elif isinstance(current, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            # Only a walrus inside (not in a lambda there) binds here.
            bound = bound or _walrus_binds(current, name)
            continue
        elif binds(current, name):
            bound = True
        stack.extend(children(current))
    return bound and not declared


def _walrus_binds(node: cst.CSTNode, name: str) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.NamedExpr) and target_binds(current.target, name):
            return True
        if not isinstance(current, cst.Lambda):
            stack.extend(children(current))
    return False


def block_statement(model: ModuleModel, node: cst.CSTNode,
                    scope: Optional[cst.CSTNode] = None) -> Optional[str]:
    """None if ``node`` is a whole statement of a block (so it can be wrapped
    or replaced), else why not."""
    parent = parents(model, scope).get(id(node))
    if not isinstance(parent, (cst.IndentedBlock, cst.Module)):
        return "the statement is not alone on its line or is an `elif`"
    if isinstance(node, cst.SimpleStatementLine) and len(node.body) != 1:
        return "several statements share the line"
    return None


_BLANK = cst.Module(body=[])


def plain_with_lock(node: object) -> Optional[str]:
    """The lock ``node`` takes if it is a plain `with <lock>:` (one item, no
    `as`, not async, an indented body), else None."""
    if (not isinstance(node, cst.With) or len(node.items) != 1 or node.items[0].asname is not None
            or node.asynchronous is not None or not isinstance(node.body, cst.IndentedBlock)):
        return None
    return _BLANK.code_for_node(node.items[0].item)


def inside(node: cst.CSTNode, region: cst.CSTNode) -> bool:
    return any(n is node for n in walk(region))


def top_level(model: ModuleModel, node: cst.CSTNode) -> Optional[cst.CSTNode]:
    """The module-level statement that contains ``node``, found by walking up
    the module's code (indexed once per model)."""
    parent_of = code_parents(model)
    module = model.module
    current: Optional[cst.CSTNode] = node
    while current is not None:
        parent = parent_of.get(id(current))
        if parent is module:
            return current
        current = parent
    return None


def per_model(model: ModuleModel, key: str, compute):
    """``compute()``, once per model: facts about the whole module that every
    fix of a file would otherwise gather again (a cost of files x findings)."""
    cache = model.facts
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def code(model: ModuleModel, node: cst.CSTNode) -> str:
    return model.module.code_for_node(node)


def has_comment(model: ModuleModel, node: cst.CSTNode) -> bool:
    """Comments inside ``node`` (not the lines above it) would be lost."""
    if isinstance(node, cst.BaseStatement) and hasattr(node, "leading_lines"):
        node = node.with_changes(leading_lines=())
    return any(isinstance(n, cst.Comment) for n in walk(node))


def comments_lost(model: ModuleModel, section: tuple) -> bool:
    """Removing ``section[:-1]`` and keeping only the body of the block
    ``section[-1]`` (a `try` or `with`) would drop a comment: one on a removed
    line, above any but the first statement, on the block's own line, or in
    a `finally:`."""
    *removed, block = section
    if any(has_comment(model, s) for s in removed[:1]):
        return True
    if any(isinstance(n, cst.Comment) for s in removed[1:] for n in walk(s)):
        return True
    if len(removed) and any(line.comment is not None for line in block.leading_lines):
        return True
    header = getattr(block.body, "header", None)  # `with chdir(p):  # why`
    if header is not None and header.comment is not None:
        return True
    if isinstance(block, cst.With) and any(isinstance(n, cst.Comment)
                                           for item in block.items for n in walk(item)):
        return True
    finalbody = getattr(block, "finalbody", None)
    return finalbody is not None and any(isinstance(n, cst.Comment) for n in walk(finalbody))


_PURE_CALLS = frozenset({"hasattr", "getattr", "isinstance", "len"})


def pure(node: cst.CSTNode, calls: frozenset[str] = frozenset()) -> bool:
    """No side effects: names, constants, attribute reads, literals, tests."""
    if isinstance(node, (cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString,
                         cst.Ellipsis)):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return pure(node.left) and pure(node.right)
    if isinstance(node, cst.Attribute):
        return pure(node.value, calls)
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        return all(not isinstance(e, cst.StarredElement) and pure(e.value, calls)
                   for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) and pure(e.key, calls) and pure(e.value, calls)
                   for e in node.elements)
    if isinstance(node, cst.UnaryOperation):
        return pure(node.expression, calls)
    if isinstance(node, cst.BooleanOperation):
        return pure(node.left, calls) and pure(node.right, calls)
    if isinstance(node, cst.Comparison):
        return pure(node.left, calls) and all(
            isinstance(t.operator, (cst.Is, cst.IsNot)) and pure(t.comparator, calls)
            for t in node.comparisons)
    if isinstance(node, cst.Call):
        return (isinstance(node.func, cst.Name) and node.func.value in calls
                and all(not a.star and a.keyword is None and pure(a.value, calls)
                        for a in node.args))
    return False


def pure_test(node: cst.CSTNode) -> bool:
    return pure(node, _PURE_CALLS)


def suspends(node: cst.CSTNode) -> bool:
    """A lock held across ``yield`` or ``await`` blocks other threads."""
    return any(isinstance(n, (cst.Yield, cst.Await)) for n in walk(node)
               if not isinstance(n, (cst.FunctionDef, cst.Lambda)))
