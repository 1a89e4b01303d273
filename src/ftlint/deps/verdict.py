"""Turn the static evidence (RECORD, WHEEL tags, classifiers) and the probe's
outcome into one verdict per distribution."""

from __future__ import annotations

import json
import re
from typing import Optional

from packaging.tags import parse_tag

from ftlint.deps.model import Distribution, Entry, ProbeOutcome, Verdict, NOT_PROBED

# cp313t, cp314t, ...: the ABIs of free-threaded CPython builds.
_FREE_THREADED_ABI = re.compile(r"^cp3\d+t$")


def free_threaded_tags(dist: Distribution) -> tuple[str, ...]:
    """The ABIs among the wheel's tags that only a free-threaded build can load."""
    abis: set[str] = set()
    for line in dist.wheel_tags:
        try:
            tags = parse_tag(line)  # expands compressed sets like 'cp313-cp313t-a.b'
        except ValueError:
            continue
        abis.update(tag.abi for tag in tags if _FREE_THREADED_ABI.match(tag.abi))
    return tuple(sorted(abis))


def built_locally(dist: Distribution) -> bool:
    """Whether the wheel was built on this machine rather than published.

    A locally built wheel gets a cp313t tag simply because the compiler ran
    under a free-threaded interpreter: it says nothing about whether the
    module declares Py_mod_gil. A published cp313t wheel is the maintainers'
    statement that they build and ship for free-threading.
    """
    if dist.direct_url:
        try:
            info = json.loads(dist.direct_url)
        except ValueError:
            info = {}
        if "dir_info" in info or "vcs_info" in info:
            return True
        if "archive_info" in info and not str(info.get("url", "")).endswith(".whl"):
            return True  # an sdist from a URL or file
    platforms: set[str] = set()
    for line in dist.wheel_tags:
        try:
            platforms.update(tag.platform for tag in parse_tag(line))
        except ValueError:
            continue
    # PyPI refuses 'linux_*' wheels: only a local build (no auditwheel) has one.
    return bool(platforms) and all(p.startswith("linux_") for p in platforms)


def judge(dist: Distribution, probe: ProbeOutcome = NOT_PROBED,
          required_by: Optional[str] = None, free_threaded_interpreter: bool = True) -> Entry:
    ft_tags = free_threaded_tags(dist)
    verdict, evidence = _decide(dist, probe, ft_tags, free_threaded_interpreter)
    return Entry(dist=dist, verdict=verdict, evidence=evidence, free_threaded_tags=ft_tags,
                 built_locally=bool(ft_tags) and built_locally(dist), probe=probe,
                 required_by=required_by)


def could_not_audit(dist: Distribution, error: str,
                    required_by: Optional[str] = None) -> Entry:
    """The entry of a distribution that could not be audited."""
    return Entry(dist=dist, verdict=Verdict.ERROR, evidence=error, free_threaded_tags=(),
                 required_by=required_by)


def _decide(dist: Distribution, probe: ProbeOutcome, ft_tags: tuple[str, ...],
            free_threaded_interpreter: bool) -> tuple[Verdict, str]:
    if dist.error is not None:
        return Verdict.ERROR, dist.error
    if probe.failed:
        return Verdict.ERROR, f"probe failed: {probe.error}"
    if dist.file_list is None:
        return (Verdict.UNKNOWN, "installed without RECORD or top_level.txt, so its files "
                "cannot be listed")
    if not dist.extension_modules:
        if dist.extension_files:
            return (Verdict.PURE_PYTHON, f"its {len(dist.extension_files)} compiled file(s) "
                    "are not Python extension modules for this interpreter")
        return Verdict.PURE_PYTHON, f"no compiled extension modules in {dist.file_list}"
    if probe.ran:
        return _from_probe(dist, probe)
    return _from_static(dist, ft_tags, free_threaded_interpreter)


def _from_probe(dist: Distribution, probe: ProbeOutcome) -> tuple[Verdict, str]:
    if probe.gil_enabled_after:
        culprit = probe.module or probe.imported_module or "?"
        warning = probe.warning or "no warning was recorded"
        if probe.imported_module and probe.imported_module != culprit:
            how = f"importing {probe.imported_module} loaded {culprit}"
        else:
            how = f"imported {culprit}"
        return Verdict.GIL_RE_ENABLING, f"{how}: {warning}"
    if probe.error:
        return Verdict.UNKNOWN, f"probe failed: {probe.error}"
    if not probe.imported:
        return (Verdict.PURE_PYTHON, "its compiled files loaded as plain shared libraries, "
                "not Python extension modules")
    count = len(probe.imported)
    return (Verdict.READY, f"imported {count} extension module{'s' if count > 1 else ''}; "
            "the GIL stayed disabled")


def _from_static(dist: Distribution, ft_tags: tuple[str, ...],
                 free_threaded_interpreter: bool) -> tuple[Verdict, str]:
    if ft_tags and not built_locally(dist):
        return Verdict.READY, f"installed from a published {'/'.join(ft_tags)} wheel (not probed)"
    if ft_tags:
        return (Verdict.UNKNOWN, f"built from source as {'/'.join(ft_tags)}; that alone does "
                f"not show it declares Py_mod_gil (not probed)")
    tags = ", ".join(dist.wheel_tags) or "no WHEEL file"
    if not free_threaded_interpreter:
        # A GIL build installs GIL wheels: their tags say nothing either way.
        return Verdict.UNKNOWN, f"installed for a GIL build ({tags})"
    return Verdict.UNKNOWN, f"no free-threaded wheel tag ({tags})"


def short_classifier(dist: Distribution) -> str:
    """'Programming Language :: Python :: Free Threading :: 3 - Stable' -> '3 - Stable'."""
    return ", ".join(c.rsplit("::", 1)[-1].strip() for c in dist.classifiers)
