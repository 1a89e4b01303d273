"""ftlint: find and fix code that races on free-threaded (no-GIL) CPython."""

__version__ = "0.1.0"
