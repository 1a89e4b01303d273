"""Where a new lock must not be held: around code that calls out.

A lock the fix adds is held only around the fix's own unit of work. If that
unit calls a callback, a listener, a callable that was passed in, an unknown
method of another object, or does I/O, the lock is held while code runs that
ftlint cannot see. That code may call back into the object and take the same
lock (a hang with a plain `Lock`), take other locks in the opposite order, or
block, so that every other thread waits on the network. Code that runs at
arbitrary points of another thread's work (a finalizer, a signal handler, a
fork handler) must not take a lock that thread may hold either.

:func:`calls_out` names the first such call in a region; the lock fixes
decline with it, and the check-then-act fix publishes with one atomic call
instead of holding a lock around the work.
"""

from __future__ import annotations

import sys
from typing import Optional

import libcst as cst

from ftlint.analysis.model import Function, ModuleModel, Mutability
from ftlint.analysis.names import dotted
from ftlint.analysis.walk import walk_own
from ftlint.fixes.tree import code_children, per_model, walk_code

# Calls that do I/O or block: a lock held across them makes every other
# thread wait on the outside world. Qualified names, or prefixes ending in ".".
_IO = (
    "builtins.open", "builtins.print", "builtins.input", "time.sleep", "subprocess.",
    "socket.create_connection", "socket.getaddrinfo", "socket.gethostbyname", "select.",
    "http.client.", "urllib.request.urlopen", "requests.get", "requests.post", "requests.put",
    "requests.patch", "requests.delete", "requests.head", "requests.options", "requests.request",
    "httpx.get", "httpx.post", "httpx.put", "httpx.patch", "httpx.delete", "httpx.head",
    "httpx.request", "smtplib.", "ftplib.", "shutil.", "sqlite3.connect", "os.system",
    "os.popen", "os.read", "os.write", "os.wait", "os.waitpid", "os.fsync", "os.kill",
    "webbrowser.", "getpass.",
    # File-system queries: each is a system call that can stall on a slow or
    # network disk, and a lock held across them is held while a fork copies
    # the process (a child that inherits it held never gets it).
    "os.stat", "os.lstat", "os.listdir", "os.scandir", "os.walk", "os.readlink",
    "os.path.exists", "os.path.lexists", "os.path.isfile", "os.path.isdir",
    "os.path.islink", "os.path.ismount", "os.path.realpath", "os.path.getsize",
    "os.path.getmtime", "os.path.getatime", "os.path.getctime", "os.path.samefile",
    "glob.glob", "glob.iglob",
    # User and group lookups go through the name service switch, which may
    # ask LDAP or NIS over the network.
    "pwd.getpwnam", "pwd.getpwuid", "pwd.getpwall", "grp.getgrnam", "grp.getgrgid",
    "grp.getgrall", "socket.gethostbyaddr", "socket.getfqdn",
    # Loading a shared library reads it from disk and runs its initialisers
    # (constructors, DllMain) under the dynamic loader's own lock.
    "ctypes.CDLL", "ctypes.PyDLL", "ctypes.WinDLL", "ctypes.OleDLL", "ctypes.cdll.",
    "ctypes.windll.", "ctypes.oledll.", "ctypes.pydll.", "ctypes.util.find_library",
)

# Methods that block or do I/O whatever the object: waiting on another
# thread, a file, a socket or a future.
_BLOCKING_METHODS = frozenset({
    "join", "wait", "wait_for", "result", "recv", "recv_into", "recvfrom", "send",
    "sendall", "sendto", "accept", "connect", "read", "readline", "readlines", "write",
    "writelines", "flush", "fsync", "sleep", "acquire", "urlopen", "request", "execute",
    "executemany", "commit", "communicate", "select", "poll",
})

