"""What every rule declares, and the data a rule reports."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Optional, Union

import libcst as cst

from ftlint.analysis.model import ITEMS, OWNER_DICT, Access, Binding, Function, ModuleModel, Mutability, Ref
from ftlint.analysis.ownership import owner_only
from ftlint.diagnostics import Confidence
from ftlint.fixes import Declined, Fix

if TYPE_CHECKING:
    from ftlint.fixes.context import FixContext


@dataclass
class Finding:
    node: cst.CSTNode
    message: str
    confidence: Confidence
    reason: str
    # The function the finding is in, for the project pass.
    function: Optional[Function] = None
    # The write this finding is about: a more specific rule reporting the
    # same write supersedes a general one (see Rule.supersedes).
    access: Optional[Access] = None
    # Why this finding has no fix, when the check already knows; otherwise
    # ``build`` makes the fix (or says why not) once a fix is wanted.
    fix: Union[Fix, Declined, None] = None
    build: Optional[Callable[["FixContext"], Union[Fix, Declined, None]]] = None
    # Facts the project pass needs, passed on in the diagnostic's ``extra``.
    facts: dict = field(default_factory=dict)

    @classmethod
    def at(cls, access: Access, message: str, confidence: Confidence, reason: str,
           node: Optional[cst.CSTNode] = None) -> "Finding":
        return cls(node or access.node, message, confidence, reason, access.function, access)


# Expected findings are marked inline, on the line they point at:
#     _cache[key] = value  # expect: FT101[low]
# The same markers serve fixtures, rule examples and the rendered docs.
EXPECT = re.compile(r"#\s*expect:\s*(?P<items>[A-Z]+[0-9]+(?:\[\w+\])?(?:\s*,\s*[A-Z]+[0-9]+(?:\[\w+\])?)*)")
_ITEM = re.compile(r"(?P<code>[A-Z]+[0-9]+)(?:\[(?P<conf>\w+)\])?")


def expected_findings(source: str) -> list[tuple[int, str, Optional[str]]]:
    """(row, code, confidence or None) for every marker in ``source``."""
    out = []
    for row, line in enumerate(source.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            for item in _ITEM.finditer(match.group("items")):
                out.append((row, item.group("code"), item.group("conf")))
    return out


@dataclass(frozen=True)
class Example:
    """A VALID or INVALID snippet; INVALID ones carry ``# expect:`` markers."""

    code: str
    title: str = ""

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).strip("\n") + "\n"


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    message: ClassVar[str]
    summary: ClassVar[str]  # what it finds, one sentence
    brief: ClassVar[str] = ""  # what it finds, in a few words (the README's table)
    rationale: ClassVar[str]  # why it breaks without the GIL
    confidence_doc: ClassVar[str]  # how the confidence is decided
    fix: ClassVar[str] = "none"  # "safe", "unsafe", "sometimes" or "none"
    fix_doc: ClassVar[str] = ""  # what the fix does, and why it is (un)safe
    # What to do about a finding that no fix addresses ("When no fix
    # applies"): the findings whose message ends with advice, and the
    # shapes the fixer declines.
    no_fix_doc: ClassVar[str] = ""
    use_instead: ClassVar[str] = ""  # example of the corrected code
    known_problems: ClassVar[str] = ""
    options: ClassVar[str] = ""
    references: ClassVar[tuple[str, ...]] = ()
    default_enabled: ClassVar[bool] = True
    # Codes whose finding on the same write this rule's finding replaces.
    supersedes: ClassVar[tuple[str, ...]] = ()
    VALID: ClassVar[tuple[Example, ...]] = ()
    INVALID: ClassVar[tuple[Example, ...]] = ()
    # (before, after) pairs of what `--fix` does, rendered under "Fix safety"
    # and tested; a rule whose fix is not "none" but has none is still planned.
    FIX_EXAMPLES: ClassVar[tuple[tuple[str, str], ...]] = ()

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        raise NotImplementedError

    def build_fix(self, finding: Finding, context: "FixContext") -> Union[Fix, Declined, None]:
        """The finding's fix, or why it has none. Called only when a fix is
        wanted (``--fix``, ``--diff``, JSON, an editor's code action): a
        check never pays for building fixes. ``context`` is shared by every
        fix of the module (see :mod:`ftlint.fixes.context`)."""
        if finding.build is not None:
            return finding.build(context)
        return finding.fix


def no_fix(finding: Finding, advice: str) -> Finding:
    """``finding`` has no fix here, whatever the shape of the code: its
    message ends with what to do instead (``--fix`` leaves it reported, so
    the message is what the user reads next), and ``--show-fixes`` gives the
    same words as the reason."""
    finding.message = f"{finding.message}; {advice}"
    finding.fix, finding.build = Declined(advice), None
    return finding


