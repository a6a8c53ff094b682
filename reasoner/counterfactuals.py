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
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from . import engines, intake, ruleterms
from . import rulebase as rulebase_module
from .decisions import NOT_ADDRESSED, OVERTURNED, UPHELD, CriterionResult
from .determination import Determination, ItemDecision
from .errors import IntakeError, MtusError, Problem
from .namespaces import CODE, MTUS, local_name
from .rulebase import RuleBase
from .texts import Texts

_BOUNDS = (MTUS.maxInclusiveFrom, MTUS.maxExclusiveFrom, MTUS.minInclusiveFrom, MTUS.minExclusiveFrom)
_MAX_DEPTH = 6
_LISTS = ("findings", "studies", "treatments", "medications", "diagnoses")

__all__ = ["DEFAULT_BOUNDS", "CaseCounterfactuals", "Change", "ChangeSet", "ItemCounterfactuals", "find"]

#: the default bounds of the search (documented in README and in every report)
DEFAULT_BOUNDS = {"max_size": 4, "max_evaluations": 80, "max_sets": 5, "pair_width": 3}


# ------------------------------------------------------------------------------------------
# Results (plain data: the JSON form is what the CLI, the service and other modules read)

@dataclass(frozen=True, order=True)
class Change:
    """One documentable change in case-format terms."""

    action: str  # add | set | revise | remove
    path: str  # findings | requests[0].quantity | findings[6]
    value_json: str  # the entry added, the value set, the revised or removed entry (JSON)
    template: str  # the edit template (kb local name)
    text: str = field(compare=False, default="")

    @property
    def value(self) -> Any:
        return json.loads(self.value_json)

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "path": self.path, "value": self.value,
                "template": self.template, "text": self.text}


@dataclass(frozen=True)
class ChangeSet:
    changes: tuple[Change, ...]
    satisfies: tuple[str, ...]  # the criteria (ids) the set turns met or not applicable
    turns_to: str  # the decision the changed case gets
    text: str = ""
    verified: bool = True

    def as_json(self) -> dict[str, Any]:
        return {"changes": [c.as_json() for c in self.changes], "satisfies": list(self.satisfies),
                "turns_to": self.turns_to, "verified": self.verified, "text": self.text}


@dataclass(frozen=True)
class ItemCounterfactuals:
    request_id: str
    decision: str
    #: would_overturn (sets that turn an upheld item), rests_on (entries whose absence turns an
    #: overturned item), none (no set found: see ``reason``)
    kind: str
    sets: tuple[ChangeSet, ...]
    #: why none: not_addressed, blocked (some unmet criterion has no derivable change), bound
    #: (none found within the bounds), redundant (an overturned item no single entry of the
    #: record is needed for); None when sets were found
    reason: str | None
    blocked: tuple[str, ...]  # the criteria no derivable change can satisfy
    text: str
    evaluations: int
    seconds: float
    bounds: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {"request": self.request_id, "decision": self.decision, "kind": self.kind,
                "counterfactuals": [s.as_json() for s in self.sets], "reason": self.reason,
                "blocked": list(self.blocked), "text": self.text,
                "search": {"evaluations": self.evaluations, "seconds": round(self.seconds, 3), **self.bounds}}


@dataclass(frozen=True)
class CaseCounterfactuals:
    case_id: str
    items: tuple[ItemCounterfactuals, ...]
    #: the determination of the case as given, carrying these counterfactuals (its JSON, letter
    #: and Turtle forms show them)
    determination: Determination | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"case": self.case_id, "items": [i.as_json() for i in self.items]}

    def item(self, request_id: str) -> ItemCounterfactuals:
        return next(i for i in self.items if i.request_id == request_id)


# ------------------------------------------------------------------------------------------
# The vocabulary: edit templates, the context's fields, the rules' terms

@dataclass(frozen=True)
class Template:
    iri: URIRef
    name: str
    list: str
    slot_field: str
    slot_class: URIRef | None
    satisfies: frozenset[URIRef]
    sets: tuple[tuple[str, Any], ...]
    copies: tuple[str, ...]
    dated: tuple[str, ...]
    start: tuple[str, ...]
    order: int
    text: str


