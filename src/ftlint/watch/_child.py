"""What ``ftlint watch`` runs inside the watched process.

``ftlint watch`` copies this file, as ``_ftlint_watch_child.py``, next to a
small ``sitecustomize.py`` into a directory it puts first on ``PYTHONPATH``;
``site`` imports that ``sitecustomize`` at start-up, which calls
:func:`install`. From then on:

- after each extension module is created (``ExtensionFileLoader.create_module``,
  where CPython decides whether a module that does not declare ``Py_mod_gil``
  turns the GIL on), ``sys._is_gil_enabled()`` is checked; the first time it
  is on, the module, its file and the Python stack of the import (the modules
  whose import is in progress, with the line of each import statement) are
  recorded;
- CPython's own ``RuntimeWarning`` naming the module is recorded too, when
  the warning filters let it be shown (it is raised in the importing thread,
  so it also catches loaders that do not go through ``ExtensionFileLoader``);
- each ``threading.Thread.start`` updates the peak number of threads alive at
  once (no sampling thread: one would change what ``os.fork`` warns about);
- at exit the process's CPU and wall time are recorded.

The record is a JSON file per process in ``$FTLINT_WATCH_DIR``, written at
start, at the first GIL event (so that a crash still leaves the evidence) and
at exit. Nothing here may break the program being watched: every hook falls
back to the original behaviour, and failures are swallowed.

Runs on any CPython 3.8 or newer, so: standard library only, no syntax newer
than 3.8.
"""

import atexit
import json
import linecache
import os
import sys
import threading
import time

ENV_DIR = "FTLINT_WATCH_DIR"
FORMAT_VERSION = 1
# Frames of the import machinery, of this module and of what starts a script:
# the import stack shows the user's modules only.
_HIDDEN = frozenset([
    "importlib", "importlib._bootstrap", "importlib._bootstrap_external",
    "importlib.util", "_frozen_importlib", "_frozen_importlib_external",
    "runpy", "threading", "warnings", "sitecustomize", __name__,
])
_WARNING_START = "The global interpreter lock (GIL) has been enabled to load module '"
_MAX_FRAMES = 30


def gil_enabled():
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def _free_threaded():
    import sysconfig
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def _cpu_count():
    counter = getattr(os, "process_cpu_count", None)  # 3.13: honours affinity
    if counter is not None:
        return counter()
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def _os_threads():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def _extension_modules():
    """Extension modules loaded from files outside the standard library."""
    import sysconfig
    # Not "platstdlib": in a virtual environment it holds site-packages.
    stdlib = os.path.realpath(sysconfig.get_path("stdlib")) + os.sep
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if path.endswith((".so", ".pyd")) and not os.path.realpath(path).startswith(stdlib):
            found.append(name)
    return sorted(found)


def import_stack(frame):
    """The Python frames of an import in progress, outermost first, without
    the import machinery. ``<module>`` frames are the modules being imported;
    of the other frames only the innermost are kept."""
    stack = []
    while frame is not None:
        module = frame.f_globals.get("__name__")
        code = frame.f_code
        if module not in _HIDDEN and (code.co_name == "<module>" or len(stack) < _MAX_FRAMES):
            line = frame.f_lineno
            stack.append({
                "module": module, "function": code.co_name, "file": code.co_filename,
                "line": line, "code": linecache.getline(code.co_filename, line).strip() or None,
            })
        frame = frame.f_back
    stack.reverse()
    return stack


