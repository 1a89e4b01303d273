"""A module's :class:`~ftlint.project.ModuleSummary`, from its model: what
the project pass needs to know about it (functions, call edges, thread entry
points, start-up code, declared thread safety)."""

from __future__ import annotations

import re
from typing import Iterable, Optional

import libcst as cst

from ftlint.analysis.keys import iter_subexpressions
from ftlint.analysis.names import dotted
from ftlint.analysis.walk import walk_own
from ftlint.analysis.model import (
    NOT_THREAD_SAFE, Function, ModuleModel, base_where, is_main_guard, returned_functions,
)
from ftlint.analysis.threads import HANDLER_BASES, HANDLER_METHODS
from ftlint.project import ModuleSummary, Target, constructor

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A method's docstring that makes it the exception: "This is the only
# thread-safe method in `Connection`; all other manipulations must happen on
# the connection's thread."
ONLY_THREAD_SAFE = re.compile(
    r"\bonly\s+[*_`]*thread[- ]?safe[*_`]*\s+(?:method|function|call|operation|API)\b",
    re.IGNORECASE,
)

def _declares_unsafe(model: ModuleModel, ref: tuple, docstring: Optional[str],
                     owner: Optional[str] = None) -> tuple[bool, frozenset[str]]:
    """Does the module or class (``owner``) declare itself not thread-safe
    (``__thread_safe__ = False``, or its docstring says so)? And which other
    classes of the module its docstring says so of: "It is not safe to pass
    PubSub or Pipeline objects between threads" is about those two classes,
    not the one it documents."""
    binding = model.bindings.get(ref)
    itself = binding is not None and getattr(binding.node, "value", None) == "False"
    named: set[str] = set()
    for sentence in _SENTENCE_END.split(docstring or ""):
        if not NOT_THREAD_SAFE.search(sentence):
            continue
        others = {c for c in model.classes if c != owner and "." not in c
                  and re.search(rf"\b{re.escape(c)}\b", sentence)}
        if others:
            named |= others
        else:
            itself = True
    return itself, frozenset(named)


# Calls that fork the process in place (not `subprocess`, which execs).
FORKS = frozenset({"os.fork", "os.forkpty", "pty.fork"})


def forks(model: ModuleModel) -> bool:
    return any(call.qualified in FORKS for call in model.calls)


def summarize(model: ModuleModel, module: str) -> ModuleSummary:
    summary = ModuleSummary(module)
    summary.functions = {f.qualname: f.decorators for f in model.functions}
    summary.classes = set(model.classes)
    in_main_block = model.main_block_nodes
    for ref, binding in model.bindings.items():
        value = binding.node
        if (ref[0] == "global" and isinstance(value, cst.Call) and id(value) not in in_main_block and isinstance(value.func, cst.Name)
                and value.func.value in summary.classes):
            summary.instances[ref[1]] = value.func.value
    summary.not_thread_safe, named = _declares_unsafe(model, ("global", "__thread_safe__"),
                                                      model.docstring)
    summary.unsafe_classes = set(named)
    for c in model.classes:
        itself, named = _declares_unsafe(model, ("class", c, "__thread_safe__"),
                                         model.class_docstrings.get(c), c)
        summary.unsafe_classes |= named | ({c} if itself else set())
    summary.test_classes = {c for c in model.classes if base_where(c, model, _is_test_case)}
    for f in model.functions:
        docstring = f.node.get_docstring() if f.class_name and f.parent is None else None
        if docstring and ONLY_THREAD_SAFE.search(docstring):
            summary.unsafe_classes.add(f.class_name)
            summary.safe_methods.add(f.qualname)

    def resolve(callee: str, qualified: Optional[str], caller: Optional[Function]) -> Optional[Target]:
        method = _method_of(caller)
        if method is not None and method.self_name and callee.startswith(method.self_name + "."):
            callee = method.class_name + callee[len(method.self_name):]
        scope = caller
        while scope is not None:
            if f"{scope.qualname}.{callee}" in summary.functions:
                return ("local", f"{scope.qualname}.{callee}")
            scope = scope.parent
        found = _local(callee, summary, model)
        if found is not None:
            return ("local", found)
        return ("ext", qualified) if qualified else None

    summary.startup = _startup(model, module, summary)
    summary.registrars = _registrars(model)
    summary.import_calls = _import_time_calls(model, resolve)
    summary.returns = _returned_closures(model, summary)
    summary.locks_internally = model.locks_internally
    summary.forks = forks(model)
    before_start = _before_thread_start(model)
    for call in model.calls:
        if call.caller is None:
            continue
        target = resolve(call.callee, call.qualified, call.caller)
        if target is not None:
            if id(call.node) in before_start:
                summary.before_start.add(len(summary.edges))
            summary.edges.append((call.caller.qualname, target))
        else:
            receiver, _, name = call.callee.rpartition(".")
            me = _self_name(call.caller)
            if (name in _CONTROL and me and receiver.startswith(f"{me}.")
                    and receiver.count(".") == 1):
                # `self.monitor.stop()`: an object this one keeps, told to
                # stop from the keeper's thread.
                summary.called_names.add(name)
        if call.callee == "getattr":
            for qual in _dispatched(call, summary):
                summary.edges.append((call.caller.qualname, ("local", qual)))
    for entry in model.entry_points:
        target = resolve(entry.target, entry.qualified, entry.function)
        if target is not None:
            where = f" in `{entry.function.qualname}()`" if entry.function else ""
            if entry.single:
                summary.single_entries.add(len(summary.entries))
            summary.entries.append((target, f"`{entry.kind}`{where} ({module})"))
    for cls, bases in model.class_bases.items():
        if cls in model.thread_classes:
            summary.single_entries.add(len(summary.entries))  # one thread per object
            summary.entries.append((("local", f"{cls}.run"), f"`{cls}.run()`, a Thread subclass"))
        if _inherits(cls, HANDLER_BASES, model):
            for qual in summary.functions:
                owner, _, name = qual.rpartition(".")
                if owner == cls and (name in HANDLER_METHODS or name.startswith("do_")):
                    summary.entries.append((("local", qual), f"`{qual}()`, a request handler"))
    for access in model.accesses:
        function = access.function
        if (access.write and access.ref[0] == "instance" and function is not None
                and not access.import_time and not function.in_constructor
                and id(access.statement) not in before_start):
            writers = summary.writers.setdefault(f"{access.ref[1]}.{access.ref[2]}", [])
            if function.qualname not in writers:
                writers.append(function.qualname)
    return summary