@dataclass(frozen=True)
class RuleTerms:
    name: str
    codes: tuple[URIRef, ...]
    classes: tuple[URIRef, ...]
    predicates: tuple[URIRef, ...]


@dataclass(frozen=True)
class Need:
    """What a criterion's shape (or a rule behind it) asks, as a group of alternatives."""

    group: str
    kind: str  # code | set | bound
    codes: tuple[URIRef, ...] = ()
    named: frozenset[URIRef] = frozenset()
    field: str = ""
    values: tuple[Any, ...] = ()


class Vocabulary:
    """What the search reads from the rule base, built once per rule base."""

    def __init__(self, rb: RuleBase) -> None:
        self.rb = rb
        self.templates = self._templates(rb.kb)
        self.by_name = {t.name: t for t in self.templates}
        self.fields = self._fields(rb.context)
        self.rules = self._rules(rb)
        self.producers: dict[URIRef, list[RuleTerms]] = {}
        properties = ruleterms.properties_of(rb.closure)
        for rule in rb.rules:
            for pred in ruleterms.derives(rule.query, properties):
                self.producers.setdefault(pred, []).append(self.rules[rule.name])
        # the helper shapes an added entry is made to satisfy: named, not walked for needs
        self.helpers = frozenset(shape for t in self.templates for shape in t.satisfies)
        self._types: dict[URIRef, frozenset[URIRef]] = {}
        self._members: dict[URIRef, tuple[URIRef, ...]] = {}
        self._sites: dict[URIRef, frozenset[Node]] = {}
        self._needs: dict[tuple[URIRef, dt.date | None], tuple[Need, ...]] = {}

    @staticmethod
    def _templates(kb: Graph) -> tuple[Template, ...]:
        out = []
        for iri in kb.subjects(RDF.type, MTUS.EditTemplate):
            if not isinstance(iri, URIRef):
                continue
            sets = tuple(sorted((str(kb.value(fv, MTUS.fieldName)), _python(kb.value(fv, MTUS.fieldValue)))
                                for fv in kb.objects(iri, MTUS.setsField)))
            slot_class = kb.value(iri, MTUS.slotClass)
            out.append(Template(
                iri=iri, name=local_name(iri), list=str(kb.value(iri, MTUS.editList) or ""),
                slot_field=str(kb.value(iri, MTUS.slotField) or ""),
                slot_class=slot_class if isinstance(slot_class, URIRef) else None,
                satisfies=frozenset(s for s in kb.objects(iri, MTUS.satisfiesShape) if isinstance(s, URIRef)), sets=sets,
                copies=tuple(sorted(str(v) for v in kb.objects(iri, MTUS.copiesFromItem))),
                dated=tuple(sorted(str(v) for v in kb.objects(iri, MTUS.datedField))),
                start=tuple(sorted(str(v) for v in kb.objects(iri, MTUS.startField))),
                order=int(str(kb.value(iri, MTUS.editOrder) or 0)), text=str(kb.value(iri, MTUS.changeText) or "")))
        return tuple(sorted(out, key=lambda t: (t.order, t.name)))

    @staticmethod
    def _fields(context: dict[str, Any]) -> dict[URIRef, str]:
        """Ontology property -> case-format field, by the JSON-LD context's terms."""
        ctx = context["@context"]
        prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("#", "/"))}
        out: dict[URIRef, str] = {}
        for term, definition in ctx.items():
            iri = definition.get("@id") if isinstance(definition, dict) else definition
            if not isinstance(iri, str) or term.startswith("@") or term in prefixes:
                continue
            prefix, _, rest = iri.partition(":")
            full = prefixes[prefix] + rest if prefix in prefixes else iri
            out.setdefault(URIRef(full), term)
        return out

    @staticmethod
    def _rules(rb: RuleBase) -> dict[str, RuleTerms]:
        out = {}
        for rule in rb.rules:
            codes: set[URIRef] = set()
            classes: set[URIRef] = set()
            preds: set[URIRef] = set()
            for s, p, o in ruleterms.algebra_triples(rule.query.algebra.get("p")):
                if p == RDF.type and isinstance(o, URIRef):
                    classes.add(o)
                elif isinstance(p, URIRef):
                    preds.add(p)
                for term in (s, o):
                    if isinstance(term, URIRef) and str(term).startswith(str(CODE)):
                        codes.add(term)
            for term in ruleterms.algebra_terms(rule.query.algebra.get("p")):
                if isinstance(term, URIRef) and str(term).startswith(str(CODE)):
                    codes.add(term)
            out[rule.name] = RuleTerms(rule.name, tuple(sorted(codes)), tuple(sorted(classes)), tuple(sorted(preds)))
        return out

    def types(self, code: URIRef) -> frozenset[URIRef]:
        found = self._types.get(code)
        if found is None:
            found = self._types[code] = frozenset(o for o in self.rb.closure.objects(code, RDF.type)
                                                  if isinstance(o, URIRef))
        return found

    def fits(self, code: URIRef, region: str | None) -> bool:
        """Whether ``code`` can stand for the region (ontology/sites.ttl): it has no anatomical
        site, or a site of it is the region, lies within it or contains it (mtus:partOf)."""
        if region is None:
            return True
        sites = self._sites.get(code)
        if sites is None:
            sites = self._sites[code] = frozenset(self.rb.closure.objects(code, MTUS.anatomicalSite))
        if not sites:
            return True
        where = CODE[str(region)]
        around = {where, *self.rb.closure.objects(where, MTUS.partOf)}
        return any(site in around or (site, MTUS.partOf, where) in self.rb.closure for site in sites)

    def members(self, cls: URIRef) -> tuple[URIRef, ...]:
        found = self._members.get(cls)
        if found is None:
            found = self._members[cls] = tuple(sorted(s for s in self.rb.closure.subjects(RDF.type, cls)
                                                      if isinstance(s, URIRef) and str(s).startswith(str(CODE))))
        return found

    # -- needs of a criterion ----------------------------------------------------------------

    def needs(self, result: CriterionResult) -> tuple[Need, ...]:
        """The groups of alternatives the criterion (and its branches) asks, from its shapes."""
        out: list[Need] = []
        for res in result.walk():
            crit = res.criterion
            for role in (MTUS.Support, MTUS.Contradiction):
                for shape in crit.shapes.get(role, ()):
                    out += self._shape_needs(shape)
        seen: set[tuple[Any, ...]] = set()
        unique = []
        for need in out:
            key = (need.kind, need.codes, need.named, need.field, need.values)
            if key not in seen:
                seen.add(key)
                unique.append(need)
        return tuple(unique)

    def _shape_needs(self, shape: URIRef) -> tuple[Need, ...]:
        key = (shape, None)
        found = self._needs.get(key)
        if found is None:
            found = self._needs[key] = tuple(self._walk(self.rb.shapes, shape, 0, str(local_name(shape))))
        return found

    def _walk(self, g: Graph, node: Node, depth: int, group: str) -> Iterator[Need]:
        if depth > _MAX_DEPTH:
            return
        named = frozenset(m for lst in g.objects(node, SH["and"]) for m in Collection(g, lst)
                          if isinstance(m, URIRef))
        for member in (m for lst in g.objects(node, SH["and"]) for m in Collection(g, lst) if not isinstance(m, URIRef)):
            yield from self._walk(g, member, depth, group)
        if depth > 0:  # a value shape that names the codes itself (the value is the code)
            own = [v for v in g.objects(node, SH.hasValue)] + [v for lst in g.objects(node, SH["in"])
                                                               for v in Collection(g, lst)]
            own += [m for c in g.objects(node, SH["class"]) if isinstance(c, URIRef) for m in self.members(c)]
            codes = tuple(v for v in own if isinstance(v, URIRef))
            if codes:
                yield Need(f"{group}/{depth}/value", "code", codes, named)
        nested: list[tuple[tuple[URIRef, ...], URIRef | None, Node]] = []
        for i, prop in enumerate(g.objects(node, SH.property)):
            sub = f"{group}/{depth}.{i}"
            path = g.value(prop, SH.path)
            firsts = _first_predicates(g, path)
            sequence = tuple(p for p in Collection(g, path) if isinstance(p, URIRef)) \
                if path is not None and g.value(path, RDF.first) is not None else ()
            if depth > 0 and len(sequence) > 1 and all(p in self.fields for p in sequence):
                # a field within an entry's field (a treatment's outcome): documented on the entry
                for value in g.objects(prop, SH.hasValue):
                    nested.append((sequence, None, value))
                for bound in (MTUS.minInclusiveFrom, MTUS.minExclusiveFrom):
                    for threshold in g.objects(prop, bound):
                        nested.append((sequence, bound, threshold))
            stated = [v for v in g.objects(prop, SH.hasValue)]
            stated += [v for lst in g.objects(prop, SH["in"]) for v in Collection(g, lst)]
            members = [m for c in g.objects(prop, SH["class"]) if isinstance(c, URIRef) for m in self.members(c)]
            if sequence and sequence[-1] == RDF.type:  # ( mtus:drug rdf:type ) sh:hasValue C: C's members
                members += [m for c in stated if isinstance(c, URIRef) for m in self.members(c)]
                stated = []
            if depth > 0 and (stated or members):
                codes = tuple(v for v in stated + members if isinstance(v, URIRef))
                if codes:
                    yield Need(sub, "code", codes, named)
            elif depth == 0 and isinstance(path, URIRef) and path in self.fields and stated:
                yield Need(sub, "set", field=self.fields[path], values=tuple(stated))
            for bound in _BOUNDS:
                limit = g.value(prop, bound)
                if not isinstance(limit, URIRef) or depth != 0 or not isinstance(path, URIRef):
                    continue
                fields = [self.fields[path]] if path in self.fields else self._source_fields(path)
                for name in dict.fromkeys(fields):
                    yield Need(f"{sub}/{name}", "bound", field=name, values=(limit, bound))
            for first in firsts:
                for rule in self.producers.get(first, ()):
                    for cls in rule.classes:
                        yield Need(f"{rule.name}:{local_name(cls)}", "code", self.members(cls))
                    for code in rule.codes:
                        yield Need(f"{rule.name}:{local_name(code)}", "code", (code,))
            for q in g.objects(prop, SH.qualifiedValueShape):
                yield from self._walk(g, q, depth + 1, sub)
            for q in g.objects(prop, SH.node):
                if q not in self.helpers:
                    yield from self._walk(g, q, depth + 1, sub)
            if g.value(prop, SH.property) is not None:
                yield from self._walk(g, prop, depth + 1, sub)
        if nested:
            yield Need(f"{group}/{depth}/entry", "entry", values=tuple(nested))
        for lst in g.objects(node, SH["or"]):
            for member in Collection(g, lst):
                if member not in self.helpers:
                    yield from self._walk(g, member, depth, group)


    def _source_fields(self, prop: URIRef) -> list[str]:
        """The case-format fields the rules deriving ``prop`` read, through other derived
        properties (every field a derived amount is computed from)."""
        out: list[str] = []
        seen: set[URIRef] = set()
        todo = [prop]
        while todo:
            current = todo.pop(0)
            if current in seen:
                continue
            seen.add(current)
            for rule in self.producers.get(current, ()):
                for used in rule.predicates:
                    if used in self.fields:
                        out.append(self.fields[used])
                    elif used in self.producers:
                        todo.append(used)
        return list(dict.fromkeys(out))


