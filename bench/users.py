"""``make bench-users``: what users run, measured side by side in one run on the same seeded
``mtus generate`` cases, as ratios to the parse floor and to the naive baseline.

    python bench/users.py [--sizes 1000,10000] [--big] [--jobs 1,2] [--latency 200] [--requests 300]
                          [--naive 3] [--query-repeat 3] [--server] [--only batch,queries,...]
                          [--json bench/results/users.json] [--readme]

Measured (each whole-process measure runs the installed ``mtus`` command):
- floor: the cases parsed into RDF and nothing else (Oxigraph JSON-LD, in this process);
- naive: the naive baseline (bench/naive.py), a few cases;
- batch: ``mtus batch FILE.jsonl --store S --jobs J --quiet`` as a whole process, N = --sizes
  (``--big`` adds 100,000), J = --jobs, with the peak resident memory of its process tree;
- evaluate: ``mtus evaluate CASE --format json`` of one case (a new process each time: cold)
  and of 100 case files in one process;
- api: ``reasoner.evaluate(case)`` warm (a process per checkout), p50/p95;
- service: ``POST /evaluate`` of the seed case through ``mtus serve`` (bench/service_latency.py);
- queries: every named query of queries/ over the store the largest batch wrote (the embedded
  store; ``--server`` also a local Oxigraph server loaded with the same quads), p50 of
  --query-repeat runs.
The machine is shared: compare the ratios of one run, not absolute figures across runs. Writes
bench/results/users.json after each measure and prints a table; ``--readme`` rewrites README's
block between the bench-users markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox
import yaml

from bench import cases as corpus
from bench import measure
from bench.run import baseline, floor

SECTIONS = ("floor", "naive", "api", "writer", "evaluate", "service", "batch", "queries")
BEGIN, END = "<!-- bench-users:begin (written by `make bench-users`; do not edit by hand) -->", "<!-- bench-users:end -->"
WORK = corpus.WORK


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


#: the code measured by whole-process measures: name -> checkout (``--variants``)
VARIANTS: dict[str, Path] = {"now": ROOT}


def _mtus() -> list[str]:
    return [sys.executable, "-m", "reasoner.cli"]


def _env(root: Path) -> dict[str, str]:
    """The environment of a whole-process measure of the checkout ``root``: its code, not the
    code of the current folder (``python -m`` and ``-c`` put the current folder first on the path,
    before PYTHONPATH: PYTHONSAFEPATH), its modules compiled once, as an installed package's are (the byte code kept under bench/.work, not in the
    checkout; PYTHONDONTWRITEBYTECODE would compile every module in every cold start)."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONPYCACHEPREFIX": str(WORK / "pycache"), "PYTHONSAFEPATH": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _head(path: Path, count: int) -> Path:
    """A JSON Lines file of the first ``count`` cases of the spooled corpus."""
    out = WORK / f"users-first{count}-of-{path.stem}.jsonl"  # not a name corpus.spool clears
    if not out.is_file():
        with path.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
            dst.writelines(islice(src, count))
    return out


_API_CHILD = """
import json, sys, time
import reasoner
cases = json.load(open(sys.argv[1], encoding="utf-8"))
for case in cases[:20]:
    reasoner.evaluate(case)
times = []
for case in cases:
    start = time.perf_counter()
    reasoner.evaluate(case)
    times.append(1000 * (time.perf_counter() - start))
print(json.dumps(times))
"""


def api_latency(cases: list[dict[str, Any]], rounds: int = 2) -> dict[str, Any]:
    """``reasoner.evaluate`` (the documented API, its default engine) warm, in a process per
    checkout (``--variants``), the checkouts in turn (``rounds`` times each)."""
    found: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "cases.json"
        source.write_text(json.dumps(cases), encoding="utf-8")
        for _ in range(rounds):
            for name, root in VARIANTS.items():
                done = subprocess.run([sys.executable, "-c", _API_CHILD, str(source)], capture_output=True, text=True,
                                      env=_env(root), check=True)
                found[name] += json.loads(done.stdout)
    out: dict[str, Any] = {"cases": len(cases), "rounds": rounds}
    for name, times in found.items():
        out[name] = {"p50_ms": measure.percentile(times, 50), "p95_ms": measure.percentile(times, 95)}
    out.update(out["now"])
    return out


