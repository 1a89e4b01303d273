"""ftlint itself installs and runs on a free-threaded interpreter, GIL off."""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.freethreaded


@pytest.fixture(scope="module")
def ft_venv(ft_python, tmp_path_factory) -> Path:
    env_dir = tmp_path_factory.mktemp("ftvenv")
    subprocess.run([str(ft_python), "-m", "venv", str(env_dir)], check=True)
    pip = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q",
                          str(ROOT)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return env_dir


def test_runs_with_the_gil_disabled(ft_venv):
    # -W error turns the RuntimeWarning of a GIL-enabling import into a failure.
    code = ("import sys, ftlint.api, ftlint.cli;"
            "from ftlint.api import lint_source;"
            "r = lint_source(open(sys.argv[1], 'rb').read(), 'x.py');"
            "print(len(r.diagnostics), sys._is_gil_enabled())")
    proc = subprocess.run([str(ft_venv / "bin" / "python"), "-W", "error::RuntimeWarning",
                           "-c", code, str(ROOT / "examples" / "inventory_service.py")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    count, gil = proc.stdout.split()
    assert int(count) >= 6 and gil == "False"


def test_console_script_threads_match_serial(ft_venv, tmp_path):
    source = (ROOT / "examples" / "inventory_service.py").read_text()
    for i in range(20):
        (tmp_path / f"m{i}.py").write_text(source)
    exe = str(ft_venv / "bin" / "ftlint")
    one = json.loads(subprocess.run([exe, "--format", "json", str(tmp_path / "m0.py")],
                                    capture_output=True, text=True).stdout)
    serial = subprocess.run([exe, "-j", "1", "--format", "json", str(tmp_path)],
                            capture_output=True, text=True)
    threaded = subprocess.run([exe, "-j", "2", "--format", "json", str(tmp_path)],
                              capture_output=True, text=True)
    assert serial.returncode == threaded.returncode == 1, threaded.stderr
    assert json.loads(serial.stdout) == json.loads(threaded.stdout)
    assert len(json.loads(serial.stdout)) == 20 * len(one) > 0