# Methods of the built-in containers and strings, and of the lock
# primitives' non-blocking side: calling them runs no code of anyone else's.
_KNOWN_METHODS = frozenset({
    # mappings, sets, sequences
    "get", "items", "keys", "values", "setdefault", "pop", "popitem", "update", "copy",
    "clear", "append", "appendleft", "extend", "extendleft", "insert", "remove", "index",
    "count", "sort", "reverse", "add", "discard", "difference", "union", "intersection",
    "issubset", "issuperset", "isdisjoint", "symmetric_difference", "difference_update",
    "intersection_update", "symmetric_difference_update", "popleft", "rotate",
    "move_to_end", "most_common", "elements", "fromkeys", "total",
    # strings and bytes
    "lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "join",
    "startswith", "endswith", "format", "format_map", "replace", "encode", "decode", "find",
    "rfind", "partition", "rpartition", "casefold", "title", "capitalize", "isdigit",
    "isidentifier", "isalnum", "isalpha", "isspace", "zfill", "ljust", "rjust", "center",
    "hex", "to_bytes", "from_bytes", "bit_length", "is_integer",
    # non-blocking sides of the primitives, and time
    "is_set", "locked", "release", "set", "notify", "notify_all", "put_nowait", "get_nowait",
    "qsize", "empty", "full", "is_alive", "start", "time", "monotonic", "perf_counter", "getpid",
    "get_ident", "total_seconds", "isoformat", "timestamp",
    # logging: handlers take their own locks and never call back into user state
    "debug", "info", "warning", "warn", "error", "exception", "critical", "log",
})

_CONTAINER_KINDS = frozenset({
    "list", "dict", "set", "deque", "defaultdict", "OrderedDict", "Counter", "frozenset",
    "tuple", "str", "bytes", "bytearray", "WeakSet", "WeakKeyDictionary", "WeakValueDictionary",
    "ChainMap", "lock",
})


