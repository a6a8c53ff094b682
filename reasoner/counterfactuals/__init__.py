"""Verified counterfactuals (issue 14 part 1): what documentable change would turn a decision.

For an upheld item, the smallest sets of changes to the case data, in case-format terms (an
entry added to the findings, studies or treatments; a field of the request set; a documented
negative re-documented), that turn it overturned; for an overturned item, the entries of the
record whose absence would turn it upheld (what the decision rests on).

Nothing here names a criterion, a section or a clinical fact. Candidates are derived from data:

- the unmet criterion's shapes (support and contradiction roles): a code a shape names
  (sh:hasValue, sh:in under mtus:code) fills the slot of each edit template of kb/counterfactual.ttl
  whose slot class the code belongs to and which satisfies the helper shapes the code is asked
  within (shape:OnExam ...); a request field a shape tests directly (the case-format field is
  the JSON-LD context's term for the shape's path) is set to a value the shape lists or to the
  bound its threshold has on the item's rule date;
- the rules deriving a fact a shape tests (kb/rules/*.rq whose CONSTRUCT template has the
  shape's path): the codes they name and the members of the classes they test with ``a``, and
  the request fields they read (for a bound on a derived quantity), one level deep;
- the criterion's contradicting facts: a documented negative finding (present: false) is
  re-documented as present.

A code whose anatomical sites (ontology/sites.ttl, mtus:anatomicalSite) exclude the request's
region is no candidate: no site is the region, lies within it or contains it (mtus:partOf).

Search, per item: each candidate alone (one re-evaluation each, which also tells which of the
item's unmet criteria it satisfies); for a criterion no single change satisfies, pairs of
candidates from different groups (a group is one shape property or one rule pattern), the first
``pair_width`` of each group; then the unions of one satisfying set per unmet criterion, smallest
first. Every union is re-evaluated through the same engine (reasoner.engines, fast path by
default); only sets that turn the item are reported, and none is a superset of another. Bounds:
at most ``max_size`` changes in a set, ``max_evaluations`` re-evaluations and ``max_sets`` sets
per item; the report carries the bounds, the evaluations used and the seconds spent.

The modules: ``model`` (the results), ``vocabulary`` (what is read from the rule base),
``casedata`` (the case as data, changes applied), ``candidates`` (the changes tried, in words),
``search`` (the search and its re-evaluations); ``find`` and ``render_text`` here.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from pathlib import Path
from typing import Any

from .. import engines
from .. import rulebase as rulebase_module
from ..decisions import NOT_ADDRESSED, OVERTURNED
from ..namespaces import local_name
from ..rulebase import RuleBase
from .casedata import apply, case_data
from .model import DEFAULT_BOUNDS, CaseCounterfactuals, Change, ChangeSet, ItemCounterfactuals
from .search import Search, join
from .vocabulary import vocabulary

__all__ = ["DEFAULT_BOUNDS", "CaseCounterfactuals", "Change", "ChangeSet", "ItemCounterfactuals", "apply",
           "case_data", "find", "render_text", "vocabulary"]


def find(case: str | Path | dict[str, Any], rules: RuleBase | Path | None = None, *,
         request: str | None = None, engine: str = "fast", max_size: int | None = None,
         max_evaluations: int | None = None, max_sets: int | None = None,
         pair_width: int | None = None) -> CaseCounterfactuals:
    """The verified counterfactuals of every item of a case (or of one request): see the module
    docstring. The case is a YAML/JSON path or a mapping in the case format."""
    rb = rules if isinstance(rules, RuleBase) else rulebase_module.get(rules)
    data = case_data(case)
    det = engines.evaluate(case if not isinstance(case, dict) else copy.deepcopy(data), rb, engine=engine)
    given = {"max_size": max_size, "max_evaluations": max_evaluations, "max_sets": max_sets,
             "pair_width": pair_width}
    bounds = {k: (v if v is not None else DEFAULT_BOUNDS[k]) for k, v in given.items()}
    items = []
    for item in det.items:
        if request is not None and item.request_id != request:
            continue
        search = Search(data, det, rb, engine, bounds)
        start = time.perf_counter()
        texts = search.texts
        sets: list[ChangeSet] = []
        blocked: tuple[str, ...] = ()
        reason: str | None
        if item.decision == NOT_ADDRESSED:
            kind, reason, text = "none", "not_addressed", texts("counterfactual-none-not-addressed")
        elif item.decision == OVERTURNED:
            sets = search.rests_on(item)
            kind, reason = "rests_on", (None if sets else "bound")
            text = " ".join(s.text for s in sets)
        else:
            sets, blocked = search.would_overturn(item)
            kind, reason = ("would_overturn", None) if sets else ("none", "blocked" if blocked else "bound")
            if sets:
                text = " ".join(s.text for s in sets)
            elif blocked:
                shortfalls = [r.criterion.shortfall or local_name(r.criterion.iri) for r in item.criteria
                              if local_name(r.criterion.iri) in blocked]
                text = texts("counterfactual-none-blocked", criteria=join(shortfalls))
            else:
                text = texts("counterfactual-none-bound", size=bounds["max_size"],
                             evaluations=bounds["max_evaluations"])
        if kind == "rests_on" and not sets:
            exhausted = search.evaluations >= bounds["max_evaluations"]
            reason = "bound" if exhausted else "redundant"
            text = (texts("counterfactual-none-bound", size=1, evaluations=bounds["max_evaluations"]) if exhausted
                    else texts("counterfactual-rests-on-none"))
        items.append(ItemCounterfactuals(item.request_id, str(item.decision), kind, tuple(sets), reason, blocked,
                                         text, search.evaluations, time.perf_counter() - start, bounds))
    found = CaseCounterfactuals(det.case_id, tuple(items))
    return dataclasses.replace(found, determination=dataclasses.replace(det, counterfactuals=found))


def render_text(result: CaseCounterfactuals) -> str:
    """The text form of ``mtus explain --counterfactual``: the headings are the tool's; the
    sentences and the change texts were read from the rule base."""
    lines = [f"case {result.case_id}: counterfactuals (verified by re-evaluation)"]
    for item in result.items:
        search = item.as_json()["search"]
        lines.append(f"request {item.request_id}: {item.decision} ({item.kind}"
                     + (f", {item.reason}" if item.reason else "") + ")")
        lines.append(f"  search: {search['evaluations']} re-evaluations, {search['seconds']} s; bounds: "
                     f"set size <= {search['max_size']}, re-evaluations <= {search['max_evaluations']}, "
                     f"sets <= {search['max_sets']}, pair width {search['pair_width']}")
        for number, change_set in enumerate(item.sets, 1):
            lines.append(f"  set {number} -> {change_set.turns_to}; satisfies: {', '.join(change_set.satisfies)}")
            for change in change_set.changes:
                lines.append(f"    {change.action} {change.path}: {change.value_json}  [{change.template}]")
            lines.append(f"    {change_set.text}")
        if not item.sets:
            lines.append(f"  {item.text}")
            if item.blocked:
                lines.append(f"  blocked by: {', '.join(item.blocked)}")
    return "\n".join(lines) + "\n"