def evaluate_cli(cases: list[dict[str, Any]], runs: int) -> dict[str, Any]:
    """``mtus evaluate`` as a whole process: one case (cold: a new process each run) and 100 files."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = []
        for index, case in enumerate(cases[:100]):
            path = folder / f"case-{index:03d}.yaml"
            path.write_text(yaml.safe_dump(case, sort_keys=False), encoding="utf-8")
            files.append(str(path))
        out: dict[str, Any] = {"runs": runs, "files": len(files)}
        for root in VARIANTS.values():  # not timed: compiles the modules and writes the rule-base cache
            measure.timed_runs([*_mtus(), "evaluate", files[0], "--format", "json"], 1, _env(root))
        for _ in range(runs):  # the variants in turn, so that they share the machine's load
            for name, root in VARIANTS.items():
                one = measure.timed_runs([*_mtus(), "evaluate", files[0], "--format", "json"], 1, _env(root))
                out.setdefault(name, {"one": [], "many": []})["one"] += one
        for _ in range(max(1, runs // 2)):
            for name, root in VARIANTS.items():
                many = measure.timed_runs([*_mtus(), "evaluate", *files, "--format", "json"], 1, _env(root))
                out[name]["many"] += many
    for name in VARIANTS:
        times = out.pop(name)
        out[name] = {"one_case_s": measure.median(times["one"]), "one_case_min_s": min(times["one"]),
                     "hundred_files_s": measure.median(times["many"])}
    return out


def service(requests: int) -> dict[str, Any]:
    from bench import service_latency as sl

    body = (ROOT / "examples" / "seed-imr-case.yaml").read_bytes()
    out: dict[str, Any] = {"requests": requests}
    servers = {}
    saved = os.environ.get("PYTHONPATH")
    safe = os.environ.get("PYTHONSAFEPATH")
    try:
        os.environ["PYTHONSAFEPATH"] = "1"  # each server runs its checkout's code (see _env)
        for name, root in VARIANTS.items():
            os.environ["PYTHONPATH"] = str(root)
            servers[name] = sl._start()
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for name, (_, url) in servers.items():
            sl._run(url, body, "application/yaml", "application/json", 50)
        for _ in range(10):  # the variants in turn, a tenth of the requests at a time
            for name, (_, url) in servers.items():
                times[name] += sl._run(url, body, "application/yaml", "application/json", max(1, requests // 10))
    finally:
        os.environ.pop("PYTHONPATH", None) if saved is None else os.environ.__setitem__("PYTHONPATH", saved)
        os.environ.pop("PYTHONSAFEPATH", None) if safe is None else os.environ.__setitem__("PYTHONSAFEPATH", safe)
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
    for name, values in times.items():
        out[name] = {"p50_ms": measure.percentile(values, 50), "p95_ms": measure.percentile(values, 95)}
    return out


def batch(path: Path, sizes: list[int], jobs: list[int], keep: Path) -> list[dict[str, Any]]:
    """``mtus batch --store`` as a whole process; the store of the largest N (last jobs count) is
    kept in ``keep``/VARIANT for the queries."""
    rows = []
    for size in sizes:
        source = _head(path, size)
        for count, (variant, root) in ((c, v) for c in jobs for v in VARIANTS.items()):
            store = Path(tempfile.mkdtemp(prefix="mtus-bench-users-"))
            try:
                argv = [*_mtus(), "batch", str(source), "--store", str(store / "s"), "--jobs", str(count), "--quiet"]
                with measure.PeakMemory() as memory:
                    start = time.perf_counter()
                    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                             env=_env(root), cwd=root)  # `-m` puts the cwd first on the path
                    memory.root = child.pid
                    out, err = child.communicate()
                    seconds = time.perf_counter() - start
                if child.returncode != 0 or f"{size} evaluated and stored" not in out:
                    raise RuntimeError(f"mtus batch exited {child.returncode}: {out[-400:]} {err[-800:]}")
                row = {"variant": variant, "cases": size, "jobs": count, "seconds": seconds, "cases_per_s": size / seconds,
                       "peak_rss_mib": memory.peak, "summary": out.splitlines()[0] if out else ""}
                rows.append(row)
                print(f"  batch [{variant}] N={size} jobs={count}: {row['cases_per_s']:.0f} cases/s, "
                      f"peak {memory.peak:.0f} MiB", flush=True)
                if size == sizes[-1] and count == jobs[-1]:
                    shutil.rmtree(keep / variant, ignore_errors=True)
                    keep.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(store / "s"), keep / variant)
            finally:
                shutil.rmtree(store, ignore_errors=True)
    return rows


def queries(keep: Path, repeat: int, server: bool) -> dict[str, Any]:
    """Every named query (of each variant's queries/) over the store its largest batch wrote."""
    from reasoner import querylib
    from reasoner.store import EmbeddedStore, EndpointStore, records

    out: dict[str, Any] = {"repeat": repeat}
    stores = {name: EmbeddedStore(keep / name) for name in VARIANTS if (keep / name).is_dir()}
    try:
        for name, store in stores.items():
            out[name] = {"determinations": records.determination_count(store), "embedded": {}, "server": {}}
        library = {name: querylib.library(VARIANTS[name] / "queries") for name in stores}
        for query in library[next(iter(stores))]:
            for name, store in stores.items():  # the variants in turn
                times, rows = [], 0
                for _ in range(repeat):
                    start = time.perf_counter()
                    rows = len(querylib.run(store, library[name][query]).rows)
                    times.append(time.perf_counter() - start)
                out[name]["embedded"][query] = {"p50_s": measure.percentile(times, 50), "rows": rows}
                print(f"  query [{name}] {query}: {measure.percentile(times, 50):.3f} s ({rows} rows)", flush=True)
        if server:
            from reasoner.store.server import local_server

            for name, store in stores.items():
                dump = store.dump_nquads()
                with tempfile.TemporaryDirectory() as tmp, local_server(Path(tmp) / "server") as url:
                    remote = EndpointStore(url)
                    remote.load_nquads(dump, bulk=True)
                    for query, text in library[name].items():
                        times = []
                        for _ in range(repeat):
                            start = time.perf_counter()
                            querylib.run(remote, text)
                            times.append(time.perf_counter() - start)
                        out[name]["server"][query] = {"p50_s": measure.percentile(times, 50)}
    finally:
        for store in stores.values():
            store.close()
    return out


def writer(cases: list[dict[str, Any]], repeat: int) -> dict[str, Any]:
    """What ``mtus batch`` does after evaluating, in this process, on the same evaluated cases:
    building the records and writing them to an embedded store on disk, the per-case rdflib way
    it was done before (``exports.to_graph`` serialised by rdflib, one SPARQL update per case)
    and the way it is done now (records from the engine's triples, a round per transaction),
    in turn ``repeat`` times; milliseconds per case, best of the turns."""
    from rdflib import Graph

    from reasoner import batch as batch_module
    from reasoner import exports, rulebase
    from reasoner.fastpath.engine import Engine
    from reasoner.store import EmbeddedStore, records

    rb = rulebase.get()
    engine = Engine(rb)
    evaluated = []
    for first in range(0, len(cases), 128):
        results, kept = engine.evaluate_keeping(cases[first:first + 128], batch_module.analyst_properties(rb))
        evaluated += [(det, kept[i]) for i, det in enumerate(results) if i in kept]

    def before(store: EmbeddedStore) -> None:
        for det, got in evaluated:
            derived = Graph()
            for triple in got.facts:
                derived.add(triple)
            case_nt = ox.serialize(got.triples, format=ox.RdfFormat.N_TRIPLES) or b""
            record = records.CaseRecord("bench", det.case_id, str(det.case_iri), str(exports.determination_iri(det)),
                                        det.input_hash, det.rulebase_digest, case_nt.decode(),
                                        exports.to_graph(det, derived if len(derived) else None).serialize(format="nt"),
                                        ())
            store.update(records.PROLOGUE + records._replace(record))

    def now(store: EmbeddedStore) -> None:
        built = [batch_module._kept_record(det, got, "bench") for det, got in evaluated]
        for first in range(0, len(built), batch_module.ROUND):
            records.put_cases(store, built[first:first + batch_module.ROUND])

    times: dict[str, list[float]] = {"before": [], "now": []}
    for _ in range(repeat):
        for name, write in (("before", before), ("now", now)):
            with tempfile.TemporaryDirectory() as tmp:
                store = EmbeddedStore(Path(tmp) / "s")
                start = time.perf_counter()
                write(store)
                store.close()
                times[name].append(1000 * (time.perf_counter() - start) / len(evaluated))
    return {"cases": len(evaluated), "repeat": repeat, **{k: {"ms_per_case": min(v), "all": v} for k, v in times.items()}}


def _rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    fl = r.get("floor", {}).get("cases_per_s")
    nv = r.get("naive", {}).get("cases_per_s")

    def vs(rate: float) -> tuple[str, str]:
        """The ratio columns; empty for a reference (the floor or the naive baseline) not measured
        in this run (``--only``)."""
        return (f"{rate / nv:,.0f}x" if nv else "", f"{rate / fl:.2f}" if fl else "")

    rows: list[tuple[str, str, str, str]] = []
    if fl:
        rows.append(("floor: parse to RDF only (Oxigraph JSON-LD), 1 process",
                     f"{fl:,.0f} cases/s ({1000 / fl:.2f} ms/case)", vs(fl)[0], "1"))
    if nv:
        n = r["naive"]
        label = (f"naive baseline, {n['cases']} cases (same decisions as the reference path: "
                 f"{n.get('agree_with_reference', '?')})")
        rows.append((label, f"{n['s_per_case']:.2f} s/case", "1", f"1/{fl / nv:,.0f}" if fl else ""))
    if "writer" in r:
        w = r["writer"]
        rows.append((f"batch records + store writes, {w['cases']} cases, before / now (in-process)",
                     (f"{w['before']['ms_per_case']:.2f} / {w['now']['ms_per_case']:.2f} ms/case "
                     f"({w['before']['ms_per_case'] / w['now']['ms_per_case']:.1f}x)"), "", ""))
    if "api" in r and not any(name in r["api"] for name in r.get("variants", [])):
        a = r["api"]
        rows.append(("`reasoner.evaluate` warm, p50 / p95", f"{a['p50_ms']:.1f} / {a['p95_ms']:.1f} ms",
                     *vs(1000 / a["p50_ms"])))
    for name in r.get("variants", ["now"]):
        tag = f" [{name}]" if len(r.get("variants", [])) > 1 else ""
        if "api" in r and name in r["api"]:
            a = r["api"][name]
            rows.append((f"`reasoner.evaluate` warm, p50 / p95{tag}", f"{a['p50_ms']:.1f} / {a['p95_ms']:.1f} ms",
                         *vs(1000 / a["p50_ms"])))
        if "service" in r and name in r["service"]:
            s = r["service"][name]
            rows.append((f"`POST /evaluate` seed case (5 items), 1 client, p50 / p95{tag}",
                         f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f} ms", "", ""))
        if "evaluate" in r and name in r["evaluate"]:
            e = r["evaluate"][name]
            rows.append((f"`mtus evaluate` one case, whole process (cold){tag}", f"{e['one_case_s']:.2f} s", "", ""))
            rows.append((f"`mtus evaluate` {r['evaluate']['files']} files, one process{tag}",
                         f"{e['hundred_files_s']:.2f} s", *vs(r["evaluate"]["files"] / e["hundred_files_s"])))
    for b in r.get("batch", []):
        tag = f" [{b['variant']}]" if len(r.get("variants", [])) > 1 else ""
        rows.append((f"`mtus batch --store --jobs {b['jobs']}`, N={b['cases']:,}{tag}",
                     f"{b['cases_per_s']:,.0f} cases/s, peak {b['peak_rss_mib']:,.0f} MiB", *vs(b["cases_per_s"])))
    q = r.get("queries")
    if q:
        names = [n for n in r.get("variants", ["now"]) if n in q]
        for query in q[names[0]]["embedded"] if names else []:
            cells = []
            for name in names:
                v = q[name]["embedded"].get(query)
                server = q[name].get("server", {}).get(query)
                if v:
                    cells.append((f"{name} " if len(names) > 1 else "") + f"{v['p50_s']:.2f} s"
                                 + (f" (server {server['p50_s']:.2f} s)" if server else ""))
            rows.append((f"query `{query}`, {q[names[0]]['determinations']:,} determinations, p50",
                         " / ".join(cells), "", ""))
    return rows


def table(r: dict[str, Any]) -> str:
    m = r["machine"]
    rows = [("measure", "result", "vs naive", "vs floor"), *_rows(r)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [(f"mtus users' benchmark {r['when']}: {m['cpus']} CPUs, load average {m['load_before'][0]:.1f} "
             f"before / {m.get('load_after', [0])[0]:.1f} after"), ""]
    for n, row in enumerate(rows):
        lines.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    intro = (f"Latest run: {r['when'][:16]} UTC, {m['cpus']} CPUs shared with other work (load average "
             f"{m['load_before'][0]:.1f} at the start, {m.get('load_after', [0])[0]:.1f} at the end). "
             "\"vs naive\": times the naive baseline's rate; \"vs floor\": share of the parse floor's rate "
             "(one process). Reproduce: `make bench-users`.")
    lines = [intro, "", "| measure | result | vs naive | vs floor |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in _rows(r)]
    return "\n".join(lines)


def update_readme(path: Path, r: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        path.write_text(pattern.sub(lambda _: f"{BEGIN}\n{markdown(r)}\n{END}", text), encoding="utf-8")


def _save(path: Path, result: dict[str, Any]) -> None:
    result["machine"]["load_after"] = os.getloadavg()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_ints, default=[1000, 10000])
    parser.add_argument("--big", action="store_true", help="also N=100,000")
    parser.add_argument("--jobs", type=_ints, default=[1, 2])
    parser.add_argument("--latency", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--naive", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5, help="whole-process runs of `mtus evaluate`")
    parser.add_argument("--query-repeat", type=int, default=3)
    parser.add_argument("--server", action="store_true", help="also query a local Oxigraph server")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "users.json")
    parser.add_argument("--readme", action="store_true", help="rewrite README's bench-users block")
    parser.add_argument("--variants", default="",
                        help="NAME=CHECKOUT,...: whole-process measures and queries also for these checkouts "
                             "(e.g. before=/tmp/old), in turn with this one (named 'now')")
    args = parser.parse_args(argv)
    from reasoner import rulebase

    for pair in filter(None, args.variants.split(",")):
        name, _, folder = pair.partition("=")
        VARIANTS[name] = Path(folder).resolve()
    if len(VARIANTS) > 1:  # the others first: "now" last in each turn
        now = VARIANTS.pop("now")
        VARIANTS["now"] = now
    rb = rulebase.get()
    sizes = args.sizes + ([100_000] if args.big else [])
    only = [n for n in args.only.split(",") if n]
    result: dict[str, Any] = json.loads(args.json.read_text()) if args.json.is_file() and set(only) != set(SECTIONS) else {}
    result.update({"when": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                   "variants": list(VARIANTS),
                   "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg(),
                               "python": platform.python_version()}})
    path, _ = corpus.spool(rb, max(sizes + [2000, args.latency]), args.seed)
    sample = corpus.first(path, max(2000, args.latency, args.naive))
    keep = WORK / "users-store"
    steps = {"floor": lambda: floor(rb, sample[:2000]),
             "naive": lambda: baseline(rb, sample[:args.naive]),
             "api": lambda: api_latency(sample[:args.latency]),
             "writer": lambda: writer(sample[:1000], 3),
             "evaluate": lambda: evaluate_cli(sample, args.runs),
             "service": lambda: service(args.requests),
             "batch": lambda: batch(path, sizes, args.jobs, keep),
             "queries": lambda: queries(keep, args.query_repeat, args.server)}
    for name in SECTIONS:
        if name in only:
            print(f"{name} ...", flush=True)
            result[name] = steps[name]()
            _save(args.json, result)
    print(table(result))
    print(f"written: {args.json}")
    if args.readme:
        update_readme(ROOT / "README.md", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
