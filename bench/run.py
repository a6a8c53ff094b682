"""``make bench``: the reference path, the fast path, the naive baseline and the floor, side by
side in one run, on ``mtus generate`` cases (seeded); then the full differential check.

    python bench/run.py [--quick] [--sizes 1000,10000,100000] [--workers 1,2] [--latency 200]
                        [--naive 5] [--diff 10000] [--only floor,latency,...] [--no-readme]

Prints a table, writes JSON (bench/results/latest.json, after each measurement, so that an
interrupted run keeps what it measured; ``--only`` re-measures some and keeps the others;
``--only ""`` only prints and publishes what is there), and
rewrites the figures of README.md's "Performance" section (between its bench markers). Exits 1
if the differential check finds a difference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml

from bench import cases as corpus
from bench import measure, naive, report
from reasoner import api, rulebase
from reasoner.fastpath import caseread, differential
from reasoner.fastpath.engine import Engine


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def floor(rb: Any, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Parsing the cases into RDF and nothing else, with the fastest parser (Oxigraph's JSON-LD)."""
    start = time.perf_counter()
    triples = 0
    for case in cases:
        read = caseread.read_mapping(case, rb, "(bench)", b"")
        triples += len(read.triples) if read else 0
    seconds = time.perf_counter() - start
    return {"cases": len(cases), "cases_per_s": len(cases) / seconds, "ms_per_case": 1000 * seconds / len(cases),
            "triples_per_case": triples / len(cases)}


