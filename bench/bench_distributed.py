"""Throughput of ``mtus batch --executor dask`` per worker, against the local run, in one run.

    python bench/bench_distributed.py [--cases 1000] [--seed 42] [--workers 1,2] [--endpoint]

On the same seeded ``mtus generate`` cases (JSON Lines), in this process, each into a fresh
in-memory store (``--endpoint``: also into a local Oxigraph server, for the 2-worker cluster):
- local, 1 job: the batch's own rounds in this process (engine built before the clock starts);
- local, 2 jobs: the batch's process pool (its start-up included, as ``mtus batch --jobs 2``);
- dask, W workers: a local cluster of W worker processes on 127.0.0.1 started and warmed (rule
  base and engine loaded on every worker) before the clock starts; start-up reported apart.
Prints a Markdown table (cases/s, cases/s per worker, ratio to local 1 job) and the load
average before and after: on a shared machine compare the rows of one run only.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from reasoner import batch, distributed, generator, rulebase
from reasoner.store import EmbeddedStore, EndpointStore
from reasoner.store.records import Backend
from reasoner.store.server import local_server


def timed(cases: Path, store: Backend, rb: rulebase.RuleBase, **kwargs: object) -> float:
    start = time.perf_counter()
    summary = batch.run([cases], store, rb, progress=False, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    assert summary.stored == summary.total and not summary.failures, summary.text("bench", None)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--endpoint", action="store_true", help="also the 2-worker cluster into an Oxigraph server")
    args = parser.parse_args()
    rb = rulebase.get()
    rows: list[tuple[str, float, int, str]] = []
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores; "
          f"{args.cases} generated cases (seed {args.seed})", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        cases = Path(folder) / "cases.jsonl"
        generator.write(generator.Generator(rb).cases(args.cases, seed=args.seed), cases)
        batch._fast_engine(rb)
        rows.append(("local, 1 job (this process)", timed(cases, EmbeddedStore(None), rb), 1, ""))
        rows.append(("local, 2 jobs (process pool, start-up included)",
                     timed(cases, EmbeddedStore(None), rb, jobs=2), 2, ""))
        for workers in (int(w) for w in args.workers.split(",")):
            start = time.perf_counter()
            with distributed.connect(distributed.LOCAL, workers) as client:
                client.register_plugin(distributed.WarmEngine(str(rb.root), rb.digest), name=distributed.PLUGIN)
                ready = time.perf_counter() - start

                def on_cluster(refs: list[batch.CaseRef], rules: rulebase.RuleBase, engine: str,
                               client: object = client) -> batch.Generator[list[batch.Outcome], None, None]:
                    return distributed.rounds(refs, rules, client, engine)

                rows.append((f"dask, {workers} worker(s), embedded store", timed(
                    cases, EmbeddedStore(None), rb, executor=on_cluster), workers, f"{ready:.1f} s"))
                if args.endpoint and workers == 2:
                    with local_server() as url:
                        rows.append((f"dask, {workers} worker(s), Oxigraph server", timed(
                            cases, EndpointStore(url), rb, executor=on_cluster), workers, f"{ready:.1f} s"))
            print(f"  ({rows[-1][0]} done)", flush=True)
    base = args.cases / rows[0][1]
    print("| run | cases/s | cases/s per worker | vs local 1 job | cluster start + warm |")
    print("|---|---|---|---|---|")
    for name, elapsed, workers, ready in rows:
        rate = args.cases / elapsed
        print(f"| {name} | {rate:.0f} | {rate / workers:.0f} | {rate / base:.2f}x | {ready} |")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