# The methods by which other threads control a thread's object: calling
# them from another thread is what they are for. (Other methods that the
# thread runs, such as a `loop_forever()` a program may call instead of
# starting the thread, are the other way in, not a second thread.)
_CONTROL = frozenset({"stop", "close", "shutdown", "cancel", "terminate", "kill", "join",
                      "interrupt"})


def _self_name(function: Function) -> Optional[str]:
    """The name of the object's own parameter (`self`) in ``function``."""
    method = _method_of(function)
    return method.self_name if method is not None else None


def _before_thread_start(model: ModuleModel) -> frozenset[int]:
    """The statements of a Thread subclass's own ``start()`` that run before
    it calls ``super().start()``: the thread does not exist yet, so what they
    write is set up for it, like ``__init__``'s stores, and no update of
    theirs can cross one of its ``run()``."""
    found: set[int] = set()
    for function in model.functions:
        if (function.name != "start" or function.parent is not None
                or function.class_name not in model.thread_classes):
            continue
        body = function.node.body
        statements = body.body if isinstance(body, cst.IndentedBlock) else ()
        before: list[int] = []
        for statement in statements:
            if any(_starts_thread(call) for call in _calls_in(statement)):
                found.update(before)
                break
            before.extend(id(node) for node in walk_own(statement))
    return frozenset(found)


