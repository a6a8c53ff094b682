"""Impact of a rule change: which stored determinations would change, and how.

``mtus impact`` selects stored items (one SPARQL query in the store, filtered there by service,
section and review date), evaluates their stored case graphs again on the fast path (anything
the fast path does not take goes to the reference path) under the rule base of the checkout (or
``--rules DIR``), and compares each item with a baseline: the stored determination, or, with
``--against REV``, the same case evaluated under the rule base of a git revision. It lists each
decision that would flip with the criteria whose state changed and the rationale sentences that
differ, and counts the items whose wording alone changes. The store is never changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

from ..namespaces import local_name
from ..rulebase import RuleBase
from ..store.records import Backend
from . import evaluation, stored
from .command import add_parser, main
from .evaluation import CaseOutcome, ItemOutcome
from .report import Change, Impact, changed_criteria, wording_diff
from .stored import Filters, StoredItem

__all__ = ["Change", "Filters", "Impact", "add_parser", "main", "run"]


def _as_outcome(item: StoredItem) -> ItemOutcome:
    return ItemOutcome(item.request_id, item.service, item.decision, item.section, (), item.rationale)


def _group(items: list[StoredItem]) -> dict[str, list[StoredItem]]:
    cases: dict[str, list[StoredItem]] = {}
    for item in items:
        cases.setdefault(item.case_iri, []).append(item)
    return cases


def _failure(outcomes: tuple[CaseOutcome, ...], sides: tuple[str, ...]) -> str | None:
    errors = [(side, o.error) for side, o in zip(sides, outcomes, strict=True) if o.error is not None]
    if not errors:
        return None
    return "; ".join(f"under {side}: {error}" if len(sides) > 1 else error for side, error in errors)


Pending = list[tuple[StoredItem, ItemOutcome, ItemOutcome]]


def _compare(impact: Impact, cases: dict[str, list[StoredItem]], results: Iterator[tuple[CaseOutcome, ...]],
             sides: tuple[str, ...], section: str | None, evaluated_before: bool) -> Pending:
    """Count the items compared; the items that changed (decision, section or wording), with
    their outcome before and after."""
    pending: Pending = []
    for outcomes in results:
        items = cases[outcomes[-1].case_iri]
        error = _failure(outcomes, sides)
        if error is not None:
            impact.failures.append((items[0].case_id, error))
            continue
        for item in items:
            new = outcomes[-1].items.get(item.request_id)
            old = outcomes[0].items.get(item.request_id) if evaluated_before else _as_outcome(item)
            if new is None or old is None or (section is not None and section not in (old.section, new.section)):
                continue
            impact.items += 1
            if (old.decision, old.section, old.rationale) != (new.decision, new.section, new.rationale):
                pending.append((item, old, new))
    return pending


def run(store: Backend, rb: RuleBase, as_of: dt.date | None = None, workers: int = 1, *,
        against: RuleBase | None = None, baseline: str | None = None, filters: Filters | None = None,
        engine: str = "fast") -> Impact:
    """Compare the selected stored items under ``rb`` with their stored determinations, or with
    the same cases under ``against`` (named ``baseline`` in the report)."""
    filters = filters or Filters()
    same = against is not None and against.digest == rb.digest  # the same files: evaluated once, for both sides
    # the store holds exactly what the revision decides (its determinations were made by the same
    # rule-base files, on the same dates): they are the baseline, and only the checkout evaluates
    stored_baseline = against is not None and not same and as_of is None and stored.digests(store) == {against.digest}
    rules = (rb,) if against is None or same or stored_baseline else (against, rb)
    with evaluation.Evaluator(rules, workers, engine) as evaluator:  # workers load while the store answers
        cases = _group(stored.select(store, filters))
        impact = Impact(baseline or ("the stored determinations" if against is None else f"rule base {against.version}"),
                        f"{rb.version} ({rb.root})", as_of.isoformat() if as_of else None, filters.describe(), len(cases))
        sides = ("the rule base",) if len(rules) == 1 else (impact.baseline, f"rule base {rb.version}")
        jobs = ((iri, stored.case_ntriples(store, iri)) for iri in cases)
        pending = _compare(impact, cases, evaluator.evaluate(jobs, len(cases), as_of), sides,
                           local_name(filters.section) if filters.section else None,
                           against is not None and not stored_baseline)
    if against is None or stored_baseline:  # the stored states, of the items that changed only
        states = stored.criterion_states(store, [item.request_iri for item, _, _ in pending])
        pending = [(item, replace(old, criteria=tuple(sorted(states[item.request_iri].items()))), new)
                   for item, old, new in pending]
    for item, old, new in pending:
        removed, added = wording_diff(old.rationale, new.rationale)
        impact.changes.append(Change(item.case_id, item.request_id, item.service, old.decision, new.decision,
                                     old.section, new.section, changed_criteria(dict(old.criteria), dict(new.criteria)),
                                     removed, added))
    impact.changes.sort(key=lambda c: (c.case_id, int(c.request_id) if c.request_id.isdigit() else 1 << 30,
                                       c.request_id))
    impact.failures.sort()
    return impact
