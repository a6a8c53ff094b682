"""``mtus impact`` on a store of generated cases: how long a guideline author waits.

    python bench/impact.py [--count 10000] [--jobs 2] [--seed 42] [--work DIR]

Generates ``--count`` cases (``mtus generate``), stores them (``mtus batch --jobs N``), fills the
rule-base cache of the checkout, then times whole ``mtus impact`` processes on that store, each
as a user runs it:

- ``stored``: the checkout's rule base against the stored determinations (nothing changes);
- ``changed``: a copy of the rule base with the trigger point injection limit lowered from 4 to
  2 per session, against the stored determinations (first run: the copy's rule base is loaded
  and compiled; second run: from the cache);
- ``--service``: the same change, only the trigger point injection items;
- ``--against HEAD~1``: the same change against the rule base before it (the copy is a git
  repository of two commits): each case evaluated under both rule bases.

Prints one line per run (seconds, cases and items compared, flips, wording changes) and the
machine's load before and after: the machine is shared, so a figure taken under load says so.
Not a test: nothing here fails on a slow run. With ``--work DIR`` the cases and the store are
kept there and reused by the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rdflib import BNode, Graph, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reasoner.namespaces import KB, MTUS

MTUS_BIN = str(Path(sys.executable).with_name("mtus"))
TPI = "kb/sections/chronic-pain/trigger-point-injections.ttl"
LIMIT = KB["cpmtg-2009-tpi-max-injections-per-session"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid",
                    "-c", "commit.gpgsign=false", *args], check=True, capture_output=True)


def lowered_copy(into: Path) -> Path:
    """A git repository of the checkout's rule base: commit 1 as it is, commit 2 (and the
    working tree) with the per-session injection limit halved (4 -> 2)."""
    for part in ("ontology", "kb", "shapes"):
        shutil.copytree(ROOT / part, into / part)
    _git(into, "init", "-q")
    _git(into, "add", "-A")
    _git(into, "commit", "-q", "-m", "as encoded")
    path = into / TPI
    graph = Graph().parse(path, format="turtle")
    nodes = [LIMIT, *(o for o in graph.objects(LIMIT, None) if isinstance(o, BNode))]
    for node in nodes:
        for value in list(graph.objects(node, MTUS.value)):
            if isinstance(value, Literal) and value.toPython() == 4:
                graph.set((node, MTUS.value, Literal(2, datatype=value.datatype)))
    path.write_text(graph.serialize(format="turtle"), encoding="utf-8")
    _git(into, "commit", "-q", "-am", "at most 2 injections per session")
    return into


def timed(label: str, args: list[str]) -> dict[str, object]:
    start = time.perf_counter()
    done = subprocess.run([MTUS_BIN, *args, "--format", "json"], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 2) or not done.stdout.strip():
        raise SystemExit(f"{label}: mtus impact exited {done.returncode}: {done.stderr[-2000:]}")
    data = json.loads(done.stdout)
    row = {"run": label, "seconds": round(seconds, 1), "cases": data["cases"], "items": data["items"],
           "flips": len(data["flips"]), "wording": len(data["wording_changes"]), "failures": len(data["failures"])}
    print(f"  {label:<34} {seconds:6.1f} s  {data['cases']:>6} cases {data['items']:>6} items  "
          f"{row['flips']:>5} flips {row['wording']:>5} wording-only {row['failures']:>3} failed", flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, default=None, help="keep the cases and the store here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="mtus-bench-impact-"))
    work.mkdir(parents=True, exist_ok=True)
    cases, store = work / f"cases-{args.count}-{args.seed}.jsonl", work / f"store-{args.count}-{args.seed}"
    print(f"bench/impact.py: {args.count} cases, --jobs {args.jobs}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    try:
        if not store.is_dir():
            start = time.perf_counter()
            subprocess.run([MTUS_BIN, "generate", "--count", str(args.count), "--seed", str(args.seed),
                            "--out", str(cases)], check=True, capture_output=True)
            subprocess.run([MTUS_BIN, "batch", str(cases), "--store", str(store), "--jobs", str(args.jobs),
                            "--quiet"], check=True, capture_output=True)
            print(f"  (store: generated and batched in {time.perf_counter() - start:.0f} s)", flush=True)
        where = ["impact", "--store", str(store), "--jobs", str(args.jobs)]
        warm = "from reasoner import rulebase; from reasoner.impact.evaluation import prepare; prepare(rulebase.get())"
        subprocess.run([sys.executable, "-c", warm], check=True, cwd=ROOT)  # the checkout's rule-base cache
        changed = lowered_copy(Path(tempfile.mkdtemp(prefix="mtus-bench-rules-")))
        rows = [timed("stored (rule base unchanged)", where),
                timed("changed (first run: cold cache)", [*where, "--rules", str(changed)]),
                timed("changed", [*where, "--rules", str(changed)]),
                timed("changed --service tpi", [*where, "--rules", str(changed), "--service",
                                                "trigger_point_injection"]),
                timed("changed --against HEAD~1", [*where, "--rules", str(changed), "--against", "HEAD~1"])]
        shutil.rmtree(changed, ignore_errors=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end; "
          f"reproduce: python bench/impact.py --count {args.count} --jobs {args.jobs} --seed {args.seed}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
