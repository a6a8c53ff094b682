"""Store benchmark: load and query N stored determinations (default 100,000) on the embedded
store (pyoxigraph) and on a local Oxigraph server, and rdflib at a small size for comparison.

    .venv/bin/python bench/bench_store.py [--determinations 100000] [--distinct 40] [--rdflib 2000]
    make bench-store BENCH_ARGS="--determinations 10000"

A few distinct generated cases are evaluated, then their case and determination graphs are
cloned under new case ids (as many as asked) and loaded: in bulk, and case by case through the
transactional path ``mtus batch`` uses (a sample, reported as a rate). Every query of queries/
then runs with its default parameters (best of --repeat runs), and the rows of the two stores are
compared. Not part of the test suite; prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rdflib import Dataset

from reasoner import batch, generator, querylib, rulebase
from reasoner.store import EmbeddedStore, EndpointStore, Store, records, summary, tally
from reasoner.store.records import CaseRecord
from reasoner.store.server import local_server
from reasoner.store.sparql import bind


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def distinct_records(count: int) -> list[CaseRecord]:
    rb = rulebase.get()
    cases = generator.Generator(rb).cases(count, seed=2024)
    with tempfile.TemporaryDirectory() as folder:
        generator.write(cases, Path(folder))
        return [batch.evaluate_case(batch.CaseRef(str(p)), rb) for p in sorted(Path(folder).glob("*.yaml"))]


def clone(record: CaseRecord, number: int) -> CaseRecord:
    """The same case under another id (every IRI and the identifier change; a new input hash)."""
    old = record.case_id
    new = f"bench-{number:07d}"
    digest = f"{number:064x}"

    def renamed(text: str) -> str:
        return text.replace(f"/{old}", f"/{new}").replace(f'"{old}"', f'"{new}"').replace(record.input_hash, digest)

    return dataclasses.replace(record, case_id=new, case_iri=record.case_iri.replace(f"/{old}", f"/{new}"),
                               determination_iri=record.determination_iri.replace(f"/{old}", f"/{new}"),
                               input_hash=digest, case_ntriples=renamed(record.case_ntriples),
                               determination_ntriples=renamed(record.determination_ntriples))


def nquads(record: CaseRecord) -> str:
    lines = []
    for graph, text in ((record.case_iri, record.case_ntriples), (record.determination_iri, record.determination_ntriples)):
        lines += [f"{line[:-1].rstrip()} <{graph}> ." for line in text.splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def chunks(pool: list[CaseRecord], total: int, start: int, size: int) -> Iterator[str]:
    for first in range(start, start + total, size):
        yield "".join(nquads(clone(pool[i % len(pool)], i)) for i in range(first, min(first + size, start + total)))


def load(store: Store, pool: list[CaseRecord], total: int, sample: int) -> tuple[float, float, int]:
    """Bulk-load ``total - sample`` clones, then ``sample`` case by case (batch's path)."""
    rb = rulebase.get()
    records.put_rulebase(store, rb)
    bulk = total - sample
    elapsed, done = 0.0, 0
    for text in chunks(pool, bulk, 0, 5000):
        text += summary.summary_nquads(text)  # as records.put_cases writes it (not timed: bench_queries times it)
        elapsed += _timed(lambda text=text: store.load_nquads(text, bulk=True))  # type: ignore[misc]
        done = min(bulk, done + 5000)
        print(f"  ... {store.description}: {done} loaded in bulk", end="\r", file=sys.stderr)
    one_by_one = [clone(pool[i % len(pool)], i) for i in range(bulk, total)]

    def one_at_a_time() -> None:
        for record in one_by_one:
            records.put_case(store, record)

    per_case = _timed(one_at_a_time)
    return elapsed, per_case, records.determination_count(store)


def run_queries(store: Store, repeat: int) -> dict[str, tuple[float, int, object]]:
    start = time.perf_counter()
    tally.ensure(store)
    print(f"  {store.description}: tally computed in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    out: dict[str, tuple[float, int, object]] = {}
    for name, query in querylib.library().items():
        times, result = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            result = querylib.run(store, query)
            times.append(time.perf_counter() - start)
        assert result is not None
        out[name] = (min(times), len(result.rows), result.rows)
        print(f"  ... {store.description}: {name} {min(times):.2f} s", file=sys.stderr)
    return out


def rdflib_comparison(pool: list[CaseRecord], count: int) -> tuple[float, float, float, float]:
    """Load ``count`` determinations into rdflib and pyoxigraph (in memory) and time one query."""
    dataset = Dataset()
    text = next(chunks(pool, count, 0, count))
    rdflib_load = _timed(lambda: dataset.parse(data=text, format="nquads"))
    query = querylib.resolve("overturn-rate-by-service-region-and-period")
    bound = bind(query.text, query.bindings({}))
    rdflib_query = _timed(lambda: list(dataset.query(bound)))
    oxi = EmbeddedStore(None)
    oxi_load = _timed(lambda: oxi.load_nquads(text))
    oxi_query = _timed(lambda: oxi.select(bound))
    return rdflib_load, rdflib_query, oxi_load, oxi_query


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--determinations", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=40, help="distinct cases evaluated, then cloned")
    parser.add_argument("--sample", type=int, default=2000, help="of which stored case by case (a transaction each)")
    parser.add_argument("--rdflib", type=int, default=2000, help="determinations loaded into rdflib for comparison")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each query (the best is reported)")
    parser.add_argument("--no-server", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    pool = distinct_records(args.distinct)
    quads = sum(len(nquads(r).splitlines()) for r in pool) / len(pool)
    print(f"{len(pool)} distinct cases evaluated in {time.perf_counter() - start:.1f} s; "
          f"{quads:.0f} quads per stored case on average (case graph + determination graph)")
    results: dict[str, dict[str, tuple[float, int, object]]] = {}
    with tempfile.TemporaryDirectory(prefix="mtus-bench-") as folder:
        embedded = EmbeddedStore(Path(folder) / "embedded")
        bulk, per_case, count = load(embedded, pool, args.determinations, args.sample)
        print(f"embedded: {count} determinations, {embedded.quad_count()} quads; bulk load "
              f"{args.determinations - args.sample} in {bulk:.1f} s ({(args.determinations - args.sample) / bulk:.0f}/s); "
              f"{args.sample} case by case (one transaction each) in {per_case:.1f} s "
              f"({args.sample / per_case:.0f}/s)")
        results["embedded"] = run_queries(embedded, args.repeat)
        embedded.close()
        if not args.no_server:
            with local_server(Path(folder) / "server") as url:
                server = EndpointStore(url)
                bulk, per_case, count = load(server, pool, args.determinations, args.sample // 4)
                print(f"server: {count} determinations; bulk load (Graph Store Protocol, N-Quads) "
                      f"{args.determinations - args.sample // 4} in {bulk:.1f} s; {args.sample // 4} case by case "
                      f"(one SPARQL Update each) in {per_case:.1f} s ({args.sample // 4 / per_case:.0f}/s)")
                results["server"] = run_queries(server, args.repeat)
    print(f"\nquery times over {args.determinations} determinations (best of {args.repeat}, default parameters)")
    print(f"{'query':<56} {'rows':>6} {'embedded s':>11} {'server s':>9}  same rows")
    for name, (seconds, rows, found) in results["embedded"].items():
        server_row = results.get("server", {}).get(name)
        server_text = f"{server_row[0]:9.3f}" if server_row else f"{'-':>9}"
        same = "-" if server_row is None else "yes" if server_row[2] == found else "NO"
        print(f"{name:<56} {rows:>6} {seconds:11.3f} {server_text}  {same}")
    if args.rdflib:
        rl, rq, ol, oq = rdflib_comparison(pool, args.rdflib)
        print(f"\nat {args.rdflib} determinations, in memory: rdflib load {rl:.1f} s, overturn-rate query {rq:.2f} s; "
              f"pyoxigraph load {ol:.2f} s, same query {oq:.3f} s")
    median = statistics.median(t for t, _, _ in results["embedded"].values())
    print(f"\nmedian query time, embedded: {median:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

