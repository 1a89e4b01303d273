"""``ftlint deps --available``: what the package index offers a free-threaded
target for the declared requirements, before anything is installed.

Each test runs the installed console script against a package index built
here: project pages in the PEP 503 HTML and the PEP 691 JSON form, listing
wheel file names with the tag shapes real projects publish, served by
http.server on 127.0.0.1. Nothing leaves this machine.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import socket
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional

import pytest

from conftest import ftlint_executable

if TYPE_CHECKING:
    from ftlint.deps.model import Distribution, Report

LINUX = "manylinux_2_17_x86_64.manylinux2014_x86_64"


def ft(name: str, version: str, py: str = "314", platform: str = LINUX) -> str:
    return f"{name}-{version}-cp{py}-cp{py}t-{platform}.whl"


def gil(name: str, version: str, py: str = "314", platform: str = LINUX) -> str:
    return f"{name}-{version}-cp{py}-cp{py}-{platform}.whl"


# project -> [(file name, requires-python, yanked reason or None)]
INDEX: dict[str, list[tuple[str, Optional[str], Optional[str]]]] = {
    "ftpkg": [(ft("ftpkg", "1.0"), ">=3.9", None), (gil("ftpkg", "1.0"), ">=3.9", None),
              (ft("ftpkg", "1.0", "313"), ">=3.9", None), ("ftpkg-1.0.tar.gz", ">=3.9", None)],
    "gilonly": [(gil("gilonly", "2.0"), None, None), (gil("gilonly", "2.0", "313"), None, None),
                ("gilonly-2.0.tar.gz", None, None)],
    "abi3only": [(f"abi3only-4.2-cp39-abi3-{LINUX}.whl", ">=3.9", None),
                 ("abi3only-4.2.tar.gz", ">=3.9", None)],
    "purepkg": [("purepkg-3.1-py3-none-any.whl", None, None), ("purepkg-3.1.tar.gz", None, None),
                ("purepkg-2.0-py2.py3-none-any.whl", None, None)],
    "sdistonly": [("sdistonly-0.5.tar.gz", None, None), ("sdistonly-0.4.zip", None, None)],
    "winonly": [(ft("winonly", "1.0", platform="win_amd64"), None, None),
                (gil("winonly", "1.0", platform="win_amd64"), None, None)],
    # MarkupSafe's shape: 2.x only for GIL builds, 3.0.0 adds cp313t, 3.0.3 cp314t.
    "upgradable": [(gil("upgradable", "2.1.5", "312"), None, None),
                   ("upgradable-2.1.5.tar.gz", None, None),
                   (ft("upgradable", "3.0.0", "313"), None, None),
                   ("upgradable-3.0.0.tar.gz", None, None),
                   (ft("upgradable", "3.0.3", "313"), None, None),
                   (ft("upgradable", "3.0.3"), None, None),
                   ("upgradable-3.0.3.tar.gz", None, None),
                   (ft("upgradable", "3.1.0"), None, None),
                   ("upgradable-3.1.0.tar.gz", None, None)],
    "yanky": [(ft("yanky", "1.0"), None, None), (ft("yanky", "2.0"), None, "broken build")],
    "pyreq": [(ft("pyreq", "1.0"), ">=3.9", None), (ft("pyreq", "2.0"), ">=3.9,<3.14", None),
              (ft("pyreq", "2.0", "313"), ">=3.9,<3.14", None)],
    "prerel": [("prerel-1.0.tar.gz", None, None), (ft("prerel", "2.0b1"), None, None)],
    "oldonly": [(ft("oldonly", "1.0"), None, None)],
    # The installed audit's next step: tests/deps/packages/gil_needing_ext is
    # 0.3; 0.4 ships cp313t wheels. Only the names are read, the files are empty.
    "gil-needing-ext": [(gil("gil_needing_ext", "0.3", "313"), None, None),
                        ("gil_needing_ext-0.3.tar.gz", None, None),
                        (ft("gil_needing_ext", "0.4", "313", f"{LINUX}.musllinux_1_1_x86_64"),
                         None, None),
                        (ft("gil_needing_ext", "0.4", "313", "win_amd64"), None, None),
                        ("gil_needing_ext-0.4.tar.gz", None, None)],
    "stuck-ext": [(gil("stuck_ext", "1.0", "313"), None, None),
                  (gil("stuck_ext", "2.0", "313"), None, None)],
    # A project page this index cannot serve well (see _write_index).
    "broken": [],
}


def _html_page(name: str, files: list[tuple[str, Optional[str], Optional[str]]]) -> str:
    links = []
    for filename, requires, yanked in files:
        attrs = f' href="../../files/{filename}#sha256={_digest(filename)}"'
        if requires:
            attrs += f' data-requires-python="{html.escape(requires)}"'
        if yanked is not None:
            attrs += f' data-yanked="{html.escape(yanked)}"'
        links.append(f"    <a{attrs}>{filename}</a><br/>")
    return ('<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" '
            f'content="1.0"><title>Links for {name}</title></head>\n<body>\n'
            f"<h1>Links for {name}</h1>\n" + "\n".join(links) + "\n</body></html>\n")


def _json_page(name: str, files: list[tuple[str, Optional[str], Optional[str]]]) -> str:
    return json.dumps({
        "meta": {"api-version": "1.0"}, "name": name,
        "files": [{"filename": f, "url": f"../../files/{f}", "hashes": {"sha256": _digest(f)},
                   "requires-python": r, "yanked": y if y is not None else False}
                  for f, r, y in files]})


def _digest(filename: str) -> str:
    return hashlib.sha256(b"").hexdigest()  # the files are empty


def _write_index(root: Path, form: str) -> None:
    (root / "files").mkdir(parents=True)
    for name, files in INDEX.items():
        page = root / "simple" / name
        page.mkdir(parents=True)
        for filename, _, _ in files:
            (root / "files" / filename).write_bytes(b"")
        if form == "html":
            text = _html_page(name, files)
            if name == "broken":  # a repository version this client does not speak
                text = text.replace('content="1.0"', 'content="2.0"')
            (page / "index.html").write_text(text)
        else:
            text = _json_page(name, files) if name != "broken" else '{"meta": {"api-version'
            (page / "index.json").write_text(text)


class _Handler(SimpleHTTPRequestHandler):
    """Serves the tree; a project directory's index.json as PEP 691 JSON;
    /simple/servererror/ as an HTTP 500."""

    def translate_path(self, path: str) -> str:
        found = super().translate_path(path)
        if os.path.isdir(found) and os.path.isfile(os.path.join(found, "index.json")):
            return os.path.join(found, "index.json")
        return found

    def guess_type(self, path: str) -> str:  # type: ignore[override]
        if str(path).endswith(".json"):
            return "application/vnd.pypi.simple.v1+json"
        return super().guess_type(path)

    def do_GET(self) -> None:
        if self.path.startswith("/simple/servererror"):
            self.send_error(500, "Internal Server Error")
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


def _serve(root: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module", params=["html", "json"])
def index(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The index URL, once as PEP 503 HTML and once as PEP 691 JSON."""
    root = tmp_path_factory.mktemp(f"index-{request.param}")
    _write_index(root, request.param)
    yield from _serve(root)