def _params(function: Optional[Function]) -> set[str]:
    """Parameter names of ``function`` and of the functions around it."""
    names: set[str] = set()
    while function is not None:
        params = function.node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            names.add(param.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                names.add(star.name.value)
        if function.self_name:
            names.discard(function.self_name)
        function = function.parent
    return names


class _LoopNames:
    """Names a `for` of the function binds (`for listener in listeners:`),
    looked for the first time a call needs them: most calls never ask, and
    finding them walks the whole function."""

    __slots__ = ("model", "function")

    def __init__(self, model: ModuleModel, function: Optional[Function]) -> None:
        self.model, self.function = model, function

    def __contains__(self, name: object) -> bool:
        function = self.function
        if function is None:
            return False
        return name in per_model(self.model, f"loop names {id(function.node)}",
                                 lambda: _bound_by_loops(function))


def _bound_by_loops(function: Function) -> set[str]:
    names = set()
    for node in walk_code(function.node.body):
        if isinstance(node, (cst.For, cst.CompFor)):
            for target in walk_code(node.target):
                if isinstance(target, cst.Name):
                    names.add(target.value)
    return names


_WEAK_CALLBACKS = frozenset({"weakref.ref", "weakref.proxy", "weakref.WeakMethod",
                             "_weakref.ref", "_weakref.proxy"})

# Calls that import a module, which runs its code (and takes the import
# locks): a lock of ours held across them can deadlock with the import system
# or with the imported module's own use of the lock.
_IMPORTS = frozenset({"builtins.__import__", "importlib.import_module", "importlib.reload",
                      "importlib.__import__", "runpy.run_module", "runpy.run_path"})


def handler_names(model: ModuleModel) -> frozenset[str]:
    """Names of the functions and methods registered as signal, fork, exit or
    weak-reference handlers (`signal.signal(SIGTERM, handler)`,
    `os.register_at_fork(...)`, `weakref.ref(obj, callback)`)."""
    def compute() -> frozenset[str]:
        found = set()
        for call in model.calls:
            if call.qualified == "signal.signal" and len(call.node.args) >= 2:
                values = [call.node.args[1].value]
            elif call.qualified == "os.register_at_fork":
                values = [a.value for a in call.node.args]
            elif call.qualified in ("atexit.register", "weakref.finalize"):
                values = [a.value for a in call.node.args[:2]]
            elif call.qualified in _WEAK_CALLBACKS:
                # weakref.ref(obj, callback): the collector runs it in
                # whatever thread drops the last reference, lock held or not.
                values = [a.value for a in call.node.args[1:2]] + [
                    a.value for a in call.node.args if a.keyword is not None
                    and a.keyword.value == "callback"]
            else:
                continue
            for value in values:
                if isinstance(value, cst.Lambda):
                    # `after_in_child=lambda: Client._reinit(weak_self)`:
                    # what the lambda calls runs as the handler.
                    names = [dotted(n.func) for n in _walk_here(value.body)
                             if isinstance(n, cst.Call)]
                else:
                    names = [dotted(value)]
                found.update(name.rpartition(".")[2] for name in names if name)
        # What a handler calls of the module's own code runs in the handler
        # too: `_reinit_after_fork_weak()` calling `_reinit_registry()`.
        own = {f.name for f in model.functions}
        changed = True
        while changed:
            changed = False
            for call in model.calls:
                callee = call.callee.rpartition(".")[2]
                if (call.caller is not None and call.caller.name in found
                        and callee in own and callee not in found):
                    found.add(callee)
                    changed = True
        return frozenset(found)
    return per_model(model, "signal handlers", compute)


# Waits for another party with no bound: a new lock held across one is held
# until a client connects or someone types a line, and every other thread
# that wants it waits as long. Methods whatever the object, and functions.
_WAIT_METHODS = frozenset({"accept", "recv", "recv_into", "recvfrom", "recvmsg",
                           "serve_forever", "handle_request"})
_WAIT_CALLS = frozenset({"builtins.input", "getpass.getpass", "select.select"})

# Functions of the standard library that run code registered by anyone:
# `warnings.warn` runs the filters and the `showwarning` hook, which
# `logging.captureWarnings()` or a test framework replaces.
_HOOKED = frozenset({"warnings.warn", "warnings.warn_explicit"})


def _qualified(model: ModuleModel) -> dict[int, Optional[str]]:
    return per_model(model, "qualified calls", lambda: {id(c.node): c.qualified for c in model.calls})


def _is_io(qualified: Optional[str]) -> bool:
    return qualified is not None and any(
        qualified == p or (p.endswith(".") and qualified.startswith(p)) for p in _IO)


def _self_attribute(model: ModuleModel, cls: Optional[str], attr: str):
    if cls is None:
        return None
    return model.binding(("instance", cls, attr)) or model.binding(("class", cls, attr))


def _call_out(model: ModuleModel, call: cst.Call, function: Optional[Function],
              params: set[str], loops: _LoopNames, io: bool,
              own_callables: bool = True) -> Optional[str]:
    """Why ``call`` runs code ftlint cannot see, or None. With ``io`` false,
    I/O and blocking calls are allowed (building a value once, under a lock
    that only other builders wait on). Without ``own_callables``, a stored
    instance of a class of the module counts as a callback too (while the
    module's call-outs are worked out, which that check itself uses)."""
    qualified = _qualified(model).get(id(call))
    if qualified in _IMPORTS:
        return f"imports a module (`{qualified.replace('builtins.', '')}`), which runs its code"
    if io and _is_io(qualified):
        return f"does I/O (`{qualified.replace('builtins.', '')}`)"
    if qualified == "builtins.type" and len(call.args) == 3:
        return ("builds a class with `type()`, which runs the bases' metaclass and "
                "`__init_subclass__`")
    if io and qualified in _HOOKED:
        return (f"calls `{qualified}`, which runs the warning filters and hooks (logging "
                "handlers, other packages' code)")
    func = call.func
    name = dotted(func)
    if (name is None and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call)
            and func.attr.value in _KNOWN_METHODS):
        return None  # `f.read().count(x)`: a plain method of a value; the inner call is checked too
    if name is None:
        return "calls a callable looked up at run time"
    if qualified is not None:
        return None  # an imported or built-in function
    head, _, rest = name.partition(".")
    method = name.rpartition(".")[2]
    self_name = function.self_name if function is not None else None
    cls = function.class_name if function is not None else None
    if not rest:
        if head in params:
            return f"calls `{head}`, a callable passed in"
        if head in loops:
            return f"calls `{head}`, a callable taken from a collection (a listener or callback)"
        if (function is not None and head in function.local_names
                and not any(f.parent is function and f.name == head for f in model.functions)
                and _unknown_local(model, function, head)):
            return f"calls `{head}`, a callable taken from elsewhere (`{head}` is not built here)"
        return None  # a function of this module, or a local helper
    if head == self_name and "." not in rest:
        binding = _self_attribute(model, cls, rest)
        if binding is not None and binding.kind != "function" and not (
                own_callables and _own_callable(model, binding, io)):
            return f"calls `{name}`, a callable stored on the object (a callback)"
        return None  # a method of the class (or of a base): the reentrant-lock check sees it
    if io and method in _BLOCKING_METHODS:
        return f"calls `.{method}()`, which may block or do I/O"
    if method in _KNOWN_METHODS:
        return None
    receiver = name.rpartition(".")[0]
    if head == self_name:
        binding = _self_attribute(model, cls, receiver.partition(".")[2])
        if binding is not None and (binding.kind in _CONTAINER_KINDS or binding.mutability in (
                Mutability.LOCK, Mutability.THREADSAFE)):
            return None
        return f"calls `{name}()`, a method of another object"
    if head in params or head in loops:
        return f"calls `{name}()`, a method of an object passed in"
    if (function is not None and head != self_name and head in function.local_names
            and _unknown_local(model, function, head)):
        return (f"calls `{name}()`, a method of an object taken from elsewhere (`{head}` is "
                "not built here)")
    global_binding = model.binding(("global", head))
    if global_binding is not None and global_binding.kind in ("class", "function"):
        return None  # a class's or function's attribute of this module
    if global_binding is not None and global_binding.kind not in _CONTAINER_KINDS and (
            global_binding.mutability not in (Mutability.LOCK, Mutability.THREADSAFE)):
        return f"calls `{name}()`, a method of another object"
    return None


