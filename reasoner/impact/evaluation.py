"""Stored cases evaluated again, on the fast path (``Engine.evaluate_batch``, in rounds of up to
128 cases, in a pool of worker processes) or on the reference path (``--engine reference``).

A stored case graph goes to the engine as triples (:class:`~reasoner.fastpath.caseread.CaseTriples`):
the fast path adds the day numbers and reads it as it reads a case file; whatever it does not take
goes to the reference path, which reads the same triples as an RDF graph. Each worker keeps one
engine per rule base (the current one, and with ``--against`` the one of the revision), so that
a round of cases is decided under both in the same process. Only small outcomes travel back.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Self

import pyoxigraph as ox

from .. import api, rulebase, rulebase_cache
from ..determination import Determination
from ..errors import MtusError, RuleBaseError
from ..fastpath.caseread import CaseTriples
from ..fastpath.engine import Engine
from ..fastpath.queries import compile_all
from ..namespaces import MTUS, local_name
from ..rulebase import RuleBase

ENGINES = ("fast", "reference")
#: cases per round of the fast path (as ``mtus batch``)
CHUNK = 128
_AS_OF = ox.NamedNode(str(MTUS.asOfDate))
_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")


@dataclass(frozen=True)
class ItemOutcome:
    """What impact compares of an item decision."""

    request_id: str
    service: str
    decision: str
    section: str | None
    criteria: tuple[tuple[str, str], ...]  # every criterion (branches too): id, state
    rationale: str


@dataclass(frozen=True)
class CaseOutcome:
    """The item outcomes of a case (by request id), or why it could not be evaluated."""

    case_iri: str
    items: dict[str, ItemOutcome]
    error: str | None = None


def outcome(case_iri: str, result: Determination | MtusError) -> CaseOutcome:
    if isinstance(result, MtusError):
        return CaseOutcome(case_iri, {}, str(result))
    return CaseOutcome(case_iri, {
        item.request_id: ItemOutcome(
            item.request_id, local_name(item.service), item.decision,
            local_name(item.section.iri) if item.section is not None else None,
            tuple(sorted({local_name(r.criterion.iri): r.status for top in item.criteria for r in top.walk()}.items())),
            item.rationale)
        for item in result.items})


#: one case to evaluate: its IRI and its stored graph as N-Triples
Job = tuple[str, bytes]


def case_triples(job: Job, as_of: dt.date | None) -> CaseTriples:
    """The stored case as triples; with ``as_of``, decided under the rules in force on that date
    (mtus:asOfDate: every item's rule date is that date, kb/rules/01-rule-date.rq; the review
    date, and so every duration, stays as stored)."""
    case_iri, ntriples = job
    triples = [t.triple if isinstance(t, ox.Quad) else t for t in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)]
    if as_of is not None:
        root = ox.NamedNode(case_iri)
        triples = [t for t in triples if not (t.subject == root and t.predicate == _AS_OF)]
        triples.append(ox.Triple(root, _AS_OF, ox.Literal(as_of.isoformat(), datatype=_DATE)))
    return CaseTriples(case_iri, triples, "(store)")


_ENGINES: dict[Path, Engine] = {}


def _engine(root: Path) -> Engine:
    if root not in _ENGINES:
        _ENGINES[root] = Engine(rulebase.get(root))
    return _ENGINES[root]


def _one(case: CaseTriples, rb: RuleBase, engine: str) -> Determination | MtusError:
    """One case alone; an error it raises is its outcome (one broken case must not stop a run)."""
    try:
        return _engine(rb.root).evaluate_batch([case])[0] if engine == "fast" else api.evaluate(case.graph(), rb)
    except RuleBaseError:
        raise
    except MtusError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 (say what failed, go on)
        return MtusError(f"{case.root}: internal error {type(exc).__name__}: {exc}")


def _decide(root: Path, cases: list[CaseTriples], engine: str) -> list[Determination | MtusError]:
    rb = rulebase.get(root)
    if engine == "fast" and len(cases) > 1:
        try:
            return _engine(root).evaluate_batch(cases)
        except RuleBaseError:
            raise
        except Exception:  # noqa: BLE001 (the round failed as a whole: each case alone, below)
            _engine(root).fallbacks["round-failed"] += 1
    return [_one(case, rb, engine) for case in cases]


def evaluate_round(roots: tuple[Path, ...], jobs: list[Job], as_of: dt.date | None, engine: str
                   ) -> list[tuple[CaseOutcome, ...]]:
    """Each case of the round under each rule base of ``roots``: one outcome per root."""
    cases = [case_triples(job, as_of) for job in jobs]
    per_root = [_decide(root, cases, engine) for root in roots]
    return [tuple(outcome(job[0], results[i]) for results in per_root) for i, job in enumerate(jobs)]


def prepare(rb: RuleBase) -> None:
    """Build (or find) the on-disk caches of a rule base once here, so that the workers load it
    instead of each compiling it (a revision's rule base is new to the cache)."""
    rulebase_cache.load_or_build(rb.root, rb.digest, lambda: compile_all(rb), kind="fastpath")


def _init_fast(root: Path) -> None:
    _engine(root)


def _init_reference(root: Path) -> None:
    rulebase.get(root)


def _rounds(jobs: Iterator[Job], size: int) -> Iterator[list[Job]]:
    while chunk := list(islice(jobs, size)):
        yield chunk


class Evaluator:
    """Evaluates stored cases under each rule base of ``rules``, in this process or in a pool
    of ``workers`` processes started at once (so that they load while the store is queried)."""

    def __init__(self, rules: tuple[RuleBase, ...], workers: int = 1, engine: str = "fast") -> None:
        self.roots = tuple(rb.root for rb in rules)
        self.workers = workers
        self.engine = engine
        self.pool: cf.ProcessPoolExecutor | None = None
        if workers > 1:
            from ..batch import worker_pool

            for rb in rules:
                prepare(rb)
            self.pool = worker_pool(rules[0], workers, _init_fast if engine == "fast" else _init_reference)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    def evaluate(self, jobs: Iterable[Job], count: int, as_of: dt.date | None = None
                 ) -> Iterator[tuple[CaseOutcome, ...]]:
        """Per case (in rounds, as they complete), its outcome under each rule base. ``jobs``
        is read as rounds are handed out, so that memory stays flat."""
        size = max(1, min(CHUNK, count // (self.workers * 4))) if self.engine == "fast" else 1
        rounds = _rounds(iter(jobs), size)
        if self.pool is None:
            for chunk in rounds:
                yield from evaluate_round(self.roots, chunk, as_of, self.engine)
            return
        pool = self.pool
        running = {pool.submit(evaluate_round, self.roots, chunk, as_of, self.engine)
                   for chunk in islice(rounds, self.workers * 3)}  # a few rounds in flight per worker
        while running:
            done, running = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            running |= {pool.submit(evaluate_round, self.roots, chunk, as_of, self.engine)
                        for chunk in islice(rounds, len(done))}
            for future in done:
                yield from future.result()
