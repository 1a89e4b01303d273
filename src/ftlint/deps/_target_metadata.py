"""Print, as one JSON object, the facts ``ftlint deps`` needs about this
interpreter and every distribution installed for it.

This file is not imported by ftlint: it is run *by the audited interpreter*
(``python -I _target_metadata.py``), which may be another Python version than
ftlint's own and may not have ftlint installed. Hence: standard library only,
and syntax that Python 3.8 (the first with importlib.metadata) still accepts.
"""

import importlib.machinery
import json
import os
import platform
import sys
import sysconfig
from importlib import metadata

FREE_THREADING_CLASSIFIER = "Programming Language :: Python :: Free Threading ::"
# What an extension module can be named on any platform; the target's own
# EXTENSION_SUFFIXES then decide which of them it could actually import.
COMPILED_SUFFIXES = (".so", ".pyd")


def _full_version(info):
    # Mirrors packaging.markers.format_full_version, so markers evaluate alike.
    version = "{0.major}.{0.minor}.{0.micro}".format(info)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def marker_environment():
    """PEP 508 marker values of this interpreter (requirements are evaluated
    against the audited environment, not against ftlint's)."""
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": _full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def interpreter():
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return {
        "executable": sys.executable,
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "prefix": sys.prefix,
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        # None on interpreters that always have a GIL (before 3.13).
        "gil_enabled": None if is_gil_enabled is None else bool(is_gil_enabled()),
        "extension_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
        "marker_environment": marker_environment(),
    }


def _module_name(parts, suffixes):
    """``pkg/_ext.cpython-313t-x86_64-linux-gnu.so`` -> ``pkg._ext``; None when
    this interpreter could not import the file as a module."""
    filename = parts[-1]
    for suffix in suffixes:  # longest first: '.cpython-313t-...so' before '.so'
        if filename.endswith(suffix):
            names = list(parts[:-1]) + [filename[: -len(suffix)]]
            if all(name.isidentifier() for name in names):
                return ".".join(names)
            return None  # e.g. a vendored library in 'pkg.libs/'
    return None


def _files_from_top_level(dist):
    """Relative paths of the compiled files under the distribution's top-level
    names, for installs without a file list (e.g. some distro packages)."""
    names = (dist.read_text("top_level.txt") or "").split()
    root = str(dist.locate_file(""))
    found = []
    for name in names:
        package = os.path.join(root, name)
        for directory, _, filenames in os.walk(package):
            found.extend(os.path.relpath(os.path.join(directory, f), root) for f in filenames)
        if os.path.isdir(root):  # a top-level extension module: name.cpython-...so
            found.extend(f for f in os.listdir(root) if f.startswith(name + "."))
    return [tuple(path.split(os.sep)) for path in found]


def distribution(dist, suffixes):
    meta = dist.metadata
    # dist.files reads RECORD (or the legacy installed-files.txt/SOURCES.txt);
    # None when the installer wrote none of them.
    if dist.files is not None:
        file_list, paths = "RECORD", [path.parts for path in dist.files]
    elif dist.read_text("top_level.txt"):
        file_list, paths = "top_level.txt", _files_from_top_level(dist)
    else:
        file_list, paths = None, []
    extension_files, extension_modules = [], []
    for parts in paths:
        if not parts or parts[0] == ".." or not parts[-1].endswith(COMPILED_SUFFIXES):
            continue  # '..' paths are scripts and data outside site-packages
        extension_files.append("/".join(parts))
        module = _module_name(parts, suffixes)
        if module is not None:
            extension_modules.append(module)
    wheel = dist.read_text("WHEEL") or ""
    classifiers = meta.get_all("Classifier") or []
    return {
        "name": meta["Name"],
        "version": meta["Version"] or dist.version,
        "location": str(dist.locate_file("")),
        "file_list": file_list,
        "extension_files": sorted(extension_files),
        "extension_modules": sorted(set(extension_modules)),
        "wheel_tags": [line.split(":", 1)[1].strip() for line in wheel.splitlines()
                       if line.startswith("Tag:")],
        "direct_url": dist.read_text("direct_url.json"),
        "classifiers": [c for c in classifiers if c.startswith(FREE_THREADING_CLASSIFIER)],
        "requires": list(dist.requires or []),
    }


def main():
    suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
    seen, dists, problems = set(), [], []
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
            if not name:
                continue  # a stray or broken .dist-info directory
            key = name.lower().replace("_", "-").replace(".", "-")
            if key in seen:
                continue  # shadowed by an earlier sys.path entry, as for import
            seen.add(key)
            dists.append(distribution(dist, suffixes))
        except Exception as exc:  # one broken dist-info must not hide the rest
            problems.append("{}: {}: {}".format(
                getattr(dist, "_path", "?"), type(exc).__name__, exc))
    json.dump({"interpreter": interpreter(), "distributions": dists,
               "problems": problems}, sys.stdout)


if __name__ == "__main__":
    main()