def latency(rb: Any, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Warm single-case latency in this process: rule base loaded, engine built, each path run
    once over the same cases before timing."""
    engine = Engine(rb)
    out: dict[str, Any] = {"cases": len(cases)}
    for name, run in (("fast", engine.evaluate), ("reference", lambda c: api.evaluate(c, rb))):
        for case in cases[: min(20, len(cases))]:
            run(case)
        times = []
        for case in cases:
            start = time.perf_counter()
            run(case)
            times.append(1000 * (time.perf_counter() - start))
        out[name] = {"p50_ms": measure.percentile(times, 50), "p95_ms": measure.percentile(times, 95),
                     "mean_ms": sum(times) / len(times)}
    engine.timings.clear()
    for case in cases:
        engine.evaluate(case)
    out["fast"]["phases_ms"] = {k: 1000 * v / len(cases) for k, v in sorted(engine.timings.items())}
    out["fast"]["fallbacks"] = dict(engine.fallbacks)
    return out


def cold_cli(case: dict[str, Any], runs: int) -> dict[str, Any]:
    """``mtus evaluate`` of one case as a whole process: on the reference path with the rule-base
    cache filled and with an empty one, and on the fast path (the command's default)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.yaml"
        path.write_text(yaml.safe_dump(case, sort_keys=False), encoding="utf-8")
        mtus = str(Path(sys.executable).with_name("mtus"))
        fresh = dict(os.environ, MTUS_CACHE_DIR=str(Path(tmp) / "cache"))
        reference = [mtus, "evaluate", str(path), "--format", "json", "--engine", "reference"]
        cold = measure.timed_runs(reference, 1, fresh)
        warm = measure.timed_runs(reference, runs, fresh)
        fast = measure.timed_runs([mtus, "evaluate", str(path), "--format", "json"], runs, fresh)
    return {"runs": runs, "empty_cache_s": cold[0], "reference_s": measure.median(warm),
            "fast_s": measure.median(fast)}


def throughput(path: Path, sizes: list[int], workers: list[int]) -> list[dict[str, Any]]:
    """Batch throughput, each (N, workers) in a process of its own (bench/throughput.py), with
    the peak resident memory of that process and its workers."""
    rows = []
    for size in sizes:
        for count in workers:
            with measure.PeakMemory(root=None) as memory:
                child = subprocess.Popen([sys.executable, str(ROOT / "bench" / "throughput.py"), str(path),
                                          str(size), str(count)], stdout=subprocess.PIPE, text=True)
                memory.root = child.pid
                out, _ = child.communicate()
            if child.returncode != 0:
                raise RuntimeError(f"bench/throughput.py {size} {count} exited {child.returncode}")
            row = json.loads(out.strip().splitlines()[-1])
            row["peak_rss_mib"] = memory.peak
            rows.append(row)
            print(f"  throughput N={size} workers={count}: {row['cases_per_s']:.0f} cases/s, "
                  f"peak {memory.peak:.0f} MiB", flush=True)
    return rows


def baseline(rb: Any, cases: list[dict[str, Any]]) -> dict[str, Any]:
    times, agree = [], 0
    for case in cases:
        start = time.perf_counter()
        got = naive.evaluate(case, rb)
        times.append(time.perf_counter() - start)
        agree += got == [(i.request_id, i.decision) for i in api.evaluate(case, rb).items]
    return {"cases": len(cases), "s_per_case": sum(times) / len(times), "cases_per_s": len(times) / sum(times),
            "agree_with_reference": agree}


SECTIONS = ("floor", "latency", "cold_cli", "naive", "throughput", "profile", "differential")


def _save(path: Path, result: dict[str, Any]) -> None:
    result["machine"]["load_after"] = os.getloadavg()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def differential_check(path: Path, count: int) -> dict[str, Any]:
    start = time.perf_counter()
    diff = differential.check(corpus.stream(path, count), workers=2, batch=16)
    return {"cases": diff.cases, "items": diff.items, "identical": diff.agree,
            "decisions_identical": diff.decisions_agree, "rejected": diff.rejected,
            "fallbacks": dict(diff.fallbacks), "decisions": dict(diff.decisions),
            "seconds": time.perf_counter() - start, "report": diff.text(),
            "differences": [[name, d[:5]] for name, d in diff.differences[:20]]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the benchmark out")
    parser.add_argument("--sizes", type=_ints, default=None, help="batch sizes N (default 1000,10000,100000)")
    parser.add_argument("--workers", type=_ints, default=[1, 2], help="worker counts (default 1,2)")
    parser.add_argument("--latency", type=int, default=None, help="cases for the latency figures (200)")
    parser.add_argument("--naive", type=int, default=None, help="cases for the naive baseline (5)")
    parser.add_argument("--diff", type=int, default=None, help="generated cases for the differential check (10000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="measure only these (comma-separated), keeping the others from --json")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([200, 1000] if args.quick else [1000, 10000, 100000])
    n_latency = args.latency or (40 if args.quick else 200)
    n_naive = args.naive or (2 if args.quick else 5)
    n_diff = args.diff if args.diff is not None else (300 if args.quick else 10000)
    only = [name for name in args.only.split(",") if name]

    rb = rulebase.get()
    result: dict[str, Any] = {}
    if set(only) != set(SECTIONS) and args.json.is_file():
        result = json.loads(args.json.read_text(encoding="utf-8"))
    if only or not result:
        result.update({
            "when": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg(), "python": platform.python_version(),
                        "platform": platform.platform()},
            "rulebase": {"version": rb.version, "digest": rb.digest[:12], "sections": len(rb.catalog.sections),
                         "rules": len(rb.rules)},
        })
    path, made = corpus.spool(rb, max(sizes + [n_latency, n_naive, n_diff]), args.seed)
    result["corpus"] = {"file": path.name, "seed": args.seed, "generated_in_s": made}
    sample = corpus.first(path, max(n_latency, n_naive, 2000))
    steps = {
        "floor": lambda: floor(rb, sample[:2000]),
        "latency": lambda: latency(rb, sample[:n_latency]),
        "cold_cli": lambda: cold_cli(sample[0], 5),
        "naive": lambda: baseline(rb, sample[:n_naive]),
        "throughput": lambda: throughput(path, sizes, args.workers),
        "profile": lambda: measure.profile([str(ROOT / "bench" / "profile_target.py"), str(path),
                                            str(min(sizes[-1], 3000))]),
        "differential": lambda: differential_check(path, n_diff),
    }
    for name in SECTIONS:
        if name in only:
            print(f"{name} ...", flush=True)
            value = steps[name]()
            if name == "throughput":  # keep rows of other sizes measured by an earlier --only run
                done = {(row["cases"], row["workers"]) for row in value}
                value = sorted([row for row in result.get(name, []) if (row["cases"], row["workers"]) not in done]
                               + value, key=lambda row: (row["cases"], row["workers"]))
            result[name] = value
            _save(args.json, result)
    if not only:  # --only "": print and publish what --json holds
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    missing = [name for name in SECTIONS if name not in result and name != "profile"]
    if missing:
        print(f"written: {args.json} (not yet measured: {', '.join(missing)})")
        return 0
    print(report.table(result))
    print(f"written: {args.json}")
    if not args.no_readme and not args.quick:
        report.update_readme(ROOT / "README.md", result)
    if result["differential"]["differences"]:
        print(result["differential"]["report"])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
