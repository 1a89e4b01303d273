"""Fuzz the whole pipeline (check, fix, fix with unsafe fixes, fix again) with
generated programs, in-process, and report every failure.

Three sources of programs: thread-shaped programs with odd formatting
(tests/fuzzing/programs.py), and hypothesmith's grammar and node strategies.
Each program must survive the properties in tests/fuzzing/pipeline.py. The
first few reproducers of each kind of failure are minimised and printed.

    python benchmarks/fuzz.py [--programs 10000] [--seed 0] [--show 3]
                              [--only SOURCE] [--save DIR]

Ctrl-C (or `kill` of a background run) stops it and still prints the figures.
Exit status 1 if anything failed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import hypothesmith  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis.errors import NonInteractiveExampleWarning  # noqa: E402

from fuzzing.pipeline import KINDS, check_program, minimise  # noqa: E402
from fuzzing.programs import thread_programs  # noqa: E402

# Share of the programs per source.
SOURCES = (("thread-shaped", thread_programs, 0.7),
           ("grammar", hypothesmith.from_grammar, 0.15),
           ("node", hypothesmith.from_node, 0.15))
SAVE = None  # --save DIR


# hypothesis keeps a record of every choice of a run, which for hypothesmith's
# node strategy grows by megabytes a program: runs of at most this many.
BATCH = 200


def run(name: str, strategy, count: int, seed_value: int, stats: dict) -> None:
    for batch, start in enumerate(range(0, count, BATCH)):
        run_batch(name, strategy, min(BATCH, count - start), seed_value * 100_003 + batch, stats)


def run_batch(name: str, strategy, count: int, seed_value: int, stats: dict) -> None:
    @seed(seed_value)
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy())
    def one(source: str) -> None:
        stats["generated"][name] += 1
        done = sum(stats["generated"].values())
        if done % 250 == 0:
            print(f"  ... {done} programs, failures: {dict(stats['programs']) or 'none'}", flush=True)
        failures = check_program(source)
        if failures is None:
            stats["skipped"][name] += 1
            return
        for kind in {f.kind for f in failures}:
            stats["programs"][kind] += 1
        for failure in failures:
            known = stats["failures"][failure.kind]
            if not any(f.signature == failure.signature for _, f, _ in known):
                print(f"  new: {failure.kind} in {failure.stage}: {failure.detail}", flush=True)
                if SAVE is not None:
                    count = sum(len(v) for v in stats["failures"].values())
                    (SAVE / f"failure-{count:04d}.py").write_bytes(source.encode("utf-8"))
            known.append((source, failure, name))

    one()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=10_000, help="programs in all (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=3, help="reproducers to minimise per kind")
    parser.add_argument("--save", type=Path, help="write the first program of each failure to DIR")
    parser.add_argument("--only", action="append", choices=[n for n, _, _ in SOURCES],
                        help="fuzz with this source only (repeatable); the shares are kept")
    args = parser.parse_args()
    sources = [s for s in SOURCES if not args.only or s[0] in args.only]
    weight = sum(share for _, _, share in sources)
    sources = [(n, strategy, share / weight) for n, strategy, share in sources]
    global SAVE
    SAVE = args.save
    if SAVE is not None:
        SAVE.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore", NonInteractiveExampleWarning)
    warnings.simplefilter("ignore", SyntaxWarning)  # hypothesmith's `1.0()` and the like
    stats: dict = {"generated": Counter(), "skipped": Counter(), "programs": Counter(),
                   "failures": defaultdict(list)}
    # A background run ignores Ctrl-C; `kill PID` stops it the same way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    start = time.perf_counter()
    interrupted = False
    for index, (name, strategy, share) in enumerate(sources):
        count = round(args.programs * share) if index else args.programs - sum(
            round(args.programs * s) for _, _, s in sources[1:])
        began = time.perf_counter()
        try:
            run(name, strategy, count, args.seed + index, stats)
        except KeyboardInterrupt:  # Ctrl-C or `kill`: report what ran so far
            interrupted = True
        print(f"{name}: {stats['generated'][name]} programs "
              f"({stats['skipped'][name]} that libcst cannot parse skipped) "
              f"in {time.perf_counter() - began:.0f} s", flush=True)
        if interrupted:
            break
    total = sum(stats["generated"].values())
    print(f"\n{total} programs in {time.perf_counter() - start:.0f} s, seed {args.seed}"
          + (" (interrupted)" if interrupted else ""))
    failed = False
    for kind in KINDS:
        found = stats["failures"].get(kind, [])
        label = {"not idempotent": "refused as not idempotent",
                 "does not compile": "refused as not compiling"}.get(kind, kind)
        print(f"  {label}: {stats['programs'][kind]} programs")
        failed = failed or bool(found)
    for kind in KINDS:
        seen = set()
        for source, failure, name in stats["failures"].get(kind, []):
            if failure.signature in seen:
                continue
            seen.add(failure.signature)
            if len(seen) > args.show:
                break
            small = minimise(source, failure.signature)
            print(f"\n--- {kind} in {failure.stage} ({name}): {failure.detail}")
            print(repr(small))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