def _starts_thread(call: cst.Call) -> bool:
    """``super().start()``, ``super(Cls, self).start()`` or
    ``threading.Thread.start(self)``."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "start"):
        return False
    owner = func.value
    if isinstance(owner, cst.Call):
        return dotted(owner.func) == "super"
    return (dotted(owner) or "").rpartition(".")[2] == "Thread" and bool(call.args)


_CLI_DECORATORS = ("command", "group", "callback")


def _import_time_calls(model: ModuleModel, resolve) -> list[tuple[Target, str]]:
    """What the module's top-level code calls while it is imported, and how:
    "call", "decorator" (``@register``) or "factory" (``@register(X)``, whose
    returned function is applied at once). Not the ``__main__`` block, which
    runs only when the module is run, nor ``if TYPE_CHECKING:``."""
    never = model.type_checking_nodes | model.main_block_nodes
    decorators: dict[int, str] = {}
    plain: list[cst.BaseExpression] = []
    stack: list[cst.CSTNode] = list(model.module.body)
    while stack:
        node = stack.pop()
        if id(node) in never:
            continue
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            for decorator in node.decorators:
                expr = decorator.decorator
                if isinstance(expr, cst.Call):
                    decorators[id(expr)] = "factory"
                else:
                    plain.append(expr)
            if isinstance(node, cst.ClassDef):
                stack.extend(node.body.children)
        elif isinstance(node, (cst.BaseCompoundStatement, cst.BaseSuite)):
            stack.extend(node.children)  # `if`, `try` and `with` at the top level
    found: list[tuple[Target, str]] = []
    for call in model.calls:
        if call.caller is None and id(call.node) not in never:
            target = resolve(call.callee, call.qualified, None)
            if target is not None:
                found.append((target, decorators.get(id(call.node), "call")))
    for expr in plain:
        name = dotted(expr)
        if not name:
            continue
        target = resolve(name, model.qualify(expr), None)
        if target is not None:
            found.append((target, "decorator"))
    return found


def _returned_closures(model: ModuleModel, summary: ModuleSummary) -> dict[str, list[str]]:
    """Functions that return a function they define (``return decorate``)."""
    outer = {id(f.parent): f.parent for f in model.functions if f.parent is not None}
    found: dict[str, list[str]] = {}
    for function in outer.values():
        nested = [f"{function.qualname}.{name}" for name in sorted(returned_functions(function))]
        nested = [q for q in nested if q in summary.functions]
        if nested:
            found[function.qualname] = nested
    return found


# Python runs `atexit` handlers once, after it has joined the program's
# (non-daemon) threads: a shut-down phase, single-threaded as start-up is.
_AT_EXIT = ("shut-down code: `{}()` is an `atexit` handler, run once after the program's "
            "threads are joined")


def _startup(model: ModuleModel, module: str, summary: ModuleSummary) -> dict[str, str]:
    """Functions that run while the program starts, before it has threads:
    ``main()``, CLI commands, what the ``__main__`` block calls, and all of a
    ``__main__`` module. Nested functions count with their outer one."""
    roots: dict[str, str] = {}
    if module == "__main__" or module.endswith(".__main__"):
        return {q: "the module runs as `__main__`" for q in summary.functions}
    if "main" in summary.functions:
        roots["main"] = "`main()` runs at start-up"
    for qual in summary.functions:
        owner, _, name = qual.rpartition(".")
        if name == "main" and owner in summary.classes:  # click's Command.main, unittest's
            roots[qual] = f"`{qual}()`, a program's entry point, runs at start-up"
    for qual, decorators in summary.functions.items():
        if "." not in qual and any(d.rpartition(".")[2] in _CLI_DECORATORS and "." in d
                                   for d in decorators):
            roots[qual] = "a command-line command, run at start-up"
    for statement in model.module.body:
        if isinstance(statement, cst.If) and is_main_guard(statement.test):
            for node in _calls_in(statement.body):
                name = node.func.value if isinstance(node.func, cst.Name) else None
                if name in summary.functions:
                    roots[name] = "called from the `__main__` block"
                # `Tool()(*sys.argv[1:])` and `Tool().run()`: the method of an
                # object the block makes.
                made, method = node.func, "__call__"
                if isinstance(made, cst.Attribute):
                    made, method = made.value, made.attr.value
                if (isinstance(made, cst.Call) and isinstance(made.func, cst.Name)
                        and made.func.value in summary.classes
                        and f"{made.func.value}.{method}" in summary.functions):
                    roots[f"{made.func.value}.{method}"] = "called from the `__main__` block"
    for cls in model.class_bases:
        base = base_where(cls, model, _is_cli_base)
        if base is not None:
            roots[cls] = f"a command-line class (`{base}`), run at start-up"
    called = {c.callee.rpartition(".")[2] for c in model.calls if c.caller is not None}
    for function in model.functions:
        if function.parent is not None:
            continue
        if _BOOT_HOOK.search(function.name):
            # `after_process_boot()`, `on_startup()`: hooks a framework runs
            # while a process starts, before it starts its worker threads.
            roots.setdefault(function.qualname, f"`{function.qualname}()` is a boot hook, run "
                                                "while the process starts, before its threads")
        elif not (function.is_private or function.name in called or function.class_name):
            # `enableTrace(True)`: a public function that sets up logging (adds
            # a handler, sets a level) and that nothing in the module calls:
            # programs call it once while they start, as `logging.basicConfig()`.
            setup = _logging_setup(function)
            if setup is not None:
                roots.setdefault(function.qualname, f"`{function.qualname}()` sets up logging "
                                                    f"(`{setup}()`), which programs do while "
                                                    "they start")
    for function in model.functions:
        # Hooks that run while a class statement runs: at import time.
        cls = function.class_name
        if cls and function.parent is None and (
                function.name in _CLASS_CREATION_HOOKS
                or function.name in _METACLASS_HOOKS and base_where(cls, model, _is_metaclass)):
            roots.setdefault(function.qualname, f"`{function.qualname}()` runs when a class is "
                                                "defined, at import time")
    for qual, decorators in summary.functions.items():
        # `@atexit.register` on a function, or under `@staticmethod` in a class.
        if "atexit.register" in decorators:
            roots.setdefault(qual, _AT_EXIT.format(qual))
    for call in model.calls:
        if call.qualified == "atexit.register" and call.node.args:
            first = call.node.args[0].value
            if isinstance(first, cst.Name) and first.value in summary.functions:
                roots.setdefault(first.value, _AT_EXIT.format(first.value))
        if call.qualified in _MAIN_THREAD_ONLY and call.caller is not None:
            # Python allows these only in the main thread: the class is the
            # process's controller (a pre-fork master, a worker process).
            outer = call.caller
            while outer.parent is not None:
                outer = outer.parent
            owner = outer.class_name or outer.qualname
            roots.setdefault(owner, f"{'a method of ' if outer.class_name else ''}`{owner}`, "
                                    f"which installs signal handlers (`{call.qualified}`) and "
                                    "so runs in the main thread, which controls the process")
        qualified = call.qualified or call.callee
        if qualified.partition(".")[0] in _CLI_PACKAGES:
            for arg in call.node.args:  # click.Option(..., callback=load_env)
                if (arg.keyword is not None and arg.keyword.value == "callback"
                        and isinstance(arg.value, cst.Name) and arg.value.value in summary.functions):
                    roots.setdefault(arg.value.value, "a command-line callback, run at start-up")
        if call.caller is not None and call.callee.rpartition(".")[2] in SERVER_STARTS:
            outer = call.caller
            while outer.parent is not None:
                outer = outer.parent
            roots.setdefault(outer.qualname, f"starts a server (`{call.callee}()`) and runs "
                                             "before its threads")
    found = {}
    for qual in summary.functions:
        parts = qual.split(".")
        for i in range(1, len(parts) + 1):
            root = ".".join(parts[:i])
            if root in roots:
                found[qual] = roots[root]
                break
    return found


def _registrars(model: ModuleModel) -> dict[str, tuple[str, ...]]:
    """Module-level functions, classmethods and staticmethods named as a
    registration (`register_x`, `unregister`, `_register_y`, `add_z`,
    `instrument_client`) that write state kept on the module or the class:
    qualname -> the registries it changes (`_HANDLERS`, `Cls._types`), the
    tables a program fills while it sets up. A method of an instance
    (`daemon.register(obj)`) is not one: its object serves while others
    register."""
    found: dict[str, list[str]] = {}
    for access in model.accesses:
        function = access.function
        if not access.write or function is None or access.ref[0] not in ("global", "class"):
            continue
        function = function.outermost
        if not _REGISTRATION.match(function.name):
            continue
        if function.name.lstrip("_").startswith("add") and function.class_name is None:
            continue  # a module's `add_bytes(data)` is no registration API: a class's may be
        if function.class_name is None or function.kind in ("classmethod", "staticmethod"):
            registry = ".".join(access.ref[1:])
            names = found.setdefault(function.qualname, [])
            if registry not in names:
                names.append(registry)
    return {qual: tuple(names) for qual, names in found.items()}


_REGISTRATION = re.compile(r"_*(?:(?:un|de)?(?:[rR]egister|[iI]nstrument)(?:$|_|[A-Z])|add(?:_|[A-Z]))")


def _logging_setup(function: Function) -> Optional[str]:
    """The logging set-up call (`addHandler`, `setLevel`, ...) of a function
    that returns nothing: a getter that adds a handler on first use
    (`get_logger()`) runs anywhere, at any time."""
    found = None
    for node in walk_own(function.node):
        if isinstance(node, cst.Return) and node.value is not None:
            return None
        if (found is None and isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                and node.func.attr.value in _LOGGING_SETUP):
            found = node.func.attr.value
    return found


_LOGGING_SETUP = frozenset({"addHandler", "removeHandler", "setLevel", "basicConfig",
                            "dictConfig", "fileConfig", "setFormatter", "addFilter"})
_BOOT_HOOK = re.compile(r"(?:^|_)(?:boot|startup|start_up|bootstrap)(?:$|_)", re.IGNORECASE)
_CLASS_CREATION_HOOKS = frozenset({"__init_subclass__", "__set_name__"})
_METACLASS_HOOKS = frozenset({"__new__", "__init__", "__prepare__"})


def _is_metaclass(base: str) -> bool:
    return base in ("type", "builtins.type") or base.rpartition(".")[2] in ("ABCMeta", "EnumMeta",
                                                                            "EnumType")


# Calls Python allows only in the main thread of the main interpreter.
_MAIN_THREAD_ONLY = frozenset({"signal.signal", "signal.set_wakeup_fd", "signal.siginterrupt"})
# Calls that start serving and block: the code before them runs alone.
SERVER_STARTS = frozenset({"serve_forever", "run_simple", "run_forever", "run_app"})
# Command-line frameworks: their command and group classes run while the
# program parses its arguments, before it starts threads.
_CLI_PACKAGES = ("click", "typer", "cleo", "cliff")
_CLI_CLASSES = frozenset({"argparse.ArgumentParser", "argparse.Action", "optparse.OptionParser"})


def _is_cli_base(base: str) -> bool:
    return base.partition(".")[0] in _CLI_PACKAGES and "." in base or base in _CLI_CLASSES


def _method_of(function: Optional[Function]) -> Optional[Function]:
    """The method ``function`` is (or is nested in), if any."""
    while function is not None and function.class_name is None:
        function = function.parent
    return function


def _dispatched(call, summary: ModuleSummary) -> list[str]:
    """The methods `getattr(self, "cmd_" + name)` may return: those of the
    caller's class whose names start with the literal prefix (also written
    `"cmd_%s" % name` or `f"cmd_{name}"`). A command dispatcher calls them."""
    method = _method_of(call.caller)
    args = call.node.args
    if (method is None or method.self_name is None or len(args) < 2
            or not isinstance(args[0].value, cst.Name) or args[0].value.value != method.self_name):
        return []
    name = args[1].value
    prefix = None
    if isinstance(name, cst.BinaryOperation) and isinstance(name.left, cst.SimpleString):
        text = name.left.evaluated_value
        if isinstance(text, str):
            prefix = text if isinstance(name.operator, cst.Add) else (
                text.partition("%")[0] if isinstance(name.operator, cst.Modulo) else None)
    elif isinstance(name, cst.FormattedString) and name.parts and isinstance(
            name.parts[0], cst.FormattedStringText):
        prefix = name.parts[0].value
    # A prefix names a family (`cmd_`, `do_`, `handle`), not every private method.
    if not prefix or len(prefix.strip("_")) < 2:
        return []
    owner = f"{method.class_name}."
    return [q for q in summary.functions
            if q.startswith(owner) and "." not in q[len(owner):]
            and q[len(owner):].startswith(prefix)]


def _calls_in(node: cst.CSTNode) -> Iterable[cst.Call]:
    return (e for e in iter_subexpressions(node) if isinstance(e, cst.Call))


def _is_test_case(base: str) -> bool:
    """unittest's convention: `unittest.TestCase`, `IsolatedAsyncioTestCase`,
    and the frameworks' own (`tornado.testing.AsyncHTTPTestCase`,
    `django.test.TestCase`) all end in `TestCase`."""
    return base.rpartition(".")[2].endswith("TestCase")


def _inherits(cls: str, bases: frozenset, model: ModuleModel) -> bool:
    return base_where(cls, model, bases.__contains__) is not None




def _local(callee: str, summary: ModuleSummary, model: ModuleModel) -> Optional[str]:
    if callee in summary.functions:
        return callee
    head, _, rest = callee.partition(".")
    if head in summary.instances and rest:
        callee = f"{summary.instances[head]}.{rest}"  # STATS.count() on STATS = Stats()
        if callee in summary.functions:
            return callee
    made = constructor(callee, summary)
    if made is not None:
        return made
    owner, _, name = callee.rpartition(".")
    seen = 0
    while owner in summary.classes and seen < 10:  # inherited methods, same module
        for base in model.class_bases.get(owner, ()):
            if f"{base}.{name}" in summary.functions:
                return f"{base}.{name}"
        bases = [b for b in model.class_bases.get(owner, ()) if b in summary.classes]
        owner = bases[0] if bases else ""
        seen += 1
    return None
