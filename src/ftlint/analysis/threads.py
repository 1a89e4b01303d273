"""What hands code to other threads, and calls that touch process-wide state.

The builder calls :func:`note_call` for every call; this module decides if
the call starts a thread (an entry point for reachability) or uses one of the
GIL-reliant idioms that the FT3xx rules report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from ftlint.analysis.model import EntryPoint, GlobalCall, IteratorHandoff
from ftlint.analysis.names import dotted
from ftlint.analysis.walk import children

if TYPE_CHECKING:
    from ftlint.analysis.builder import ModelBuilder

# constructor -> (keyword of the callable, its position)
THREAD_STARTERS = {
    "threading.Thread": ("target", 1),
    "threading.Timer": ("function", 1),
    "_thread.start_new_thread": ("function", 0),
    "_thread.start_new": ("function", 0),
    "asyncio.to_thread": ("func", 0),
    "concurrent.futures.ThreadPoolExecutor": ("initializer", 2),
}
HANDLER_BASES = frozenset({
    "socketserver.BaseRequestHandler", "socketserver.StreamRequestHandler",
    "socketserver.DatagramRequestHandler", "http.server.BaseHTTPRequestHandler",
    "http.server.SimpleHTTPRequestHandler", "wsgiref.simple_server.WSGIRequestHandler",
})
HANDLER_METHODS = frozenset({"handle", "setup", "finish"})

PROCESS_GLOBAL_CALLS = frozenset({
    "os.putenv", "os.unsetenv", "os.chdir", "os.fchdir", "os.umask", "contextlib.chdir",
    "contextlib.redirect_stdout", "contextlib.redirect_stderr", "locale.setlocale",
    "socket.setdefaulttimeout", "sys.setrecursionlimit", "warnings.catch_warnings",
    "warnings.simplefilter", "warnings.filterwarnings", "warnings.resetwarnings",
    "time.tzset", "sys.setdlopenflags", "locale.getpreferredencoding",
})
PROCESS_GLOBAL_STATE = frozenset({"os.environ", "os.environb", "sys.stdout", "sys.stderr",
                                  "sys.stdin"})
SWITCH_INTERVAL = frozenset({"sys.setswitchinterval", "sys.getswitchinterval",
                             "sys.setcheckinterval", "sys.getcheckinterval"})
REFCOUNT = frozenset({"sys.getrefcount"})
WATCHED = PROCESS_GLOBAL_CALLS | SWITCH_INTERVAL | REFCOUNT


def _argument(call: cst.Call, keyword: str, position: int) -> Optional[cst.BaseExpression]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[position].value if position < len(positional) else None


def _callable(builder: "ModelBuilder", expr: cst.BaseExpression) -> Optional[str]:
    """The function an expression stands for: ``f``, ``self.run``, ``partial(f)``."""
    if isinstance(expr, cst.Lambda) and isinstance(expr.body, cst.Call):
        expr = expr.body.func
    if isinstance(expr, cst.Call) and builder.imports.qualify(expr.func) == "functools.partial":
        expr = expr.args[0].value if expr.args else expr
    key = builder.lock_key(expr)  # resolves self.x to Class.x
    return key if key and not key.endswith("()") else None


def note_call(builder: "ModelBuilder", node: cst.Call, qualified: Optional[str]) -> None:
    model = builder.model
    function = builder.function()
    if qualified == "locale.getpreferredencoding" and _argument(node, "do_setlocale", 0) is not None:
        arg = _argument(node, "do_setlocale", 0)
        if isinstance(arg, cst.Name) and arg.value == "False":
            qualified = None  # getpreferredencoding(False) does not call setlocale
    if qualified in WATCHED:
        model.global_calls.append(GlobalCall(qualified, node, function, builder.held(),
                                             in_test=builder.in_test > 0))
    starter = THREAD_STARTERS.get(qualified or "")
    target = kind = None
    if starter is not None:
        target, kind = _argument(node, *starter), f"{qualified.rsplit('.', 1)[-1]}()"
    elif isinstance(node.func, cst.Attribute):
        method = node.func.attr.value
        receiver = dotted(node.func.value) or ""
        if method == "submit":
            target, kind = _argument(node, "fn", 0), "executor.submit()"
        elif method == "map" and ("pool" in receiver.lower() or "executor" in receiver.lower()
                                  or receiver in builder.executors):
            target, kind = _argument(node, "fn", 0), "executor.map()"
        elif method == "run_in_executor":
            target, kind = _argument(node, "func", 1), "loop.run_in_executor()"
    if target is None:
        return
    _note_handoffs(builder, node, target)
    name = _callable(builder, target)
    if name is not None:
        resolved = builder.imports.qualify(target) if isinstance(target, (cst.Name, cst.Attribute)) else None
        single = kind == "Thread()" and not _repeated(builder, node)
        model.entry_points.append(EntryPoint(name, resolved, kind, node, function, single))


def _repeated(builder: "ModelBuilder", node: cst.Call) -> bool:
    """The call runs more than once per run of its function: in a loop or a
    comprehension."""
    if builder.loop_depth > 0:
        return True
    statement = builder.statements[-1] if builder.statements else None
    if statement is None:
        return False
    stack: list = [statement]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            inner = [current]
            while inner:
                item = inner.pop()
                if item is node:
                    return True
                inner.extend(children(item))
        stack.extend(children(current))
    return False


def _note_handoffs(builder: "ModelBuilder", node: cst.Call, target: cst.BaseExpression) -> None:
    """Local iterators among the arguments handed to the other thread."""
    values = []
    for arg in node.args:
        if arg.value is target:
            continue
        if arg.keyword is not None and arg.keyword.value in ("args", "kwargs") and isinstance(
                arg.value, (cst.Tuple, cst.List)):
            values.extend(e.value for e in arg.value.elements)
        elif arg.keyword is None or arg.keyword.value not in ("daemon", "name", "group"):
            values.append(arg.value)
    for value in values:
        if not isinstance(value, cst.Name):
            continue
        for frame in reversed(builder.frames):
            bound = frame.local_iterators.get(value.value)
            if bound is not None:
                builder.model.iterator_handoffs.append(IteratorHandoff(
                    value.value, bound, node, builder.function(), builder.loop_depth > 0))
                break


def note_class(builder: "ModelBuilder", qualname: str, node: cst.ClassDef) -> None:
    bases = []
    for arg in node.bases:
        name = builder.imports.qualify(arg.value) or dotted(arg.value)
        if name:
            bases.append(name)
    builder.model.class_bases[qualname] = tuple(bases)
    docstring = node.get_docstring()
    if docstring:
        builder.model.class_docstrings[qualname] = docstring