class Watch:
    """The state of one watched process. Hooks run in any thread, so every
    change goes through ``_lock``."""

    def __init__(self, directory):
        # Reentrant: writing the record may import a module, which runs the hooks.
        self._lock = threading.RLock()
        self._directory = directory
        self._begin(forked_from=None)

    def _begin(self, forked_from):
        self._started = time.perf_counter()
        self._cpu_started = time.process_time()
        self._loading = {}  # thread id -> (name, file) of the extension module being created
        self._path = os.path.join(self._directory, "%d-%d.json" % (os.getpid(), time.time_ns()))
        free_threaded = _free_threaded()
        gil = gil_enabled()
        self._gil_seen = gil
        self._record = {
            "format": FORMAT_VERSION,
            "pid": os.getpid(), "parent_pid": os.getppid(), "forked_from": forked_from,
            "start_time": time.time(),
            "argv": list(sys.argv), "orig_argv": list(getattr(sys, "orig_argv", [])),
            "executable": sys.executable,
            "implementation": sys.implementation.name,
            "version": "%d.%d.%d" % sys.version_info[:3],
            "free_threaded": free_threaded,
            "gil_flag": getattr(sys.flags, "gil", None),
            "gil_enabled_at_start": gil,
            "extensions_at_start": _extension_modules() if gil and free_threaded else [],
            "events": [],
            "cpu_count": _cpu_count(),
            "threads_peak": threading.active_count(), "threads_started": 0,
            "os_threads_peak": _os_threads(),
            "finished": False, "gil_enabled_at_exit": None,
            "wall_time": None, "cpu_time": None,
        }

    def after_fork(self):
        # The lock may have been held by a thread that does not exist here.
        self._lock = threading.RLock()
        with self._lock:
            self._begin(forked_from=self._record["pid"])
            self._write()

    def start(self):
        with self._lock:
            self._write()

    def _write(self):
        temporary = self._path + ".tmp"
        try:
            with open(temporary, "w") as out:
                json.dump(self._record, out)
            os.replace(temporary, self._path)
        except (OSError, ValueError, TypeError):
            pass  # the directory went away, or a value did not serialise

    def loading(self, name, origin):
        with self._lock:
            self._loading[threading.get_ident()] = (name, origin)

    def loaded(self, name, origin, frame):
        with self._lock:
            self._loading.pop(threading.get_ident(), None)
            if self._gil_seen or not gil_enabled():
                return
            self._event(name, origin, "extension-loader", None, frame)

    def warned(self, text, frame):
        """CPython's warning, raised in the importing thread while the module
        is created: it names the module for certain."""
        module = text[len(_WARNING_START):].split("'", 1)[0]
        with self._lock:
            events = self._record["events"]
            if events:
                if events[0]["warning"] is None:
                    events[0]["warning"] = text  # the report trusts the warning's name
                    self._write()
                return
            name, origin = self._loading.get(threading.get_ident(), (None, None))
            self._event(module, origin if name == module else None, "runtime-warning", text,
                        frame)

    def _event(self, module, origin, how, warning, frame):
        """Called with the lock held, once: the GIL stays on once it is on."""
        self._gil_seen = True
        me = threading.get_ident()
        self._record["events"].append({
            "module": module, "file": origin, "detected_by": how, "warning": warning,
            "time": round(time.perf_counter() - self._started, 6),
            "thread": threading.current_thread().name,
            "stack": import_stack(frame),
            "concurrent": sorted(n for t, (n, _) in self._loading.items() if t != me),
        })
        self._write()

    def thread_started(self):
        count, os_count = threading.active_count(), _os_threads()
        with self._lock:
            record = self._record
            record["threads_started"] += 1
            record["threads_peak"] = max(record["threads_peak"], count)
            if os_count is not None:
                record["os_threads_peak"] = max(record["os_threads_peak"] or 0, os_count)

    def finish(self):
        with self._lock:
            record = self._record
            if record["free_threaded"] and not self._gil_seen and gil_enabled():
                self._gil_seen = True
                record["events"].append({
                    "module": None, "file": None, "detected_by": "exit", "warning": None,
                    "time": None, "thread": None, "stack": [], "concurrent": [],
                    "extensions": _extension_modules(),
                })
            record.update(finished=True, gil_enabled_at_exit=gil_enabled(),
                          wall_time=time.perf_counter() - self._started,
                          cpu_time=time.process_time() - self._cpu_started)
            record["os_threads_peak"] = max(record["os_threads_peak"] or 0,
                                            _os_threads() or 0) or None
            self._write()


def _quietly(function, *args):
    try:
        function(*args)
    except Exception:
        pass  # a bug here must not change what the watched program does


def _hook_extension_loader(watch):
    from importlib.machinery import ExtensionFileLoader
    original = ExtensionFileLoader.create_module

    def create_module(self, spec):
        _quietly(watch.loading, spec.name, spec.origin)
        try:
            return original(self, spec)
        finally:
            _quietly(watch.loaded, spec.name, spec.origin, sys._getframe(1))

    create_module.__wrapped__ = original
    ExtensionFileLoader.create_module = create_module


def _hook_warnings(watch):
    import warnings
    original = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if issubclass(category, RuntimeWarning) and text.startswith(_WARNING_START):
            _quietly(watch.warned, text, sys._getframe(1))
        return original(message, category, filename, lineno, file, line)

    showwarning.__wrapped__ = original
    warnings.showwarning = showwarning


def _hook_threads(watch):
    original = threading.Thread.start

    def start(self):
        original(self)
        _quietly(watch.thread_started)

    start.__wrapped__ = original
    threading.Thread.start = start


def install():
    directory = os.environ.get(ENV_DIR)
    if not directory or not os.path.isdir(directory):
        return None
    watch = Watch(directory)
    if watch._record["free_threaded"]:
        _hook_extension_loader(watch)
        _hook_warnings(watch)
    _hook_threads(watch)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=watch.after_fork)
    atexit.register(watch.finish)
    watch.start()
    return watch
