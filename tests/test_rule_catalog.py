"""Rules are discovered from their files: the catalogue read without
importing them matches the classes, and a new rule file is all a rule needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import ROOT

from ftlint.rules import ALL_RULES
from ftlint.rules.catalog import catalog, default_states


def test_catalogue_matches_the_rule_classes() -> None:
    assert list(catalog()) == list(ALL_RULES) == sorted(ALL_RULES)
    for code, info in catalog().items():
        rule = ALL_RULES[code]
        assert (info.name, info.default_enabled) == (rule.name, rule.default_enabled)
        assert rule.__module__ == f"ftlint.rules.{info.module}"
    assert default_states()["FT107"] is False  # the opt-in one


def test_checking_from_the_catalogue_does_not_import_the_rules() -> None:
    code = ("import sys; from ftlint.rules.catalog import default_states; "
            "from ftlint.config import resolve_settings; resolve_settings(['.'], select='FT2'); "
            "default_states(); print('libcst' in sys.modules, 'ftlint.rules.ft101_unguarded_"
            "global_mutation' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


NEW_RULE = textwrap.dedent('''\
    from __future__ import annotations

    from ftlint.diagnostics import Confidence
    from ftlint.rules.base import Finding, Rule


    class EveryFunction(Rule):
        code = "FT399"
        name = "every-function"
        brief = "any function"
        message = "A function"
        summary = "Every function."
        rationale = "For the test of rule discovery."
        confidence_doc = "always medium."

        def check(self, model):
            for function in model.functions:
                yield Finding(function.node, self.message, Confidence.MEDIUM, "a function",
                              function)
''')


def test_a_new_rule_file_is_all_the_engine_needs(tmp_path: Path) -> None:
    package = tmp_path / "ftlint"
    shutil.copytree(ROOT / "src" / "ftlint", package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (package / "rules" / "ft399_every_function.py").write_text(NEW_RULE)
    (tmp_path / "mod.py").write_text("def f():\n    print('x')\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": ""}
    rules = subprocess.run([sys.executable, "-m", "ftlint", "rules"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert rules.returncode == 0, rules.stderr
    assert "FT399   every-function" in rules.stdout
    check = subprocess.run([sys.executable, "-m", "ftlint", "--no-cache", "--select", "FT399",
                            "mod.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "mod.py:1:1: FT399 [medium]" in check.stdout, check.stdout + check.stderr