# Built-in callables whose results are plain values or containers.
_PLAIN_BUILDERS = frozenset({
    "list", "dict", "set", "tuple", "frozenset", "str", "bytes", "bytearray", "int", "float",
    "bool", "len", "sorted", "reversed", "range", "enumerate", "zip", "min", "max", "sum",
    "abs", "round", "repr", "format", "map", "filter", "iter", "next", "id", "hash", "type",
})


def _unknown_local(model: ModuleModel, function: Function, name: str) -> bool:
    """Is the local ``name`` bound, somewhere in ``function``, to an object
    ftlint does not know: an item of a container (`conn = self._pool[k]`),
    what a call of the module's own code or another object returns, also as
    a `with ... as` target? Literals, comprehensions, built-in values, the
    standard library's and instances of the module's own classes are known."""
    def unknown(value: Optional[cst.BaseExpression]) -> bool:
        if value is None:
            return True
        if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.Tuple, cst.ListComp, cst.DictComp,
                              cst.SetComp, cst.GeneratorExp, cst.BaseString, cst.Integer,
                              cst.Float, cst.Imaginary, cst.BinaryOperation, cst.UnaryOperation,
                              cst.Comparison, cst.BooleanOperation, cst.Lambda)):
            return False
        if isinstance(value, cst.Name):
            return value.value not in ("None", "True", "False")
        if isinstance(value, cst.Call):
            callee = dotted(value.func)
            if callee in _PLAIN_BUILDERS or callee in model.classes:
                return False
            return _qualified(model).get(id(value)) is None
        return True

    for node in walk_own(function.node):
        if isinstance(node, cst.Assign):
            for target in node.targets:
                if isinstance(target.target, cst.Name) and target.target.value == name:
                    if unknown(node.value):
                        return True
        elif isinstance(node, cst.AnnAssign):
            if isinstance(node.target, cst.Name) and node.target.value == name and unknown(
                    node.value):
                return True
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            target = node.asname.name
            if isinstance(target, cst.Name) and target.value == name and unknown(node.item):
                return True  # (`with open(p) as f:` is the standard library's file)
    return False


def _own_callable(model: ModuleModel, binding, io: bool) -> bool:
    """The attribute holds an instance of a class of this module
    (`self._ema = EMA(0.3)`) whose `__call__` ftlint can read and that only
    computes: no lock, no callback, no other object's method (and with
    ``io``, no I/O). Calling it is then not a call-out."""
    value = binding.node
    if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)):
        return False
    cls = model.classes.get(value.func.value)
    if cls is None or not isinstance(cls.body, cst.IndentedBlock):
        return False
    call = next((s for s in cls.body.body
                 if isinstance(s, cst.FunctionDef) and s.name.value == "__call__"), None)
    if call is None or _outgoing(model, io).get("__call__"):
        return False
    return not any(isinstance(n, (cst.With, cst.Yield, cst.Await))
                   or (isinstance(n, cst.Attribute) and n.attr.value == "acquire")
                   for n in _walk_here(call.body))


