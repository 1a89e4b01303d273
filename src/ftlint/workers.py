"""Spreading per-file work over workers: processes, or threads on a
free-threaded interpreter, where one file that kills its worker costs that
file, not the run."""

from __future__ import annotations

import sys
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Callable, Iterator

from ftlint.diagnostics import INTERNAL_ERROR
from ftlint.results import FileResult, file_error


# Long implicit string concatenations (pydoc_data/topics.py) nest thousands of
# nodes deep, and libcst's visitors recurse.
RECURSION_LIMIT = 20_000


def raise_recursion_limit() -> None:
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        # Process-wide on purpose: raised once, before any worker starts.
        sys.setrecursionlimit(RECURSION_LIMIT)  # noqa: FT302


def executor(jobs: int) -> Executor:
    # libcst's parser holds the GIL; on a free-threaded build threads scale.
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        return ThreadPoolExecutor(jobs)
    # Imported here: multiprocessing costs start-up time, and small runs
    # (a pre-commit hook's few files) never need it.
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(jobs, initializer=raise_recursion_limit)


def run(work: Callable, items: list, jobs: int, name: Callable,
         size: Callable, pool_from: int = 16) -> Iterator[tuple[int, FileResult]]:
    """(index, ``work(item)``) for each of ``items``, on ``jobs`` workers
    for a run of ``pool_from`` items or more. The largest go first: the last
    file to finish is then a small one, so both workers stay busy to the end
    of the run."""
    raise_recursion_limit()
    if jobs <= 1 or len(items) < max(pool_from, 2):
        return enumerate(map(work, items))
    order = sorted(range(len(items)), key=lambda i: -size(items[i]))
    return zip(order, map_isolated(work, [items[i] for i in order], min(jobs, len(items)),
                                    name))


def map_isolated(work: Callable, files: list, jobs: int,
                  name: Callable = str) -> Iterator[FileResult]:
    """``map(work, files)`` on a pool of ``jobs`` workers, where a worker that
    dies (a crash in native code) costs one file, not the run: after a crash
    the unfinished files are retried one at a time until the file that kills
    its worker is found; it becomes an FT000 finding and the rest go back to
    the full pool. Results come in the order of ``files``."""
    from concurrent.futures.process import BrokenProcessPool

    pending = list(files)
    suspect = False  # after a crash, run one file at a time to find the culprit
    while pending:
        with executor(1 if suspect else jobs) as pool:
            futures = [pool.submit(work, f) for f in pending]
            done = 0
            try:
                for future in futures:
                    result = future.result()
                    done += 1
                    yield result
            except BrokenProcessPool:
                pass
        if done == len(pending):
            return
        if suspect:  # one worker, in order: the first unfinished file killed it
            yield file_error(name(pending[done]), INTERNAL_ERROR,
                         "internal error: the process checking this file died "
                         "(a crash in native code, such as the parser)")
            done += 1
        suspect = not suspect
        pending = pending[done:]
