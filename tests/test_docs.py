"""Rule pages are generated from the rules; the committed ones must be current."""

from __future__ import annotations

from conftest import ROOT

from ftlint.docs import generated_files, render_rule
from ftlint.rules import ALL_RULES


def test_generated_files_are_current():
    """The rule pages, the README's rule table and the site's nav."""
    stale = []
    files = generated_files(str(ROOT))
    assert {"README.md", "mkdocs.yml", "docs/rules/index.md", "docs/rules/FT101.md"} <= set(files)
    for rel, text in files.items():
        path = ROOT / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(rel)
    assert not stale, f"regenerate with `python -m ftlint.docs`: {stale}"


def test_rule_command_prints_the_page(run_ftlint):
    for code in ALL_RULES:
        assert run_ftlint("rule", code).stdout == (ROOT / "docs" / "rules" / f"{code}.md").read_text()


def test_pages_show_examples_without_test_markers():
    for rule in ALL_RULES.values():
        page = render_rule(rule)
        assert "# expect:" not in page
        assert f"# {rule.code}" in page, "the flagged line is marked for readers"
        for section in ("## What it does", "## Why is this bad without the GIL?", "## Confidence",
                        "## Example", "## Fix safety", "## When no fix applies", "## Options",
                        "## Known problems",
                        "## References"):
            assert section in page


def test_site_builds_strictly(tmp_path):
    """The mkdocs site builds with no warning: every page in the nav exists and
    every link between pages resolves."""
    import subprocess
    import sys
    from pathlib import Path

    mkdocs = Path(sys.executable).with_name("mkdocs")
    proc = subprocess.run([str(mkdocs), "build", "--strict", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "rules" / "FT101" / "index.html").exists()
