"""One batch-throughput measurement in a process of its own, so that its peak memory is its own
(``python bench/throughput.py FILE.jsonl N WORKERS``; prints one JSON line)."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cases import stream
from reasoner.fastpath import pool
from reasoner.fastpath.pool import evaluate_many

if __name__ == "__main__":
    path, size, workers = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    decisions: Counter[str] = Counter()
    errors = 0
    start = time.perf_counter()
    for outcome in evaluate_many(stream(path, size), workers=workers):
        errors += outcome.error is not None
        decisions.update(item[1] for item in outcome.items)
    seconds = time.perf_counter() - start
    row = {"cases": size, "workers": workers, "seconds": seconds, "cases_per_s": size / seconds,
           "errors": errors, "decisions": dict(decisions)}
    if pool._ENGINE is not None:  # one worker: this process; its time by phase, ms per case
        row["phases_ms"] = {k: 1000 * v / size for k, v in sorted(pool._ENGINE.timings.items())}
        row["fallbacks"] = dict(pool._ENGINE.fallbacks)
    print(json.dumps(row))