def _walk_here(node: cst.CSTNode):
    """The nodes of ``node`` that run with it: not the bodies of nested
    functions, lambdas or classes."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is node or not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            stack.extend(code_children(current))


# The fields of compound statements and their parts that hold statements.
_BLOCKS = ("body", "orelse", "handlers", "finalbody", "cases")


def _small_statements_here(node: cst.CSTNode):
    """The small statements (`import x`, `y = 1`) of the block ``node`` and
    of the blocks inside it, in :func:`_walk_here`'s order, without entering
    expressions, nested functions or classes."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            yield from reversed(current.body)
        elif not isinstance(current, (cst.FunctionDef, cst.ClassDef)):
            for field in _BLOCKS:
                value = getattr(current, field, None)
                if isinstance(value, (list, tuple)):
                    stack.extend(value)
                elif value is not None:
                    stack.append(value)


def calls_out(model: ModuleModel, region: cst.CSTNode, function: Optional[Function],
              io: bool = True) -> Optional[str]:
    """Why a new lock must not be held around ``region``, or None."""
    if function is not None:
        if function.name == "__del__":
            return "`__del__` can run while any thread holds the lock; a finalizer must not take it"
        if function.name in handler_names(model):
            return (f"`{function.name}` is a signal, fork, exit or weak-reference handler; it "
                    "can run while the interrupted code holds the lock")
    params = _params(function)
    loops = _LoopNames(model, function)
    for node in _walk_here(region):
        module = _foreign_import(node) if io else None
        if module is not None:
            return (f"the region imports `{module}`, which runs its code; holding a lock "
                    "around it could deadlock or stall")
        if isinstance(node, cst.Call):
            why = _call_out(model, node, function, params, loops, io)
            if not why:
                why = _hidden_through(model, node, function)
            if not why:
                why = _through_own_code(model, node, function)
            if why:
                return f"the region {why}; holding a lock around it could deadlock or stall"
    return None


def opaque_call(model: ModuleModel, region: cst.CSTNode) -> Optional[str]:
    """The first call in ``region`` to code of another module outside the
    standard library (`requests.get`, `.remote.fetch` of the same package),
    in words; None when there is none. ftlint does not see that code: it may
    do I/O or take a while, so a value it builds is built with no lock held
    where the fix has a choice (a cache fill)."""
    qualified = _qualified(model)
    for node in _walk_here(region):
        if not isinstance(node, cst.Call):
            continue
        name = qualified.get(id(node))
        if name is None:
            head = (dotted(node.func) or "").partition(".")[0]
            binding = model.binding(("global", head)) if head else None
            if binding is not None and binding.kind in ("import", "module"):
                return f"calls `{dotted(node.func)}()`, code of another module"
            continue
        top = name.partition(".")[0]
        if top != "builtins" and top not in sys.stdlib_module_names:
            return f"calls `{name}()`, code of another module"
    return None


def _through_own_code(model: ModuleModel, call: cst.Call,
                      function: Optional[Function]) -> Optional[str]:
    """Why a call of a function or method of this module (`helper()`,
    `self._find_node()`) calls code ftlint cannot see through its own body (a
    callback, another object's method), or None. Its own I/O is the builder's
    business: a value built once under a lock may take a while to build."""
    name = dotted(call.func)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    self_name = function.self_name if function is not None else None
    if rest and not (head == self_name and "." not in rest):
        return None
    built = _built_class(model, head, rest, function)
    if built is not None:
        # `Cache(...)`, or `cls(...)` in a classmethod: the constructor runs.
        reason = _constructor_calls_out(model, built)
        return f"calls `{built}()`, whose constructor {reason}" if reason else None
    callee = rest or head
    if function is not None and callee == function.name:
        return None
    reason = _outgoing(model, io=False).get(callee)
    return f"calls `{callee}()`, which {reason}" if reason else None


def _built_class(model: ModuleModel, head: str, rest: str,
                 function: Optional[Function]) -> Optional[str]:
    """The class of this module that a call `head(...)` builds: one named so
    (not shadowed by a local), or the class itself through a classmethod's
    `cls`."""
    if rest:
        return None
    if (function is not None and function.kind == "classmethod" and head == function.self_name
            and function.class_name in model.classes):
        return function.class_name
    if head in model.classes and not (function is not None and head in function.local_names):
        return head
    return None


