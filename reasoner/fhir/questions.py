"""What would document a criterion, read from its support shapes: the questions of the
Questionnaire (reasoner/fhir/dtr.py) and how an answer becomes a case fact.

A support shape says what supports its criterion: a relevant finding with one of some codes (and
a source), a relevant treatment of some services with a status, a request field with a value, or
a derived property, which kb/fhir/questionnaire.ttl maps to the fact its rule reads. Each becomes
a :class:`Question` with its FHIR answer type (choice, boolean, date, decimal, string) and, for a
choice, its options; :func:`apply` writes an answer into the case. No clinical wording here: the
text of a question is the criterion's documentation_needed (kb/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from ..namespaces import MTUS
from ..rulebase import RuleBase
from .codemap import CODE, FMAP

_FINDING_PATHS = (MTUS.relevantFinding, MTUS.finding)
_TREATMENT_PATHS = (MTUS.relevantTreatment, MTUS.treatment)
_NAMES = {MTUS.code: "code", MTUS.service: "service", MTUS.drug: "drug", MTUS.status: "status",
          MTUS.source: "source"}
_TYPES = {XSD.boolean: "boolean", XSD.date: "date", XSD.decimal: "decimal", XSD.integer: "integer",
          XSD.nonNegativeInteger: "integer", XSD.positiveInteger: "integer", XSD.double: "decimal"}


@dataclass
class Question:
    """One question: where its answer goes (finding, treatment, diagnosis, request) and how."""

    context: str
    answer_type: str  # choice | boolean | date | decimal | integer | string
    options: list[str] = field(default_factory=list)  # project codes (local names), for choice
    sources: dict[str, str] = field(default_factory=dict)  # finding code -> source it must have
    statuses: dict[str, str] = field(default_factory=dict)  # treatment code -> status it records
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # treatment code -> its outcome
    field: str | None = None  # request field, or the field an answer fills (diagnosis since)
    code: str | None = None  # diagnosis code an answer records
    value: Any = None  # the value the shape asks for (boolean request fields)
    mapped: bool = True  # False: a free-text question whose answer is reported, not reasoned on


def _literal(text: str) -> Any:
    """An outcome value as the case format writes it (true, false, a number)."""
    if text in ("true", "false"):
        return text == "true"
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text


def _local(node: Node) -> str:
    return str(node).removeprefix(CODE)


def _list(g: Graph, node: Node | None) -> list[Node]:
    return list(Collection(g, node)) if node is not None else []


class Reader:
    def __init__(self, rb: RuleBase) -> None:
        self.rb = rb
        self.g = rb.shapes
        # the case-format field of each property (the JSON-LD context, read backwards)
        self.fields: dict[str, str] = {}
        for name, term in rb.context["@context"].items():
            iri = term.get("@id") if isinstance(term, dict) else term
            if isinstance(iri, str) and iri.startswith("mtus:"):
                self.fields.setdefault(str(MTUS) + iri[5:], name)

    def members(self, cls: Node) -> list[str]:
        return sorted(_local(c) for c in self.rb.closure.subjects(RDF.type, cls)
                      if isinstance(c, URIRef) and str(c).startswith(CODE))

    def _values(self, prop_shape: Node) -> list[str]:
        g = self.g
        out = [_local(v) for v in g.objects(prop_shape, SH.hasValue)]
        for lst in g.objects(prop_shape, SH["in"]):
            out += [_local(v) for v in _list(g, lst)]
        for cls in g.objects(prop_shape, SH["class"]):
            out += self.members(cls)
        for lst in g.objects(prop_shape, SH["or"]):
            for member in _list(g, lst):
                out += self._values(member)
        return out

    def _paths(self, prop_shape: Node) -> list[Node]:
        path = self.g.value(prop_shape, SH.path)
        if isinstance(path, URIRef):
            return [path]
        alt = self.g.value(path, SH.alternativePath) if path is not None else None
        if alt is not None:
            return _list(self.g, alt)
        return [tuple(_list(self.g, path))] if path is not None else []  # type: ignore[list-item]

    def _value_shapes(self, prop_shape: Node) -> list[Node]:
        g = self.g
        found = list(g.objects(prop_shape, SH.qualifiedValueShape)) + list(g.objects(prop_shape, SH.node))
        for key in (SH["or"], SH["and"], SH.xone):
            for lst in g.objects(prop_shape, key):
                found += _list(g, lst)
        return found

    def _constraints(self, shape: Node, out: dict[str, list[str]], depth: int = 0) -> list[Node]:
        """The code, service, drug, status and source values a node shape (and the shapes it
        combines) accepts, into ``out``; returns its other property shapes."""
        if depth > 6:
            return []
        rest: list[Node] = []
        g = self.g
        for prop in g.objects(shape, SH.property):
            if not self._constraints_of_prop(prop, out):
                rest.append(prop)
        for key in (SH["or"], SH["and"], SH.xone):
            for lst in g.objects(shape, key):
                for member in _list(g, lst):
                    rest += self._constraints(member, out, depth + 1)
        for node in g.objects(shape, SH.node):
            rest += self._constraints(node, out, depth + 1)
        return rest

    def questions(self, shape: Node) -> list[Question]:
        """The questions that would document what ``shape`` (a support shape) looks for."""
        found: list[Question] = []
        self._walk(shape, found, 0)
        return merge(found)

    def _walk(self, shape: Node, found: list[Question], depth: int) -> None:
        g = self.g
        if depth > 6:
            return
        for prop in list(g.objects(shape, SH.property)):
            paths = self._paths(prop)
            if any(p in _FINDING_PATHS or p in _TREATMENT_PATHS for p in paths):
                for vs in self._value_shapes(prop) or [prop]:
                    self._fact(vs, paths, found)
            elif len(paths) == 1 and isinstance(paths[0], URIRef):
                found += self._request_field(paths[0], prop)
            else:
                found.append(Question("none", "string", mapped=False))
        for key in (SH["or"], SH["and"], SH.xone):
            for lst in g.objects(shape, key):
                for member in _list(g, lst):
                    self._walk(member, found, depth + 1)

    def _fact(self, value_shape: Node, paths: list[Node], found: list[Question]) -> None:
        """A finding or a treatment that the value shape accepts (each branch of an sh:or)."""
        branches = []
        for lst in self.g.objects(value_shape, SH["or"]):
            branches += _list(self.g, lst)
        for branch in branches or [value_shape]:
            seen: dict[str, list[str]] = {}
            self._constraints(value_shape if not branches else branch, seen)
            if branches:  # what the shape requires beside its sh:or (its properties, its sh:node)
                for prop in self.g.objects(value_shape, SH.property):
                    self._constraints_of_prop(prop, seen)
                for node in self.g.objects(value_shape, SH.node):
                    self._constraints(node, seen, 1)
            if seen.get("code"):
                src = seen.get("source") or []
                found.append(Question("finding", "choice", options=list(dict.fromkeys(seen["code"])),
                                      sources={c: src[0] for c in seen["code"]} if src else {}))
            elif seen.get("service") or seen.get("drug"):
                status: str | None = (seen.get("status") or [None])[0]  # type: ignore[list-item]
                outcome = dict(o.split("=", 1) for o in seen.get("outcome", []))
                options = list(dict.fromkeys(seen.get("service", []) + seen.get("drug", [])))
                found.append(Question("treatment", "choice", options=options,
                                      statuses={c: status for c in options} if status else {},
                                      outcomes={c: {k: _literal(v) for k, v in outcome.items()} for c in options}
                                      if outcome else {}))
            elif any(p in _FINDING_PATHS or p in _TREATMENT_PATHS for p in paths):
                found.append(Question("none", "string", mapped=False))

    def _constraints_of_prop(self, prop: Node, out: dict[str, list[str]]) -> bool:
        """The values one property shape accepts for a code, service, drug, status or source (or
        a drug or service of a class, or an outcome), into ``out``; False for any other path."""
        paths = self._paths(prop)
        if len(paths) != 1:
            return False
        path = paths[0]
        name = _NAMES.get(path) if isinstance(path, URIRef) else None
        if name is not None:
            out.setdefault(name, []).extend(self._values(prop))
        elif isinstance(path, tuple) and path in ((MTUS.drug, RDF.type), (MTUS.service, RDF.type)):
            kind = "drug" if path[0] == MTUS.drug else "service"  # a drug or service of a class
            for cls in self.g.objects(prop, SH.hasValue):
                out.setdefault(kind, []).extend(self.members(cls))
        elif isinstance(path, tuple) and len(path) == 2 and path[0] == MTUS.outcome:
            name = self.fields.get(str(path[1]))  # an outcome field and the value the shape asks
            values = list(self.g.objects(prop, SH.hasValue)) + [
                v for lst in self.g.objects(prop, SH["in"]) for v in _list(self.g, lst)]
            if name is None or not values or not isinstance(values[0], Literal):
                return False
            out.setdefault("outcome", []).append(f"{name}={values[0]}")
        else:
            return False
        return True

    def _request_field(self, prop: URIRef, prop_shape: Node) -> list[Question]:
        """A request property: a case field with its type, or a derived property that
        kb/fhir/questionnaire.ttl maps to the facts that document it."""
        kb = self.rb.kb
        templates = sorted(kb.objects(prop, FMAP.answeredBy), key=str)
        if templates:
            return [self._template(t, prop_shape) for t in templates]
        name = self.fields.get(str(prop))
        if name is None:
            return [Question("none", "string", mapped=False)]
        value = self.g.value(prop_shape, SH.hasValue)
        rng = self.rb.ontology.value(prop, RDFS.range)
        kind = _TYPES.get(rng) if isinstance(rng, URIRef) else None
        if isinstance(value, Literal) and isinstance(value.toPython(), bool):
            kind = "boolean"
        if kind is None:
            return [Question("none", "string", mapped=False)]
        return [Question("request", kind, field=name,
                         value=value.toPython() if isinstance(value, Literal) else None)]

    def _template(self, template: Node, prop_shape: Node) -> Question:
        kb = self.rb.kb
        cls = kb.value(template, FMAP.optionsOfClass)
        options = self.members(cls) if cls is not None else []
        if kb.value(template, FMAP.optionsFromShape) is not None:
            for shape in [prop_shape, *self.g.objects(prop_shape, SH.qualifiedValueShape)]:
                options += self._values(shape)
        status = kb.value(template, FMAP.status)
        source = kb.value(template, FMAP.source)
        code = kb.value(template, FMAP.code)
        return Question(str(kb.value(template, FMAP.answerContext)), str(kb.value(template, FMAP.answerType)),
                        options=list(dict.fromkeys(options)),
                        statuses={c: _local(status) for c in options} if status is not None else {},
                        sources={c: _local(source) for c in options} if source is not None else {},
                        field=str(kb.value(template, FMAP.answerField) or "") or None,
                        code=_local(code) if code is not None else None)


def merge(found: list[Question]) -> list[Question]:
    """Choices about the same list (findings, or treatments with one status) become one question,
    unless they offer a finding from two sources (radiculopathy on examination and on testing:
    one answer could not say which); an unmapped question is kept only if nothing else documents
    the criterion."""
    out: list[Question] = []
    for q in found:
        twin = next((o for o in out if q.answer_type == "choice" and o.answer_type == "choice"
                     and o.context == q.context
                     and all(o.sources.get(c) == q.sources.get(c) for c in set(o.options) & set(q.options))),
                    None)
        if twin is not None:
            twin.options += [c for c in q.options if c not in twin.options]
            twin.sources.update({k: v for k, v in q.sources.items() if k not in twin.sources})
            twin.statuses.update({k: v for k, v in q.statuses.items() if k not in twin.statuses})
            twin.outcomes.update({k: v for k, v in q.outcomes.items() if k not in twin.outcomes})
        elif q.mapped or not any(o.mapped for o in out):
            out.append(q)
    if any(o.mapped for o in out):
        out = [o for o in out if o.mapped]
    return out


def apply(case: dict[str, Any], request_id: str, question: Question, answers: list[Any]) -> bool:
    """Write the answers to ``question`` (values: codes for a choice, else a bool, a date text or
    a number) into ``case`` for the request ``request_id``; False when the question is not mapped."""
    request = next(r for r in case.get("requests", []) if str(r.get("id")) == request_id)
    if not question.mapped:  # kept with the request as a note: shown to a reader, never reasoned on
        texts = [str(a) for a in answers if str(a).strip()]
        if texts:
            request["note"] = " ".join(filter(None, [request.get("note"), *texts]))
        return False
    where = {k: request[k] for k in ("region", "laterality") if request.get(k)}

    def add(key: str, fact: dict[str, Any]) -> None:
        facts = case.setdefault(key, [])
        if fact not in facts:  # the same fact answered twice is documented once
            facts.append(fact)

    for answer in answers:
        if question.context == "finding":
            fact: dict[str, Any] = {"code": answer, **where, "present": True}
            if question.sources.get(answer):
                fact["source"] = question.sources[answer]
            # the answer amends the record: it replaces a documented absence of the same finding
            # (same code, the request's region or none, the same source or none)
            case["findings"] = [f for f in case.get("findings") or [] if not (
                f.get("present", True) is False and f.get("code") == answer
                and f.get("region") in (None, where.get("region"))
                and (f.get("source") is None or fact.get("source") in (None, f.get("source"))))]
            add("findings", fact)
        elif question.context == "treatment":
            treatment: dict[str, Any] = {"drug" if answer in _DRUGS else "service": answer}
            if where.get("region"):
                treatment["region"] = where["region"]
            if question.statuses.get(answer):
                treatment["status"] = question.statuses[answer]
            if question.outcomes.get(answer):
                treatment["outcome"] = dict(question.outcomes[answer])
            add("treatments", treatment)
        elif question.context == "diagnosis":
            add("diagnoses", {"code": question.code, **where, question.field or "since": answer})
        elif question.context == "request" and question.field:
            request[question.field] = answer
    return True


_DRUGS: set[str] = set()


def load_drugs(rb: RuleBase) -> None:
    """The drug codes (a treatment answer that is a drug goes in ``drug``, not ``service``)."""
    if not _DRUGS:
        _DRUGS.update(_local(d) for d in rb.closure.subjects(RDF.type, MTUS.Drug) if isinstance(d, URIRef))
