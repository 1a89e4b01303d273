"""A hypothesis strategy for thread-shaped programs with odd formatting.

``thread_programs()`` draws a module the way racy code looks: module-level
dicts, lists, sets, counters and lazily built singletons; classes whose
methods do ``self.count += 1`` or ``if k not in self.items: ...``; locks taken
with ``with`` or ``acquire()``/``release()``; threads and executors; shared
generators; ``os.environ`` and ``os.chdir``; the switch-interval trick; a lock
made at its use. Every rule's shape (FT1xx, FT2xx, FT3xx) is in there.

The same program is then rendered oddly, which is where fixers break: one-line
suites (``if x: y``, ``def f(): ...``, ``class C: x = 1``), several
statements on a line, comments in every gap (inside brackets, after colons,
between decorators, at column 0 inside a block), tabs and odd indent widths,
backslash continuations, form feeds, blank lines holding whitespace, CRLF, lone CR or
mixed line endings and no trailing newline. An ``oddness`` drawn per program
runs from plain to very odd, so plain programs (which most fixes need to
engage at all) are generated as well.

Templates are written as indented text: a line ending in ``:`` opens a block,
``$n`` is the state, ``$L`` a lock, ``⟨c⟩`` a gap inside brackets (where a
comment may go), ``⟨s⟩`` a gap between tokens (where a backslash may go), and
a leading ``!`` says the template rebinds ``$n`` (a bare name then needs
``global``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Union

from hypothesis import strategies as st

# -- the program as a tree ---------------------------------------------------


@dataclass
class Simple:
    text: str


@dataclass
class Block:
    clauses: list  # [(header without the colon, [statements])]
    decorators: list = field(default_factory=list)


Statement = Union[Simple, Block]
_CONTINUES = ("else", "elif ", "except", "finally")


def parse(text: str) -> list[Statement]:
    """Indented template text (four spaces a level) to statements."""
    root: list[Statement] = []
    stack: list[tuple[int, list]] = [(-1, root)]
    decorators: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        body = line.split("  #")[0].strip()  # the renderer adds its own comments
        if not body or body.startswith("#"):
            continue
        while stack[-1][0] >= indent:
            stack.pop()
        target = stack[-1][1]
        if body.startswith("@"):
            decorators.append(body[1:])
            continue
        if body.endswith(":"):
            header, children = body[:-1], []
            if body.startswith(_CONTINUES) and target and isinstance(target[-1], Block):
                target[-1].clauses.append((header, children))
            else:
                target.append(Block([(header, children)], decorators))
                decorators = []
            stack.append((indent, children))
        else:
            target.append(Simple(body))
    return root


# -- state, statements and their templates -------------------------------------

STATE = {
    "dict": (["_cache", "_registry", "CACHE", "_handlers"],
             ["{⟨c⟩}", "dict()", "{⟨c⟩'a':⟨c⟩ 1,⟨c⟩}", "collections.defaultdict(⟨c⟩list⟨c⟩)",
              "collections.OrderedDict()", "collections.Counter()", "{}"]),
    "list": (["_items", "_jobs", "QUEUE"],
             ["[⟨c⟩]", "list()", "[⟨c⟩1,⟨c⟩ 2]", "collections.deque()", "[]"]),
    "set": (["_seen", "_pending"], ["set(⟨c⟩)", "{⟨c⟩1, 2⟨c⟩}", "set()"]),
    "counter": (["_count", "_total", "COUNTER"], ["0", "0.0", "(⟨c⟩0⟨c⟩)"]),
    "lazy": (["_instance", "_conn", "_config"], ["None"]),
    "iter": (["_ids", "_gen", "_source"],
             ["itertools.count(⟨c⟩)", "(n for n in range(10))", "iter(⟨c⟩range(5)⟨c⟩)"]),
    "const": (["NAMES", "DEFAULTS", "_TABLE"],
              ["[⟨c⟩'a',⟨c⟩ 'b']", "{⟨c⟩'x':⟨c⟩ 1}", "{1, 2}", "['a']"]),
}
ANNOTATIONS = {"dict": "dict", "list": "list", "set": "set", "counter": "int",
               "lazy": "object | None", "iter": "object", "const": "list"}
LOCKS = ["threading.Lock()", "threading.RLock()", "Lock()", "threading.Lock(⟨c⟩)"]

TEMPLATES = {
    "dict": [
        "$n[k]⟨s⟩=⟨s⟩v", "$n[k] += 1", "$n.update(⟨c⟩{k:⟨c⟩ v}⟨c⟩)", "del $n[k]",
        "$n.pop(⟨c⟩k, None⟨c⟩)", "$n.setdefault(k, [])", "$n[k].append(v)",
        "$n[k] = $n.get(k, 0) + 1", "$n.clear()",
        "if k not in $n:\n    $n[k] = v",
        "if k not in⟨s⟩$n:\n    $n[k] = compute(k)",
        "if k in $n:\n    del $n[k]",
        "if k in $n:\n    return $n[k]\n$n[k] = v\nreturn v",
        "if k not in $n:\n    $n[k] = v\nelse:\n    $n[k] += 1",
        "if k not in $n:\n    $n[k] = v\nelif v:\n    $n[k] = None",
        "try:\n    return $n[k]\nexcept KeyError:\n    $n[k] = v",
        "try:\n    v = $n[k]\nexcept KeyError:\n    v = $n[k] = compute(k)\nreturn v",
        "if (val := $n.get(k)) is None:\n    $n[k] = val = v",
        "for key in $n:\n    print(key)",
        "for key, val in $n.items():\n    total = val",
        "match k:\n    case 'a':\n        $n[k] = v\n    case _:\n        pass",
        "if k in $n:  # hit\n    return $n[k]",
        "!$n = {}",
        "if len($n) > 100:\n    $n.clear()",
        "$n[k] = [x for x in $n.get(k, ()) if x]",
        "if k not in $n:\n    # make it\n    $n[k] = v",
        "if not $n.get(k):\n    $n[k] = v",
    ],
    "list": [
        "$n.append(⟨c⟩v⟨c⟩)", "$n.extend([v])", "$n.pop()", "$n.pop(0)", "$n.remove(v)",
        "$n[0] = v", "!$n += [v]", "$n.sort()", "$n.insert(0, v)", "$n[:] = []",
        "if $n:\n    return $n.pop()",
        "if $n:\n    x = $n.pop()",
        "if v not in $n:\n    $n.append(v)",
        "for item in $n:\n    print(item)",
        "while $n:\n    $n.pop()",
        "if len($n) > 10:\n    del $n[0]",
    ],
    "set": [
        "$n.add(v)", "$n.discard(v)", "$n.update([v])",
        "if v in $n:\n    $n.remove(v)",
        "if v not in $n:\n    $n.add(v)",
        "for x in $n:\n    print(x)",
        "!$n |= {v}",
    ],
    "counter": [
        "!$n += 1", "!$n = $n + 1", "!$n -= v", "!$n+=1", "print($n)",
        "!if $n > 10:\n    $n = 0",
        "!$n += 1\nreturn $n",
    ],
    "lazy": [
        "!if $n is None:\n    $n = object()\nreturn $n",
        "!if not $n:\n    $n = compute(k)",
        "!if $n is None:\n    $n = {}\n$n[k] = v",
        "!if $n is None:\n    with $L:\n        if $n is None:\n            $n = object()",
        "!if $n is None:\n    $n = object()",
    ],
    "iter": [
        "return next($n)", "v = next($n, None)", "for x in $n:\n    print(x)",
        "print(next(⟨c⟩$n⟨c⟩))",
    ],
    "const": ["return $n[0]", "print(len($n))", "for x in $n:\n    print(x)"],
}
PROCESS = [
    'os.environ["MODE"] = v', 'os.environ.pop("DEBUG", None)', "os.chdir(path)",
    "os.environ.setdefault('A', 'b')", "sys.stdout = sys.stderr", "os.umask(0o22)",
    "locale.setlocale(locale.LC_ALL, 'C')",
    "old = os.getcwd()\nos.chdir(path)\ntry:\n    subprocess.run(['ls'], check=True)\n"
    "finally:\n    os.chdir(old)",
    "with contextlib.chdir(path):\n    subprocess.run(['make'], check=True)\n"
    "    subprocess.call(['ls'])",
    "old = sys.getswitchinterval()\nsys.setswitchinterval(1000)\ntry:\n"
    "    return compute(k)\nfinally:\n    sys.setswitchinterval(old)",
    "sys.setswitchinterval(100)\ntry:\n    v = compute(k)\nfinally:\n"
    "    sys.setswitchinterval(0.005)",
    "if sys.getrefcount(v) <= 2:\n    v.append(k)",
    "with threading.Lock():\n    k.count = 1",
    "lock = threading.Lock()\nwith lock:\n    k.count = 2",
    "threading.Lock().acquire()",
    "with contextlib.redirect_stdout(None):\n    compute(k)",
]
MODULE_FUNCTIONS = [
    "def $f(k, v, cache={}):\n    cache[k] = v",
    "def $f(k, seen=[]):\n    seen.append(k)\n    return seen",
    "def $f(k):\n    $f.calls = getattr($f, 'calls', 0) + 1",
    "def $f(k):\n    $f.count += 1\n$f.count = 0",
    "def _rows():\n    yield from range(10)\n_rows_source = _rows()\ndef $f():\n"
    "    return next(_rows_source)",
    "def $f(worker):\n    rows = (n for n in range(100))\n"
    "    threads = [threading.Thread(target=worker, args=(rows,)) for _ in range(4)]\n"
    "    return threads",
    "def $f(items):\n    count = 0\n    def inner():\n        nonlocal count\n"
    "        count += 1\n        items.append(count)\n    threading.Thread(target=inner).start()",
    "@functools.lru_cache(maxsize=None)\ndef $f(k):\n    return compute(k)",
    "@contextlib.contextmanager\ndef $f():\n    yield",
    "def compute(k):\n    return k",
]
CLASS_ATTRS = [("dict", "cache", "{}"), ("list", "registry", "[]"), ("counter", "count", "0"),
               ("lazy", "_instance", "None"), ("set", "names", "set()")]
INSTANCE_ATTRS = [("dict", "items", "{}"), ("list", "jobs", "[]"), ("set", "seen", "set()"),
                  ("counter", "hits", "0"), ("lazy", "_conn", "None")]
CLASS_METHODS = [
    "@classmethod\ndef instance(cls):\n    if cls._instance is None:\n"
    "        cls._instance = cls()\n    return cls._instance",
    "@classmethod\ndef register(cls, k, v):\n    cls.cache[k] = v",
    "@staticmethod\ndef helper(k):\n    return k",
    "@property\ndef size(self):\n    return len(self.__dict__)",
    "def __repr__(self):\n    return '$C()'",
]
ENTRIES = [
    "threading.Thread(target=$f).start()",
    "t = threading.Thread(target=$f, args=(1, 2))\nt.start()\nt.join()",
    "with concurrent.futures.ThreadPoolExecutor(⟨c⟩max_workers=4⟨c⟩) as ex:\n"
    "    ex.submit($f, 1, 2)\n    list(ex.map($f, range(3)))",
    "for _ in range(4):\n    threading.Thread(target=$f, args=(1, 2)).start()",
    "pool = concurrent.futures.ThreadPoolExecutor()\npool.submit($f)",
]
IMPORTS = ["threading", "os", "sys", "collections", "itertools", "concurrent.futures",
           "functools", "contextlib", "subprocess", "locale", "asyncio"]
COMMENTS = ["# note", "#", "# noqa: E501", "# type: ignore", "#: doc", "# TODO(x): y",
            "# with _lock:", "#!/weird", "# -*- coding: utf-8 -*-", "# é ü"]
# One palette of indent units per program. Each block draws its unit from it,
# so siblings may differ; libcst cannot follow tabs and spaces mixed that way
# (CPython can), so tabs come alone.
PALETTES = [["    "], ["    "], ["  "], ["\t"], [" "], ["    ", "  ", " ", "        ", "   "]]


# -- rendering ----------------------------------------------------------------


class Renderer:
    """Statements to odd text; ``oddness`` (0-10) scales every oddity."""

    def __init__(self, draw: Callable, oddness: int) -> None:
        self.draw = draw
        self.oddness = oddness
        self.units = self.pick(PALETTES) if self.chance(60) else ["    "]

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) < percent * self.oddness // 10

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def comment(self) -> str:
        return self.pick(COMMENTS)

    def gaps(self, text: str, indent: str) -> str:
        """Fill ``⟨c⟩`` (bracket gaps) and ``⟨s⟩`` (token gaps)."""
        def bracket(_):
            if self.chance(15):
                return f"  {self.comment()}\n{indent}{self.pick(self.units)}"
            if self.chance(5):
                return " \\\n" + indent
            return ""

        def token(_):
            if self.chance(10):
                return " \\\n" + self.pick(["", indent, indent + "        "])
            return " "
        return re.sub("⟨s⟩", token, re.sub("⟨c⟩", bracket, text))

    def trailing(self) -> str:
        return f"{self.pick(['  ', ' ', ''])}{self.comment()}" if self.chance(15) else ""

    def gap_lines(self, indent: str) -> list[str]:
        """Comment and blank lines between statements."""
        lines = []
        while self.chance(25):
            kind = self.pick(["comment", "comment", "col0", "blank", "spaces", "ff"])
            if kind == "comment":
                lines.append(indent + self.comment())
            elif kind == "col0":
                lines.append(self.comment())
            elif kind == "blank":
                lines.append("")
            elif kind == "spaces":
                lines.append(self.pick(["   ", "\t", indent + " ", " \t "]))
            else:
                lines.append("\f")
        return lines

    def smalls(self, group: list[Simple], indent: str) -> str:
        sep = self.pick(["; ", "; ", ";", " ; "])
        text = sep.join(self.gaps(s.text, indent) for s in group)
        return text + ";" if self.chance(5) else text

    def statements(self, items: list[Statement], indent: str, in_match: bool = False) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(items):
            out += self.gap_lines(indent)
            item = items[i]
            if isinstance(item, Simple):
                group = [item]
                while (not in_match and i + 1 < len(items) and isinstance(items[i + 1], Simple)
                       and self.chance(30)):
                    i += 1
                    group.append(items[i])
                # libcst (unlike CPython) counts a form feed as indentation:
                # only top-level lines start with one.
                feed = "\f" if not indent and self.chance(10) else ""
                out.append(feed + indent + self.smalls(group, indent) + self.trailing())
            else:
                out += self.block(item, indent)
            i += 1
        return out

    def block(self, block: Block, indent: str) -> list[str]:
        lines: list[str] = []
        for decorator in block.decorators:
            lines += self.gap_lines(indent)
            at = "@ " if self.chance(5) else "@"
            lines.append(indent + at + self.gaps(decorator, indent) + self.trailing())
        for index, (header, body) in enumerate(block.clauses):
            if index:
                lines += [line for line in self.gap_lines(indent) if line.strip()]
            head = indent + self.gaps(header, indent) + ":"
            matching = header.startswith("match ")
            if (not matching and len(body) <= 3 and all(isinstance(s, Simple) for s in body)
                    and self.chance(45)):
                sep = self.pick([" ", " ", "", "  "])
                if self.chance(5):
                    sep = " \\\n" + indent + "  "
                lines.append(head + sep + self.smalls(body, indent) + self.trailing())
            else:
                lines.append(head + self.trailing())
                lines += self.statements(body, indent + self.pick(self.units), in_match=matching)
        return lines

    def text(self, items: list[Statement]) -> str:
        lines = self.statements(items, "")
        lines += self.gap_lines("")
        newline = "\n"
        if self.chance(30):
            newline = "\r\n"
        elif self.chance(3):
            newline = "\r"  # old Mac line endings
        text = newline.join(lines)
        if self.chance(5):  # mixed line endings
            text = re.sub("\r?\n", lambda _: self.pick(["\n", "\r\n"]), text)
        if not self.chance(20):
            text += newline
        elif self.chance(30):
            text += self.pick(["   ", "\t", "# end"])
        return text


# -- composing a program -------------------------------------------------------


def _sub(template: str, **names: str) -> str:
    for key in sorted(names, key=len, reverse=True):
        template = template.replace("$" + key, names[key])
    return template


@st.composite
def _function(draw, name: str, states: list[tuple[str, str]], locks: list[str],
              method: bool = False, self_name: str = "self") -> list[Statement]:
    """A function whose body works on ``states`` ((kind, expression) pairs)."""
    units: list[list[Statement]] = []
    globals_: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        source = draw(st.sampled_from(["state"] * 5 + ["process"]))
        if source == "state" and states:
            kind, expr = draw(st.sampled_from(states))
            template = draw(st.sampled_from(TEMPLATES[kind]))
        else:
            kind, expr = "", ""
            template = draw(st.sampled_from(PROCESS))
        if template.startswith("!"):
            template = template[1:]
            if "." not in expr and expr not in globals_:
                globals_.append(expr)
        lock = draw(st.sampled_from(locks)) if locks else "_lock"
        statements = parse(_sub(template, n=expr, L=lock, C=self_name))
        wrap = draw(st.integers(0, 9)) if locks else 9
        if wrap == 0:
            statements = [Block([(f"with {lock}", statements)])]
        elif wrap == 1:
            statements = [Simple(f"{lock}.acquire()"),
                          Block([("try", statements), ("finally", [Simple(f"{lock}.release()")])])]
        elif wrap == 2:
            statements = [Block([(f"with ({lock})", statements)])]
        units.append(statements)
    body: list[Statement] = []
    if draw(st.integers(0, 9)) == 0:
        body.append(Simple('"""Docstring."""'))
    if globals_:
        body.append(Simple("global " + ", ".join(globals_)))
    for unit in units:
        body += unit
    if draw(st.integers(0, 14)) == 0:  # a nested function that the outer one starts
        inner = draw(_function("inner", states, locks))
        body += inner + [Simple("threading.Thread(target=inner).start()")]
    params = draw(st.sampled_from(["k=None, v=None, path='.'", "k, v=None, path='.'",
                                   "k=None, v=None, /, path='.', *args, **kwargs"]))
    if method:
        params = f"{self_name}, {params}"
    prefix = "async def" if draw(st.integers(0, 11)) == 0 else "def"
    if prefix == "async def" and draw(st.booleans()):
        body.append(Simple("await asyncio.sleep(0)"))
    decorators = draw(st.sampled_from([[], [], [], ["functools.wraps(compute)"],
                                       ["staticmethod"] if method else ["functools.cache"]]))
    if method and decorators == ["staticmethod"]:
        decorators = []
    return [Block([(f"{prefix} {name}({params})", body)], list(decorators))]


@st.composite
def _class(draw, name: str, module_locks: list[str]) -> list[Statement]:
    body: list[Statement] = []
    if draw(st.integers(0, 5)) == 0:
        body.append(Simple(f'"""{name}, shared."""'))
    class_attrs = draw(st.lists(st.sampled_from(CLASS_ATTRS), unique=True, max_size=3))
    instance_attrs = draw(st.lists(st.sampled_from(INSTANCE_ATTRS), unique=True, max_size=3))
    lock_where = draw(st.sampled_from(["none", "class", "instance", "module"]))
    for _, attr, value in class_attrs:
        body.append(Simple(f"{attr} = {value}"))
    if lock_where == "class":
        body.append(Simple("_lock = threading.Lock()"))
    init = [Simple(f"self.{attr} = {value}") for _, attr, value in instance_attrs]
    if lock_where == "instance":
        init.append(Simple("self._lock = threading.Lock()"))
    if init or draw(st.booleans()):
        body.append(Block([("def __init__(self)", init or [Simple("pass")])]))
    states = [(kind, f"self.{attr}") for kind, attr, _ in instance_attrs]
    states += [(kind, draw(st.sampled_from([f"self.{attr}", f"{name}.{attr}"])))
               for kind, attr, _ in class_attrs if kind != "lazy"]
    locks = {"class": ["self._lock"], "instance": ["self._lock"],
             "module": module_locks, "none": []}[lock_where]
    names = draw(st.lists(st.sampled_from(["get", "put", "run", "_update", "record", "clear_all"]),
                          unique=True, min_size=1, max_size=3))
    for method in names:
        body += draw(_function(method, states, locks, method=True))
    if any(attr == "_instance" for _, attr, _ in class_attrs) or class_attrs:
        for template in draw(st.lists(st.sampled_from(CLASS_METHODS), unique=True, max_size=2)):
            if "cls.cache" in template and not any(a == "cache" for _, a, _ in class_attrs):
                continue
            if "_instance" in template and not any(a == "_instance" for _, a, _ in class_attrs):
                continue
            body += parse(_sub(template, C=name))
    bases = draw(st.sampled_from(["", "", "(object)", "(Base)", "(threading.Thread)"]))
    return [Block([(f"class {name}{bases}", body)])]


@st.composite
def thread_programs(draw, max_functions: int = 4, max_classes: int = 2) -> str:
    """One thread-shaped module, rendered with odd formatting; smaller
    maxima make smaller (and faster) programs."""
    oddness = draw(st.integers(0, 10))
    items: list[Statement] = []
    if draw(st.integers(0, 4)) == 0:
        items.append(Simple('"""A module."""'))
    if draw(st.integers(0, 5)) == 0:
        items.append(Simple("from __future__ import annotations"))
    imports = [m for m in IMPORTS if draw(st.integers(0, 19)) != 0]
    late = []
    if imports and draw(st.integers(0, 9)) == 0:
        late.append(imports.pop(draw(st.integers(0, len(imports) - 1))))
    # Imports may come after the state, which puts a binding first (on the
    # line of `from __future__ import ...`, with a semicolon).
    import_lines: list[Statement] = []
    while imports:
        size = draw(st.integers(1, min(3, len(imports))))
        group, imports = imports[:size], imports[size:]
        import_lines.append(Simple("import " + ", ".join(group)))
    imports_first = draw(st.integers(0, 7)) != 0
    if imports_first:
        items += import_lines
    if draw(st.integers(0, 4)) == 0:
        items.append(Simple("from threading import Lock, Thread"))
    states: list[tuple[str, str]] = []
    for kind in draw(st.lists(st.sampled_from(sorted(STATE)), unique=True, min_size=1, max_size=5)):
        names, values = STATE[kind]
        name = draw(st.sampled_from(names))
        value = draw(st.sampled_from(values))
        annotation = f": {ANNOTATIONS[kind]}" if draw(st.integers(0, 7)) == 0 else ""
        items.append(Simple(f"{name}{annotation}⟨s⟩=⟨s⟩{value}"))
        states.append((kind, name))
    if not imports_first:
        items += import_lines
    locks = []
    for name in draw(st.lists(st.sampled_from(["_lock", "_cache_lock", "_mu", "_registry_lock"]),
                              unique=True, max_size=2)):
        items.append(Simple(f"{name} = {draw(st.sampled_from(LOCKS))}"))
        locks.append(name)
    if draw(st.integers(0, 5)) == 0 and states:  # import-time writes
        kind, name = draw(st.sampled_from(states))
        items += parse(_sub(draw(st.sampled_from(TEMPLATES[kind])).lstrip("!"), n=name, L="_lock")
                       .replace("return ", "x = "))
    functions = draw(st.lists(st.sampled_from(["worker", "handle", "register", "get", "_helper",
                                               "process", "lookup"]),
                              unique=True, min_size=1, max_size=max_functions))
    for name in functions:
        items += draw(_function(name, states, locks))
        if late and draw(st.booleans()):
            items.append(Simple("import " + late.pop()))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(["_cached", "remember", "counted", "rows"]))
        items += parse(_sub(draw(st.sampled_from(MODULE_FUNCTIONS)), f=name))
    classes = draw(st.lists(st.sampled_from(["Service", "Pool", "Registry"]), unique=True,
                            max_size=max_classes))
    for name in classes:
        items += draw(_class(name, locks))
    if draw(st.integers(0, 6)) == 0:
        items.append(Block([("class Config", [Simple(draw(st.sampled_from(
            ["x = 1", "x = 1; items = []", "pass", "..."])))])]))
    entries: list[Statement] = []
    for _ in range(draw(st.integers(0, 2))):
        target = draw(st.sampled_from(functions + [f"{c}().run" for c in classes]))
        entries += parse(_sub(draw(st.sampled_from(ENTRIES)), f=target))
    if entries:
        where = draw(st.sampled_from(["module", "main", "function"]))
        if where == "main":
            entries = [Block([("if __name__ == '__main__'", entries)])]
        elif where == "function":
            entries = [Block([("def main()", entries)])]
        items += entries
    items += [Simple("import " + name) for name in late]
    return Renderer(draw, oddness).text(items)


__all__ = ["Block", "Renderer", "Simple", "parse", "thread_programs"]
