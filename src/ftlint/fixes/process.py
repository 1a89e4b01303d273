"""Pass the working directory explicitly instead of changing it (FT302).

Two idioms are rewritten when everything they guard is a `subprocess` call::

    with contextlib.chdir(path):            old = os.getcwd()
        subprocess.run(cmd, check=True)     os.chdir(path)
                                            try:
                                                subprocess.run(cmd, check=True)
                                            finally:
                                                os.chdir(old)

both become ``subprocess.run(cmd, check=True, cwd=path)``. The child runs in
the same directory, and the process-wide working directory, which every other
thread's relative paths depend on, is never touched. The fix is unsafe: a
missing directory now fails in the child's start-up rather than in `chdir`,
and on Windows a relative program name is looked up differently with `cwd=`.
Anything else (environment writes, stdout swaps, other code in the block) is
left alone: there the explicit form differs at every call.
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst

from ftlint.analysis.model import GlobalCall, ModuleModel
from ftlint.fixes import UNSAFE, Declined, Edit, Fix
from ftlint.fixes.tree import comments_lost, pure, uses_of_local, walk

SUBPROCESS = frozenset({"subprocess.run", "subprocess.call", "subprocess.check_call",
                        "subprocess.check_output", "subprocess.Popen"})


def _only_call(statement: cst.CSTNode) -> Optional[cst.Call]:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    value = getattr(small, "value", None) if isinstance(small, (cst.Expr, cst.Assign,
                                                               cst.Return)) else None
    return value if isinstance(value, cst.Call) else None


def _subprocess_calls(model: ModuleModel, block: cst.BaseSuite,
                      directory: cst.BaseExpression) -> Union[list[cst.Call], str]:
    """The subprocess call of each statement of ``block``, or why not."""
    qualified = {id(c.node): c.qualified for c in model.calls}
    used = {n.value for n in walk(directory) if isinstance(n, cst.Name)}
    calls = []
    for statement in getattr(block, "body", ()):
        call = _only_call(statement)
        if call is None or qualified.get(id(call)) not in SUBPROCESS:
            return "the block does more than run subprocesses"
        if any(a.star or (a.keyword is not None and a.keyword.value == "cwd") for a in call.args):
            return "a call already passes `cwd=` or `**kwargs`"
        if not all(pure(a.value) for a in call.args):
            return "a call's arguments are computed inside the new directory"
        small = statement.body[0]
        if isinstance(small, cst.Assign) and any(
                isinstance(n, cst.Name) and n.value in used for t in small.targets
                for n in walk(t.target)):
            return "the block rebinds a name the directory uses"
        calls.append(call)
    return calls or "the block runs no subprocess"


def _with_cwd(call: cst.Call, directory: cst.BaseExpression) -> cst.Call:
    """Add `cwd=directory` last, laid out like the arguments before it."""
    new = cst.Arg(directory, keyword=cst.Name("cwd"),
                  equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    args = list(call.args)
    if args:
        last = args[-1]
        between = args[-2].comma if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) \
            else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        if isinstance(last.comma, cst.Comma):  # a trailing comma stays trailing
            new = new.with_changes(comma=last.comma)
        args[-1] = last.with_changes(comma=between)
    return call.with_changes(args=args + [new])


def _flattened(model: ModuleModel, section: tuple, block: cst.BaseSuite,
               directory: cst.BaseExpression, message: str) -> Union[Fix, Declined]:
    calls = _subprocess_calls(model, block, directory)
    if isinstance(calls, str):
        return Declined(calls)
    if comments_lost(model, section):
        return Declined("a comment on the lines it removes would be lost")
    statements = []
    for statement, call in zip(block.body, calls):
        small = statement.body[0]
        statements.append(statement.with_changes(
            body=[small.with_changes(value=_with_cwd(call, directory))]))
    # The lines above the removed ones, then the first statement's own.
    statements[0] = statements[0].with_changes(
        leading_lines=(*section[0].leading_lines, *statements[0].leading_lines))
    edits = [Edit(s, new=cst.RemovalSentinel.REMOVE) for s in section[:-1]]
    edits.append(Edit(section[-1], new=cst.FlattenSentinel(statements)))
    return Fix(UNSAFE, message, tuple(edits))


def _enclosing_statement(model: ModuleModel, call: GlobalCall):
    from ftlint.fixes.tree import parents

    parent_of = parents(model, call.function.node)
    node = parent_of.get(id(call.node))
    while node is not None and not isinstance(node, (cst.SimpleStatementLine, cst.With)):
        node = parent_of.get(id(node))
    return node, parent_of


def cwd_fix(model: ModuleModel, call: GlobalCall) -> Union[Fix, Declined]:
    if call.function is None:
        return Declined("at import time")
    if call.name not in ("os.chdir", "contextlib.chdir"):
        return Declined("no automatic fix: the explicit form differs at every call")
    cache = model.facts.setdefault("cwd_fixes", {})
    if id(call.node) in cache:
        return cache[id(call.node)]
    statement, parent_of = _enclosing_statement(model, call)
    fix: Union[Fix, Declined]
    if call.name == "contextlib.chdir":
        fix = _chdir_with(model, call, statement)
        cache[id(call.node)] = fix
        return fix
    fix, calls = _chdir_try(model, call, statement, parent_of)
    for node in calls:
        cache[id(node)] = fix
    cache[id(call.node)] = fix
    return fix


def _chdir_with(model: ModuleModel, call: GlobalCall, statement) -> Union[Fix, Declined]:
    if (not isinstance(statement, cst.With) or len(statement.items) != 1
            or statement.items[0].item is not call.node or statement.items[0].asname is not None
            or len(call.node.args) != 1 or not pure(call.node.args[0].value)):
        return Declined("only `with contextlib.chdir(path):` around subprocess calls is rewritten")
    return _flattened(model, (statement,), statement.body, call.node.args[0].value,
                      "Pass `cwd=` to the subprocess calls instead of changing directory")


def _chdir_try(model: ModuleModel, call: GlobalCall, statement, parent_of):
    """`old = os.getcwd(); os.chdir(path); try: ... finally: os.chdir(old)`,
    from any of its two `chdir` calls."""
    declined = Declined("only `os.chdir(path)` in `try: ... finally: os.chdir(old)` "
                        "around subprocess calls is rewritten")
    if statement is None:
        return declined, ()
    block = parent_of.get(id(statement))
    if isinstance(block, cst.IndentedBlock) and isinstance(parent_of.get(id(block)), cst.Finally):
        statement = parent_of.get(id(parent_of.get(id(block))))  # the Try
        block = parent_of.get(id(statement))
    if not isinstance(block, cst.IndentedBlock):
        return declined, ()
    body = list(block.body)
    index = next((i for i, s in enumerate(body) if s is statement), None)
    if index is None:
        return declined, ()
    if isinstance(statement, cst.SimpleStatementLine) and index + 1 < len(body):
        index += 1  # from `os.chdir(path)` to the `try`
    attempt = body[index]
    if (not isinstance(attempt, cst.Try) or attempt.handlers or attempt.orelse is not None
            or attempt.finalbody is None or len(attempt.finalbody.body.body) != 1 or index < 2):
        return declined, ()
    change, save, restore = _only_call(body[index - 1]), body[index - 2], \
        _only_call(attempt.finalbody.body.body[0])
    qualified = {id(c.node): c.qualified for c in model.calls}
    getcwd = _only_call(save)
    if (change is None or restore is None or getcwd is None
            or qualified.get(id(change)) != "os.chdir" or qualified.get(id(restore)) != "os.chdir"
            or qualified.get(id(getcwd)) != "os.getcwd" or getcwd.args
            or not isinstance(save.body[0], cst.Assign) or len(change.args) != 1
            or not isinstance(body[index - 1].body[0], cst.Expr)):
        return declined, ()
    target = save.body[0].targets[0].target if len(save.body[0].targets) == 1 else None
    restored = restore.args[0].value if len(restore.args) == 1 else None
    if not (isinstance(target, cst.Name) and isinstance(restored, cst.Name)
            and restored.value == target.value):
        return declined, ()
    function = call.function.node
    if uses_of_local(function, target.value) != 2:
        return declined, ()
    directory = change.args[0].value
    if not pure(directory):
        return declined, ()
    fix = _flattened(model, (save, body[index - 1], attempt), attempt.body, directory,
                     "Pass `cwd=` to the subprocess calls instead of changing directory")
    return fix, (change, restore)
