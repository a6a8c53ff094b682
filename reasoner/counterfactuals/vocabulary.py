"""What the counterfactual search reads from the rule base, built once per rule base: the edit
templates of kb/counterfactual.ttl, the case format's fields (the JSON-LD context's terms), the
terms each derivation rule reads and derives, and the needs of a criterion's shapes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from .. import rulebase as rulebase_module
from .. import ruleterms
from ..decisions import CriterionResult
from ..namespaces import CODE, MTUS, local_name
from ..rulebase import RuleBase

_BOUNDS = (MTUS.maxInclusiveFrom, MTUS.maxExclusiveFrom, MTUS.minInclusiveFrom, MTUS.minExclusiveFrom)
_MAX_DEPTH = 6


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