def _python(node: Node | None) -> Any:
    return node.toPython() if isinstance(node, Literal) else str(node) if node is not None else None


def _first_predicates(g: Graph, path: Node | None) -> list[URIRef]:
    """The predicates a SHACL path starts with (a predicate, a sequence, alternatives)."""
    if path is None:
        return []
    if isinstance(path, URIRef):
        return [path]
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        return [p for member in Collection(g, alternatives) for p in _first_predicates(g, member)]
    head = g.value(path, RDF.first)
    return _first_predicates(g, head) if head is not None else []


def vocabulary(rb: RuleBase) -> Vocabulary:
    return rulebase_module.derived(rb, "counterfactual-vocabulary", Vocabulary)


# ------------------------------------------------------------------------------------------
# Case data: reading, changing

def case_data(case: str | Path | dict[str, Any]) -> dict[str, Any]:
    """The case as a plain mapping in the case format (a YAML or JSON path, or a mapping)."""
    if isinstance(case, dict):
        return copy.deepcopy(case)
    path = Path(case)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise IntakeError(str(path), [Problem("(file)", "counterfactuals change the case data: give the case "
                                              "as YAML or JSON in the case format")])
    raw = path.read_text(encoding="utf-8")
    data = yaml.load(raw, Loader=intake._CaseLoader) if path.suffix.lower() != ".json" else json.loads(raw)
    if not isinstance(data, dict):
        raise IntakeError(str(path), [Problem("(top level)", "expected a mapping of case fields")])
    return data


