"""Print, as one JSON object, the facts ``ftlint deps`` needs about this
interpreter and every distribution installed for it.

This file is not imported by ftlint: it is run *by the audited interpreter*
(``python -I -S _target_metadata.py``), which may be another Python version
than ftlint's own and may not have ftlint installed. Hence: standard library
only, and syntax that Python 3.8 (the first with importlib.metadata) still
accepts.

``-S`` keeps ``site`` from running, so nothing from the audited environment
executes: no ``import`` line of a ``.pth`` file, no ``sitecustomize`` or
``usercustomize``. This script therefore finds the site-packages directories
itself, the way ``site`` would (``pyvenv.cfg``, sysconfig's install schemes,
the path lines of ``.pth`` files), and never imports ``site``: it only reads
files there.
"""

import importlib.machinery
import json
import os
import platform
import re
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


def find_venv():
    """(prefix, include_system_site) of the virtual environment this
    interpreter belongs to, or (None, True): what ``site.venv()`` decides.

    Without ``site`` (``-S``) sys.prefix stays the base installation's on every
    version, so the venv has to be found as site finds it: a pyvenv.cfg next to
    the executable or one directory up, the venv being the executable's parent
    directory (not resolving symlinks, which point into the base install).
    """
    executable = sys.executable
    if sys.platform == "darwin" and "__PYVENV_LAUNCHER__" in os.environ:
        executable = os.environ["__PYVENV_LAUNCHER__"]
    exe_dir = os.path.dirname(os.path.abspath(executable))
    prefix = os.path.dirname(exe_dir)
    for conf in (os.path.join(exe_dir, "pyvenv.cfg"), os.path.join(prefix, "pyvenv.cfg")):
        if os.path.isfile(conf):
            break
    else:
        return None, True
    system_site = "true"  # site's default when the key is absent
    with open(conf, encoding="utf-8") as f:
        for line in f:
            if "=" in line:
                key, _, value = line.partition("=")
                if key.strip().lower() == "include-system-site-packages":
                    system_site = value.strip().lower()
    return prefix, system_site == "true"


def _scheme_dirs(schemes, prefix):
    """platlib and purelib of each install scheme this interpreter knows,
    for an installation at ``prefix``."""
    known = sysconfig.get_scheme_names()
    found = []
    for scheme in schemes:
        if scheme not in known:
            continue
        paths = sysconfig.get_paths(scheme, vars={"base": prefix, "platbase": prefix})
        for key in ("platlib", "purelib"):  # site lists lib64 before lib as well
            if paths.get(key) and paths[key] not in found:
                found.append(paths[key])
    return found


def _default_scheme():
    getter = getattr(sysconfig, "get_default_scheme", None)  # 3.10+
    if getter is None:
        getter = getattr(sysconfig, "_get_default_scheme")
    return getter()


def _base_site_dirs():
    """The base installation's site directories: its default scheme and the
    plain one, and on Debian-patched interpreters the dist-packages
    directories that Debian's site.py adds."""
    schemes = [_default_scheme(), "nt" if os.name == "nt" else "posix_prefix",
               "posix_local", "deb_system"]
    dirs = []
    for prefix in (sys.prefix, sys.exec_prefix):
        for path in _scheme_dirs(schemes, prefix):
            if path not in dirs:
                dirs.append(path)
        if "deb_system" in sysconfig.get_scheme_names() and os.sep == "/":
            libdirs = [getattr(sys, "platlibdir", "lib"), "lib"]
            for libdir in libdirs:
                path = os.path.join(prefix, libdir, "python%d.%d" % sys.version_info[:2],
                                    "dist-packages")
                if path not in dirs:
                    dirs.append(path)
    return dirs


def _pth_dirs(sitedir):
    """The directories the path lines of ``sitedir``'s .pth files add, in
    site's order. ``import`` lines are skipped, never executed."""
    try:
        names = sorted(n for n in os.listdir(sitedir)
                       if n.endswith(".pth") and not n.startswith("."))
    except OSError:
        return []
    found = []
    for name in names:
        try:
            with open(os.path.join(sitedir, name), "rb") as f:
                raw = f.read()
        except OSError:
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line.startswith(("import ", "import\t")):
                continue  # code: this is what -S is here to keep from running
            found.append(os.path.abspath(os.path.join(sitedir, line.rstrip())))
    return found


