"""The project pass: which code runs on other threads, across modules.

Each module contributes a small, picklable :class:`ModuleSummary` (its
functions, call edges and thread entry points), computed where the file is
analysed (:mod:`ftlint.analysis.summary`) and kept in the result cache.
Joining them is cheap, so per-file work stays parallel and cacheable, and
only this pass sees the whole project.

This module never imports libcst: a run answered from the cache does not
need the parser.
"""

from __future__ import annotations

import fnmatch
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence, Union

from ftlint.diagnostics import Confidence, Diagnostic
from ftlint.results import internal_error, relative_path

if TYPE_CHECKING:
    from ftlint.config import Resolver, Settings
    from ftlint.results import FileResult

Target = tuple  # ("local", qualname) or ("ext", dotted import-resolved name)
# Configured entry-point patterns: the same for all modules, or per module
# (each module's file takes those of its own configuration).
EntryPatterns = Union[Iterable[str], Callable[["ModuleSummary"], Sequence[str]]]


@dataclass
class ModuleSummary:
    module: str
    functions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # qualname -> decorators
    classes: set[str] = field(default_factory=set)
    instances: dict[str, str] = field(default_factory=dict)  # module-level NAME = Class()
    edges: list[tuple[str, Target]] = field(default_factory=list)
    entries: list[tuple[Target, str]] = field(default_factory=list)  # (target, description)
    not_thread_safe: bool = False
    unsafe_classes: set[str] = field(default_factory=set)
    # Methods documented as the one thread-safe method of a class that is
    # otherwise not ("the only thread-safe method of this connection").
    safe_methods: set[str] = field(default_factory=set)
    startup: dict[str, str] = field(default_factory=dict)  # qualname -> why it runs at start-up
    # Registration functions of a module- or class-level registry
    # (`register_backend()`, a classmethod `unregister_type()`): qualname ->
    # the registries they change. Set-up code, unless the program calls one
    # of a registry's functions from code that runs later (see
    # :func:`startup_only`).
    registrars: dict[str, tuple[str, ...]] = field(default_factory=dict)
    locks_internally: frozenset[str] = frozenset()  # classes that lock inside
    # Entries that start exactly one thread (a `Thread(target=self.run)`
    # outside loops, a Thread subclass's `run`), by index into ``entries``.
    single_entries: set[int] = field(default_factory=set)
    # "Class.attr" -> qualnames of the functions that write it at run time
    writers: dict[str, list[str]] = field(default_factory=dict)
    # Indexes into ``edges`` of the calls a Thread subclass's own `start()`
    # makes before `super().start()`: they run before its thread exists.
    before_start: set[int] = field(default_factory=set)
    # Control methods (`stop`, `close`, ...) called on objects of unknown
    # class that an object keeps (`self.monitor.stop()`): any class's public
    # method of that name may be the one called, from whatever thread drives
    # the keeper.
    called_names: set[str] = field(default_factory=set)
    # What the module's own top-level code calls while it is imported, as
    # (target, how): "call", "decorator" (`@f`) or "factory" (`@f(...)`).
    import_calls: list[tuple[Target, str]] = field(default_factory=list)
    # Decorator factories: qualname -> the nested functions it returns.
    returns: dict[str, list[str]] = field(default_factory=dict)
    # unittest-style test classes (`class T(unittest.TestCase)`, or any base
    # named `*TestCase`), wherever the module lives: test code too.
    test_classes: set[str] = field(default_factory=set)
    # The module forks the process (`os.fork()`): a lock that another
    # thread holds at that moment stays held in the child.
    forks: bool = False


def module_name(path: str, packages: Optional[dict[str, tuple[str, ...]]] = None) -> str:
    """Dotted module name, from the package directories above the file.
    ``packages`` memoises the package parts of each directory over a run."""
    file = Path(path)
    parts = [file.stem] if file.stem != "__init__" else []
    directory = os.path.dirname(os.path.realpath(file))
    memo = packages if packages is not None else {}
    return ".".join([*_package_parts(directory, memo), *parts]) or file.stem


