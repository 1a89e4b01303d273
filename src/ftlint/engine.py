"""The per-file pipeline, the one every front-end uses: parse, build the
model, run the rules, place the findings and summarise the module for the
project pass (:func:`analyze`). The command line, the fixer, the flake8 plugin
and ``--add-noqa``/``--baseline`` all come here, so they agree on what is
reported.

This is the module that imports libcst: :mod:`ftlint.api` imports it only
when a file must be analysed (a run answered from the result cache never
does).
"""

from __future__ import annotations

import ast
import os
import re
import sys
import threading
from dataclasses import dataclass
from typing import Iterable, Optional, Union

import libcst as cst

from ftlint import gate
from ftlint.analysis.builder import build_model
from ftlint.analysis.model import ModuleModel
from ftlint.analysis.summary import summarize
from ftlint.results import FileResult, enabled_rules, internal_error, relative_path
from ftlint.results import file_error as _error
from ftlint.config import Settings
from ftlint.diagnostics import IO_ERROR, SYNTAX_ERROR, Confidence, Diagnostic
from ftlint.faults import inject
from ftlint.fixes.context import FixContext
from ftlint.noqa import Suppressions
from ftlint.positions import compute_positions
from ftlint.project import module_name
from ftlint.rules import ALL_RULES
from ftlint.rules.base import NO_SIGN, Finding, Rule, no_fix
from ftlint.analysis.model import ITEMS, OWNER_DICT
from ftlint.rules.context import (
    lower_if_callers_lock, lower_in_coroutine, lower_in_setup, lower_in_shutdown,
)


_LIBCST_AT = re.compile(r"error at (\d+):(\d+)")