def lone_atomic_advice(model: ModuleModel, access: Access, code: str) -> Optional[str]:
    """What to do about one atomic operation on a container that a loop
    elsewhere iterates without a lock: a lock around the operation alone
    changes nothing, the loop must change. None when the write is not a
    lone atomic operation, or nothing iterates the container."""
    binding = model.binding(access.ref)
    if not access.atomic or model.compound_for(access) is not None or (
            access.op.startswith("item.") and binding is not None
            and binding.kind == "defaultdict"):
        return None  # medium in its own right, whatever the loops do
    iterations = [a for a in model.runtime_iterations(access.ref)
                  if a.statement is not access.statement]
    if not iterations:
        return None
    copy = ("loop over a copy there (`list(...)`) or "
            if binding is not None and binding.kind in ("dict", "list", "set") else "")
    return (f"the write is atomic, the loop in {where(iterations[0])} is not: {copy}guard the "
            f"loop and the writes with one lock, or add `# noqa: {code}` if they never overlap")


def defer(builder: Callable[..., Union[Fix, Declined, None]], *args: Any
          ) -> Callable[["FixContext"], Union[Fix, Declined, None]]:
    """``builder(context, *args)`` once a fix is wanted: what a rule's check
    stores in ``Finding.build``. The arguments are bound now, the context
    (the model as fix builders see it) later."""
    return lambda context: builder(context, *args)


# -- helpers shared by rules ----------------------------------------------------

def describe(ref: Ref) -> str:
    kind = ref[0]
    if kind == "global":
        return f"`{ref[1]}`"
    if kind == "instance" and ref[2] == ITEMS:
        return f"`{ref[1]}`'s own items"
    if kind == "instance" and ref[2] == OWNER_DICT:
        return f"`__dict__` of the objects `{ref[1]}` caches on"
    if kind in ("class", "instance"):
        return f"`{ref[1]}.{ref[2]}`"
    if kind == "default":
        return f"the default of `{ref[2]}` in `{ref[1]}()`"
    if kind == "funcattr":
        return f"`{ref[1]}.{ref[2]}`"
    return f"`{'.'.join(ref[1:])}`"


def describe_start(ref: Ref) -> str:
    """:func:`describe`, capitalised to start a sentence."""
    text = describe(ref)
    return text[0].upper() + text[1:]


def where(access: Access) -> str:
    return f"`{access.function.qualname}()`" if access.function else "module scope"


_ITEM_WRITES = frozenset({"setitem", "delitem", "augitem"})


def mutable_bindings(model: ModuleModel, scope: str) -> Iterator[Binding]:
    """Containers at ``scope``: known mutable ones, and names of unknown type
    that are written through subscripts at run time (built by a call, or an
    alias of another global), which only a mapping or a list allows."""
    for ref, binding in model.bindings.items():
        if ref[0] != scope:
            continue
        if binding.mutability is Mutability.MUTABLE:
            yield binding
        elif (binding.mutability is Mutability.UNKNOWN and binding.kind == "object"
              and any(w.op in _ITEM_WRITES and not w.import_time for w in model.writes(ref))):
            yield binding


_AT_THE_END = frozenset({"append", "extend", "augassign"})
_REBINDS = frozenset({"rebind", "setattr"})


def at_the_end(write: Access) -> bool:
    """A change of a list at its end: `append`, `extend`, `+=`, `pop()`."""
    if write.op in _AT_THE_END:
        return True
    return write.op == "pop" and isinstance(write.node, cst.Call) and not write.node.args


def grows_at_the_end(model: ModuleModel, binding: Binding) -> bool:
    """``binding`` is a list that, after import, changes only at its end: a
    loop over it never fails and never skips an item that stays."""
    return binding.kind == "list" and all(
        at_the_end(w) for w in model.writes(binding.ref)
        if w.op not in _REBINDS and not w.import_time)


