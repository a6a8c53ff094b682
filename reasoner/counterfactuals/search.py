"""The search (see the package docstring): singles, bisection of a request amount, pairs across
groups, unions of one satisfying set per unmet criterion; every set re-evaluated."""

from __future__ import annotations

import itertools
import json
from typing import Any

from rdflib import URIRef

from .. import engines
from ..decisions import OVERTURNED, UPHELD
from ..determination import Determination, ItemDecision
from ..errors import MtusError
from ..namespaces import local_name
from ..rulebase import RuleBase
from ..texts import Texts
from .candidates import Candidates
from .casedata import apply
from .model import Change, ChangeSet
from .vocabulary import vocabulary

_LISTS = ("findings", "studies", "treatments", "medications", "diagnoses")


class Search:
    def __init__(self, data: dict[str, Any], det: Determination, rb: RuleBase, engine: str,
                 bounds: dict[str, int]) -> None:
        self.data = data
        self.det = det
        self.rb = rb
        self.engine = engine
        self.bounds = bounds
        self.voc = vocabulary(rb)
        self.texts = det.texts or Texts(rb.kb, rb.closure, rb.catalog.writer)
        self.make = Candidates(data, det, rb, self.voc, self.texts)
        self.cache: dict[frozenset[Change], ItemDecision | None] = {}
        self.evaluations = 0

    # -- evaluation --------------------------------------------------------------------------

    def outcome(self, request_id: str, changes: frozenset[Change]) -> ItemDecision | None:
        if changes in self.cache:
            return self.cache[changes]
        self.evaluations += 1
        try:
            det = engines.evaluate(apply(self.data, sorted(changes)), self.rb, engine=self.engine)
            found = next((i for i in det.items if i.request_id == request_id), None)
        except MtusError:
            found = None
        self.cache[changes] = found
        return found


    # -- an upheld item ----------------------------------------------------------------------

    def would_overturn(self, item: ItemDecision) -> tuple[list[ChangeSet], tuple[str, ...]]:
        blockers = [r for r in item.criteria if r.unmet]
        ids = {r.criterion.iri: local_name(r.criterion.iri) for r in blockers}
        cands = {r.criterion.iri: self.make.for_criterion(item, r) for r in blockers}
        blocked = tuple(ids[b] for b, c in cands.items() if not c)
        if blocked:
            return [], blocked
        budget = self.bounds["max_evaluations"]
        found: list[tuple[frozenset[Change], ItemDecision]] = []
        fixes: dict[URIRef, list[frozenset[Change]]] = {b: [] for b in cands}

        def run(changes: frozenset[Change]) -> ItemDecision | None:
            if self.evaluations >= budget and changes not in self.cache:
                return None
            out = self.outcome(item.request_id, changes)
            if out is None:
                return None
            if out.decision == OVERTURNED and not any(s <= changes for s, _ in found):
                found.append((changes, out))
            for res in out.criteria:
                if res.criterion.iri in fixes and not res.unmet \
                        and not any(s <= changes for s in fixes[res.criterion.iri]):
                    fixes[res.criterion.iri].append(changes)
            return out

        # singles, criterion by criterion (one evaluation tells every criterion it satisfies)
        for blocker, options in cands.items():
            for _, change in options:
                if fixes[blocker] and len(cands) > 1 and len(fixes[blocker]) >= self.bounds["pair_width"]:
                    break
                run(frozenset([change]))
        # a request amount over a limit: the largest value of the field that satisfies the
        # criterion (a limit on a derived amount, e.g. visits with the prior ones, is met by a
        # value the threshold alone does not give), found by bisection
        for blocker, options in cands.items():
            if fixes[blocker]:
                continue
            for _, change in options:
                if change.template == "edit-request-bound" and self.evaluations < budget:
                    self._bisect(item, blocker, change, run, budget)
        # pairs across groups, for a criterion no single change satisfies
        width = self.bounds["pair_width"]
        for blocker, options in cands.items():
            if fixes[blocker] or self.bounds["max_size"] < 2:
                continue
            by_group: dict[str, list[Change]] = {}
            for group, change in options:
                by_group.setdefault(group, []).append(change)
            heads = {g: cs[:width] for g, cs in by_group.items()}
            for g1, g2 in itertools.combinations(heads, 2):
                for a, b in itertools.product(heads[g1], heads[g2]):
                    if len(fixes[blocker]) >= width or self.evaluations >= budget:
                        break
                    run(frozenset([a, b]))
        # unions: one satisfying set per unmet criterion, smallest first
        if not found and all(fixes.values()):
            combos = sorted({frozenset().union(*pick) for pick in itertools.product(*fixes.values())},
                            key=lambda s: (len(s), sorted(s)))
            for union in combos:
                if len(union) > self.bounds["max_size"] or len(found) >= self.bounds["max_sets"]:
                    continue
                if any(s <= union for s, _ in found):
                    continue
                if self.evaluations >= budget:
                    break
                run(union)
        minimal = [(s, o) for s, o in found if not any(t < s for t, _ in found)]
        minimal.sort(key=lambda so: (len(so[0]), sorted(so[0])))
        sets = []
        for changes, out in minimal[: self.bounds["max_sets"]]:
            satisfied = tuple(ids[r.criterion.iri] for r in out.criteria if r.criterion.iri in ids and not r.unmet)
            sets.append(ChangeSet(tuple(sorted(changes)), satisfied, str(out.decision), self._set_text(changes)))
        return sets, ()

    def _bisect(self, item: ItemDecision, blocker: URIRef, change: Change, run: Any, budget: int) -> None:
        index, name = self.make.request_index[item.request_id], change.path.rsplit(".", 1)[-1]
        current = (self.data.get("requests") or [])[index].get(name)
        if isinstance(current, bool) or not isinstance(current, int) or current <= 1:
            return
        template = self.voc.by_name[change.template]

        def satisfied(value: int) -> bool:
            out = self.outcome(item.request_id, frozenset([self.make.change("set", change.path, value, template)]))
            return out is not None and any(r.criterion.iri == blocker and not r.unmet for r in out.criteria)

        low, high = 1, current - 1
        if self.evaluations >= budget or not satisfied(low):
            return
        while low < high and self.evaluations < budget:
            middle = (low + high + 1) // 2
            if satisfied(middle):
                low = middle
            else:
                high = middle - 1
        run(frozenset([self.make.change("set", change.path, low, template)]))  # the largest: recorded

    def _set_text(self, changes: frozenset[Change], key: str = "counterfactual-set") -> str:
        t = self.texts
        documented = [c.text for c in sorted(changes) if c.action in ("add", "revise", "remove")]
        requested = [c.text for c in sorted(changes) if c.action == "set"]
        parts = []
        if documented:
            parts.append(t("counterfactual-documented", changes=join(documented)))
        if requested:
            parts.append(t("counterfactual-requested", changes=join(requested)))
        if key == "counterfactual-rests-on":
            return t(key, changes=join([c.text for c in sorted(changes)]))
        return t(key, changes=join(parts))

    # -- an overturned item ------------------------------------------------------------------

    def rests_on(self, item: ItemDecision) -> list[ChangeSet]:
        template = self.voc.by_name["edit-remove"]
        sets = []
        for name in _LISTS:
            for index, entry in enumerate(self.data.get(name) or []):
                if self.evaluations >= self.bounds["max_evaluations"]:
                    break
                change = Change("remove", f"{name}[{index}]", json.dumps(entry, sort_keys=True, default=str),
                                template.name, "")
                change = Change(change.action, change.path, change.value_json, change.template,
                                self.make.words(template, "remove", change.path, entry))
                out = self.outcome(item.request_id, frozenset([change]))
                if out is not None and out.decision == UPHELD:
                    broken = tuple(local_name(r.criterion.iri) for r in out.criteria if r.unmet)
                    sets.append(ChangeSet((change,), broken, str(out.decision),
                                          self._set_text(frozenset([change]), "counterfactual-rests-on")))
        return sets[: self.bounds["max_sets"]]



def join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]