@pytest.fixture(scope="module")
def json_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("index-json-only")
    _write_index(root, "json")
    yield from _serve(root)


def clean_env(**extra: str) -> dict[str, str]:
    """No index settings of this machine's pip, and no proxy for 127.0.0.1."""
    proxies = ("http_proxy", "https_proxy", "all_proxy")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PIP_") and k.lower() not in proxies}
    env.update({"PIP_CONFIG_FILE": os.devnull, "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost", **extra})
    return env


def run(*args: str, cwd: Path, env: Optional[dict[str, str]] = None
        ) -> subprocess.CompletedProcess:
    return subprocess.run([ftlint_executable(), "deps", "--available", *args], capture_output=True,
                          text=True, cwd=cwd, env=env or clean_env(), timeout=120)


LINUX_TARGET = ("--platform", "manylinux_2_28_x86_64")


def check(tmp_path: Path, index: str, *lines: str, args: tuple[str, ...] = LINUX_TARGET,
          expect: Optional[int] = None) -> tuple[int, dict]:
    """Run on a requirements file of ``lines``; the JSON report and exit code."""
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("".join(f"{line}\n" for line in lines))
    proc = run("-r", str(reqs), "--index-url", index, "--format", "json", *args, cwd=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    if expect is not None:
        assert proc.returncode == expect, proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def entry(report: dict, name: str) -> dict:
    found = [e for e in report["requirements"] if e["name"] == name]
    assert len(found) == 1, report["requirements"]
    return found[0]


# --- verdicts, on both forms of the index ----------------------------------------

def test_free_threaded_wheel(tmp_path: Path, index: str) -> None:
    code, report = check(tmp_path, index, "ftpkg", expect=0)
    e = entry(report, "ftpkg")
    assert e["verdict"] == "ft-wheel" and e["version"] == "1.0"
    # manylinux_2_28 runs a manylinux_2_17 wheel; the cp314t one beats the sdist.
    assert e["file"] == ft("ftpkg", "1.0") and e["tag"] == "cp314-cp314t-manylinux_2_17_x86_64"
    assert e["next_step"] is None and e["upgrade"] is None
    assert report["target"]["abi"] == "cp314t" and report["target"]["python"] == "3.14"
    assert report["summary"]["ft-wheel"] == 1 and report["summary"]["exit_code"] == 0


def test_gil_or_abi3_wheels_only_build_from_source(tmp_path: Path, index: str) -> None:
    code, report = check(tmp_path, index, "gilonly", "abi3only", expect=1)
    gil_only, abi3_only = entry(report, "gilonly"), entry(report, "abi3only")
    assert gil_only["verdict"] == abi3_only["verdict"] == "builds-from-source"
    assert gil_only["file"] == "gilonly-2.0.tar.gz"
    assert "GIL-build wheels for cp313, cp314" in gil_only["evidence"]
    # abi3 is the stable ABI of GIL builds: cp314t cannot load it.
    assert abi3_only["version"] == "4.2" and "abi3 wheels" in abi3_only["evidence"]
    assert "no release ships cp314t wheels" in abi3_only["next_step"]
    assert abi3_only["upgrade"] is None


def test_pure_python(tmp_path: Path, index: str) -> None:
    code, report = check(tmp_path, index, "purepkg", expect=0)
    e = entry(report, "purepkg")
    assert (e["verdict"], e["version"], e["tag"]) == ("pure-python", "3.1", "py3-none-any")


def test_sdist_only_builds_from_source(tmp_path: Path, index: str) -> None:
    code, report = check(tmp_path, index, "sdistonly", expect=1)
    e = entry(report, "sdistonly")
    assert e["verdict"] == "builds-from-source" and e["version"] == "0.5"
    assert "only an sdist" in e["evidence"] and e["file"] == "sdistonly-0.5.tar.gz"


def test_nothing_installable(tmp_path: Path, index: str) -> None:
    code, report = check(tmp_path, index, "winonly", "oldonly>=5", "no-such-project",
                         expect=1)
    win, old, ghost = (entry(report, n) for n in ("winonly", "oldonly", "no-such-project"))
    assert win["verdict"] == old["verdict"] == ghost["verdict"] == "not-installable"
    assert "cp314t wheels for win_amd64 only" in win["evidence"]
    assert "no sdist" in win["evidence"]
    assert "no release matches '>=5' (newest: 1.0)" in old["evidence"]
    assert "no project of that name" in ghost["evidence"]
    # The same wheel is what a Windows target installs.
    code, report = check(tmp_path, index, "winonly", args=("--platform", "win_amd64"),
                         expect=0)
    assert entry(report, "winonly")["verdict"] == "ft-wheel"


def test_upgrade_hint(tmp_path: Path, index: str) -> None:
    code, report = check(tmp_path, index, "upgradable<3", expect=1)
    e = entry(report, "upgradable")
    assert e["verdict"] == "builds-from-source" and e["version"] == "2.1.5"
    # 3.0.0 has only cp313t wheels: from 3.0.3 on every release has cp314t ones.
    assert e["upgrade"] == "upgradable>=3.0.3"
    assert e["next_step"] == "upgrade to upgradable>=3.0.3: it ships cp314t wheels"
    # For 3.13t, 3.1.0 dropped the cp313t wheels: 3.0.3 is the one to pin,
    # whether that is an upgrade or a step back from what is selected.
    to_313t = (*LINUX_TARGET, "--target", "3.13t")
    code, report = check(tmp_path, index, "upgradable<3", args=to_313t, expect=1)
    e = entry(report, "upgradable")
    assert e["upgrade"] == "upgradable==3.0.3"
    assert e["next_step"] == ("upgrade to upgradable==3.0.3, the newest release that ships "
                              "cp313t wheels")
    code, report = check(tmp_path, index, "upgradable", args=to_313t, expect=1)
    e = entry(report, "upgradable")
    assert e["version"] == "3.1.0" and e["verdict"] == "builds-from-source"
    assert e["next_step"] == ("pin upgradable==3.0.3, the newest release that ships "
                              "cp313t wheels")
    code, report = check(tmp_path, index, "upgradable>=3,<3.1", args=to_313t, expect=0)
    assert entry(report, "upgradable")["version"] == "3.0.3"


def test_yanked_releases_are_skipped_unless_pinned(tmp_path: Path, index: str) -> None:
    code, report = check(tmp_path, index, "yanky", expect=0)
    assert entry(report, "yanky")["version"] == "1.0"
    code, report = check(tmp_path, index, "yanky==2.0", expect=0)
    e = entry(report, "yanky")
    assert e["version"] == "2.0" and "(yanked: broken build)" in e["evidence"]
    code, report = check(tmp_path, index, "yanky>1", expect=1)
    assert "every matching release is yanked" in entry(report, "yanky")["evidence"]


def test_requires_python_is_respected(tmp_path: Path, index: str) -> None:
    code, report = check(tmp_path, index, "pyreq", expect=0)
    assert entry(report, "pyreq")["version"] == "1.0"  # 2.0 requires < 3.14
    code, report = check(tmp_path, index, "pyreq", args=(*LINUX_TARGET, "--target", "3.13t"),
                         expect=0)
    assert entry(report, "pyreq")["version"] == "2.0"
    code, report = check(tmp_path, index, "pyreq>=2", expect=1)
    assert "excludes Python 3.14" in entry(report, "pyreq")["evidence"]


def test_pre_releases_only_when_asked(tmp_path: Path, index: str) -> None:
    code, report = check(tmp_path, index, "prerel", expect=1)
    e = entry(report, "prerel")
    assert e["version"] == "1.0" and e["verdict"] == "builds-from-source"
    assert e["upgrade"] == "prerel==2.0b1" and "pre-release" in e["next_step"]
    code, report = check(tmp_path, index, "prerel>=2.0b1", expect=0)
    assert entry(report, "prerel")["version"] == "2.0b1"


def test_markers_are_evaluated_for_the_target(tmp_path: Path, index: str) -> None:
    lines = ('winonly; sys_platform == "win32"', 'ftpkg; python_version >= "3.14"',
             'purepkg; platform_machine == "aarch64"')
    code, report = check(tmp_path, index, *lines, expect=0)
    assert [e["name"] for e in report["requirements"]] == ["ftpkg"]
    assert len(report["skipped"]) == 2 and "its marker excludes" in report["skipped"][0]
    code, report = check(tmp_path, index, *lines, args=("--platform", "win_amd64"), expect=1)
    assert [(e["name"], e["verdict"]) for e in report["requirements"]] == [
        ("winonly", "ft-wheel"), ("ftpkg", "builds-from-source")]
    code, report = check(tmp_path, index, *lines,
                         args=("--platform", "manylinux_2_28_aarch64", "--target", "3.13t"),
                         expect=0)
    assert [e["name"] for e in report["requirements"]] == ["purepkg"]


def test_malformed_page_is_an_error_and_the_rest_is_reported(tmp_path: Path,
                                                             index: str) -> None:
    code, report = check(tmp_path, index, "broken", "ftpkg", "servererror", expect=2)
    assert entry(report, "ftpkg")["verdict"] == "ft-wheel"
    broken, failing = entry(report, "broken"), entry(report, "servererror")
    assert broken["verdict"] == failing["verdict"] == "error"
    assert "answered with a page ftlint cannot read" in broken["error"]
    assert "HTTP 500" in failing["error"]
    assert report["summary"]["error"] == 2 and report["summary"]["exit_code"] == 2


# --- outputs and inputs ------------------------------------------------------------

def test_text_output(tmp_path: Path, json_index: str) -> None:
    (tmp_path / "requirements.txt").write_text("ftpkg\nupgradable<3\npurepkg\n")
    proc = run("--index-url", json_index, *LINUX_TARGET, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert out.startswith("Target:  CPython 3.14t on manylinux_2_28_x86_64\n"
                          f"Index:   {json_index} (--index-url)\n"
                          "Checked: the direct requirements in requirements.txt")
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("requirement "))
    row = next(line for line in lines if line.startswith("upgradable<3 "))
    assert row.index("builds-from-source") == header.index("verdict")
    assert row.index("2.1.5") == header.index("version")
    next_line = next(line for line in lines if "next:" in line)
    assert lines.index(next_line) > lines.index(row)
    assert next_line.strip() == "next: upgrade to upgradable>=3.0.3: it ships cp314t wheels"
    assert next_line.index("next:") == header.index("evidence")
    table = [line for line in lines if not line.startswith(("Target", "Index", "Checked"))]
    assert all(len(line) <= 140 for line in table)
    assert "2 of 3 requirements get a wheel that runs without the GIL" in out
    assert "1 would be built from source: upgradable" in out


def test_markdown_output(tmp_path: Path, json_index: str) -> None:
    (tmp_path / "requirements.txt").write_text("ftpkg\nupgradable<3\n")
    proc = run("--index-url", json_index, *LINUX_TARGET, "--format", "markdown", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "## Free-threaded wheels for CPython 3.14t on manylinux_2_28_x86_64"
    header = lines.index("| requirement | verdict | version | evidence | next step |")
    assert lines[header + 1] == "| --- | --- | --- | --- | --- |"
    assert lines[header + 2].startswith(f"| `ftpkg` | ft-wheel | 1.0 | {ft('ftpkg', '1.0')} |")
    assert lines[header + 3].startswith("| `upgradable<3` | builds-from-source | 2.1.5 |")
    assert lines[header + 3].endswith("| upgrade to upgradable>=3.0.3: it ships cp314t wheels |")
    assert "- 1 would be built from source: upgradable" in lines


def test_pyproject_dependencies_are_the_default_input(tmp_path: Path, json_index: str) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\n'
        'dependencies = ["ftpkg>=1", "purepkg", "gilonly; sys_platform == \'win32\'"]\n'
        '[project.optional-dependencies]\ndev = ["sdistonly"]\n')
    (tmp_path / "requirements.txt").write_text("sdistonly\n")  # the pyproject wins
    (tmp_path / "sub").mkdir()
    proc = run("--index-url", json_index, *LINUX_TARGET, "--format", "json",
               cwd=tmp_path / "sub")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["sources"] == [str(tmp_path / "pyproject.toml")]
    assert [e["requirement"] for e in report["requirements"]] == ["ftpkg>=1", "purepkg"]


def test_requirements_files_are_the_fallback_input(tmp_path: Path, json_index: str) -> None:
    (tmp_path / "requirements.txt").write_text("ftpkg\n-r requirements-base.txt\n")
    (tmp_path / "requirements-base.txt").write_text("purepkg\n")
    (tmp_path / "requirements-dev.txt").write_text("sdistonly\n")
    (tmp_path / "notes.txt").write_text("gilonly\n")
    proc = run("--index-url", json_index, *LINUX_TARGET, "--format", "json", cwd=tmp_path)
    report = json.loads(proc.stdout)
    assert report["sources"] == ["requirements-base.txt", "requirements-dev.txt",
                                 "requirements.txt"]
    assert sorted(e["name"] for e in report["requirements"]) == ["ftpkg", "purepkg",
                                                                 "sdistonly"]
    assert proc.returncode == 1  # sdistonly builds from source


def test_index_from_pip_configuration(tmp_path: Path, json_index: str) -> None:
    (tmp_path / "requirements.txt").write_text("ftpkg\n")
    env = clean_env(PIP_INDEX_URL=json_index)
    proc = run(*LINUX_TARGET, "--format", "json", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["index"] == {"urls": [json_index], "source": "pip's configuration"}
    # A pip.conf, with the project only on its extra index.
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = {json_index.replace('/simple/', '/nowhere/')}\n"
                    f"extra-index-url = {json_index}\n")
    proc = run(*LINUX_TARGET, "--format", "json", cwd=tmp_path,
               env=clean_env(PIP_CONFIG_FILE=str(conf)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(json.loads(proc.stdout)["index"]["urls"]) == 2


def test_unreachable_index_exits_2(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://user:secret@127.0.0.1:{port}/simple/"
    code, report = check(tmp_path, url, "ftpkg", "purepkg", expect=2)
    assert [e["verdict"] for e in report["requirements"]] == ["error", "error"]
    error = entry(report, "ftpkg")["error"]
    assert f"cannot read http://user:****@127.0.0.1:{port}/simple/" in error
    assert "secret" not in json.dumps(report)


@pytest.mark.parametrize("args, message", [
    (["--target", "3.14"], "expected a free-threaded CPython version"),
    (["--target", "3.12t"], "start at 3.13t"),
    (["--platform", "Linux x86"], "not a wheel platform tag"),
    (["--python", "python3"], "--python audits an installed environment"),
    (["--all"], "--all audits an installed environment"),
])
def test_bad_input_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "requirements.txt").write_text("ftpkg\n")
    proc = run("--index-url", "http://127.0.0.1:9/simple/", *args, cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_nothing_to_check_exits_2(tmp_path: Path) -> None:
    proc = run("--index-url", "http://127.0.0.1:9/simple/", cwd=tmp_path)
    assert proc.returncode == 2 and "nothing to check" in proc.stderr


def test_options_of_available_need_it(tmp_path: Path) -> None:
    for args, message in ((["--target", "3.13t"], "--target applies only with --available"),
                          (["--format", "markdown"], "--format markdown needs --available")):
        proc = subprocess.run([ftlint_executable(), "deps", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=clean_env(), timeout=120)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr


# --- the installed-environment mode's rough edges ---------------------------------

def test_all_missing_says_nothing_was_audited(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("not-installed-dist>=1\nother-missing\n")
    proc = subprocess.run([ftlint_executable(), "deps", "-r", "r.txt", "--no-import"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert "No installed distribution was audited." in proc.stdout
    assert "All 0" not in proc.stdout


def test_installed_table_keeps_rows_readable() -> None:
    """The probe's warning used to make a 330-character row; the table now
    stops at the module it names and wraps, the JSON keeps it whole."""
    import io

    from ftlint.deps.model import Distribution, Interpreter, ProbeOutcome, Report, Scope
    from ftlint.deps.report import to_json, write_text
    from ftlint.deps.verdict import judge

    warning = ("RuntimeWarning: The global interpreter lock (GIL) has been enabled to load "
               "module 'legacy._ext', which has not declared that it can run safely without "
               "the GIL. To override this behavior and keep the GIL disabled (at your own "
               "risk), run with PYTHON_GIL=0 or -Xgil=0.")
    dist = Distribution("legacy", "0.3", "/site", "RECORD", ("legacy/_ext.so",),
                        ("legacy._ext",), ("cp313-cp313t-manylinux_2_17_x86_64",), None, (), ())
    probe = ProbeOutcome(True, True, "legacy._ext", "legacy._ext", warning,
                         imported=("legacy._ext",))
    interpreter = Interpreter("/venv/bin/python", "3.13.1", "CPython", "/venv", True, False, {})
    report = Report(interpreter, True, "imported", Scope("all"), [judge(dist, probe)])
    out = io.StringIO()
    write_text(report, out)
    lines = out.getvalue().splitlines()
    table = lines[lines.index("") + 1:lines.index("", lines.index("") + 1)]
    assert len(table) > 2 and all(len(line) <= 140 for line in table)
    assert "enabled to load module 'legacy._ext'" in " ".join(" ".join(table).split())
    assert "PYTHON_GIL=0" not in out.getvalue().split("\n\n")[1]
    assert "PYTHON_GIL=0" in to_json(report)["distributions"][0]["evidence"]


def test_target_tags_leave_out_the_gil_stable_abi() -> None:
    from ftlint.deps.target import build_target, expand_platform

    target = build_target("3.14t", ["manylinux2014_aarch64"])
    assert target.tags[0] == "cp314-cp314t-manylinux_2_17_aarch64"
    assert "cp314-cp314t-manylinux2014_aarch64" in target.tags
    assert "py3-none-any" in target.tags
    assert not any(tag.split("-")[1] in ("abi3", "cp314") for tag in target.tags)
    assert target.marker_environment["platform_machine"] == "aarch64"
    assert expand_platform("manylinux_2_28_x86_64")[-3:] == [
        "manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64"]
    assert expand_platform("macosx_11_0_arm64")[0] == "macosx_11_0_arm64"


def test_file_index(tmp_path: Path) -> None:
    """pip accepts a directory as an index (file://), reading each project's
    index.html; so does --available."""
    _write_index(tmp_path / "index", "html")
    url = (tmp_path / "index" / "simple").as_uri()
    code, report = check(tmp_path, url, "ftpkg", "no-such-project", expect=1)
    assert entry(report, "ftpkg")["verdict"] == "ft-wheel"
    assert entry(report, "no-such-project")["verdict"] == "not-installable"


# --- the installed audit's next steps, from the same index -----------------------

def _unreachable_index() -> str:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/simple/"


def _audited(*dists: Distribution, version: str = "3.13.1") -> Report:
    """A report of a free-threaded interpreter of this platform, as the
    installed audit makes it (probe not run)."""
    from packaging import markers

    from ftlint.deps.model import Interpreter, Report, Scope
    from ftlint.deps.verdict import judge

    interpreter = Interpreter("/venv/bin/python", version, "CPython", "/venv", True, False,
                              dict(markers.default_environment()))
    return Report(interpreter, False, "--no-import was given", Scope("all"),
                  [judge(d) for d in dists])


def _dist(name: str, version: str, tag: Optional[str]) -> Distribution:
    from ftlint.deps.model import Distribution

    module = name.replace("-", "_")
    return Distribution(name, version, "/site", "RECORD", (f"{module}/_c.so",),
                        (f"{module}._c",), (tag,) if tag else (), None, (), ())


def test_installed_audit_next_steps(json_index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution without a free-threaded wheel gets 'upgrade to' when a
    newer release has one for the audited interpreter (3.13t, this platform);
    one with such a wheel, or whose project has none, is not advised."""
    import io
    from dataclasses import replace

    from ftlint.deps.advice import add_next_steps
    from ftlint.deps.report import to_json, write_text

    for key, value in clean_env(PIP_INDEX_URL=json_index).items():
        monkeypatch.setenv(key, value)
    for key in [k for k in os.environ if k.startswith("PIP_") or k.lower().endswith("_proxy")]:
        if key not in ("PIP_INDEX_URL", "PIP_CONFIG_FILE"):
            monkeypatch.delenv(key)
    report = add_next_steps(_audited(
        _dist("gil-needing-ext", "0.3", "cp313-cp313-manylinux_2_17_x86_64"),
        _dist("stuck-ext", "1.0", "cp313-cp313-manylinux_2_17_x86_64"),
        _dist("ft-ready-ext", "0.1", "cp313-cp313t-manylinux_2_17_x86_64"),
        _dist("not-on-the-index", "1.0", None)), timeout=30)
    steps = {e.dist.name: e.next_step for e in report.entries}
    assert steps == {"gil-needing-ext": "upgrade to gil-needing-ext>=0.4: it ships cp313t wheels",
                     "stuck-ext": None, "ft-ready-ext": None, "not-on-the-index": None}
    assert report.index_problem is None
    out = io.StringIO()
    write_text(report, out)
    assert "next: upgrade to gil-needing-ext>=0.4: it ships cp313t wheels" in out.getvalue()
    assert "next steps:" not in out.getvalue()
    data = to_json(report)
    assert [d["next_step"] for d in data["distributions"]] == list(steps.values())
    assert data["index_problem"] is None
    # A GIL build is no free-threaded target: nothing is looked up.
    gil_report = _audited(_dist("gil-needing-ext", "0.3", None))
    gil_report.interpreter = replace(gil_report.interpreter, free_threaded=False)
    assert add_next_steps(gil_report, timeout=30).entries[0].next_step is None
    # An index that cannot be read: no advice, one line saying why.
    monkeypatch.setenv("PIP_INDEX_URL", _unreachable_index())
    report = add_next_steps(_audited(_dist("gil-needing-ext", "0.3", None)), timeout=30)
    assert report.entries[0].next_step is None
    assert report.index_problem and report.index_problem.startswith(
        "the package index could not be read (cannot read http://127.0.0.1:")
    out = io.StringIO()
    write_text(report, out)
    assert out.getvalue().splitlines()[-1].startswith(
        "next steps: the package index could not be read (")


@pytest.mark.freethreaded
def test_installed_audit_says_which_upgrade_ships_free_threaded_wheels(
        ft_ext_venv: Path, json_index: str, tmp_path: Path) -> None:
    """End to end: the free-threaded venv's gil-needing-ext 0.3 re-enables the
    GIL; the index pip is configured with (PIP_INDEX_URL) lists 0.4 with
    cp313t wheels, so the audit says to upgrade. --no-index, or an index that
    cannot be read, gives no advice and the same exit code."""
    (tmp_path / "r.txt").write_text("gil-needing-ext\n")

    def audit(*args: str, index: str = json_index) -> subprocess.CompletedProcess:
        proc = subprocess.run([ftlint_executable(), "deps", "--python", str(ft_ext_venv),
                               "-r", "r.txt", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=clean_env(PIP_INDEX_URL=index), timeout=120)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        return proc

    advice = "upgrade to gil-needing-ext>=0.4: it ships cp313t wheels"
    text = audit().stdout
    assert "gil-re-enabling" in text and f"next: {advice}" in " ".join(text.split())
    assert "next steps:" not in text
    report = json.loads(audit("--format", "json").stdout)
    assert [(d["name"], d["verdict"], d["next_step"]) for d in report["distributions"]] == [
        ("gil-needing-ext", "gil-re-enabling", advice)]
    assert report["index_problem"] is None
    report = json.loads(audit("--format", "json", "--no-index").stdout)
    assert report["distributions"][0]["next_step"] is None and report["index_problem"] is None
    assert "next:" not in audit("--no-index").stdout
    down = audit("--format", "json", index=_unreachable_index())
    report = json.loads(down.stdout)
    assert report["distributions"][0]["next_step"] is None
    assert report["index_problem"].startswith("the package index could not be read")
    text = audit(index=_unreachable_index()).stdout
    assert text.splitlines()[-1].startswith("next steps: the package index could not be read")


def test_no_index_does_not_go_with_available(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("ftpkg\n")
    proc = run("--no-index", "--index-url", "http://127.0.0.1:9/simple/", cwd=tmp_path)
    assert proc.returncode == 2 and "--no-index" in proc.stderr, proc.stderr