def container_write_confidence(model: ModuleModel, access: Access,
                               binding: Binding) -> tuple[Confidence, str]:
    """Risk of one unguarded run-time write to a shared container.

    A lone atomic operation cannot corrupt the container; it only races in
    combination. A compound update loses writes. Mutating a container that is
    iterated elsewhere breaks the iteration.
    """
    iterations = [a for a in model.runtime_iterations(access.ref)
                  if a.statement is not access.statement]
    if iterations and not grows_at_the_end(model, binding):
        if access.atomic and model.compound_for(access) is None and not (
                access.op.startswith("item.") and binding.kind == "defaultdict"):
            # One race, one finding: a lone atomic write is harmless but for
            # the loop, which FT206 reports where the fix goes (a copy, or
            # one lock over the loop and the writes).
            return Confidence.LOW, (
                f"it is also iterated in {where(iterations[0])} without a lock, but this "
                "write is one atomic step: the loop is what breaks, and it is reported there "
                "(FT206)")
        # Medium: the two race only if they run at once; reachability from a
        # thread entry raises a non-atomic write to high.
        return Confidence.MEDIUM, (
            f"it is also iterated in {where(iterations[0])} without a lock; "
            "iterating while another thread mutates it skips or repeats items, "
            "or raises RuntimeError"
        )
    compound = model.compound_for(access)
    if compound is not None and compound.kind != "check-then-read":
        return Confidence.MEDIUM, f"{_compound_text(compound.kind)}: updates can be lost"
    if access.op.startswith("item.") and binding.kind == "defaultdict":
        return Confidence.MEDIUM, (
            "a missing key makes defaultdict build a value and store it in two "
            "steps; two threads can each build one and one write is lost"
        )
    if not access.atomic:
        return Confidence.MEDIUM, (
            f"`{access.op}` is not atomic unless its argument is exactly a "
            "built-in list, tuple, set or dict"
        )
    return Confidence.LOW, (
        f"a single `{access.op}` is atomic on the free-threaded build; it races "
        "only together with other accesses to the same container"
    )


def _compound_text(kind: str) -> str:
    return {
        "rmw": "a read-modify-write",
        "check-then-act": "a check followed by an act",
        "lazy-init": "a lazy initialisation",
        "check-then-set": "a check followed by a set",
    }.get(kind, kind)


def unguarded_runtime_writes(model: ModuleModel, ref: Ref) -> Iterator[Access]:
    lazy = model.lazy_init_nodes.get(ref, set())
    for access in model.runtime_writes(ref):
        compound = model.compound_for(access)
        if compound is not None and model.guarded(compound.locks):
            continue
        if compound is not None and compound.kind != "lazy-init" and id(compound.node) in lazy:
            continue  # filling the value a lazy initialisation just built
        yield access


SHARED_REFS = ("instance", "class", "global", "attr", "funcattr", "ext")
# Containers of the interpreter itself that every thread shares.
SHARED_MODULE_STATE = frozenset({
    "sys.modules", "sys.path", "sys.meta_path", "sys.path_hooks", "sys.path_importer_cache",
})


# The reason of a finding on an object that nothing shows to be shared. The
# project pass raises such a finding only to medium when a thread reaches it:
# that shows the code runs on another thread, not that other threads use the
# object at the same time.
NO_SIGN = "no sign yet that several threads use this object"


def shared_object_confidence(model: ModuleModel, access: Access,
                             writes: bool = False) -> tuple[Confidence, str]:
    """Without reachability facts: how exposed is the code doing this?

    State on a class, a module or a module-level object is shared by
    definition, so a public function writing it is a library promising that
    callers may do so from threads. An instance is shared only if several
    threads use it: as RacerD does, we take a class's own use of a lock, or a
    module-level instance of it, as the sign that it is meant to be.
    """
    if access.ref[0] in ("class", "global", "attr", "funcattr", "ext"):
        return Confidence.MEDIUM, "the state lives on a class or module, which every thread shares"
    cls = access.ref[1] if access.ref[0] == "instance" else None
    evidence = model.sharing_evidence.get(cls) if cls is not None else None
    if evidence is not None and len(access.ref) > 2:
        confined = model.parser_driven.get(cls) or model.dispatch_confined(cls, access.ref[2])
        if confined is not None:
            return Confidence.LOW, confined
        evidence = model.attribute_sharing(cls, access.ref[2], writes)
        if evidence is None and writes and model.attribute_sharing(cls, access.ref[2]):
            return Confidence.LOW, (f"the threads `{cls}` starts read `{access.ref[2]}` but "
                                    "never write it, and a lost update needs a second writer")
        if evidence is None:
            return Confidence.LOW, (f"`{cls}` uses a lock or a thread, but not for "
                                    f"`{access.ref[2]}`: as far as this module shows, one "
                                    "thread at a time uses it")
    if evidence is not None:
        return Confidence.MEDIUM, f"{evidence}, so its objects are meant to be shared between threads"
    return Confidence.LOW, NO_SIGN


def is_shared_write(model: ModuleModel, access: Access) -> bool:
    """A run-time access (usually a write) to state another thread can see."""
    if access.ref[0] not in SHARED_REFS or access.import_time or model.per_thread(access.ref):
        return False
    if access.ref[0] == "ext" and access.ref[1] not in SHARED_MODULE_STATE:
        return False
    function = access.function
    if access.ref[0] == "instance" and function is not None and function.in_constructor:
        return False  # the object is still under construction
    if (access.ref[0] == "instance" and function is not None
            and access.ref[1] == function.outermost.class_name
            and id(access.node) in model.before_own_thread):
        return False  # set up before the method starts the object's own thread
    # `if self._owner == get_ident(): self._count += 1`: only the owner thread.
    return not owner_only(model, access)