def site_directories():
    """(venv prefix or None, the directories ``site`` would add to sys.path):
    each existing site-packages directory, followed by the directories its
    .pth files add, without duplicates or what is on sys.path already."""
    venv_prefix, system_site = find_venv()
    candidates = []
    if venv_prefix is not None:
        schemes = ["venv", "nt" if os.name == "nt" else "posix_prefix"]
        candidates += _scheme_dirs(schemes, venv_prefix)
    if venv_prefix is None or system_site:
        candidates += _base_site_dirs()
    known = set(os.path.normcase(os.path.abspath(p)) for p in sys.path if p)
    added = []
    for sitedir in candidates:
        if not os.path.isdir(sitedir):
            continue
        for path in [os.path.abspath(sitedir)] + _pth_dirs(sitedir):
            case = os.path.normcase(path)
            if case not in known and os.path.exists(path):
                known.add(case)
                added.append(path)
    return venv_prefix, added


def interpreter(venv_prefix, site_dirs):
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return {
        "executable": sys.executable,
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        # What sys.prefix is once site has run: the venv's directory.
        "prefix": venv_prefix or sys.prefix,
        "site_packages": site_dirs,
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        # None on interpreters that always have a GIL (before 3.13). As started
        # here, without site: a .pth file may still turn it on in a normal start.
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


class Unreadable(Exception):
    """A metadata file that is there but cannot be read."""


def _read(dist, filename):
    """The text of one of the distribution's metadata files, None when it has
    none. importlib.metadata answers None also for a file it cannot read
    (permissions, a directory in its place): tell those apart."""
    text = dist.read_text(filename)
    if text is None:
        path = getattr(dist, "_path", None)
        candidate = os.path.join(str(path), filename) if path is not None else None
        if candidate is not None and os.path.lexists(candidate):
            try:
                with open(candidate, "rb"):
                    pass
            except OSError as exc:
                raise Unreadable("cannot read {}: {}".format(filename, exc.strerror or exc))
            raise Unreadable("cannot read {}".format(filename))
    return text


_DIST_INFO = re.compile(r"^(?P<name>[^-]+)(?:-(?P<version>[^-]+))?(?:-[^-]+)*"
                        r"\.(?:dist-info|egg-info)$")


def _names_from_directory(dist):
    """(name, version) from a 'name-version.dist-info' directory name, for a
    distribution whose METADATA cannot be used."""
    path = getattr(dist, "_path", None)
    found = _DIST_INFO.match(os.path.basename(str(path))) if path is not None else None
    if not found:
        return None, None
    return found.group("name"), found.group("version")


def distribution(dist, suffixes):
    path = getattr(dist, "_path", None)
    # (A legacy '.egg-info' may be a single file: then it is the metadata.)
    if path is not None and os.path.isdir(str(path)) and (
            _read(dist, "METADATA") is None and _read(dist, "PKG-INFO") is None):
        raise Unreadable("no METADATA file")
    meta = dist.metadata
    if not meta["Name"]:
        raise Unreadable("METADATA has no Name field")
    # dist.files reads RECORD (or the legacy installed-files.txt/SOURCES.txt);
    # None when the installer wrote none of them.
    _read(dist, "RECORD")
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
    wheel = _read(dist, "WHEEL") or ""
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
        "error": None,
    }


def broken_distribution(dist, exc):
    """The entry of a distribution whose metadata could not be read: named
    after its directory, with the error, so that it is reported rather than
    silently left out. None when even the name cannot be told."""
    name = version = None
    try:
        name, version = dist.metadata["Name"], dist.metadata["Version"]
    except Exception:
        pass
    if not name:
        name, version = _names_from_directory(dist)
    if not name:
        return None
    if isinstance(exc, Unreadable):
        error = str(exc)
    else:
        error = "cannot read its metadata: {}: {}".format(type(exc).__name__, exc)
    path = getattr(dist, "_path", None)
    return {"name": name, "version": version, "location": str(path.parent) if path else "?",
            "file_list": None, "extension_files": [], "extension_modules": [],
            "wheel_tags": [], "direct_url": None, "classifiers": [], "requires": [],
            "error": "{} ({})".format(error, path) if path else error}


def main():
    suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
    venv_prefix, site_dirs = site_directories()
    seen, dists, problems = set(), [], []
    for dist in metadata.distributions(path=sys.path + site_dirs):
        try:
            entry = distribution(dist, suffixes)
        except Exception as exc:  # one broken dist-info must not hide the rest
            entry = broken_distribution(dist, exc)
            if entry is None:
                problems.append("{}: {}: {}".format(
                    getattr(dist, "_path", "?"), type(exc).__name__, exc))
                continue
        key = re.sub(r"[-_.]+", "-", entry["name"]).lower()
        if key in seen:
            continue  # shadowed by an earlier sys.path entry, as for import
        seen.add(key)
        dists.append(entry)
    json.dump({"interpreter": interpreter(venv_prefix, site_dirs), "distributions": dists,
               "problems": problems}, sys.stdout)


if __name__ == "__main__":
    main()
