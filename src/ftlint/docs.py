"""Rule documentation, rendered from each rule's own metadata and examples.

``ftlint rule FT101`` prints this text and ``docs/rules/FT101.md`` is this
text, so the page, the command and the tested examples cannot drift apart.
"""

from __future__ import annotations

import re
import textwrap

from ftlint.rules import ALL_RULES
from ftlint.rules.base import EXPECT, Rule

# Every page ends with the sources the rules rest on.
_REFERENCES = (
    "[Python support for free threading](https://docs.python.org/3/howto/free-threading-python.html)",
    "[PEP 703: Making the Global Interpreter Lock Optional](https://peps.python.org/pep-0703/)",
)

_FIX = {
    "safe": "Fix: safe.",
    "unsafe": "Fix: unsafe (applied only with `--unsafe-fixes`).",
    "sometimes": "Fix: available for some cases.",
    "none": "Fix: none.",
}
# A rule's fix runs once the rule shows it with FIX_EXAMPLES (tested pairs);
# until then its page says what the fix will be, not that it runs.
FIXER_AVAILABLE = True
_PLANNED = " The fixer is planned and not yet part of this release."


def _show(code: str) -> str:
    """An example as users see it: markers become plain comments."""
    def repl(match: re.Match) -> str:
        items = re.sub(r"\[(\w+)\]", r" (\1 confidence)", match.group("items"))
        return f"# {items}"
    return EXPECT.sub(repl, textwrap.dedent(code).strip("\n"))


def _para(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=88)


def render_rule(rule: type[Rule]) -> str:
    parts = [f"# {rule.code}: {rule.name}", ""]
    enabled = "on by default" if rule.default_enabled else "opt-in: select it explicitly"
    fix = _FIX[rule.fix].rstrip(".")
    if _planned(rule):
        fix += " (planned)"
    parts += [f"*{fix}. This rule is {enabled}.*", ""]
    parts += ["## What it does", "", _para(rule.summary), ""]
    parts += ["## Why is this bad without the GIL?", "", _para(rule.rationale), ""]
    confidence = rule.confidence_doc.strip()
    parts += ["## Confidence", "", _para(confidence[:1].upper() + confidence[1:]), ""]
    parts += ["## Known problems", "", _para(rule.known_problems or (
        "None known. Report a false alarm or a missed race with the code that shows it."
    )), ""]
    parts += ["## Example", ""]
    for example in rule.INVALID:
        if example.title:
            parts += [f"{example.title[0].upper()}{example.title[1:]}:", ""]
        parts += ["```python", _show(example.code), "```", ""]
    if rule.use_instead:
        parts += ["Use instead:", "", "```python", _show(rule.use_instead), "```", ""]
    if rule.VALID:
        parts += ["## Not flagged", ""]
        for example in rule.VALID:
            if example.title:
                parts += [f"{example.title[0].upper()}{example.title[1:]}:", ""]
            parts += ["```python", _show(example.code), "```", ""]
    planned = _PLANNED if _planned(rule) else ""
    parts += ["## Fix safety", "", _para(_FIX[rule.fix] + " " + rule.fix_doc + planned), ""]
    for before, after in rule.FIX_EXAMPLES:
        parts += ["`ftlint --fix` turns:", "", "```python", _show(before), "```", "",
                  "into:", "", "```python", _show(after), "```", ""]
    parts += ["## When no fix applies", "", _para(rule.no_fix_doc or (
        "`ftlint --fix --show-fixes` says why a finding was left as it is. Make the change "
        "by hand (see \"Use instead\"), or, where the code is safe as it stands, add "
        f"`# noqa: {rule.code}` on the reported line with the reason in a comment."
    )), ""]
    parts += ["## Options", ""]
    parts += [_para(rule.options or (
        "`select`, `ignore`, `per-file-ignores` and `min-confidence` in `[tool.ftlint]`; "
        f"`# noqa: {rule.code}` on the reported line."
    )), ""]
    parts += ["## References", ""] + [f"- {r}" for r in (*rule.references, *_REFERENCES)] + [""]
    return "\n".join(parts)


def _planned(rule: type[Rule]) -> bool:
    return rule.fix != "none" and not (FIXER_AVAILABLE and rule.FIX_EXAMPLES)


def render_index() -> str:
    lines = ["# Rules", "", "| code | name | fix | default | what it finds |",
             "|---|---|---|---|---|"]
    for code, rule in ALL_RULES.items():
        default = "on" if rule.default_enabled else "opt-in"
        summary = " ".join(rule.summary.split())
        lines.append(f"| [{code}]({code}.md) | {rule.name} | {rule.fix} | {default} | {summary} |")
    return "\n".join(lines) + "\n"


def generated_pages() -> dict[str, str]:
    """Relative path under docs/ -> content, for every generated page."""
    pages = {"rules/index.md": render_index()}
    for code, rule in ALL_RULES.items():
        pages[f"rules/{code}.md"] = render_rule(rule)
    return pages


def render_readme_table() -> str:
    lines = ["| code | name | finds |", "|---|---|---|"]
    for code, rule in ALL_RULES.items():
        brief = " ".join(rule.brief.split()) or " ".join(rule.summary.split())
        opt_in = "" if rule.default_enabled else "(opt-in) "
        lines.append(f"| {code} | {rule.name} | {opt_in}{brief} |")
    return "\n".join(lines) + "\n"


def render_nav(indent: str) -> str:
    return "".join(f"{indent}- rules/{code}.md\n" for code in ALL_RULES)


# Generated blocks inside hand-written files: (file, start marker, end marker).
_BLOCKS = (
    ("README.md", "<!-- rules: generated by `python -m ftlint.docs` from the rules themselves -->\n",
     "<!-- rules: end -->\n"),
    ("mkdocs.yml", "      # rules: generated by `python -m ftlint.docs`\n", "      # rules: end\n"),
)


def generated_files(root: str) -> dict[str, str]:
    """Path relative to the project root -> content, for every generated file:
    the rule pages, and the rule table of the README and the site's nav,
    which sit between markers in files written by hand."""
    from pathlib import Path

    files = {f"docs/{rel}": text for rel, text in generated_pages().items()}
    for name, start, end in _BLOCKS:
        text = Path(root, name).read_text(encoding="utf-8")
        if start not in text or end not in text:
            raise ValueError(f"{name}: the generated block's markers are missing")
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        block = render_readme_table() if name == "README.md" else render_nav("      ")
        files[name] = head + start + block + end + tail
    return files


def write_pages(root: str = ".") -> list[str]:
    """Write every generated file that is not current; the paths written."""
    from pathlib import Path

    written = []
    for rel, text in generated_files(root).items():
        path = Path(root, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(rel)
    return written


if __name__ == "__main__":  # python -m ftlint.docs [PROJECT_ROOT]
    import sys

    for rel in write_pages(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(f"wrote {rel}")