_INDEXED = re.compile(r"^(\w+)\[(\d+)\](?:\.(\w+))?$")


def apply(data: dict[str, Any], changes: tuple[Change, ...] | list[Change]) -> dict[str, Any]:
    """A copy of the case data with the changes applied (removals last, highest index first)."""
    out = copy.deepcopy(data)
    out.pop("expected", None)
    removals = []
    for change in changes:
        if change.action == "add":
            out.setdefault(change.path, []).append(change.value)
            continue
        m = _INDEXED.match(change.path)
        if m is None:
            raise ValueError(f"not a case-format path: {change.path}")
        name, index, key = m.group(1), int(m.group(2)), m.group(3)
        if change.action == "remove":
            removals.append((name, index))
        elif key is None:
            out[name][index] = change.value
        else:
            out[name][index][key] = change.value
    for name, index in sorted(removals, key=lambda r: -r[1]):
        del out[name][index]
    return out


# ------------------------------------------------------------------------------------------
# The search

class _Search:
    def __init__(self, data: dict[str, Any], det: Determination, rb: RuleBase, engine: str,
                 bounds: dict[str, int]) -> None:
        self.data = data
        self.det = det
        self.rb = rb
        self.engine = engine
        self.bounds = bounds
        self.voc = vocabulary(rb)
        self.texts = det.texts or Texts(rb.kb, rb.closure, rb.catalog.writer)
        self.cache: dict[frozenset[Change], ItemDecision | None] = {}
        self.evaluations = 0
        self.request_index = {str(r.get("id")): i for i, r in enumerate(data.get("requests") or [])}
        self.root = str(det.case_iri)

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

    # -- candidates --------------------------------------------------------------------------

    def candidates(self, item: ItemDecision, result: CriterionResult) -> list[tuple[str, Change]]:
        """(group, change) for one unmet criterion, in the order the search tries them."""
        request = (self.data.get("requests") or [])[self.request_index[item.request_id]]
        out: list[tuple[str, Change]] = []
        for fact in (f for r in result.walk() for f in r.contradicting):
            change = self._revise(fact.node)
            if change is not None:
                out.append((f"revise:{change.path}", change))
        for need in self.voc.needs(result):
            if need.kind == "code":
                for code in need.codes:
                    if not self.voc.fits(code, request.get("region")):
                        continue  # anatomically elsewhere (carpal tunnel release of the lumbar spine)
                    for template in self.voc.templates:
                        if template.slot_class is None or template.slot_class not in self.voc.types(code):
                            continue
                        if need.named and not need.named <= template.satisfies:
                            continue
                        out.append((need.group, self._add(template, code, request, item)))
            elif need.kind == "set":
                for value in need.values:
                    if isinstance(value, URIRef) and not self.voc.fits(value, request.get("region")):
                        continue
                    out.append((need.group, self._set(item, need.field, value, "edit-request-code")))
            elif need.kind == "bound":
                value = self._bound(item, need.values[0], need.values[1])
                if value is not None:
                    out.append((need.group, self._set(item, need.field, value, "edit-request-bound")))
            elif need.kind == "entry":
                out += [(need.group, c) for c in self._document_entries(item, request, need)]
        unique: dict[Change, str] = {}
        for group, change in out:
            unique.setdefault(change, group)
        return [(g, c) for c, g in unique.items()]

    def _document_entries(self, item: ItemDecision, request: dict[str, Any], need: Need) -> list[Change]:
        """The prior courses of the requested service or drug, each with the nested fields the
        shape asks (an outcome's relief at its threshold, functional improvement) documented."""
        template = self.voc.by_name["edit-entry-outcome"]
        out = []
        for index, entry in enumerate(self.data.get(template.list) or []):
            if not any(entry.get(k) is not None and entry.get(k) == request.get(k) for k in ("service", "drug")):
                continue
            if request.get("drug") is not None and entry.get("drug") != request.get("drug"):
                continue
            new = copy.deepcopy(entry)
            for sequence, bound, value in need.values:
                if bound is None:
                    found: Any = value.toPython() if isinstance(value, Literal) else self.texts.notation(value)
                else:
                    found = self._bound(item, value, bound)
                    if found is None:
                        break
                    found = int(found) if found == found.to_integral_value() else float(found)
                names = [self.voc.fields[p] for p in sequence]
                holder = new
                for name in names[:-1]:
                    holder = holder.setdefault(name, {})
                    if not isinstance(holder, dict):
                        break
                else:
                    holder[names[-1]] = found
                    continue
                break
            else:
                if new != entry:
                    out.append(self._change("revise", f"{template.list}[{index}]", new, template))
        return out

    def _revise(self, node: Node | None) -> Change | None:
        if not isinstance(node, URIRef) or not str(node).startswith(self.root + "/"):
            return None
        parts = str(node)[len(self.root) + 1:].split("/")
        if len(parts) != 2 or not parts[1].isdigit():
            return None
        name, index = parts[0], int(parts[1])
        template = next((t for t in self.voc.templates if t.list == name and not t.slot_field and t.sets), None)
        entries = self.data.get(name) or []
        if template is None or index >= len(entries):
            return None
        entry = dict(entries[index])
        if all(entry.get(k) == v for k, v in template.sets) or not any(k in entry for k, _ in template.sets):
            return None
        entry.update(dict(template.sets))
        return self._change("revise", f"{name}[{index}]", entry, template)

    def _add(self, template: Template, code: URIRef, request: dict[str, Any], item: ItemDecision) -> Change:
        notation = self.texts.notation(code)
        entry: dict[str, Any] = {}
        entry[template.slot_field] = [notation] if template.slot_field == "findings" else notation
        for key in template.copies:
            if request.get(key) is not None:
                entry[key] = request[key]
        for key, value in template.sets:
            entry[key] = value
        review = str(self.data.get("review_date"))
        for key in template.start:
            entry[key] = str((self.data.get("injury") or {}).get("date") or review)
        for key in template.dated:
            entry[key] = review
        revised = self._supersede(template, entry)
        return revised if revised is not None else self._change("add", template.list, entry, template)

    def _supersede(self, template: Template, entry: dict[str, Any]) -> Change | None:
        """An entry the record already has as a documented negative (same code and region,
        present: false) is re-documented rather than contradicted by a second entry."""
        revise = next((t for t in self.voc.templates if t.list == template.list and not t.slot_field and t.sets), None)
        if revise is None:
            return None
        for index, old in enumerate(self.data.get(template.list) or []):
            same = all(old.get(k) == entry.get(k) for k in (template.slot_field, "region"))
            if same and any(old.get(k) is not None and old.get(k) != v for k, v in revise.sets):
                new = {**old, **entry, **dict(revise.sets)}
                return self._change("revise", f"{template.list}[{index}]", new, revise)
        return None

    def _set(self, item: ItemDecision, name: str, value: Any, template: str) -> Change:
        if isinstance(value, URIRef):
            value = self.texts.notation(value)
        elif isinstance(value, Literal):
            value = value.toPython()
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        path = f"requests[{self.request_index[item.request_id]}].{name}"
        return self._change("set", path, value, self.voc.by_name[template])

    def _bound(self, item: ItemDecision, threshold: URIRef, bound: URIRef) -> Decimal | None:
        day = item.rule_date or self.det.review_date
        found = self.rb.values_on(day).get(threshold)
        if found is None:
            return None
        value = found.value if isinstance(found.value, Decimal) else None
        if value is None:
            try:
                value = Decimal(str(found.value))
            except ArithmeticError:
                return None
        integral = value == value.to_integral_value()
        if bound == MTUS.maxExclusiveFrom:
            return value - 1 if integral else None
        if bound == MTUS.minExclusiveFrom:
            return value + 1 if integral else None
        return value

    def _change(self, action: str, path: str, value: Any, template: Template) -> Change:
        return Change(action, path, json.dumps(value, sort_keys=True, default=str), template.name,
                      self._words(template, action, path, value))

    def _words(self, template: Template, action: str, path: str, value: Any) -> str:
        t = self.texts
        label = t.label
        if action == "set":
            return t(template.text, field=path.rsplit(".", 1)[-1].replace("_", " "),
                     value=label(CODE[value]) if isinstance(value, str) else value)
        if action == "remove":
            return t(template.text, fact=self._entry_words(path.split("[")[0], value))
        return self._entry_words(template.list, value, template)

    def _entry_words(self, name: str, entry: dict[str, Any], template: Template | None = None) -> str:
        t = self.texts

        def label(value: Any) -> str:
            return t.label(CODE[str(value)])

        region = entry.get("region")
        where = t("fact-region", region=label(region)) if region else ""
        if template is not None and template.text == "change-study":
            codes = entry.get("findings") or []
            return t(template.text, kind=label(entry.get("kind")), where=where,
                     code=", ".join(label(c) for c in codes))
        if template is not None and template.text == "change-outcome":
            what = entry.get("service") or entry.get("drug")
            outcome = entry.get("outcome") or {}
            props = {v: k for k, v in self.voc.fields.items()}
            parts = [f"{t.label(props[k]) if k in props else k} {_value_words(v, t)}" for k, v in sorted(outcome.items())]
            return t(template.text, what=label(what), where=where, outcome=", ".join(parts))
        if template is not None and template.text == "change-treatment":
            what = entry.get("service") or entry.get("drug")
            return t(template.text, what=label(what), where=where)
        if template is not None:
            return t(template.text, code=label(entry.get("code")), where=where)
        # an entry as the record has it (what a decision rests on)
        what = entry.get("code") or entry.get("service") or entry.get("drug") or entry.get("kind") or entry.get("icd10")
        text = label(what) if what else name
        if entry.get("present") is False:
            text = t("fact-finding-absent", source=label(entry.get("source")) if entry.get("source")
                     else t("unknown-source"), code=text, where=where)
        return f"{text}{where}" if entry.get("present") is not False else text

    # -- an upheld item ----------------------------------------------------------------------

    def would_overturn(self, item: ItemDecision) -> tuple[list[ChangeSet], tuple[str, ...]]:
        blockers = [r for r in item.criteria if r.unmet]
        ids = {r.criterion.iri: local_name(r.criterion.iri) for r in blockers}
        cands = {r.criterion.iri: self.candidates(item, r) for r in blockers}
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
        index, name = self.request_index[item.request_id], change.path.rsplit(".", 1)[-1]
        current = (self.data.get("requests") or [])[index].get(name)
        if isinstance(current, bool) or not isinstance(current, int) or current <= 1:
            return
        template = self.voc.by_name[change.template]

        def satisfied(value: int) -> bool:
            out = self.outcome(item.request_id, frozenset([self._change("set", change.path, value, template)]))
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
        run(frozenset([self._change("set", change.path, low, template)]))  # the largest: recorded

    def _set_text(self, changes: frozenset[Change], key: str = "counterfactual-set") -> str:
        t = self.texts
        documented = [c.text for c in sorted(changes) if c.action in ("add", "revise", "remove")]
        requested = [c.text for c in sorted(changes) if c.action == "set"]
        parts = []
        if documented:
            parts.append(t("counterfactual-documented", changes=_join(documented)))
        if requested:
            parts.append(t("counterfactual-requested", changes=_join(requested)))
        if key == "counterfactual-rests-on":
            return t(key, changes=_join([c.text for c in sorted(changes)]))
        return t(key, changes=_join(parts))

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
                                self._words(template, "remove", change.path, entry))
                out = self.outcome(item.request_id, frozenset([change]))
                if out is not None and out.decision == UPHELD:
                    broken = tuple(local_name(r.criterion.iri) for r in out.criteria if r.unmet)
                    sets.append(ChangeSet((change,), broken, str(out.decision),
                                          self._set_text(frozenset([change]), "counterfactual-rests-on")))
        return sets[: self.bounds["max_sets"]]


def _value_words(value: Any, texts: Texts) -> str:
    if isinstance(value, bool):
        return texts("change-yes") if value else texts("change-no")
    return str(value)


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


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
        search = _Search(data, det, rb, engine, bounds)
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
                text = texts("counterfactual-none-blocked", criteria=_join(shortfalls))
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
