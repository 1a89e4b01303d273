from __future__ import annotations

from typing import Iterator, Union

import libcst as cst

from ftlint.analysis.model import Function, ModuleModel, Mutability
from ftlint.analysis.names import all_params
from ftlint.analysis.threads import PROCESS_GLOBAL_CALLS, PROCESS_GLOBAL_STATE
from ftlint.diagnostics import Confidence
from ftlint.fixes import SAFE, Declined, Edit, Fix
from ftlint.fixes.tree import parents
from ftlint.rules.base import SHARED_MODULE_STATE, Example, Finding, Rule, defer, no_fix

# What pytest-run-parallel already runs one thread at a time by itself: its
# own detection covers these, so marking them again is noise.
_DETECTED_BY_RUNNER = frozenset({"warnings.catch_warnings", "locale.getpreferredencoding"})
_FILTERS = frozenset({"warnings.simplefilter", "warnings.filterwarnings",
                      "warnings.resetwarnings"})
# Interpreter state a test can change besides the environment and streams.
_SYS_STATE = SHARED_MODULE_STATE | {"sys.argv"}


class ThreadUnsafeTest(Rule):
    code = "FT306"
    name = "thread-unsafe-test"
    default_enabled = False
    brief = "tests and fixtures that change process-wide state, for pytest-run-parallel"
    message = "{kind} `{test}` changes {state}, which the other threads of a parallel run share"
    summary = (
        "A test function or fixture that changes state every thread shares: "
        "`os.environ`, the working directory, `sys.stdout`, `sys.path`, "
        "`sys.modules`, `sys.argv`, the warnings filters, the locale, a "
        "module-level variable or container of the test module, or an "
        "attribute of an imported module (a hand-made monkeypatch). Opt-in: "
        "on when the project uses pytest-run-parallel, or with "
        "`--extend-select FT306` (or `ALL`)."
    )
    rationale = (
        "pytest-run-parallel, which the free-threading guides recommend, runs "
        "each test in several threads at once to find races in the code under "
        "test. A test that sets `os.environ[\"TZ\"]`, changes directory or "
        "swaps `sys.stdout` races with its own copies: one thread restores "
        "the old value while another still relies on the new one, and the "
        "suite fails for reasons that have nothing to do with the library. "
        "Such tests must run one thread at a time: the plugin does that for "
        "tests marked `@pytest.mark.thread_unsafe`. It finds some cases by "
        "itself (the `monkeypatch`, `capsys` and `recwarn` fixtures, "
        "`unittest.mock`, `pytest.warns`, `warnings.catch_warnings`), so "
        "tests it already runs in one thread, and fixtures that request "
        "`monkeypatch` or `capsys`, are not reported here."
    )
    confidence_doc = (
        "medium: the change is certain, and whether the test breaks depends "
        "on what else reads the state while its copies run. The race rules "
        "stay low in test code; this rule is the one that speaks there."
    )
    fix = "sometimes"
    fix_doc = (
        "Add `@pytest.mark.thread_unsafe(reason=\"changes os.environ\")` to the "
        "test (and `import pytest` if the module lacks it). pytest-run-parallel "
        "then runs that test in one thread; plain pytest runs it as before. "
        "Safe where pytest-run-parallel is installed: it registers the mark. "
        "Without the plugin pytest warns about an unknown mark, which "
        "`--strict-markers` makes an error. A fixture cannot carry the mark: "
        "its finding says to add the fixture's name to "
        "`thread_unsafe_fixtures` in the pytest configuration, or to make the "
        "change through `monkeypatch`, which the plugin recognises."
    )
    use_instead = '''
        import os

        import pytest


        @pytest.mark.thread_unsafe(reason="changes os.environ")
        def test_reads_timezone():
            os.environ["TZ"] = "UTC"
            assert load_config().timezone == "UTC"
    '''
    known_problems = (
        "Helpers are followed one call deep, and only to functions of the same "
        "module. State changed through a fixture of another module is "
        "reported at the fixture, not at each test that requests it."
    )
    references = (
        "https://github.com/Quansight-Labs/pytest-run-parallel",
        "https://py-free-threading.github.io/testing/",
    )
    VALID = (
        Example('''
            import pytest

            @pytest.mark.thread_unsafe(reason="changes os.environ")
            def test_marked():
                import os
                os.environ["TZ"] = "UTC"
        ''', "already marked"),
        Example('''
            def test_local():
                values = {}
                values["TZ"] = "UTC"
                assert values
        ''', "local state"),
        Example('''
            import os

            def helper_not_a_test():
                os.environ["TZ"] = "UTC"
        ''', "not a test"),
    )
    INVALID = (
        Example('''
            import os

            def test_timezone():  # expect: FT306[medium]
                os.environ["TZ"] = "UTC"
        ''', "a test that sets an environment variable"),
        Example('''
            import os
            import pytest

            @pytest.fixture
            def in_tmp(tmp_path):  # expect: FT306[medium]
                os.chdir(tmp_path)
                yield tmp_path
        ''', "a fixture that changes the working directory"),
    )
    FIX_EXAMPLES = (
        ('''
        import os


        def test_timezone():
            os.environ["TZ"] = "UTC"
            assert os.environ["TZ"] == "UTC"
    ''', '''
        import os

        import pytest


        @pytest.mark.thread_unsafe(reason="changes os.environ")
        def test_timezone():
            os.environ["TZ"] = "UTC"
            assert os.environ["TZ"] == "UTC"
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        if _module_marked(model):
            return
        helpers: dict[str, list[tuple[str, str, cst.CSTNode]]] = {}
        found: dict[int, tuple[Function, cst.CSTNode, dict[str, str], list[str]]] = {}

        def add(test: Function, node: cst.CSTNode, shown: str, short: str, through: str) -> None:
            entry = found.setdefault(id(test), (test, node, {}, []))
            if shown not in entry[2]:
                entry[2][shown] = short
                if through:
                    entry[3].append(through)

        detected = _detected_by_runner(model)
        for function, shown, short, node in _changes(model):
            top = function.outermost
            if _is_test(model, top) or _is_fixture(top):
                if not _marked(model, top) and id(top) not in detected:
                    add(top, node, shown, short, "")
            elif top.parent is None and top.class_name is None:
                helpers.setdefault(top.name, []).append((shown, short, node))
        for call in model.calls:
            caller = call.caller.outermost if call.caller is not None else None
            if caller is None or call.callee not in helpers:
                continue
            if (not (_is_test(model, caller) or _is_fixture(caller)) or _marked(model, caller)
                    or id(caller) in detected):
                continue
            for shown, short, _ in helpers[call.callee]:
                add(caller, call.node, shown, short, call.callee)
        for test, node, states, through in found.values():
            yield self._finding(test, states, through)

    def _finding(self, test: Function, states: dict[str, str],
                 through: list[str]) -> Finding:
        kind = "Fixture" if _is_fixture(test) else "Test"
        shown = list(states)
        if len(shown) > 3:
            shown = [*shown[:2], f"{len(shown) - 2} more"]
        what = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" and {shown[-1]}"
        via = ""
        if through:
            names = sorted(set(through))
            via = " (through " + ", ".join(f"`{n}()`" for n in names) + ")"
        # At the `def`, where the mark goes and a `# noqa` would.
        finding = Finding(
            test.node.name, self.message.format(kind=kind, test=test.qualname, state=what + via),
            Confidence.MEDIUM,
            "pytest-run-parallel runs each test in several threads at once, and they see "
            "each other's changes of process-wide state", test)
        if kind == "Fixture":
            return no_fix(finding, f"add `{test.name}` to `thread_unsafe_fixtures` in the pytest "
                                   "configuration, or make the change with `monkeypatch`")
        short = list(dict.fromkeys(states.values()))
        if len(short) > 3:
            short = [*short[:2], f"{len(short) - 2} more"]
        reason = "changes " + (short[0] if len(short) == 1
                               else ", ".join(short[:-1]) + f" and {short[-1]}")
        finding.build = defer(_mark_fix, test, reason)
        return finding


def _changes(model: ModuleModel) -> Iterator[tuple[Function, str, str, cst.CSTNode]]:
    """(function, the state in the message, the state in a mark's reason,
    node) of each change of process-wide state."""
    scoped = _inside_catch_warnings(model)
    for call in model.global_calls:
        if (call.function is None or call.name not in PROCESS_GLOBAL_CALLS
                or call.name in _DETECTED_BY_RUNNER):
            continue
        if call.name in _FILTERS:
            if id(call.node) in scoped:
                continue  # the runner already treats the `catch_warnings` block
            yield call.function, "the warnings filters", "the warnings filters", call.node
        else:
            yield call.function, f"process state with `{call.name}()`", f"{call.name}()", call.node
    for access in model.accesses:
        if not access.write or access.import_time or access.function is None:
            continue
        ref = access.ref
        if ref[0] == "ext" and (ref[1] in PROCESS_GLOBAL_STATE or ref[1] in _SYS_STATE
                                or (access.op in ("setattr", "rebind")
                                    and _module_attribute(model, ref[1]))):
            yield access.function, f"`{ref[1]}`", ref[1], access.node
        elif ref[0] == "global" and _module_state(model, access):
            yield (access.function, f"the module-level `{ref[1]}`",
                   f"the module-level {ref[1]}", access.node)


def _module_state(model: ModuleModel, access) -> bool:
    """A module-level variable rebound (`global n; n += 1`) or a mutable
    one changed in place (`SEEN.append(x)`); not `os.remove(path)`, a call
    on an imported module."""
    if access.op in ("rebind", "augassign", "del"):
        return True
    binding = model.binding(access.ref)
    return binding is not None and binding.mutability is Mutability.MUTABLE


def _module_attribute(model: ModuleModel, name: str) -> bool:
    """``mod.NAME = value`` where ``mod`` is certainly a module (bound by
    ``import mod``), not one whose state the other checks cover: a hand-made
    monkeypatch. A name from ``from flask import session`` may be any object,
    such as a context-local proxy, whose items are per request."""
    head, _, rest = name.rpartition(".")
    top = head.partition(".")[0]
    return bool(head) and head in model.imported_modules and top not in ("os", "sys")


def _inside_catch_warnings(model: ModuleModel) -> set[int]:
    """ids of the calls inside `with warnings.catch_warnings():` blocks."""
    blocks = {id(c.node): c for c in model.global_calls if c.name == "warnings.catch_warnings"}
    inside: set[int] = set()
    if not blocks:
        return inside
    for call in model.global_calls:
        if call.name not in _FILTERS or call.function is None:
            continue
        parent_of = parents(model, call.function.node)
        current = parent_of.get(id(call.node))
        while current is not None:
            if isinstance(current, cst.With) and any(id(item.item) in blocks
                                                     for item in current.items):
                inside.add(id(call.node))
                break
            current = parent_of.get(id(current))
    return inside


# Fixtures that make pytest-run-parallel run a test in one thread by itself.
_RUNNER_FIXTURES = frozenset({"capsys", "capteesys", "capsysbinary", "capfd", "capfdbinary",
                              "monkeypatch", "recwarn"})
# Calls it finds in a test's body and treats the same way.
_RUNNER_CALLS = ("pytest.warns", "pytest.deprecated_call", "warnings.catch_warnings",
                 "unittest.mock.", "mock.", "ctypes.", "gc.collect")


def _detected_by_runner(model: ModuleModel) -> set[int]:
    """ids of the tests and fixtures pytest-run-parallel already runs one
    thread at a time: they request `monkeypatch`, `capsys`, `recwarn` and
    the like, or call `pytest.warns`, `warnings.catch_warnings`,
    `unittest.mock` (its own detection, which a mark would only repeat)."""
    found: set[int] = set()
    for function in model.functions:
        if function.parent is None and any(
                p.name.value in _RUNNER_FIXTURES for p in all_params(function.node.params)):
            found.add(id(function))
    for call in model.calls:
        name = call.qualified or call.callee
        if call.caller is not None and (name in _RUNNER_CALLS or name.startswith(
                tuple(n for n in _RUNNER_CALLS if n.endswith(".")))):
            found.add(id(call.caller.outermost))
    return found


def _is_test(model: ModuleModel, function: Function) -> bool:
    """A function pytest collects as a test: ``test*`` at module level, or a
    method of a ``Test*`` class."""
    if not function.name.startswith("test") or function.parent is not None:
        return False
    return function.class_name is None or function.class_name.rpartition(".")[2].startswith("Test")


def _is_fixture(function: Function) -> bool:
    return any(d.split("(", 1)[0].rpartition(".")[2] in ("fixture", "yield_fixture")
               for d in function.decorators)


def _says_unsafe(decorators) -> bool:
    return any("thread_unsafe" in d or "parallel_threads(1)" in d.replace(" ", "")
               for d in decorators)


def _marked(model: ModuleModel, function: Function) -> bool:
    if _says_unsafe(model.module.code_for_node(d.decorator) for d in function.node.decorators):
        return True
    if function.class_name is not None:
        cls = model.classes.get(function.class_name)
        if cls is not None and _says_unsafe(model.module.code_for_node(d.decorator)
                                            for d in cls.decorators):
            return True
        body = cls.body.body if cls is not None else ()
        return any(_assigns_pytestmark(model, s) for s in body)
    return False


def _module_marked(model: ModuleModel) -> bool:
    return any(_assigns_pytestmark(model, s) for s in model.module.body)


def _assigns_pytestmark(model: ModuleModel, statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if (isinstance(small, cst.Assign)
                and any(isinstance(t.target, cst.Name) and t.target.value == "pytestmark"
                        for t in small.targets)
                and "thread_unsafe" in model.module.code_for_node(small.value)):
            return True
    return False


def _mark_fix(context, test: Function, reason: str) -> Union[Fix, Declined, None]:
    node: cst.FunctionDef = test.node
    reason = reason.replace("\\", "/").replace('"', "'")
    decorator = cst.Decorator(decorator=cst.parse_expression(
        f'pytest.mark.thread_unsafe(reason="{reason}")'))
    new = node.with_changes(decorators=(decorator, *node.decorators))
    return Fix(SAFE, f"mark `{test.qualname}` thread-unsafe", (Edit(node, new),),
               imports=("pytest",))

