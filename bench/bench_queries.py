"""Named queries before and after a change of the library, side by side in one run, on one embedded store.

    .venv/bin/python -m bench.bench_queries [--determinations 10000] [--repeat 5] [--repeat-before 3]
        [--before DIR]   # the queries to compare with (default: before the summary graph)

Generated cases are evaluated, cloned under new ids (bench_store.py) and bulk-loaded with their
summary (reasoner/store/summary.py, built per chunk as ``records.put_cases`` builds it per
round); every query of queries/ (after) and of ``--before`` (default tests/data/queries-before-summary/,
the queries joining each determination graph to its case graph; give the queries/ folder of an
older checkout to compare with it) then runs on that store with its default parameters. The
tally (reasoner/store/tally.py) is computed once before the queries (its time is printed) and is
current for every run. Prints p50 of each, the ratio, and whether the rows agree. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_store import chunks, distinct_records
from reasoner import querylib, rulebase
from reasoner.store import EmbeddedStore, records, summary, tally

BEFORE = Path(__file__).resolve().parent.parent / "tests" / "data" / "queries-before-summary"


def timed(store: EmbeddedStore, query: querylib.LibraryQuery, repeat: int) -> tuple[float, list[object]]:
    times, rows = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        rows = querylib.run(store, query).rows
        times.append(time.perf_counter() - start)
    return statistics.median(times), rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--determinations", type=int, default=10_000)
    parser.add_argument("--distinct", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each query after (p50 reported)")
    parser.add_argument("--repeat-before", type=int, default=3, help="runs of each query before (p50 reported)")
    parser.add_argument("--before", type=Path, default=BEFORE, help="folder of the queries to compare with")
    args = parser.parse_args()
    pool = distinct_records(args.distinct)
    with tempfile.TemporaryDirectory(prefix="mtus-bench-queries-") as folder:
        store = EmbeddedStore(Path(folder) / "store")
        records.put_rulebase(store, rulebase.get())
        load = build = 0.0
        for text in chunks(pool, args.determinations, 0, 5000):
            start = time.perf_counter()
            quads = summary.summary_nquads(text)
            build += time.perf_counter() - start
            start = time.perf_counter()
            store.load_nquads(text + quads, bulk=True)
            load += time.perf_counter() - start
        print(f"{records.determination_count(store)} determinations, {store.quad_count()} quads; bulk load "
              f"{load:.1f} s; summary built in {build:.1f} s ({args.determinations / build:.0f} determinations/s)")
        start = time.perf_counter()
        tally.refresh(store)
        print(f"tally computed in {time.perf_counter() - start:.1f} s")
        print(f"\n{'query':<60} {'rows':>6} {'before p50 s':>13} {'after p50 s':>12} {'ratio':>7}  same rows")
        after_times = []
        for name, query in querylib.library().items():
            after, rows = timed(store, query, args.repeat)
            before_query = querylib.resolve(str(args.before / f"{name}.rq"))
            before, old_rows = timed(store, before_query, args.repeat_before)
            same = "yes" if rows == old_rows else "same set" if sorted(map(repr, rows)) == sorted(map(repr, old_rows)) else "NO"
            after_times.append(after)
            print(f"{name:<60} {len(rows):>6} {before:13.3f} {after:12.3f} {before / after:7.1f}  {same}", flush=True)
        print(f"\nmedian after: {statistics.median(after_times):.3f} s; max after: {max(after_times):.3f} s")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
