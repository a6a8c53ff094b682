"""Many cases through the fast path: batches streamed to a pool of worker processes.

``evaluate_many(cases, workers=2)`` takes any iterable of cases (paths or mappings; a generator
is read as it goes) and yields one :class:`Outcome` per case in input order. At most a few
batches per worker are in flight, so memory does not grow with the number of cases; each worker
builds one :class:`~reasoner.fastpath.engine.Engine` (the rule base comes from the on-disk
cache) and rebuilds its store now and then. With ``workers=1`` the cases are evaluated in this
process.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from ..determination import Determination
from ..errors import MtusError
from ..namespaces import local_name
from .engine import Engine


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for a case: per item (request id, decision, applied section,
    criterion states), or the error; small, so that results cost little to send."""

    case_id: str
    items: tuple[tuple[str, str, str | None, tuple[tuple[str, str], ...]], ...]
    error: str | None = None

    @classmethod
    def of(cls, result: Determination | MtusError) -> Outcome:
        if isinstance(result, MtusError):
            return cls("", (), str(result))
        return cls(result.case_id, tuple(
            (i.request_id, i.decision, local_name(i.section.iri) if i.section is not None else None,
             tuple((local_name(r.criterion.iri), r.status) for top in i.criteria for r in top.walk()))
            for i in result.items))


_ENGINE: Engine | None = None


def _init(root: Path | None) -> None:
    global _ENGINE
    _ENGINE = Engine(root)


def _run(batch: list[Any]) -> list[Outcome]:
    assert _ENGINE is not None
    return [Outcome.of(r) for r in _ENGINE.evaluate_batch(batch)]


def _batches(cases: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(cases)
    while batch := list(islice(it, size)):
        yield batch


def evaluate_many(cases: Iterable[Any], workers: int = 2, batch: int = 128,
                  rules: Path | None = None) -> Iterator[Outcome]:
    """One outcome per case, in input order, from ``workers`` processes."""
    if workers <= 1:
        _init(rules)
        for chunk in _batches(cases, batch):
            yield from _run(chunk)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["reasoner.fastpath.pool"])
    with cf.ProcessPoolExecutor(workers, mp_context=context, initializer=_init, initargs=(rules,)) as pool:
        pending: list[cf.Future[list[Outcome]]] = []
        chunks = _batches(cases, batch)
        for chunk in islice(chunks, workers * 3):
            pending.append(pool.submit(_run, chunk))
        while pending:
            done = pending.pop(0).result()
            nxt = next(chunks, None)
            if nxt is not None:
                pending.append(pool.submit(_run, nxt))
            yield from done
