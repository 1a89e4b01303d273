from __future__ import annotations

from typing import Iterator

import libcst as cst

from ftlint.analysis.model import ModuleModel
from ftlint.analysis.threads import PROCESS_GLOBAL_CALLS, PROCESS_GLOBAL_STATE
from ftlint.diagnostics import Confidence
from ftlint.fixes.process import cwd_fix
from ftlint.fixes.tree import code, inside, parents
from ftlint.rules.base import Example, Finding, Rule, defer, no_fix
from ftlint.analysis.walk import code_children, is_docstring, walk_own


class ProcessGlobalMutation(Rule):
    code = "FT302"
    name = "process-global-mutation"
    brief = "`os.environ`, `chdir`, `redirect_stdout`, `setlocale`, warnings filters at run time"
    message = "`{name}` changes process-wide state that every thread sees"
    summary = (
        "Writes to `os.environ`, `os.putenv`, `os.chdir`, `contextlib.chdir`, "
        "`sys.stdout`/`sys.stderr` swapping, `contextlib.redirect_stdout`, "
        "`locale.setlocale`, `socket.setdefaulttimeout`, "
        "`sys.setrecursionlimit` or the warnings filters, in code that runs "
        "after import."
    )
    rationale = (
        "This state belongs to the process, not the thread: no lock makes "
        "changing it safe while other threads run, because they read it "
        "without taking your lock (the C library reads the environment, every "
        "relative path depends on the working directory, every print goes to "
        "the current `sys.stdout`). Code that got away with a brief swap under "
        "the GIL now has other threads observing it. `warnings.catch_warnings` "
        "is safe only on 3.14t, where context-aware warnings are the default."
    )
    confidence_doc = (
        "high when reachable from a thread entry point (medium when only one "
        "thread, started once, reaches it: the change never runs twice at "
        "once); medium in a public "
        "function; low otherwise, and low in start-up code (`main()`, CLI "
        "commands, the `__main__` block, boot hooks such as "
        "`after_process_boot()`) and in tests. Low too for a stream installed "
        "for good (`sys.stdout = Wrapper()` with nothing saving the old one): "
        "other threads writing to it is the point; for a lasting change of "
        "the working directory, the umask, the default socket timeout or the "
        "recursion limit, made once from the program's configuration (an "
        "attribute or a constant, not the caller's argument) with no old value "
        "put back (`os.chdir(self.cfg.chdir)`): setting up the process is its "
        "purpose; for a store that only puts back the value the function "
        "saved on entry, with no change of its own (`old = sys.stdout` ... "
        "`finally: sys.stdout = old` around code it runs): a guard; for a "
        "`catch_warnings()` block that only quiets the warnings of an import, "
        "and in a function that forks to detach the process (`os.fork()`, "
        "`os.setsid()`: a daemonizing function), whose child starts with one "
        "thread. A function whose only "
        "statement is the change (`def disable_warnings(): "
        "warnings.simplefilter(...)`) is not reported: the change is its "
        "purpose. One function's changes of one piece of state (a save, set "
        "and restore of `os.environ`, `old = os.umask(m)` then `os.umask(old)`) "
        "are one finding (a `chdir()` there and back and each `with` block "
        "stay one each), and it is high in a "
        "public function when the function puts the old value back (in a "
        "`finally:` block or after a context manager's `yield`): it sets a "
        "temporary value on a library path, which every other thread sees "
        "until it is restored. A standard stream swapped and put back that "
        "way stays medium, as `with contextlib.redirect_stdout(buf):` is: "
        "capturing output is that function's purpose (a thread entry point "
        "that reaches it raises it to high). A public context manager that "
        "lends its caller the change and puts it back in its `finally:` "
        "(`@contextmanager def cd(path)`, like `contextlib.chdir()`) is low "
        "when only tests use it: the change is what it is for, and the code "
        "that uses it is what races (with no caller in sight, as when a hook "
        "checks only the changed files, it stays), and low too when every "
        "change it makes holds one lock that all its users take "
        "(`@with_lock(PUSHD_LOCK) def pushd(path)`): users take turns. "
        "Filter changes inside a reported `with "
        "warnings.catch_warnings():` block are part of that one finding."
    )
    fix = "unsafe"
    fix_doc = (
        "Pass the state explicitly: `subprocess.run(..., env=..., cwd=...)`, "
        "absolute paths, `print(..., file=stream)`, an explicit timeout, a "
        "logger. The fix does this for the working directory where the change "
        "only serves subprocesses: `with contextlib.chdir(path):`, or `old = "
        "os.getcwd(); os.chdir(path); try: ... finally: os.chdir(old)`, around "
        "nothing but `subprocess` calls whose arguments are plain values, "
        "becomes the same calls with `cwd=path`. Unsafe: a missing directory "
        "now fails when the child starts rather than at `chdir`, and on "
        "Windows a relative program name is looked up from the current "
        "directory rather than from `cwd`. The `import` that only served the "
        "old code is left for your import linter. Everything else (the "
        "environment, stdout swaps, locale, a `chdir` that is never undone or "
        "that other code in the block relies on) is left alone: the explicit "
        "form differs at every call."
    )
    no_fix_doc = (
        "A change of process-wide state other than the working directory has "
        "no fix: pass the value explicitly (`env=`, `file=`) where it is used "
        "(the message says so). "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT302` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        import os
        import subprocess

        def build(path):
            env = {**os.environ, "LC_ALL": "C"}
            subprocess.run(["make"], cwd=path, env=env, check=True)
    '''
    VALID = (
        Example('''
            import os
            os.environ.setdefault("APP_MODE", "prod")
        ''', "at import time"),
        Example('''
            import subprocess

            def build(path, env):
                subprocess.run(["make"], cwd=path, env=env, check=True)
        ''', "state passed explicitly"),
    )
    INVALID = (
        Example('''
            import os

            def build(path):
                os.chdir(path)  # expect: FT302[medium]
                os.environ["LC_ALL"] = "C"  # expect: FT302[medium]
        ''', "changing directory and environment"),
        Example('''
            import contextlib
            import io

            def _capture(func):
                buffer = io.StringIO()
                with contextlib.redirect_stdout(buffer):  # expect: FT302[low]
                    func()
                return buffer.getvalue()
        ''', "redirecting stdout"),
    )

    FIX_EXAMPLES = (
        ('''
        import contextlib
        import subprocess

        def build(path):
            with contextlib.chdir(path):
                subprocess.run(["make"], check=True)
    ''', '''
        import subprocess

        def build(path):
            subprocess.run(["make"], check=True, cwd=path)
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        found: dict[tuple, Finding] = {}  # one finding per function and state
        changes: dict[tuple, list] = {}  # (function, state) -> every change's node
        more: dict[tuple, int] = {}
        restored: dict[tuple, list] = {}  # the later changes of each key
        for finding, name, call in self._each(model):
            function = finding.function
            if (function is not None and name not in HIDDEN_CHANGES
                    and _only_this(function.node, finding.node)):
                continue  # `def disable_warnings(): warnings.simplefilter(...)`: its purpose
            # One sequence, one finding: `old = os.umask(0o077)` ... `os.umask(old)`
            # is one. A `chdir` there and back stays one finding each (the fix
            # that passes `cwd=` instead takes them as a pair), and so does
            # each `with` block, a whole sequence of its own.
            key = (function.qualname if function else None, name,
                   id(finding) if call and name in _EACH_CALL else 0)
            changes.setdefault(key[:2], []).append(finding.node)
            if key in found:
                more[key] = more.get(key, 0) + 1
                restored.setdefault(key, []).append(finding.node)
            else:
                found[key] = finding
        scoped = _inside_catch_warnings(model, found)
        held: dict[int, tuple] = {}  # node id -> locks, filled when a lender is met
        for key, finding in found.items():
            if id(finding) in scoped:
                continue  # one sequence, one finding: the `catch_warnings` block's
            if (key[1] == "warnings.catch_warnings" and finding.confidence is Confidence.MEDIUM
                    and _guards_imports_only(model, finding)):
                finding.confidence = Confidence.LOW
                finding.reason += ("; low: it only quiets the warnings of an import, which "
                                   "runs once")
            function = finding.function
            if (not key[2] and key[1] in _STREAMS and function is not None
                    and finding.confidence is Confidence.MEDIUM
                    and not function.is_generator and not _restores(function.node, key, restored)
                    and not _saves(model, function, key[1])):
                # `sys.stdout = Wrapper()`: a stream installed for good, which every
                # thread is meant to write to. (A lasting `os.environ` write stays:
                # the C library's getenv() in other threads races with it.)
                finding.confidence = Confidence.LOW
                finding.reason += ("; low: a stream installed for good (nothing saves the old "
                                   "one to put it back), so other threads using it is its purpose")
            if (not key[2] and not more.get(key) and function is not None
                    and finding.confidence > Confidence.LOW
                    and _puts_back_only(model, function, finding.node, key[1])):
                # `old = sys.stdout; try: run(code) finally: sys.stdout = old`:
                # a guard against the code it runs, not a change of its own.
                finding.confidence = Confidence.LOW
                finding.facts["benign"] = True
                finding.reason += ("; low: it only puts back the value the function saved "
                                   "on entry (a guard against the code it runs), and makes "
                                   "no change of its own")
            if (function is not None and finding.confidence > Confidence.LOW
                    and _daemonizes(model, function)):
                finding.confidence = Confidence.LOW
                finding.reason += ("; low: the function forks to detach the process "
                                   "(`os.fork()`, `os.setsid()`), and a forked child starts "
                                   "with one thread")
            if (key[1] in _LASTING and not more.get(key) and function is not None
                    and finding.confidence > Confidence.LOW and not function.is_generator
                    and function.name not in ("__enter__", "__aenter__")
                    and _configured(finding.node, function)):
                # `os.chdir(self.cfg.chdir)`, `os.umask(self.umask)` once: no
                # value is put back, so no thread sees a temporary one, and
                # the value is the program's configuration, not the caller's
                # (`build(path)` changing directory to `path` borrows the process).
                finding.confidence = Confidence.LOW
                finding.facts["benign"] = True
                finding.reason += ("; low: a lasting change (the function never puts the old "
                                   "value back): setting up the process is its purpose, and "
                                   "other threads are meant to see the new value")
            if (function is not None and function.is_public and function.is_generator
                    and _restores(function.node, key[:2], changes)):
                # `with cd(path):`, `with set_environ(k, v):`: a context
                # manager that lends its caller the change, put back in its
                # `finally:`. The project pass asks whether anything uses it.
                finding.facts["lends"] = True
            if more.get(key):
                n = more[key]
                finding.reason += f"; the same function changes it {n} more time{'s' * (n > 1)}"
                function = finding.function
                if (function is not None and function.is_public
                        and (function.is_generator or _restores(function.node, key, restored))):
                    finding.reason += (", setting a temporary value and restoring it: until it "
                                       "is restored, every thread in the process sees it")
                    # A set and a restore are not one atomic store: threads
                    # running the function overlap their swaps.
                    finding.facts["sequence"] = True
                    if key[1] in _STREAMS:
                        # The hand-written `redirect_stdout()`: capturing output
                        # is the function's purpose, and it is as medium as
                        # `with contextlib.redirect_stdout(buf):` (a thread
                        # entry point that reaches it still raises it).
                        finding.reason += ("; medium: a stream swapped to capture output, "
                                           "like `contextlib.redirect_stdout()`")
                    else:
                        finding.confidence = Confidence.HIGH
            if finding.facts.get("lends") and finding.confidence > Confidence.LOW:
                if not held:
                    held.update((id(c.node), c.locks) for c in model.global_calls)
                    held.update((id(a.node), a.locks) for a in model.accesses
                                if a.ref[0] == "ext")
                locks = [set(k for k in held.get(id(n), ()) if model.is_lock(k))
                         for n in changes[key[:2]]]
                common = set.intersection(*locks) if locks else set()
                if common:
                    # `@with_lock(PUSHD_LOCK) @contextmanager def pushd(path):`:
                    # the helper lends the change to one caller at a time;
                    # that other threads see it is what the helper is for.
                    finding.confidence = Confidence.LOW
                    shown = sorted(common)[0].lstrip("@")
                    finding.reason += (f"; low: a context manager that lends its caller the "
                                       f"change under `{shown}`, so its users take turns, and "
                                       "changing the process is its purpose")
            yield finding

    def _each(self, model: ModuleModel) -> Iterator[tuple[Finding, str, bool]]:
        for call in model.global_calls:
            if call.name not in PROCESS_GLOBAL_CALLS or call.function is None:
                continue
            if call.function.import_time_only:
                continue
            confidence = Confidence.MEDIUM if call.function.is_public else Confidence.LOW
            yield Finding(call.node, self.message.format(name=call.name), confidence,
                          "process-wide: other threads see the change, and no lock of yours stops them",
                          call.function, build=defer(cwd_fix, call)), call.name, True
        for access in model.accesses:
            if (access.ref[0] != "ext" or access.ref[1] not in PROCESS_GLOBAL_STATE
                    or not access.write or access.import_time):
                continue
            public = access.function is not None and access.function.is_public
            finding = Finding.at(access, self.message.format(name=access.ref[1]),
                                 Confidence.MEDIUM if public else Confidence.LOW,
                                 "process-wide: other threads see the change, and no lock of "
                                 "yours stops them")
            no_fix(finding, "pass the value explicitly (`env=`, `file=`) where it is used")
            yield finding, access.ref[1], False


_STREAMS = frozenset({"sys.stdin", "sys.stdout", "sys.stderr"})

# Process settings a program sets for good: one change of them, with no
# old value put back, configures the process rather than borrowing it.
_LASTING = frozenset({"os.chdir", "os.fchdir", "os.umask", "socket.setdefaulttimeout",
                      "sys.setrecursionlimit"})

# Calls reported one finding each, however many the function makes.
_EACH_CALL = frozenset({"os.chdir", "os.fchdir", "contextlib.chdir", "warnings.catch_warnings",
                        "contextlib.redirect_stdout", "contextlib.redirect_stderr"})

# Calls that make or detach a process: a daemonizing function runs them.
_FORKS = frozenset({"os.fork", "os.setsid", "os.forkpty"})


def _configured(call: cst.CSTNode, function) -> bool:
    """The call's arguments come from configuration (the object's
    attributes, module constants, literals), not from the function's own
    parameters or locals."""
    params = function.node.params
    names = {p.name.value for p in (*params.posonly_params, *params.params,
                                    *params.kwonly_params)} - {function.self_name}
    for extra in (params.star_arg, params.star_kwarg):
        if isinstance(extra, cst.Param):
            names.add(extra.name.value)
    names |= function.local_names  # which a parameter may feed
    return not any(_read(arg.value) & names for arg in getattr(call, "args", ()))


def _read(expr: cst.CSTNode) -> set[str]:
    """The names an expression reads (`self` of `self.cfg.chdir`, not `chdir`)."""
    if isinstance(expr, cst.Name):
        return {expr.value}
    if isinstance(expr, cst.Attribute):
        return _read(expr.value)
    found: set[str] = set()
    for child in code_children(expr):
        found |= _read(child)
    return found


def _daemonizes(model: ModuleModel, function) -> bool:
    """``function`` forks or starts a new session (a `daemonize()`): what it
    changes afterwards, the umask or the working directory, belongs to a
    child that has one thread."""
    return any(c.caller is function and (c.qualified in _FORKS or c.callee in _FORKS)
               for c in model.calls)

# Calls whose change of global state is a side effect, never their purpose.
HIDDEN_CHANGES = frozenset({"locale.getpreferredencoding"})


_FILTERS = frozenset({"warnings.simplefilter", "warnings.filterwarnings",
                      "warnings.resetwarnings"})


def _inside_catch_warnings(model: ModuleModel, found: dict) -> set[int]:
    """Filter changes inside a reported `with warnings.catch_warnings():` of
    the same function: the block is one sequence (save the filters, change
    them, restore them), reported once, at the `with`."""
    blocks: dict = {}
    for (qualname, name, _), finding in found.items():
        if name == "warnings.catch_warnings" and finding.function is not None:
            blocks.setdefault(qualname, []).append(finding)
    merged: set[int] = set()
    for (qualname, name, _), finding in found.items():
        if name not in _FILTERS or qualname not in blocks:
            continue
        parent_of = parents(model, finding.function.node)
        current = parent_of.get(id(finding.node))
        while current is not None:
            if isinstance(current, cst.With) and any(
                    "catch_warnings" in code(model, item.item) for item in current.items):
                merged.add(id(finding))
                outer = blocks[qualname][0]
                if "the filters inside it" not in outer.reason:
                    outer.reason += "; it changes the filters inside it too"
                break
            current = parent_of.get(id(current))
    return merged


def _guards_imports_only(model: ModuleModel, finding) -> bool:
    """`with catch_warnings(): simplefilter("ignore"); from x import y`."""
    if finding.function is None:
        return False
    parent_of = parents(model, finding.function.node)
    current = parent_of.get(id(finding.node))
    while current is not None and not isinstance(current, cst.With):
        current = parent_of.get(id(current))
    if current is None or not isinstance(current.body, cst.IndentedBlock):
        return False
    imported = False
    for statement in current.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        for small in statement.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                imported = True
            elif not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)
                      and code(model, small.value.func).rpartition(".")[2]
                      in ("simplefilter", "filterwarnings")):
                return False
    return imported


def _only_this(function: cst.CSTNode, node: cst.CSTNode) -> bool:
    """Is ``node`` in the only statement of ``function`` (docstring aside)?
    Then changing the global state is what the function is for."""
    body = getattr(function, "body", None)
    if isinstance(body, cst.SimpleStatementSuite):
        statements = list(body.body)
    elif isinstance(body, cst.IndentedBlock):
        statements = list(body.body)
        if statements and is_docstring(statements[0]):
            statements = statements[1:]
    else:
        return False
    # One simple statement: a `with chdir(...):` around other work is no
    # function whose purpose is the change.
    if len(statements) != 1 or isinstance(statements[0], cst.BaseCompoundStatement):
        return False
    return inside(node, statements[0])


def _saves(model: ModuleModel, function, name: str) -> bool:
    """Does ``function`` keep the old value in a local (`old = sys.stdout`,
    `old = os.environ.get(k)`), to put it back later?"""
    for node in walk_own(function.node):
        if isinstance(node, cst.Assign) and any(isinstance(t.target, cst.Name)
                                                for t in node.targets):
            text = code(model, node.value)
            if text == name or text.startswith((name + "[", name + ".get(", name + ".copy(")) \
                    or text == f"dict({name})":
                return True
    return False


def _puts_back_only(model: ModuleModel, function, node: cst.CSTNode, name: str) -> bool:
    """Is ``node`` the function's one change of ``name``, a store in a
    `finally:` block of a local that holds the value read on entry
    (`old = sys.stdout` ... `finally: sys.stdout = old`)?"""
    store = next((n for n in walk_own(function.node) if isinstance(n, cst.Assign)
                  and (n is node or inside(node, n))), None)
    if (store is None or len(store.targets) != 1 or not isinstance(store.value, cst.Name)
            or code(model, store.targets[0].target) != name):
        return False
    if not any(inside(store, block) for block in _finally_blocks(function.node)):
        return False
    saved = store.value.value
    assigned = [n for n in walk_own(function.node) if isinstance(n, (cst.Assign, cst.AugAssign))
                and any(isinstance(t, cst.Name) and t.value == saved
                        for t in ([x.target for x in n.targets] if isinstance(n, cst.Assign)
                                  else [n.target]))]
    return (len(assigned) == 1 and isinstance(assigned[0], cst.Assign)
            and code(model, assigned[0].value) == name)


def _restores(function: cst.CSTNode, key: tuple, later: dict) -> bool:
    """Is one of the later changes in a `finally:` block of ``function``?"""
    nodes = later.get(key, ())
    for node in _finally_blocks(function):
        if any(inside(n, node) for n in nodes):
            return True
    return False


def _finally_blocks(function: cst.CSTNode) -> Iterator[cst.CSTNode]:
    return (n.finalbody for n in walk_own(function)
            if isinstance(n, cst.Try) and n.finalbody is not None)