def _constructor_calls_out(model: ModuleModel, cls: str) -> Optional[str]:
    """Why the `__new__` or `__init__` of the module's class ``cls`` calls
    code ftlint cannot see (a callable looked up at run time, another
    object's method, a callback), directly or through the module's own
    functions; None when it does not."""
    reasons = _call_reasons(model, io=False)
    outgoing = _outgoing(model, io=False)
    for call in model.calls:
        caller = call.caller.outermost if call.caller is not None else None
        if caller is None or caller.class_name != cls or caller.name not in ("__new__", "__init__"):
            continue
        reason = reasons.get(id(call.node))
        if reason:
            return reason
        callee = call.callee.rpartition(".")[2]
        if callee not in ("__new__", "__init__") and outgoing.get(callee):
            return f"calls `{callee}()`, which {outgoing[callee]}"
    return None


def _call_reasons(model: ModuleModel, io: bool = True) -> dict[int, str]:
    """id of each call node of the module that calls out -> why (with
    ``io``, I/O and blocking calls included), for the calls inside functions."""
    def compute() -> dict[int, str]:
        reasons: dict[int, str] = {}
        context: dict[int, tuple] = {}  # id(function) -> (params, loop names)
        for call in model.calls:
            caller = call.caller
            if caller is None:
                continue
            if id(caller) not in context:
                context[id(caller)] = (_params(caller), _LoopNames(model, caller))
            reason = _call_out(model, call.node, caller, *context[id(caller)], io,
                               own_callables=False)
            if reason:
                reasons[id(call.node)] = reason
        return reasons
    return per_model(model, f"call reasons {io}", compute)


def _outgoing(model: ModuleModel, io: bool = True) -> dict[str, str]:
    """Function name -> why it calls out (a callback, another object's
    method, and with ``io`` I/O), directly or through other functions of this
    module."""
    def compute() -> dict[str, str]:
        reasons = _call_reasons(model, io)
        why: dict[str, str] = {}
        callees: dict[str, set[str]] = {}
        for call in model.calls:
            if call.caller is None:
                continue
            reason = reasons.get(id(call.node))
            if reason and call.caller.name not in why:
                why[call.caller.name] = reason
            callees.setdefault(call.caller.name, set()).add(call.callee.rpartition(".")[2])
        changed = True
        while changed:
            changed = False
            for name, called in callees.items():
                if name in why:
                    continue
                hit = next((c for c in sorted(called) if c in why and c != name), None)
                if hit is not None:
                    why[name] = f"calls `{hit}()`, which {why[hit]}"
                    changed = True
        return why
    return per_model(model, f"outgoing {io}", compute)


def _handed_out_locks(model: ModuleModel) -> dict[str, str]:
    """Lock keys (`Cls.attr`) whose `acquire` or `release` method the
    module passes on without calling it (`pause=self.flow.acquire`), with
    the text that does."""
    def scan() -> dict[str, str]:
        called = set()
        found: dict[str, str] = {}
        for function in model.functions:
            if function.class_name is None or function.self_name is None:
                continue
            for node in walk_code(function.node.body):
                if isinstance(node, cst.Call):
                    called.add(id(node.func))
                elif (isinstance(node, cst.Attribute) and node.attr.value in ("acquire", "release")
                        and isinstance(node.value, cst.Attribute)
                        and isinstance(node.value.value, cst.Name)
                        and node.value.value.value == function.self_name
                        and id(node) not in called):
                    found.setdefault(f"{function.class_name}.{node.value.attr.value}",
                                     f"{function.self_name}.{node.value.attr.value}."
                                     f"{node.attr.value}")
        return found
    return per_model(model, "handed-out locks", scan)


def held_across_call_outs(model: ModuleModel, key: str) -> Optional[str]:
    """Where the existing lock ``key`` is held around code that calls out or
    blocks, in words; None when it never is. Waiting for such a lock in a new
    place waits on that I/O too, and can deadlock with the other side."""
    return per_model(model, f"held across call-outs: {key}", lambda: _held_across(model, key))


def _held_across(model: ModuleModel, key: str) -> Optional[str]:
    handed = _handed_out_locks(model).get(key)
    if handed:
        # `Assembler(pause=self.flow.acquire, resume=self.flow.release)`: the
        # other object takes and gives back the lock when it likes (a gate,
        # not a guard), so code that waits for it may wait for ever.
        return f"its `{handed}` is handed to other code, which holds it as long as it likes"
    reasons, outgoing = _call_reasons(model), _outgoing(model)
    for call in model.calls:
        if key not in call.locks or call.caller is None:
            continue
        reason = reasons.get(id(call.node))
        name = call.callee.rpartition(".")[2]
        if reason is None and name in outgoing and name != call.caller.name:
            reason = f"calls `{name}()`, which {outgoing[name]}"
        if reason:
            return f"`{call.caller.name}()` holds it while it {reason}"
    return None


