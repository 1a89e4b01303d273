"""``fix_source``: apply every fix of a file that does not overlap another, then
prove the result (it parses, the fixed findings are gone, fixing again changes
nothing) before handing it back. On any failure the source comes back as it
was, with the reason. Never raises for bad input.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterable, Optional, Sequence, Union

import libcst as cst

from ftlint.config import Settings
from ftlint.diagnostics import Confidence, Diagnostic
from ftlint.fixes import SAFE, Declined, Fix, FixOutcome
from ftlint.fixes.apply import apply, encloses, overlaps
from ftlint.fixes.coverage import writes_outside
from ftlint.faults import inject
from ftlint.project import finish, forking_module, judge
from ftlint.results import FileResult, internal_error

Source = Union[bytes, str]


@dataclass
class FixResult:
    new_source: Source
    applied: list[FixOutcome] = field(default_factory=list)
    unfixed: list[FixOutcome] = field(default_factory=list)
    error: Optional[str] = None  # the file was left untouched, and why
    # The check of new_source before the project pass (a FileResult), when the
    # fixer has it: the report after `--fix` reuses it.
    checked: Optional[object] = field(default=None, repr=False, compare=False)

    @property
    def changed(self) -> bool:
        return bool(self.applied) and self.error is None


@dataclass
class _Pass:
    new_source: Source
    applied: list[FixOutcome]
    unfixed: list[FixOutcome]
    before: Counter
    created: frozenset = frozenset()  # keys of the locks this pass added
    # (code, row, column) in new_source of the findings this pass left
    # alone: not asked for (below the confidence wanted, say), declined, or
    # left for the next pass because their fix overlapped one it applied;
    # under the code of each fixed finding about the same state.
    left_alone: frozenset = frozenset()
    # (code, row, column) of the applied findings whose fix adds no lock
    # (`setdefault`, a snapshot): they do not rely on a lock's other writes.
    lockless: frozenset = frozenset()


def _key(code: str, message: str) -> tuple[str, str]:
    return code, message


def _subject(key: tuple[str, str]) -> str:
    """The state a finding is about: the first `name` of its message."""
    message = key[1]
    start = message.find("`")
    return message[start:message.find("`", start + 1) + 1] if start >= 0 else message


class _Analyses:
    """The analyses of one ``fix_source`` call, by (source, fresh locks): the
    fixed code is checked, proven idempotent and fixed further from one
    parse and one model. An analysis whose fixes are applied is dropped (the
    edits may have left marks on its model)."""

    def __init__(self, path: str, settings: Settings, codes: Optional[Iterable[str]],
                 others: Sequence = ()):
        self.path, self.settings, self.codes = path, settings, codes
        self.others = others  # the project's other files (FileResults), for the project pass
        # Their modules that fork the process: no new process-wide lock in
        # their package (see `locks._fork_refusal`).
        self.forking = [o.summary for o in others if o.summary is not None and o.summary.forks]
        self._analyses: dict = {}
        self._checked: dict = {}
        self._raw: dict = {}

    def get(self, source: Source, fresh: frozenset):
        from ftlint import engine

        key = (source, fresh)
        if key not in self._analyses:
            try:
                analysis = engine.analyze(source, self.path, self.settings, self.codes,
                                          fresh_locks=fresh)
            except Exception as exc:  # noqa: BLE001 - the file is left as it was, with why
                analysis = internal_error(self.path, exc)
            if (self.forking and isinstance(analysis, engine.Analysis)
                    and analysis.result.summary is not None):
                forking = forking_module(self.forking, analysis.result.summary.module)
                if forking:
                    analysis.context.facts["forking"] = forking
            self._analyses[key] = analysis
        return self._analyses[key]

    def spend(self, source: Source, fresh: frozenset) -> None:
        self._analyses.pop((source, fresh), None)

    def checked(self, source: Source, fresh: frozenset):
        """``source``'s findings as a check reports them: the per-file
        analysis and the project pass over the file (declared thread safety,
        start-up code, reachability), at every confidence."""
        if source not in self._checked:
            analysis = self.get(source, fresh)
            result = analysis if isinstance(analysis, FileResult) else analysis.result
            self._raw[source] = result
            result = replace(result, diagnostics=[d.detached() for d in result.diagnostics])
            judge([result], self.settings, self.others)
            self._checked[source] = result
        return self._checked[source]

    def model_of(self, source: Source):
        """The model of ``source`` from an analysis whose fixes were not
        applied, or a new one; None when it cannot be analysed."""
        analysis = next((a for (src, _), a in self._analyses.items() if src == source), None)
        if analysis is None:
            analysis = self.get(source, frozenset())
        return None if isinstance(analysis, FileResult) else analysis.model

    def raw(self, source: Source):
        """The per-file result of ``source`` before the project pass, if checked."""
        return self._raw.get(source)


def _one_pass(source: Source, path: str, settings: Settings, unsafe: bool,
              wanted: Optional[set], codes: Optional[Iterable[str]],
              fresh: frozenset = frozenset(), cache: Optional[_Analyses] = None
              ) -> Union[_Pass, str]:
    """Fix the findings whose (code, row, column) is in ``wanted`` (all if None);
    ``fresh`` names the locks earlier passes of this run added."""
    cache = cache or _Analyses(path, settings, codes)
    analysis = cache.get(source, fresh)
    if isinstance(analysis, FileResult):
        error = next((d for d in analysis.diagnostics if d.is_error), None)
        return error.message if error is not None else "cannot be checked"
    model, found, positions = analysis.context, list(analysis.found), analysis.positions
    before: Counter = Counter()
    chosen: list[tuple[Fix, FixOutcome]] = []
    unfixed: list[FixOutcome] = []
    shared: list[tuple[Fix, FixOutcome]] = []
    # Not fixed by this pass and not to be fixed again by its check: not asked
    # for, overlapping an applied fix, or declined (a decline may rest on what
    # another fix of this pass changes, "guard the loop and the mutations with
    # one lock" before the mutations are guarded: the follow-up passes take it).
    alone: list[tuple[str, str, cst.CSTNode]] = []
    seen = set()
    # In source order: an enclosing unit (the whole `if`) wins over a statement inside it.
    found.sort(key=lambda rf: (positions[id(rf[1].node)][0].row, positions[id(rf[1].node)][0].column))
    for rule, finding in found:
        start = positions[id(finding.node)][0]
        where = (rule.code, start.row, start.column)
        if where in seen:
            continue
        seen.add(where)
        before[_key(rule.code, finding.message)] += 1
        if wanted is not None and where not in wanted:
            alone.append((rule.code, finding.message, finding.node))
            continue
        outcome = FixOutcome(rule.code, finding.message, start.row, start.column)
        try:
            fix = analysis.fix_of(rule, finding)
        except Exception as exc:  # noqa: BLE001 - a builder's failure declines one fix
            fix = Declined(f"ftlint could not build the fix ({type(exc).__name__}: {exc})")
        if fix is None or isinstance(fix, Declined):
            outcome.reason = fix.reason if fix is not None else "no fix for this rule"
            unfixed.append(outcome)
            if fix is not None:
                alone.append((rule.code, finding.message, finding.node))
            continue
        if fix.applicability != SAFE and not unsafe:
            outcome.reason = "the fix is unsafe; --unsafe-fixes applies it"
            unfixed.append(outcome)
            continue
        same = next((o for f, o in chosen if f is fix), None)
        if same is not None:  # one fix for several findings (the calls of one idiom)
            outcome.fix_message = fix.message
            shared.append((fix, outcome))
            continue
        clashes = [(f, o) for f, o in chosen if overlaps(model, f, fix)]
        if clashes and all(encloses(model, fix, f) for f, _ in clashes):
            # The larger unit of work wins (a guard clause's whole run over
            # one statement in it): what it displaces ends up under its lock.
            for f, o in clashes:
                chosen.remove((f, o))
                for other in [(g, p) for g, p in shared if g is f] + [(f, o)]:
                    other[1].fix_message = ""
                    other[1].reason = (f"inside the fix for {outcome.code} at "
                                       f"{outcome.row}:{outcome.column}")
                    unfixed.append(other[1])
                shared = [(g, p) for g, p in shared if g is not f]
            clashes = []
        if clashes:
            clash = clashes[0][1]
            outcome.reason = (f"overlaps the fix for {clash.code} at {clash.row}:{clash.column}; "
                              "run the fixer again")
            unfixed.append(outcome)
            alone.append((rule.code, finding.message, finding.node))
            continue
        outcome.fix_message = fix.message
        chosen.append((fix, outcome))
    if not chosen:
        return _Pass(source, [], unfixed, before)
    cache.spend(source, fresh)
    try:
        new_tree = apply(model, [f for f, _ in chosen])
        new_source = _code(new_tree, source)
    except Exception as exc:  # noqa: BLE001 - a broken fix must leave the file as it was
        return f"could not apply the fixes ({type(exc).__name__}: {exc})"
    applied = sorted([o for _, o in chosen] + [o for _, o in shared], key=lambda o: (o.row, o.column))
    created = frozenset(s.key for f, _ in chosen
                        for s in (*f.module_statements, *f.class_statements, *f.init_statements))
    # A finding left alone may say the same as a fixed one, or come back under
    # the rule of a fixed one about the same state: a declined FT104 on
    # `self.names.add(v)` is FT205 once another fix of this pass locks a write
    # of `names`. Either way it is left alone under the fixed one's code.
    fixed_codes: dict[str, set[str]] = {}
    for o in applied:
        fixed_codes.setdefault(_subject(_key(o.code, o.message)), set()).add(o.code)
    left = [(code, n) for c, m, n in alone for code in fixed_codes.get(_subject(_key(c, m)), ())]
    lockless = frozenset((o.code, o.row, o.column) for f, o in chosen
                         if not (f.module_statements or f.class_statements or f.init_statements))
    return _Pass(new_source, applied, unfixed, before, fresh | created,
                 left_alone=_where_now(new_tree, left), lockless=lockless)


def _where_now(new_tree: cst.Module, findings: list[tuple[str, cst.CSTNode]]) -> frozenset:
    """(code, row, column) of each finding in the fixed code. The edits
    rebuild only the nodes above what they change, so the node of a finding
    that no fix touched is in the new tree as it was; one that a fix did
    touch is not found, and is left out."""
    from ftlint.positions import compute_positions

    positions = compute_positions(new_tree, [node for _, node in findings])
    return frozenset((code, positions[id(node)][0].row, positions[id(node)][0].column)
                     for code, node in findings if id(node) in positions)


def _code(tree: cst.Module, source: Source) -> Source:
    """The code of ``tree`` (parsed from ``source``), bytes or text like it.

    libcst drops the last newline of a file that ends in a lone CR (old Mac
    line endings): it does not count it as a trailing newline. Put it back."""
    code = tree.bytes if isinstance(source, bytes) else tree.code
    cr = b"\r" if isinstance(source, bytes) else "\r"
    if not tree.has_trailing_newline and source.endswith(cr):  # type: ignore[arg-type]
        code += cr  # type: ignore[operator]
    return code


def _compiles(source: Source) -> bool:
    try:
        compile(source, "<fix>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        # MemoryError: "Parser stack overflowed - Python source too complex".
        return False
    return True


def _verify(source: Source, result: _Pass, path: str, settings: Settings, unsafe: bool,
            codes: Optional[Iterable[str]], cache: Optional[_Analyses] = None) -> Optional[str]:
    """None when the fixed source is proven good, else why not."""
    cache = cache or _Analyses(path, settings, codes)
    new = result.new_source
    # Checked first: its parse is the one that proves the code parses (each
    # parse of a big file costs seconds), and the caller reuses its findings.
    after = cache.checked(new, result.created)
    if after.error:
        try:
            cst.parse_module(new)
        except Exception as exc:  # noqa: BLE001 - any failure means "do not write"
            return f"the fixed code does not parse ({type(exc).__name__})"
    if _compiles(source) and not _compiles(new):
        return "the fixed code does not compile"
    if after.error:
        return "the fixed code cannot be checked"
    remaining = Counter(_key(d.code, d.message) for d in after.diagnostics)
    fixed = Counter(_key(o.code, o.message) for o in result.applied)
    elsewhere: set = set()  # fixed kinds whose leftovers are new, low, on other lines
    # A finding left unfixed may come back under another rule (FT201 turns
    # into FT205 once a fix guards the same state elsewhere). A finding of a
    # fixed kind beyond what was left of it is one that moved only if a
    # finding about the same state, left unfixed, is gone.
    moved = Counter(_subject(k) for k in result.before
                    for _ in range(result.before[k] - fixed[k] - remaining[k]))
    for key, count in fixed.items():
        excess = remaining[key] - (result.before[key] - count)
        if excess > moved[_subject(key)]:
            if not _new_elsewhere(source, new, key, result, after):
                return f"the fix did not remove {key[0]} ({key[1]})"
            elsewhere.add(key)
        moved[_subject(key)] -= max(excess, 0)
    # Fixing again means fixing the findings of the fixed kinds that are
    # still there; not the ones the pass left alone that say the same (the
    # same call at a confidence below the one asked for, a write whose fix
    # overlapped one applied here, which the follow-up passes take): fixing
    # those would change the code, but this pass was never to touch them.
    # The new low findings a guard brings out elsewhere are a later pass's
    # to fix, as any finding of the fixed code is.
    wanted = {(d.code, d.start.row, d.start.column) for d in after.diagnostics
              if _key(d.code, d.message) in fixed
              and _key(d.code, d.message) not in elsewhere} - result.left_alone
    again = _one_pass(new, path, settings, unsafe, wanted, codes, result.created, cache)
    if isinstance(again, str) or again.new_source != new:
        return "fixing again would change the code again (not idempotent)"
    return None


def _covered_by(reason: str) -> str:
    """The fix message of a finding that the edit of another fix removed:
    ``reason`` said why it was not fixed on its own ("overlaps the fix for
    FT202 at 332:9; ..." or "inside the fix for ...")."""
    import re

    other = re.search(r"the fix for (FT\d+ at \d+:\d+)", reason)
    return f"Covered by the fix for {other.group(1)}" if other else "Covered by the edit of another fix"


def _line(text: Source, row: int) -> str:
    lines = (text.decode("utf-8", "replace") if isinstance(text, bytes) else text).splitlines()
    return lines[row - 1].strip() if 0 < row <= len(lines) else ""


def _new_elsewhere(source: Source, new: Source, key, result: _Pass, after) -> bool:
    """The findings of ``key`` left after the fix are new, low ones on
    other statements, not the fixed ones: guarding a check-then-act makes
    the container's other, atomic writes elsewhere reportable against the
    new lock (at low confidence). None of them sits on a line that reads
    as a fixed finding's line did, and none is above low."""
    fixed_lines = {_line(source, o.row) for o in result.applied if _key(o.code, o.message) == key}
    for d in after.diagnostics:
        if _key(d.code, d.message) != key or (d.code, d.start.row, d.start.column) in result.left_alone:
            continue
        if d.confidence > Confidence.LOW or _line(new, d.start.row) in fixed_lines:
            return False
    return True


def fix_source(source: Source, path: str = "<stdin>", settings: Optional[Settings] = None,
               unsafe: bool = False, diagnostics: Optional[Iterable[Diagnostic]] = None,
               codes: Optional[Iterable[str]] = None, depth: int = 0,
               others: Sequence = (), held_back: frozenset = frozenset()) -> FixResult:
    """Fix what ``diagnostics`` report (default: what ``lint_source`` reports).
    ``others`` are the results of the project's other files: the fixed code
    is judged with their summaries, as a check of the project judges it.
    ``held_back``: states (as findings name them) whose fixes an outer try
    left out; follow-up passes leave their findings alone too."""
    from ftlint.engine import analyze_source

    settings = settings or Settings()
    if diagnostics is None:
        checked = analyze_source(source, path, settings, codes)
        finish([checked], settings, others)
        diagnostics = checked.diagnostics
    diagnostics = list(diagnostics)
    wanted = {(d.code, d.start.row, d.start.column) for d in diagnostics if not d.is_error}
    if not wanted:
        return FixResult(source)
    inject("fix", path)
    cache = _Analyses(path, settings, codes, others)
    first = _one_pass(source, path, settings, unsafe, wanted, codes, cache=cache)
    if isinstance(first, str):
        return FixResult(source, error=first)
    if not first.applied:
        return FixResult(source, [], first.unfixed)
    why = _verify(source, first, path, settings, unsafe, codes, cache)
    if why is not None:
        reason = f"not fixed: {why}"
        undone = [FixOutcome(o.code, o.message, o.row, o.column, reason=reason) for o in first.applied]
        return FixResult(source, [], undone + first.unfixed, error=why)
    result = FixResult(first.new_source, first.applied, first.unfixed)
    left, created = _finish_the_job(result, set(first.before), path, settings, unsafe, codes,
                                    first.created, cache, original=source, held_back=held_back)
    # The fixed code must not bring out a finding above low that the original
    # did not have (a lock that makes other writes of the state look
    # inconsistent, say). Such fixes are left out: the findings about the
    # same state are not fixed, and the rest is fixed again without them.
    diagnostics = [d for d in diagnostics if not d.is_error]
    floor = max(settings.min_confidence, Confidence.MEDIUM)
    had = {_key(d.code, d.message) for d in diagnostics}
    # A write left outside a lock this run added (at any confidence) means
    # that lock excludes nothing there: the fix did not close the race.
    brought = [d for d in left if not d.is_error and _key(d.code, d.message) not in had
               and (d.confidence >= floor or _outside_new_lock(d, created))]
    # Every run-time write of a state that a new lock guards must take it,
    # container calls through an alias of an item (`reg = d[k]; reg.pop(x)`)
    # included, which no rule reports on their own.
    unclosed = writes_outside(cache.model_of(result.new_source), created)
    if not brought and not unclosed:
        result.checked = cache.raw(result.new_source)
        return result
    def subject(d: Diagnostic) -> str:
        return _subject(_key(d.code, d.message))

    brought_subjects = {subject(d) for d in brought}
    subjects = brought_subjects | set(unclosed)
    # A fix that adds no lock (`setdefault`) does not rely on the other
    # writes taking one: only the lock fixes of a state left open go.
    keep = [d for d in diagnostics if subject(d) not in subjects
            or (subject(d) not in brought_subjects
                and (d.code, d.start.row, d.start.column) in first.lockless)]
    reason = (f"fixing it would bring out a new finding: {brought[0].code} "
              f"{brought[0].message}") if brought else next(iter(unclosed.values()))
    dropped = [FixOutcome(d.code, d.message, d.start.row, d.start.column,
                          reason=unclosed.get(subject(d)) or reason)
               for d in diagnostics if d not in keep]
    if not dropped or depth >= 2:
        return FixResult(source, [], [FixOutcome(o.code, o.message, o.row, o.column, reason=reason)
                                      for o in result.applied] + first.unfixed)
    again = fix_source(source, path, settings, unsafe, keep, codes, depth + 1,
                       others, held_back | subjects) if keep else (
        FixResult(source))
    again.unfixed = [o for o in again.unfixed
                     if (o.code, o.row, o.column) not in {(d.code, d.row, d.column) for d in dropped}]
    again.unfixed += dropped
    return again


# A lock added in one place exposes the other writes of the same state
# ("written under a lock elsewhere"); a few more passes guard them too.
FOLLOW_UP_PASSES = 3


def _outside_new_lock(d: Diagnostic, created: frozenset) -> bool:
    """``d`` is a write without the lock that this run added for its state."""
    return d.code == "FT205" and not created.isdisjoint(d.extra.get("locks", ()))


def _lines(source: Source) -> list:
    return (source.decode("latin-1") if isinstance(source, bytes) else source).splitlines()


def _line_map(old: Source, new: Source) -> dict[int, int]:
    """Row in ``new`` -> the row in ``old`` it comes from (an added line:
    the old line where the addition starts)."""
    import difflib

    a, b = _lines(old), _lines(new)
    rows: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        for offset, j in enumerate(range(j1, j2)):
            rows[j + 1] = (i1 + offset if tag == "equal" else min(i1 + offset, max(i2 - 1, i1))) + 1
    return rows


def _finish_the_job(result: FixResult, known: set, path: str, settings: Settings,
                    unsafe: bool, codes: Optional[Iterable[str]], fresh: frozenset,
                    cache: _Analyses, original: Optional[Source] = None,
                    held_back: frozenset = frozenset()) -> list:
    """Fix findings that only our own fixes brought out, pass by pass; each
    pass is proven like the first, and a failed one is simply not taken.
    Then keep in ``unfixed`` only what the fixed code still reports, and
    return the diagnostics of the fixed code."""
    left = cache.checked(result.new_source, fresh).diagnostics
    declined: list[FixOutcome] = []  # why findings of the final code stay
    created = frozenset(fresh)
    for _ in range(FOLLOW_UP_PASSES):
        current = result.new_source
        # Everything still reported: findings our fixes brought out, and ones
        # declined or overlapped before, which a new lock may have made fixable;
        # and every write left outside a lock this run added, whatever its
        # confidence: that lock guards the state only if all writes take it.
        new = [d for d in left if not d.is_error and (
            d.confidence >= settings.min_confidence or _outside_new_lock(d, created))
            and _subject(_key(d.code, d.message)) not in held_back]
        if not new:
            break
        step = _one_pass(current, path, settings, unsafe,
                         {(d.code, d.start.row, d.start.column) for d in new}, codes, fresh, cache)
        if isinstance(step, str):
            break
        if not step.applied:
            declined = step.unfixed
            break
        if _verify(current, step, path, settings, unsafe, codes, cache) is not None:
            break
        known |= set(step.before)
        fresh = step.created
        created |= step.created
        if original is not None:
            # Outcomes of a follow-up pass point into the code the earlier
            # passes wrote; report them where they were in the file as read.
            rows = _line_map(original, current)
            step.applied = [replace(o, row=rows.get(o.row, o.row)) for o in step.applied]
        result.new_source = step.new_source
        result.applied.extend(step.applied)
        left = cache.checked(result.new_source, fresh).diagnostics
    # A finding left unfixed (say, one overlapping another fix) may be gone
    # now: a lock the other fix added covers it. Report only what is left.
    remaining = {_key(d.code, d.message) for d in left}
    gone = [o for o in result.unfixed if _key(o.code, o.message) not in remaining]
    result.unfixed = [o for o in result.unfixed if _key(o.code, o.message) in remaining]
    # Those are fixed, by the edit of another fix: say so, and count them.
    result.applied = sorted(result.applied + [
        replace(o, fix_message=_covered_by(o.reason), reason="") for o in gone],
        key=lambda o: (o.row, o.column))
    # Findings only our fixes brought out, with the reason they stay.
    told = {_key(o.code, o.message) for o in result.unfixed}
    result.unfixed += [o for o in declined if _key(o.code, o.message) not in told]
    return left, created
