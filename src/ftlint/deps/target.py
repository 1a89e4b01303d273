"""The interpreter ``ftlint deps --available`` plans an install for: a
free-threaded CPython version on one or more platforms, the wheel tags it
accepts (in pip's order of preference) and its PEP 508 marker values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

from packaging import markers, tags

from ftlint.deps.model import DepsError

DEFAULT_TARGET = "3.14t"

_TARGET = re.compile(r"^(?:cp)?3\.?(\d+)(?:\.(\d+))?t$")
_MANYLINUX = re.compile(r"^(manylinux|musllinux)_(\d+)_(\d+)_(.+)$")
_LEGACY_MANYLINUX = {"manylinux1": 5, "manylinux2010": 12, "manylinux2014": 17}
_MACOSX = re.compile(r"^macosx_(\d+)_(\d+)_(.+)$")
_PLATFORM = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class Target:
    python: tuple[int, int]
    micro: int
    platforms: tuple[str, ...]  # as given (or the running platform's, expanded)
    given_platforms: tuple[str, ...]  # what --platform named; () for the running one
    tags: tuple[str, ...]  # accepted wheel tags, most preferred first
    marker_environment: dict[str, str]

    @property
    def abi(self) -> str:
        return f"cp{self.python[0]}{self.python[1]}t"

    @property
    def version(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    def rank(self) -> dict[str, int]:
        return {tag: index for index, tag in enumerate(self.tags)}

    def platform_text(self) -> str:
        if self.given_platforms:
            return ", ".join(self.given_platforms)
        # The running platform's list may start with the plain 'linux_*' tag
        # of local builds; name the one published wheels use.
        named = [p for p in self.platforms if not p.startswith("linux_")] or self.platforms
        return f"this machine ({named[0]})" if named else "this machine"

    def describe(self) -> str:
        return f"CPython {self.version}t on {self.platform_text()}"


def parse_version(text: str) -> tuple[tuple[int, int], int]:
    """'3.14t', '3.14.2t' or 'cp314t' -> ((3, 14), micro)."""
    found = _TARGET.match(text.strip().lower())
    if not found:
        hint = (" (a GIL build: free-threaded wheels do not apply to it)"
                if re.match(r"^(?:cp)?3\.?\d+(?:\.\d+)?$", text.strip()) else "")
        raise DepsError(f"--target {text}: expected a free-threaded CPython version such as "
                        f"3.14t or 3.13t{hint}")
    minor, micro = int(found.group(1)), int(found.group(2) or 0)
    if minor < 13:
        raise DepsError(f"--target {text}: free-threaded CPython builds start at 3.13t")
    return (3, minor), micro


def expand_platform(platform: str) -> list[str]:
    """The platform tags a machine of ``platform`` accepts, most preferred
    first: a manylinux_2_28 system also runs manylinux_2_17 (manylinux2014)
    wheels, a macOS 11 one runs wheels built for 10.9."""
    if not _PLATFORM.match(platform):
        raise DepsError(f"--platform {platform}: not a wheel platform tag "
                        "(such as manylinux_2_28_x86_64, macosx_11_0_arm64, win_amd64)")
    legacy = platform.split("_", 1)
    if legacy[0] in _LEGACY_MANYLINUX and len(legacy) == 2:
        platform = f"manylinux_2_{_LEGACY_MANYLINUX[legacy[0]]}_{legacy[1]}"
    found = _MANYLINUX.match(platform)
    if found:
        return [*_linux_tags(found.group(1), int(found.group(2)), int(found.group(3)),
                             found.group(4)), f"linux_{found.group(4)}"]
    found = _MACOSX.match(platform)
    if found:
        version = (int(found.group(1)), int(found.group(2)))
        return list(tags.mac_platforms(version, found.group(3))) or [platform]
    return [platform]


def _linux_tags(kind: str, major: int, minor: int, arch: str) -> Iterator[str]:
    # What packaging.tags yields for the running glibc/musl, for a given one.
    if kind == "musllinux":
        for m in range(minor, -1, -1):
            yield f"musllinux_{major}_{m}_{arch}"
        return
    oldest = 5 if arch in ("x86_64", "i686") and major == 2 else 17
    for m in range(minor, oldest - 1, -1):
        yield f"manylinux_{major}_{m}_{arch}"
        legacy = [name for name, value in _LEGACY_MANYLINUX.items() if value == m]
        if major == 2 and legacy:
            yield f"{legacy[0]}_{arch}"


def target_tags(python: tuple[int, int], platforms: Sequence[str]) -> list[str]:
    """Every wheel tag the free-threaded interpreter accepts, as pip orders
    them. No 'abi3': a free-threaded build cannot load the stable ABI of GIL
    builds (older packaging versions still list it)."""
    abi = f"cp{python[0]}{python[1]}t"
    found: list[str] = []
    for tag in tags.cpython_tags(python, [abi], list(platforms)):
        if tag.abi != "abi3":
            found.append(str(tag))
    found += (str(t) for t in tags.compatible_tags(python, f"cp{python[0]}{python[1]}",
                                                   list(platforms)))
    return list(dict.fromkeys(found))


def build_target(target: str, platforms: Sequence[str]) -> Target:
    python, micro = parse_version(target)
    if platforms:
        expanded: list[str] = []
        for platform in platforms:
            expanded += expand_platform(platform.strip())
        accepted = list(dict.fromkeys(expanded))
        environment = _environment_for(platforms[0].strip())
    else:
        accepted = list(tags.platform_tags())
        environment = dict(markers.default_environment())
    full = f"{python[0]}.{python[1]}.{micro}"
    environment.update({
        "implementation_name": "cpython", "implementation_version": full,
        "platform_python_implementation": "CPython", "python_full_version": full,
        "python_version": f"{python[0]}.{python[1]}",
    })
    return Target(python=python, micro=micro, platforms=tuple(accepted),
                  given_platforms=tuple(p.strip() for p in platforms),
                  tags=tuple(target_tags(python, accepted)), marker_environment=environment)


_WINDOWS_MACHINES = {"win_amd64": "AMD64", "win32": "x86", "win_arm64": "ARM64"}


def _environment_for(platform: str) -> dict[str, str]:
    """PEP 508 values of a machine of ``platform`` (not this one): what the
    tag tells, and empty release and version strings."""
    arch: Optional[str] = None
    linux = _MANYLINUX.match(platform)
    mac = _MACOSX.match(platform)
    if platform.split("_", 1)[0] in _LEGACY_MANYLINUX or platform.startswith("linux_"):
        system = ("linux", "Linux", "posix")
        arch = platform.split("_", 1)[1] if "_" in platform else ""
    elif linux:
        system, arch = ("linux", "Linux", "posix"), linux.group(4)
    elif mac:
        system, arch = ("darwin", "Darwin", "posix"), mac.group(3)
    elif platform in _WINDOWS_MACHINES:
        system, arch = ("win32", "Windows", "nt"), _WINDOWS_MACHINES[platform]
    else:  # a platform tag we cannot read: keep this machine's values
        return dict(markers.default_environment())
    return {"sys_platform": system[0], "platform_system": system[1], "os_name": system[2],
            "platform_machine": arch or "", "platform_release": "", "platform_version": ""}