def _own_callees(model: ModuleModel, call: cst.Call,
                 function: Optional[Function]) -> list[Function]:
    """The functions of this module that ``call`` runs: a module function
    (`helper()`), a method of the caller's class (`self._connect()`), or the
    `__new__` and `__init__` of a class of the module (`Rdb()`, or `cls()`
    in a classmethod)."""
    name = dotted(call.func)
    if name is None:
        return []
    head, _, rest = name.partition(".")
    built = _built_class(model, head, rest, function)
    if rest:
        if function is None or head != function.self_name or "." in rest:
            return []
        cls, targets = function.class_name, (rest,)
    elif built is not None:
        cls, targets = built, ("__new__", "__init__")
    elif function is not None and head in function.local_names:
        return []  # a local of the same name shadows the module's function
    else:
        cls, targets = None, (head,)
    return [f for f in model.functions if f.name in targets and f.parent is None
            and f.class_name == cls]


def _hidden(model: ModuleModel) -> dict[int, str]:
    """id of each function of the module -> what it does, directly or
    through the module's own functions and constructors, that a new lock
    must not be held across: a wait for another party with no bound
    (`sock.accept()`, `input()`), and the import of a module outside the
    standard library, which runs that module's code (and starts a GUI
    toolkit, a web framework or a driver) the first time: even a value
    built once under a lock must not hold it across another package's
    code, so the table is the same whether or not I/O is allowed."""
    def compute() -> dict[int, str]:
        qualified = _qualified(model)
        why: dict[int, str] = {}
        edges: dict[int, list[Function]] = {}
        for call in model.calls:
            caller = call.caller
            if caller is None:
                continue
            name = qualified.get(id(call.node))
            method = call.callee.rpartition(".")[2]
            if name in _WAIT_CALLS:
                why.setdefault(id(caller), f"waits for input (`{name.replace('builtins.', '')}`)")
            elif name is None and "." in call.callee and method in _WAIT_METHODS:
                why.setdefault(id(caller), f"waits for another party (`.{method}()`)")
            elif name is None:
                edges.setdefault(id(caller), []).extend(
                    c for c in _own_callees(model, call.node, caller) if c is not caller)
        for function in model.functions:
            module = _imported_here(function)
            if module is not None:
                why.setdefault(id(function), f"imports `{module}`, which runs its code")
        changed = True
        while changed:
            changed = False
            for function in model.functions:
                if id(function) in why:
                    continue
                hit = next((c for c in edges.get(id(function), ()) if id(c) in why), None)
                if hit is not None:
                    why[id(function)] = f"calls `{hit.name}()`, which {why[id(hit)]}"
                    changed = True
        return why
    return per_model(model, "hidden", compute)


def _imported_here(function: Function) -> Optional[str]:
    """The first module outside the standard library that ``function``
    imports in its own body (`import webview.platforms.qt`)."""
    return next(filter(None, map(_foreign_import, _small_statements_here(function.node.body))),
                None)


def _foreign_import(node: cst.CSTNode) -> Optional[str]:
    """The module outside the standard library that the statement ``node``
    imports by its absolute name, or None. (A relative import inside a
    function mostly breaks an import cycle: the module is loaded already.)"""
    if isinstance(node, cst.Import):
        names = [dotted(alias.name) for alias in node.names]
    elif isinstance(node, cst.ImportFrom) and not node.relative and node.module is not None:
        names = [dotted(node.module)]
    else:
        return None
    return next((m for m in names
                 if m and m.partition(".")[0] not in sys.stdlib_module_names), None)


def _hidden_through(model: ModuleModel, call: cst.Call,
                    function: Optional[Function]) -> Optional[str]:
    """Why the module's own function, method or constructor that ``call``
    runs must not run under a new lock (see :func:`_hidden`), or None."""
    hidden = _hidden(model)
    for callee in _own_callees(model, call, function):
        reason = hidden.get(id(callee)) if callee is not function else None
        if reason is not None:
            shown = (f"{callee.class_name}()" if callee.name in ("__new__", "__init__")
                     else f"{callee.name}()")
            return f"calls `{shown}`, which {reason}"
    return None
