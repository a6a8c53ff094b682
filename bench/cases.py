"""The cases the benchmark runs: ``mtus generate`` cases (seeded), spooled once to a JSON Lines
file under bench/.work/ (named by seed, count and rule-base digest) and read back one line at
a time, so that 100,000 cases never sit in memory together."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from reasoner.generator import Generator
from reasoner.rulebase import RuleBase

WORK = Path(__file__).resolve().parent / ".work"


def spool(rb: RuleBase, count: int, seed: int) -> tuple[Path, float]:
    """A JSON Lines file of the first ``count`` cases of ``seed`` (made if missing), and the
    seconds it took to make it (0 when it was there)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"generated-s{seed}-n{count}-{rb.digest[:12]}.jsonl"
    if path.is_file():
        return path, 0.0
    for old in WORK.glob(f"generated-s{seed}-n*-*.jsonl"):
        old.unlink()
    start = time.perf_counter()
    gen = Generator(rb)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for index in range(count):
            out.write(json.dumps(gen.case(seed, index)) + "\n")
    tmp.replace(path)
    return path, time.perf_counter() - start


def stream(path: Path, count: int) -> Iterator[dict[str, Any]]:
    """The first ``count`` cases of a spooled file, one at a time."""
    with path.open(encoding="utf-8") as handle:
        for line in islice(handle, count):
            yield json.loads(line)


def first(path: Path, count: int) -> list[dict[str, Any]]:
    return list(stream(path, count))
