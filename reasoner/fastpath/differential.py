"""The differential check: the fast path against the reference path, case by case.

Each worker process evaluates its cases both ways: the reference path one case at a time
(``reasoner.evaluate``), the fast path as a batch (``Engine.evaluate_batch``, the way the pool
runs it) and, optionally, one case at a time. :func:`check` reports every difference
(:mod:`.compare`) and why the fast path handed cases to the reference path.

Cases come from the case files, from ``mtus generate`` (:func:`generated`), and from
:func:`broken`, which spoils valid cases in structural ways (an unknown field, a wrong type,
an unknown code, an impossible date) so that the fast path's intake is seen to reject exactly
what the reference path rejects.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import multiprocessing
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from .. import api
from .. import rulebase as rulebase_module
from ..errors import MtusError
from ..texts import Texts
from .compare import differences
from .engine import Engine


@dataclass
class Report:
    cases: int = 0
    items: int = 0
    rejected: int = 0
    agree: int = 0
    decisions_agree: int = 0
    differences: list[tuple[str, list[str]]] = field(default_factory=list)
    fallbacks: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)

    def add(self, other: Report) -> None:
        self.cases += other.cases
        self.items += other.items
        self.rejected += other.rejected
        self.agree += other.agree
        self.decisions_agree += other.decisions_agree
        self.differences += other.differences
        self.fallbacks.update(other.fallbacks)
        self.decisions.update(other.decisions)

    def text(self) -> str:
        head = (f"{self.cases} cases ({self.items} items, {self.rejected} rejected at intake): "
                f"{self.agree} identical, {self.decisions_agree} with identical decisions and criterion states")
        lines = [head]
        if self.fallbacks:
            lines.append("handed to the reference path: " + ", ".join(f"{n} {why}" for why, n in sorted(self.fallbacks.items())))
        lines.append("item decisions: " + ", ".join(f"{n} {d}" for d, n in sorted(self.decisions.items())))
        for name, diffs in self.differences[:10]:
            lines.append(f"DIFFERENT {name}:")
            lines += [f"  {d[:400]}" for d in diffs[:5]]
        return "\n".join(lines)


def _label(case: Any) -> str:
    return str(case.get("id")) if isinstance(case, dict) else str(case)


def _decisions(result: Any) -> Any:
    if isinstance(result, MtusError):
        return ("error", str(result))
    return [(i.request_id, i.decision, i.section.iri if i.section else None,
             [(r.criterion.iri, r.status, r.applicable) for top in i.criteria for r in top.walk()])
            for i in result.items]


def compare_batch(engine: Engine, cases: list[Any], singles: bool = False) -> Report:
    """Evaluate ``cases`` both ways in this process and report how they compare."""
    rb = engine.rb
    texts = Texts(rb.kb, rb.closure, rb.catalog.writer)
    before = Counter(engine.fallbacks)
    fast = engine.evaluate_batch(cases)
    alone = [engine.evaluate_batch([c])[0] for c in cases] if singles else [None] * len(cases)
    report = Report()
    report.fallbacks = Counter(engine.fallbacks) - before
    for case, got, single in zip(cases, fast, alone):
        try:
            reference: Any = api.evaluate(case, rb)
        except MtusError as exc:
            reference = exc
        report.cases += 1
        if isinstance(reference, MtusError):
            report.rejected += 1
        else:
            report.items += len(reference.items)
            report.decisions.update(i.decision for i in reference.items)
        diffs = differences(reference, got, texts)
        if single is not None:
            diffs += [f"(one case at a time) {d}" for d in differences(reference, single, texts)]
        if not diffs:
            report.agree += 1
        else:
            report.differences.append((_label(case), diffs))
        if _decisions(reference) == _decisions(got) and (single is None or _decisions(reference) == _decisions(single)):
            report.decisions_agree += 1
    return report


_ENGINE: Engine | None = None


def _init(root: Path | None) -> None:
    global _ENGINE
    _ENGINE = Engine(root)


def _work(cases: list[Any], singles: bool) -> Report:
    assert _ENGINE is not None
    return compare_batch(_ENGINE, cases, singles)


def _chunks(cases: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(cases)
    while chunk := list(islice(it, size)):
        yield chunk


def check(cases: Iterable[Any], workers: int = 2, batch: int = 16, singles: bool = False,
          rules: Path | None = None) -> Report:
    """Compare the two paths on every case, in ``workers`` processes (streaming)."""
    report = Report()
    chunks = _chunks(cases, batch)
    if workers <= 1:
        engine = Engine(rules)
        for chunk in chunks:
            report.add(compare_batch(engine, chunk, singles))
        return report
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["reasoner.fastpath.differential"])
    with cf.ProcessPoolExecutor(workers, mp_context=context, initializer=_init, initargs=(rules,)) as pool:
        pending = [pool.submit(_work, c, singles) for c in islice(chunks, workers * 2)]
        while pending:
            report.add(pending.pop(0).result())
            nxt = next(chunks, None)
            if nxt is not None:
                pending.append(pool.submit(_work, nxt, singles))
    return report


def generated(count: int, seed: int = 7, rules: Path | None = None) -> Iterator[dict[str, Any]]:
    """``count`` cases of ``mtus generate`` (seeded), made one at a time."""
    from ..generator import Generator

    gen = Generator(rulebase_module.get(rules))
    for index in range(count):
        yield gen.case(seed, index)


def broken(cases: Iterable[dict[str, Any]], seed: int = 11) -> Iterator[dict[str, Any]]:
    """Each case spoiled in one structural way (which way is seeded)."""
    rng = random.Random(seed)
    for case in cases:
        bad = copy.deepcopy(case)
        bad.pop("expected", None)
        how = rng.randrange(8)
        request = bad["requests"][0] if bad.get("requests") else {}
        if how == 0:
            bad["unknown_field"] = 1
        elif how == 1:
            request["quantity"] = "six"
        elif how == 2:
            request["service"] = "acupunture"
        elif how == 3:
            bad["review_date"] = "2014-13-45"
        elif how == 4:
            bad.setdefault("injury", {})["date"] = "2999-01-01"
        elif how == 5:
            request["quantity"] = -2
        elif how == 6:
            bad.setdefault("findings", []).append({"region": "lumbar_spine"})
        else:
            bad["requests"] = []
        yield bad