def _syntax_error(path: str, source: bytes | str, exc: cst.ParserSyntaxError) -> FileResult:
    """FT002 where CPython puts the error, in its words; if the running
    interpreter accepts the file, say that it is libcst that cannot parse it."""
    try:
        compile(source, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as err:
        if err.lineno:
            return _error(path, SYNTAX_ERROR, f"cannot parse: {err.msg}",
                          err.lineno, max(err.offset or 1, 1))
        accepted = False
    except (ValueError, RecursionError, MemoryError):  # null bytes, too deep
        accepted = False
    else:
        accepted = True
    at = _LIBCST_AT.search(exc.message)  # the message's own position is right
    row, col = (int(at[1]), int(at[2])) if at else (exc.raw_line, exc.raw_column + 1)
    message = (exc.message.splitlines() or ["invalid syntax"])[0]
    if accepted:
        version = ".".join(map(str, sys.version_info[:2]))
        message = (f"Python {version} accepts this code, but libcst (the parser ftlint uses) "
                   f"does not: {message.split(': expected')[0]}")
    return _error(path, SYNTAX_ERROR, f"cannot parse: {message}", row, col)


def parse(source: bytes | str) -> cst.Module:
    """libcst's parse, without the validation of every node it builds.

    Each libcst node checks its fields when it is built (``__post_init__``
    calls ``_validate``), which is a fifth of a parse. The parser builds only
    valid trees, as libcst's own note on ``__post_init__`` says, so ftlint
    skips the checks while it parses, in the parsing thread only: nodes that
    a fix builds, in this thread after the parse or in any other thread
    meanwhile, are still checked, and a fixed file is parsed again before it
    is written."""
    if _unchecked is None:
        return cst.parse_module(source)
    _unchecked.parsing = True
    try:
        return cst.parse_module(source)
    finally:
        _unchecked.parsing = False


def _install_unchecked_parse() -> Optional[threading.local]:
    """Wrap libcst's node check so that a parse can turn it off for its own
    thread; None (every node checked) if libcst's nodes are not built the
    way this expects."""
    from libcst._nodes.base import CSTNode

    check = CSTNode.__dict__.get("__post_init__")
    if check is None or hasattr(check, "_ftlint_wrapped"):  # wrapped already: a reload
        return getattr(check, "_ftlint_wrapped", None)
    state = threading.local()  # `parsing` is unset, so false, in every other thread

    def __post_init__(self: cst.CSTNode) -> None:
        if not getattr(state, "parsing", False):
            check(self)

    __post_init__._ftlint_wrapped = state  # type: ignore[attr-defined]
    CSTNode.__post_init__ = __post_init__  # type: ignore[method-assign]
    return state


_unchecked = _install_unchecked_parse()


def _decode(source: bytes | str, tree: cst.Module) -> str:
    """The text for noqa scanning; decoding is far cheaper than tree.code."""
    if isinstance(source, str):
        return source
    try:
        return source.decode(tree.encoding)
    except (UnicodeDecodeError, LookupError):
        return tree.code


def _supersede(found: list[tuple[type[Rule], Finding]], model: ModuleModel,
               enabled: set[str]) -> list[tuple[type[Rule], Finding]]:
    """Drop a general finding when a more specific rule reports the same write."""
    acts: dict[int, list[int]] = {}
    for compound in model.compounds:
        if compound.write is not None:
            acts.setdefault(id(compound.node), []).append(id(compound.write))
    covered: dict[str, set[int]] = {}
    for rule, finding in found:
        for code in rule.supersedes:
            if code in enabled and finding.access is not None:
                ids = covered.setdefault(code, set())
                ids.add(id(finding.access))
                ids.update(acts.get(id(finding.node), ()))
    return [(rule, f) for rule, f in found
            if f.access is None or id(f.access) not in covered.get(rule.code, ())]


def _extra(finding: Finding, model: ModuleModel) -> dict:
    extra: dict = dict(finding.facts)
    function = finding.function
    if function is not None:
        extra["function"] = function.qualname
        while function is not None and function.class_name is None:
            function = function.parent
        if function is not None:
            extra["class"] = function.class_name
    access = finding.access
    if access is not None and access.ref[0] == "instance":
        extra["state"] = f"{access.ref[1]}.{access.ref[2]}"
        if access.function is not None:
            extra["updaters"] = _updaters(model, access)
    if NO_SIGN in finding.reason:
        extra["no_sign"] = True  # a thread reaching it raises it to medium only
    if (access is not None and access.write and access.atomic and model.compound_for(access) is None
            and not finding.facts.get("sequence")):
        extra["atomic"] = True  # one atomic operation: reachability alone does not make it high
    return extra


def _updaters(model: ModuleModel, access) -> list[str]:
    """The other functions that update ``access``'s state at run time: every
    write but a constructor's and a plain store of a constant (a reset,
    `self.hits = 0`), which another thread's update can at worst undo."""
    found = set()
    for other in model.writes(access.ref):
        function = other.function
        if (function is None or function is access.function or other.import_time
                or function.in_constructor):
            continue
        if (other.op in ("setattr", "rebind") and other.assigned is not None
                and other.assigned[1] == "constant"):
            continue
        found.add(function.qualname)
    return sorted(found)


def analyze_source(
    source: bytes | str,
    path: str = "<stdin>",
    settings: Optional[Settings] = None,
    codes: Optional[Iterable[str]] = None,
    apply_noqa: bool = True,
    module: Optional[str] = None,
    fixes: Union[bool, Confidence] = False,
    marks: Union[bool, Confidence] = False,
    tree: Optional[cst.Module] = None,
) -> FileResult:
    """Per-file work: findings (before the project pass) and the summary.

    With ``fixes``, each diagnostic that has a fix carries it in ruff's JSON
    shape (this costs one code generation per fix); a confidence for
    ``fixes`` builds only those of findings at or above it, and marks the
    others ``fix_pending``. ``marks`` (a confidence, or ``True`` for all)
    only says whether each finding has a fix, "safe" or "unsafe", in
    ``extra["fixable"]`` (the text output's ``[*]``): the fix is built, but no
    code is generated. ``tree``, when given, is ``source`` already parsed
    (the language server parses only what an edit changed). Never raises: a
    failure of ftlint on this file is its FT000 finding."""
    try:
        return _analyze(source, path, settings or Settings(), codes, apply_noqa, module, fixes,
                        marks, tree)
    except Exception as exc:  # noqa: BLE001 - one file never ends a run
        return internal_error(path, exc)


@dataclass
class Analysis:
    """One module's per-file analysis: what the fixer works on, and what a
    check reports (``result``, before the project pass)."""
    tree: cst.Module
    model: ModuleModel
    found: list  # (rule class, Finding), in rule order
    positions: dict  # id(finding.node) -> (start, end)
    result: FileResult
    # Locks earlier passes of the running `--fix` added.
    fresh_locks: frozenset = frozenset()
    _context: Optional[FixContext] = None
    # The module's text, once decoded: JSON edits find rows in it.
    text: Optional[str] = None

    @property
    def context(self) -> FixContext:
        """The fix context all fixes of this analysis share, made on first use."""
        if self._context is None:
            self._context = FixContext.of(self.model, self.fresh_locks)
            if self.text is not None:
                self._context.facts["text"] = self.text
        return self._context

    def fix_of(self, rule: type[Rule], finding: Finding):
        """``finding``'s fix (or why it has none), built now."""
        return rule().build_fix(finding, self.context)


def _analyze(source: bytes | str, path: str, settings: Settings,
             codes: Optional[Iterable[str]], apply_noqa: bool, module: Optional[str],
             fixes: Union[bool, Confidence],
             marks: Union[bool, Confidence] = False,
             tree: Optional[cst.Module] = None) -> FileResult:
    analysis = analyze(source, path, settings, codes, apply_noqa, module, fixes,
                       marks=marks, tree=tree)
    return analysis if isinstance(analysis, FileResult) else analysis.result


def analyze(source: bytes | str, path: str, settings: Settings,
            codes: Optional[Iterable[str]] = None, apply_noqa: bool = True,
            module: Optional[str] = None, fixes: Union[bool, Confidence] = False,
            fresh_locks: frozenset = frozenset(),
            marks: Union[bool, Confidence] = False,
            tree: Optional[cst.Module] = None) -> Union[Analysis, FileResult]:
    """Parse, model, run the rules and place the findings; a file that cannot
    be parsed or modelled gives its error result instead. ``fresh_locks``
    names the locks earlier passes of ``--fix`` added (their fixes may take
    them again)."""
    selected = tuple(codes) if codes is not None else enabled_rules(settings)
    refused = gate.check(source, settings.max_file_size)  # before libcst can crash on it
    if refused is not None:
        return _error(path, SYNTAX_ERROR, refused.message, refused.row, refused.column)
    try:
        tree = tree if tree is not None else parse(source)
    except cst.ParserSyntaxError as exc:
        return _syntax_error(path, source, exc)
    except (UnicodeDecodeError, LookupError, SyntaxError, ValueError) as exc:
        return _error(path, IO_ERROR, f"cannot decode: {exc}")
    except RecursionError:
        return _error(path, SYNTAX_ERROR, "cannot parse: too deeply nested")
    inject("analyze", path)
    module = module or module_name(path)
    package = module if os.path.basename(path) == "__init__.py" else module.rpartition(".")[0]
    try:
        releases = (b"release" if isinstance(source, bytes) else "release") in source
        model = build_model(path, tree, settings.synchronizing_decorators, package, releases)
    except RecursionError:
        return _error(path, SYNTAX_ERROR, "cannot analyse: too deeply nested")
    result = FileResult(path, summary=summarize(model, module))
    found = [(ALL_RULES[code], f) for code in selected for f in ALL_RULES[code]().check(model)]
    found = _supersede(found, model, set(selected))
    if model.dead_branches:  # `if sys.version_info < (3,):` never runs
        dead = model.dead_nodes
        found = [(rule, f) for rule, f in found if id(f.node) not in dead]
    for rule, finding in found:
        lower_in_coroutine(rule.code, finding, model)
        lower_in_setup(rule.code, finding)
        lower_if_callers_lock(rule.code, finding)
        lower_in_shutdown(rule.code, finding, model)
        if (finding.access is not None and finding.access.ref[-1] in (ITEMS, OWNER_DICT)
                and finding.fix is None):
            # A lock or a copy inside a container subclass changes what its
            # users see: the author's call.
            no_fix(finding, "guard the loop and the writes of its items with one lock of "
                            "the class" if finding.access.ref[-1] == ITEMS else
                            "compute and store the value holding a lock, checking again "
                            "under it, as functools.cached_property did before 3.12")
    if not found:
        return Analysis(tree, model, found, {}, result, fresh_locks)
    text = _decode(source, tree)
    positions = compute_positions(tree, [f.node for _, f in found], _owners(model, found), text)
    analysis = Analysis(tree, model, found, positions, result, fresh_locks, text=text)
    suppressions = Suppressions(text) if apply_noqa else None
    ignored = settings.ignored_for(relative_path(path, settings.root))
    seen = set()
    offered: list = []  # (diagnostic, finding, fix) of each fix offered
    for rule, finding in found:
        start, end = positions[id(finding.node)]
        if any(rule.code.startswith(c) for c in ignored):
            continue
        if suppressions is not None and suppressions.suppressed(rule.code, start.row):
            continue
        key = (rule.code, start, end)
        if key in seen:
            continue
        seen.add(key)
        wanted = fixes is True or (bool(fixes) and finding.confidence >= fixes)
        marked = marks is True or (bool(marks) and finding.confidence >= marks)
        extra = _extra(finding, model)
        built = _built(analysis, rule, finding) if wanted or marked else None
        fix = _fix_json(analysis, built) if wanted and built is not None else None
        applicability = (fix["applicability"] if fix
                         else built.applicability if built is not None and not wanted
                         else None)
        if applicability:
            extra["fixable"] = applicability
        diagnostic = Diagnostic(
            path, rule.code, rule.name, finding.message, start, end,
            finding.confidence, finding.reason, extra=extra, fix=fix,
            fix_pending=((bool(fixes) and not wanted or bool(marks) and not (marked or wanted))
                         and _may_fix(rule, finding)),
        )
        result.diagnostics.append(diagnostic)
        if applicability:
            offered.append((diagnostic, finding, built))
            if built.module_statements or built.class_statements:
                # A lock as long-lived as the process: the project pass
                # withdraws it where the package forks.
                extra["process_lock"] = True
    if offered:
        _withdraw_open(analysis, offered)
    return analysis


def _withdraw_open(analysis: Analysis, offered: list) -> None:
    """Offer no fix whose new lock another write of its state would not
    take: `--fix` leaves those out, and `[*]` must not promise them."""
    from ftlint.fixes.coverage import left_open

    try:
        dropped = left_open(analysis.context, [(finding, fix) for _, finding, fix in offered])
    except Exception:  # noqa: BLE001 - when in doubt, offer nothing
        dropped = set(range(len(offered)))
    for index in dropped:
        diagnostic = offered[index][0]
        diagnostic.extra.pop("fixable", None)
        diagnostic.fix = None


def _owners(model: ModuleModel, found) -> dict[int, tuple[cst.FunctionDef, int]]:
    """id(finding node) -> (the outermost function around it, its ordinal
    among the module's functions of that name), for :func:`compute_positions`."""
    ordinals: dict[int, int] = {}
    seen: dict[str, int] = {}
    for function in model.functions:  # in source order
        ordinals[id(function.node)] = seen.get(function.name, 0)
        seen[function.name] = ordinals[id(function.node)] + 1
    owners = {}
    for _, finding in found:
        if finding.function is None:
            continue
        function = finding.function.outermost
        if id(function.node) in ordinals:
            owners[id(finding.node)] = (function.node, ordinals[id(function.node)])
    return owners


def _built(analysis: Analysis, rule: type[Rule], finding: Finding):
    """``finding``'s fix when it has one (built, no code generated), else None."""
    if not _may_fix(rule, finding):
        return None
    from ftlint.fixes import Fix

    try:
        fix = analysis.fix_of(rule, finding)
    except Exception:  # noqa: BLE001 - a fix that cannot be built is not offered
        return None
    return fix if isinstance(fix, Fix) else None


def _may_fix(rule: type[Rule], finding: Finding) -> bool:
    from ftlint.fixes import Fix

    return rule.fix != "none" and (finding.build is not None or isinstance(finding.fix, Fix))


def _fix_json(analysis: Analysis, fix) -> Optional[dict]:
    from ftlint.fixes.apply import edits_json

    try:
        return edits_json(analysis.context, fix)
    except Exception:  # noqa: BLE001 - a fix that cannot be shown is not offered
        return None
