"""Fuzzing ftlint: a generator of thread-shaped programs with odd formatting
(:mod:`fuzzing.programs`) and the properties every program must keep through
check, fix and fix-again (:mod:`fuzzing.pipeline`).

Used by ``tests/test_fuzz.py`` (a fast profile) and ``benchmarks/fuzz.py``
(the long one); neither ships with ftlint.
"""
