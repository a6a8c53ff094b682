"""What ``make bench`` profiles: the fast path over spooled cases, in one process, in batches
as a worker of the pool runs them (``python bench/profile_target.py FILE.jsonl COUNT``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cases import stream
from reasoner.fastpath.pool import evaluate_many

if __name__ == "__main__":
    for _ in evaluate_many(stream(Path(sys.argv[1]), int(sys.argv[2])), workers=1):
        pass
