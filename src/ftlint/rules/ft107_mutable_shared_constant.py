from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel, Mutability
from ftlint.diagnostics import Confidence
from ftlint.fixes.immutable import freeze_fix
from ftlint.rules.base import Example, Finding, Rule, describe, defer

_FREEZE = {"list": "a tuple", "set": "a frozenset", "dict": "types.MappingProxyType"}


class MutableSharedConstant(Rule):
    code = "FT107"
    name = "mutable-shared-constant"
    brief = "a container never mutated after import: make it immutable"
    message = "{name} is never mutated after import; make it {frozen} so that nothing can change it"
    summary = (
        "A module-level or class-level list, set or dict that nothing in the "
        "module mutates after import: a constant by convention only. Opt-in: "
        "select FT107 explicitly."
    )
    rationale = (
        "Read-only sharing is safe, but only while nobody writes. A mutable "
        "'constant' invites a later change (a test patching it, a plugin "
        "appending to it) that silently becomes a data race on the "
        "free-threaded build. An immutable structure makes the guarantee "
        "explicit and lets readers skip the container's internal lock."
    )
    confidence_doc = "always low: this is a hardening suggestion, not a race."
    default_enabled = False
    fix = "unsafe"
    fix_doc = (
        "Replace the list with a tuple, the set with a frozenset, the dict with "
        "`types.MappingProxyType(...)`. The fix is declined when anything in the "
        "module could need the mutable type: an alias, a `+`, `|` or `+=`, a "
        "mutation at import time, a method the immutable type lacks, or passing "
        "it to a call other than a read-only built-in. Unsafe: another module "
        "may still mutate it."
    )
    use_instead = '''
        import types

        METHODS = ("GET", "POST")
        DEFAULTS = types.MappingProxyType({"debug": False})
    '''
    VALID = (
        Example('''
            _cache = {}

            def put(key, value):
                _cache[key] = value
        ''', "mutated at run time (FT101's business)"),
        Example('''
            METHODS = ("GET", "POST")
            __all__ = ["METHODS"]
        ''', "already immutable; dunder names are left alone"),
    )
    INVALID = (
        Example('''
            METHODS = ["GET", "POST"]  # expect: FT107[low]

            def allowed(method):
                return method in METHODS
        ''', "a list used as a constant"),
    )

    FIX_EXAMPLES = (
        ('''
        METHODS = ["GET", "POST"]
        SEPARATORS = {",", ";"}
        DEFAULTS = {"debug": False}
    ''', '''
        import types

        METHODS = ("GET", "POST")
        SEPARATORS = frozenset({",", ";"})
        DEFAULTS = types.MappingProxyType({"debug": False})
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for ref, binding in model.bindings.items():
            if ref[0] not in ("global", "class") or binding.mutability is not Mutability.MUTABLE:
                continue
            frozen = _FREEZE.get(binding.kind)
            name = ref[-1]
            if frozen is None or name.startswith("__"):
                continue
            if any(not a.import_time for a in model.writes(ref)):
                continue
            finding = Finding(binding.node,
                              self.message.format(name=describe(ref), frozen=frozen),
                              Confidence.LOW,
                              "no write after import in this module; other modules may still mutate it")
            finding.build = defer(freeze_fix, binding)
            yield finding