def _package_parts(directory: str, memo: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The dotted parts of the package ``directory`` is (empty if none)."""
    if directory in memo:
        return memo[directory]
    if os.path.exists(os.path.join(directory, "__init__.py")):
        parent = os.path.dirname(directory)
        parts = (*_package_parts(parent, memo), os.path.basename(directory)) \
            if parent != directory else (os.path.basename(directory),)
    else:
        parts = ()
    memo[directory] = parts
    return parts


def _node_ids(summaries: list[ModuleSummary]):
    modules = {s.module: s for s in summaries}
    known: dict[str, Optional[str]] = {}  # a dotted target's id, the same from every module

    def node_id(summary: ModuleSummary, target: Target) -> Optional[str]:
        if target[0] == "local":
            return f"{summary.module}:{target[1]}"
        name = target[1]
        if name not in known:
            known[name] = resolve(name)
        return known[name]

    def resolve(name: str) -> Optional[str]:
        parts = name.split(".")
        for i in range(len(parts) - 1, 0, -1):
            other = modules.get(".".join(parts[:i]))
            if other is None:
                continue
            rest = ".".join(parts[i:])
            head, _, tail = rest.partition(".")
            if head in other.instances and tail:
                rest = f"{other.instances[head]}.{tail}"
            if rest in other.functions:
                return f"{other.module}:{rest}"
            made = constructor(rest, other)
            if made is not None:
                return f"{other.module}:{made}"
        return None

    return node_id


def constructor(cls: str, summary: ModuleSummary) -> Optional[str]:
    """What calling the class ``cls`` of ``summary`` runs first: its own
    `__new__`, else its `__init__` (`call_graph` has `__new__` call
    `__init__`); None for neither, or for no class."""
    if cls not in summary.classes:
        return None
    for method in ("__new__", "__init__"):
        if f"{cls}.{method}" in summary.functions:
            return f"{cls}.{method}"
    return None


def call_graph(summaries: list[ModuleSummary], node_id=None) -> dict[str, list[str]]:
    """Function id -> the function ids it calls, across the project."""
    node_id = node_id or _node_ids(summaries)
    graph: dict[str, list[str]] = {}
    for summary in summaries:
        for cls in summary.classes:
            # `Cls(...)` runs `__new__`, then `__init__` on what it returns.
            if f"{cls}.__new__" in summary.functions and f"{cls}.__init__" in summary.functions:
                graph.setdefault(f"{summary.module}:{cls}.__new__", []).append(
                    f"{summary.module}:{cls}.__init__")
        for caller, target in summary.edges:
            callee = node_id(summary, target)
            if callee is not None:
                graph.setdefault(f"{summary.module}:{caller}", []).append(callee)
    return graph


def _patterns_of(entry_patterns: EntryPatterns) -> Callable[[ModuleSummary], Sequence[str]]:
    if callable(entry_patterns):
        return entry_patterns
    patterns = tuple(entry_patterns)
    return lambda summary: patterns


def reachable(summaries: Iterable[ModuleSummary], entry_patterns: EntryPatterns = (),
              graph: Optional[dict[str, list[str]]] = None,
              skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """Function ids (``module:qualname``) that run on other threads -> why.
    Threads started in the modules of ``skip`` do not count."""
    summaries = list(summaries)
    patterns_of = _patterns_of(entry_patterns)
    node_id = _node_ids(summaries)
    if graph is None:
        graph = call_graph(summaries, node_id)
    why: dict[str, str] = {}
    queue: deque[str] = deque()
    for summary in summaries:
        if summary.module in skip:
            continue
        for target, description in summary.entries:
            start = node_id(summary, target)
            if start is not None and start not in why:
                why[start] = description
                queue.append(start)
        patterns = patterns_of(summary)
        for qual, decorators in summary.functions.items() if patterns else ():
            full = f"{summary.module}.{qual}"
            for pattern in patterns:
                if any(fnmatch.fnmatchcase(d, pattern) for d in decorators) or fnmatch.fnmatchcase(full, pattern):
                    start = f"{summary.module}:{qual}"
                    if start not in why:
                        why[start] = f"configured entry point `{pattern}`"
                        queue.append(start)
    while queue:
        current = queue.popleft()
        for callee in graph.get(current, ()):
            if callee not in why:
                why[callee] = why[current]
                queue.append(callee)
    return why


def thread_owners(summaries: Iterable[ModuleSummary], entry_patterns: EntryPatterns = (),
                  graph: Optional[dict[str, list[str]]] = None,
                  test_modules: frozenset[str] = frozenset()) -> dict[str, frozenset[str]]:
    """Function ids that run only on threads each started once (a dedicated
    worker's `run`) -> the ids of those entries. A function that any other
    entry (an executor, a thread started in a loop, a request handler, a
    configured entry point) reaches is left out: many threads run it. So is
    a public control method (`stop()`, `close()`, ...) that the program
    calls on an object another one keeps (`self.monitor.stop()`, from the
    thread that drives the keeper), and what such a method calls (but for
    what a Thread subclass's own `start()` calls before the thread exists).
    Calls from tests do not count: tests call everything."""
    summaries = list(summaries)
    node_id = _node_ids(summaries)
    if graph is None:
        graph = call_graph(summaries, node_id)
    single: dict[str, set[str]] = {}
    many: set[str] = set()
    starts: list[tuple[str, bool]] = []
    callers: dict[str, set[str]] = {}
    elsewhere: set[str] = set()
    for summary in summaries:
        for index, (target, _) in enumerate(summary.entries):
            start = node_id(summary, target)
            if start is not None:
                starts.append((start, index in summary.single_entries))
        if summary.module in test_modules:
            continue
        elsewhere.update(summary.called_names)
        for index, (caller, target) in enumerate(summary.edges):
            callee = node_id(summary, target)
            if callee is not None and index not in summary.before_start:
                callers.setdefault(callee, set()).add(f"{summary.module}:{caller}")
    patterns_of = _patterns_of(entry_patterns)
    if any(patterns_of(s) for s in summaries):
        many.update(reachable(summaries, patterns_of, graph))
    for start, is_single in starts:
        seen = {start}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            if is_single:
                single.setdefault(current, set()).add(start)
            else:
                many.add(current)
            for callee in graph.get(current, ()):
                if callee not in seen:
                    seen.add(callee)
                    queue.append(callee)
    owned = {f: frozenset(s) for f, s in single.items() if f not in many}
    # Code that other threads are seen to call is not the thread's own: a
    # public control method the program calls on an object another keeps (a
    # `stop()` the worker also calls on end of input), and what such code
    # calls. Other callers do not count: a public method (`doTick()` for
    # programs that tick by hand instead of starting the thread, `connect()`
    # before `loop_start()`) is the documented other way in, or set-up, not
    # a second thread at the same time.
    entries = {start for start, _ in starts}

    def seen_outside(function: str) -> bool:
        return (not _private(function.partition(":")[2])
                and function.rpartition(".")[2] in elsewhere)

    # A thread's own body is never the outside (`run` is a common name).
    outside = {f for f in (*callers, *owned) if seen_outside(f) and f not in entries}
    changed = True
    while changed:
        changed = False
        for function, mine in list(owned.items()):
            if function in entries:
                continue
            if function in outside or any(
                    caller in outside for caller in callers.get(function, ())):
                del owned[function]
                outside.add(function)
                changed = True
    return owned


def confined(d: Diagnostic, summary: ModuleSummary, owners: dict[str, frozenset[str]]) -> Optional[str]:
    """The entry whose one thread alone writes the state of ``d``, or None:
    every run-time writer of that instance attribute runs only on the same
    dedicated thread, so no other thread can lose its update."""
    state, function = d.extra.get("state"), d.extra.get("function")
    if not state or not function:
        return None
    mine = owners.get(f"{summary.module}:{function}")
    if not mine:
        return None
    for writer in summary.writers.get(state, [function]):
        if owners.get(f"{summary.module}:{writer}") != mine:
            return None
    return sorted(mine)[0].partition(":")[2]


def lone_updater(d: Diagnostic, summary: ModuleSummary,
                 owners: dict[str, frozenset[str]]) -> bool:
    """The state of ``d`` is updated only on one dedicated thread (a
    worker's `run`, an expiry thread started once): elsewhere it is at most
    reset to a constant. A race with a reset loses a count at worst, which
    a thread reaching the update does not make more likely."""
    state, function = d.extra.get("state"), d.extra.get("function")
    if not state or not function or "updaters" not in d.extra:
        return False
    mine = owners.get(f"{summary.module}:{function}")
    return bool(mine) and all(owners.get(f"{summary.module}:{other}") == mine
                              for other in d.extra["updaters"])


def callback_writers(d: Diagnostic, summary: ModuleSummary, owners: dict[str, frozenset[str]],
                     threads: dict[str, str], called: frozenset[str]) -> list[str]:
    """The other updaters of the state of ``d`` when each of them either runs
    on the same dedicated thread or is a private function nothing in the
    project calls directly: a callback handed to another object
    (``transport.on_message = self._on_message``) or a dispatch target. The
    object that runs it decides the thread, and with a dedicated thread
    driving that object it is usually this one: the second writer a lost
    update needs is not shown, so the finding is not raised to high. Empty
    when some updater is known to run elsewhere (a caller, a thread of its
    own, or public API)."""
    state, function = d.extra.get("state"), d.extra.get("function")
    if not state or not function or not d.extra.get("updaters"):
        return []
    mine = owners.get(f"{summary.module}:{function}")
    if not mine:
        return []
    handed = []
    for other in d.extra["updaters"]:
        node = f"{summary.module}:{other}"
        if owners.get(node) == mine:
            continue
        if node in called or node in threads or not _private(other):
            return []
        handed.append(other)
    return handed


def startup_only(summaries: Iterable[ModuleSummary], threads: dict[str, str],
                 test_modules: frozenset[str] = frozenset(),
                 graph: Optional[dict[str, list[str]]] = None,
                 scripts: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """Function ids that run only while the program starts -> why: the
    start-up roots of each module, and functions every known caller of which
    is start-up code (a helper that only `main()` and a CLI class call).
    Callers in ``test_modules`` do not count: tests call everything.
    Functions that run on other threads are never start-up code."""
    summaries = list(summaries)
    if graph is None:
        graph = call_graph(summaries)
    callers: dict[str, set[str]] = {}
    for caller, callees in graph.items():
        if caller.partition(":")[0] in test_modules:
            continue
        for callee in callees:
            if callee != caller:
                callers.setdefault(callee, set()).add(caller)
    why = {f"{s.module}:{q}": r for s in summaries for q, r in s.startup.items()
           if f"{s.module}:{q}" not in threads}
    known = {f"{s.module}:{q}" for s in summaries for q in s.functions}
    for target, name in scripts:
        # `[project.scripts] tool = "pkg.cli:run"`: the program starts there.
        if target in known and target not in threads:
            why.setdefault(target, f"the console script `{name}` starts the program here")
    graph = dict(graph)  # the module nodes below are this pass's own
    _import_time([s for s in summaries if s.module not in test_modules], graph, callers, why)
    _registration(summaries, threads, callers, why)
    queue = deque(why)
    while queue:
        current = queue.popleft()
        for callee in graph.get(current, ()):
            if callee in why or callee in threads:
                continue
            if all(c in why for c in callers.get(callee, ())):
                module, _, name = current.partition(":")
                why[callee] = (f"called only at import time, by the top-level code of `{module}`"
                               if name == IMPORT else
                               f"called only from start-up code such as `{name}()`")
                queue.append(callee)
    return why


IMPORT = "<import>"  # the pseudo-function of a module's top-level code


def _import_time(summaries: Sequence[ModuleSummary], graph: dict[str, list[str]],
                 callers: dict[str, set[str]], why: dict[str, str]) -> None:
    """Add each module's top-level code, which runs once while the module is
    imported, as a start-up caller of what it calls: a registration helper
    that other modules call at their top level (``_inspects(X)`` as a class
    decorator) runs at import time if nothing calls it later. Public
    functions count only as decorators or registration functions
    (``register_*``), or in a private module (``pkg._utils``, the package's
    own by PEP 8): the package's users may call other ones at any time.
    A decorator factory's returned function is applied right away too.
    ``graph`` and ``callers`` gain the edges; ``why`` the module nodes."""
    node_id = _node_ids(summaries)
    for summary in summaries:
        if not summary.import_calls:
            continue
        source = f"{summary.module}:{IMPORT}"
        why[source] = f"top-level code of `{summary.module}`, run at import time"
        for target, how in summary.import_calls:
            callee = node_id(summary, target)
            if callee is None:
                continue
            module, _, qual = callee.partition(":")
            applied = [callee]
            if how == "factory":
                other = next((s for s in summaries if s.module == module), None)
                applied += [f"{module}:{q}" for q in (other.returns.get(qual, ()) if other else ())]
            for one in applied:
                name = one.partition(":")[2]
                # A private module's names are the package's own (PEP 8):
                # `blinker._utilities.Symbol("ANY")` at import time is set-up.
                if how == "call" and not (_private(name) or _private(module)
                                          or name.rpartition(".")[2].startswith("register")):
                    continue
                graph.setdefault(source, []).append(one)
                callers.setdefault(one, set()).add(source)


def _registration(summaries: Sequence[ModuleSummary], threads: dict[str, str],
                  callers: dict[str, set[str]], why: dict[str, str]) -> None:
    """Registration functions as start-up roots: a registry kept on a module
    or a class is filled while the program sets up (`register_backend()`
    from a module's top level, from `main()`, from a plug-in's import), and
    only read once threads run. Not a registry one of whose functions code
    that runs later calls (`atexit.register(self.close)` in a constructor:
    its `unregister()` runs then too), nor one that runs on other threads."""
    functions: dict[tuple[str, str], list[str]] = {}  # registry -> its functions
    for summary in summaries:
        for qual, registries in summary.registrars.items():
            for registry in registries:
                functions.setdefault((summary.module, registry), []).append(
                    f"{summary.module}:{qual}")
    registrars = {node for nodes in functions.values() for node in nodes}
    later = set()
    for key, nodes in functions.items():
        if any(node in threads or not all(c in registrars or c.endswith(f":{IMPORT}") or c in why
                                          for c in callers.get(node, ()))
               for node in nodes):
            later.add(key)
    for summary in summaries:
        for qual, registries in summary.registrars.items():
            node = f"{summary.module}:{qual}"
            if node in why or any((summary.module, r) in later for r in registries):
                continue
            where = "class" if "." in registries[0] else "module"
            why[node] = (f"`{qual}()` changes a {where}-level registry (`{registries[0]}`), "
                         "which programs fill while they set up")


def _private(qualname: str) -> bool:
    return any(p.startswith("_") and not (p.startswith("__") and p.endswith("__"))
               for p in qualname.split("."))


def locking_containers(summaries: Iterable[ModuleSummary]) -> frozenset[str]:
    """``module.Class`` for every class of the project that locks inside."""
    return frozenset(f"{s.module}.{c}" for s in summaries for c in s.locks_internally)


def apply(diagnostics: list[Diagnostic], summary: ModuleSummary, threads: dict[str, str],
          not_thread_safe: str = "low", startup: Optional[dict[str, str]] = None,
          containers: frozenset[str] = frozenset(),
          owners: Optional[dict[str, frozenset[str]]] = None,
          called: frozenset[str] = frozenset(),
          used: Optional[frozenset[str]] = None) -> list[Diagnostic]:
    """Raise findings in thread-reachable code, lower those in code that
    declares itself not thread-safe (or drop them, by configuration), lower
    those in start-up code (``startup``, by default this module's own), and
    drop stores into objects of classes that lock inside (``containers``).
    ``used``: the functions that code outside tests calls (None: unknown)."""
    if startup is None:
        startup = {f"{summary.module}:{q}": r for q, r in summary.startup.items()}
    kept = []
    for d in diagnostics:
        if d.extra.get("container") in containers:
            continue
        function = d.extra.get("function")
        declared = ((summary.not_thread_safe or d.extra.get("class") in summary.unsafe_classes)
                    and function not in summary.safe_methods)
        if (d.extra.get("lends") and used is not None and not d.is_error
                and d.confidence > Confidence.LOW and f"{summary.module}:{function}" in called
                and f"{summary.module}:{function}" not in used):
            # `@contextmanager def cd(path): ... os.chdir(path) ... finally:
            # os.chdir(old)`: the change is what the helper is for, like
            # `contextlib.chdir()`. Whether it races depends on who uses it,
            # and only tests do. (With no caller in sight, a run over some
            # of the project's files, as a pre-commit hook makes, cannot
            # tell: the finding stays.)
            d.confidence = Confidence.LOW
            d.reason = (f"{d.reason}; lowered: a context manager that lends its caller the "
                        "change, like `contextlib.chdir()`, and only tests use it: the code "
                        "that uses it is what races")
        elif declared and not d.is_error:
            if not_thread_safe == "ignore":
                continue
            d.confidence = Confidence.LOW
            d.reason = f"{d.reason}; lowered: the code declares itself not thread-safe"
        elif (function and f"{summary.module}:{function}" in threads and not d.is_error
              and owners and (owner := confined(d, summary, owners))):
            d.confidence = Confidence.LOW
            d.reason = f"{d.reason}; lowered: only the one thread that runs `{owner}()` writes it"
        elif (function and d.extra.get("consumer") and not d.is_error and owners
              and (mine := owners.get(f"{summary.module}:{function}"))):
            d.confidence = Confidence.LOW
            d.reason = (f"{d.reason}; lowered: only the one thread that runs "
                        f"`{sorted(mine)[0].partition(':')[2]}()` removes items, and other "
                        "code only adds, so the test cannot turn false before the removal")
        elif (not d.is_error and d.confidence > Confidence.LOW and d.extra.get("mutators")
              and all(f"{summary.module}:{m}" in startup for m in d.extra["mutators"])):
            # A registry filled at start-up (`register_type()` from the
            # module's top level) and only read afterwards.
            first = d.extra["mutators"][0]
            d.confidence = Confidence.LOW
            d.reason = (f"{d.reason}; lowered: only start-up code changes it (`{first}()`: "
                        f"{startup[f'{summary.module}:{first}']})")
        elif function and f"{summary.module}:{function}" in threads and not d.is_error:
            # One atomic operation races only together with other accesses,
            # which are reported themselves: reachability does not raise it
            # (a lone `append` or `setdefault` in a thread stays low); nor
            # one whose worst outcome is benign (a list that only grows).
            # A process-wide change on one dedicated thread (started once)
            # never runs twice at once: no worse than on the main thread.
            dedicated = bool(d.code == "FT302" and owners
                             and owners.get(f"{summary.module}:{function}"))
            alone = dedicated or (owners and lone_updater(d, summary, owners))
            handed = [] if alone or not owners else callback_writers(
                d, summary, owners, threads, called)
            alone = alone or bool(handed)
            unshared = bool(d.extra.get("no_sign")) and not alone
            if (not d.extra.get("atomic") and not d.extra.get("benign") and not unshared
                    and d.confidence < Confidence.HIGH):
                d.confidence = Confidence.MEDIUM if alone else Confidence.HIGH
            d.reason = f"{d.reason}; runs on other threads: started by {threads[f'{summary.module}:{function}']}"
            if unshared and d.confidence < Confidence.HIGH:
                # Without evidence either way, the finding is low: one
                # thread running the code may own the object (a per-call
                # event, a notifier's loop state).
                d.reason = (f"{d.reason}; {d.confidence.name.lower()}: that shows the code "
                            "runs on another thread, not that other threads use this object "
                            "at the same time")
            if dedicated and d.confidence < Confidence.HIGH:
                d.reason = (f"{d.reason}, one thread started once, so the change never runs "
                            "twice at once: medium")
            elif handed and d.confidence < Confidence.HIGH:
                d.reason = (f"{d.reason}, the one thread that updates it but for "
                            f"`{handed[0]}()`, which nothing in the project calls directly (a "
                            "callback or a dispatch target): which thread runs it is not known, "
                            "so medium")
            elif alone and d.confidence < Confidence.HIGH:
                d.reason = (f"{d.reason}, the one thread that updates it (elsewhere it is only "
                            "reset to a constant): at worst a reset is lost, so medium")
        elif (function and not d.is_error and d.confidence > Confidence.LOW
              and f"{summary.module}:{function}" in startup):
            d.confidence = Confidence.LOW
            why = startup[f"{summary.module}:{function}"]
            d.reason = (f"{d.reason}; lowered: {why}" if why.startswith("shut-down code")
                        else f"{d.reason}; lowered: start-up code ({why})")
        kept.append(d)
    return kept


def forking_module(summaries: Iterable[ModuleSummary], module: str) -> Optional[str]:
    """The first module, by name, of ``module``'s top-level package that
    forks the process, or None."""
    top = module.partition(".")[0]
    return min((s.module for s in summaries if s.forks
                and (s.module == top or s.module.startswith(top + "."))), default=None)


def finish(results: Sequence[FileResult], settings: Union[Settings, Resolver],
           others: Sequence[FileResult] = ()) -> None:
    """The project pass (``others`` as in :func:`judge`), then the
    confidence filter."""
    judge(results, settings, others)
    of = _settings_of(settings)
    for r in results:
        floor = of(r.path).min_confidence
        shown = [d for d in r.diagnostics if d.is_error or d.confidence >= floor]
        r.hidden = len(r.diagnostics) - len(shown)
        r.diagnostics = shown


def _settings_of(settings: Union[Settings, Resolver]) -> Callable[[str], Settings]:
    """Each file's settings: one Settings for all, or a Resolver's per file."""
    for_file = getattr(settings, "for_file", None)
    return for_file if for_file is not None else (lambda path: settings)


def judge(results: Sequence[FileResult], settings: Union[Settings, Resolver],
          others: Sequence[FileResult] = ()) -> None:
    """The project pass over ``results``: reachability, start-up code,
    declared thread safety, test code. Every confidence is kept. ``others``
    are the project's other files, whose summaries count and whose
    diagnostics are left alone: the fixer judges each fixed file this way,
    so that `--fix`, `--diff` and a check agree on what is reported.

    With a Resolver, each file is judged by its own settings (its tests,
    declared thread safety), and the configured entry points of each
    configuration apply to the modules under it; calls across them count."""
    of = _settings_of(settings)
    everything = [*results, *others]
    own = [of(r.path) for r in everything]
    summaries = [r.summary for r in everything if r.summary is not None]
    entry_patterns: EntryPatterns
    if len({id(s) for s in own}) <= 1:
        entry_patterns = own[0].thread_entry_points if own else ()
    else:
        by_summary = {id(r.summary): s.thread_entry_points
                      for r, s in zip(everything, own) if r.summary is not None}
        entry_patterns = lambda summary: by_summary.get(id(summary), ())  # noqa: E731
    graph = call_graph(summaries)
    threads = reachable(summaries, entry_patterns, graph)
    in_tests = [s.is_test(relative_path(r.path, s.root)) for r, s in zip(everything, own)]
    tests = frozenset(r.summary.module for r, test in zip(everything, in_tests)
                      if test and r.summary is not None)
    from ftlint.config import console_scripts  # config imports nothing of the engine
    scripts = sorted({script for root in {s.root for s in own}
                      for script in console_scripts(root)})
    startup = startup_only(summaries, threads, tests, graph, scripts)
    containers = locking_containers(summaries)
    owners = thread_owners(summaries, entry_patterns, graph, tests)
    called = frozenset(callee for callees in graph.values() for callee in callees)
    used = frozenset(callee for caller, callees in graph.items()
                     if caller.partition(":")[0] not in tests for callee in callees)
    # A thread a test starts shows how the test drives the code, not that
    # the program runs it on threads: it does not raise library code.
    program = reachable(summaries, entry_patterns, graph, tests) if tests else threads
    for r, in_test, mine in zip(results, in_tests, own):  # the first len(results) of them
        if r.summary is not None:
            try:
                r.diagnostics = apply(r.diagnostics, r.summary, threads if in_test else program,
                                              mine.not_thread_safe, startup, containers,
                                              owners, called, used)
            except Exception as exc:  # noqa: BLE001 - one file never ends a run
                r.diagnostics, r.error = internal_error(r.path, exc).diagnostics, True
        if mine.test_code != "report" and in_test:
            r.diagnostics = _in_test_code(r.diagnostics, mine.test_code)
        elif mine.test_code != "report" and r.summary is not None and r.summary.test_classes:
            # A test case shipped in a library module (a test-support
            # module's base TestCase): its methods run as tests do.
            r.diagnostics = _in_test_code(r.diagnostics, mine.test_code, r.summary.test_classes)
    withdraw_forked(results, summaries)


def withdraw_forked(results: Sequence[FileResult], summaries: Sequence[ModuleSummary]) -> None:
    """Offer no fix that adds a module or class lock in a package that forks
    the process: `--fix` declines those (a lock held by another thread at
    the fork stays held in the child), and `[*]` must not promise them."""
    forking = {s.module.partition(".")[0] for s in summaries if s.forks}
    if not forking:
        return
    for r in results:  # forking_module(summaries, module) is not None, for each result at once
        if r.summary is None or r.summary.module.partition(".")[0] not in forking:
            continue
        for d in r.diagnostics:
            if d.extra.get("process_lock"):
                d.extra.pop("fixable", None)
                d.fix = None


# Rules about test code itself: test code is where they speak.
TEST_RULES = frozenset({"FT306"})


def _in_test_code(diagnostics: list[Diagnostic], mode: str,
                  classes: Optional[set[str]] = None) -> list[Diagnostic]:
    """pytest runs tests one after another: a race there needs a parallel
    runner, so findings are at most low (or dropped with ``ignore``). With
    ``classes``, only the findings in those test classes' methods."""
    kept = []
    for d in diagnostics:
        owner = d.extra.get("class")
        if (not d.is_error and d.code not in TEST_RULES
                and (classes is None or owner in classes)):
            if mode == "ignore":
                continue
            if d.confidence > Confidence.LOW:
                d.confidence = Confidence.LOW
                what = "test code" if classes is None else f"a method of the test case `{owner}`"
                d.reason = (f"{d.reason}; lowered: {what}, which pytest runs one test at "
                            "a time (test-code = \"report\" keeps it)")
        kept.append(d)
    return kept
