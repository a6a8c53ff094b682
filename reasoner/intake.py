"""Intake: a case file (YAML, JSON, JSON-LD, Turtle), a dict or a graph becomes a case graph.

YAML and JSON become RDF through the bundled JSON-LD context (ontology/case-context.jsonld);
nothing is fetched from the network. Each object of the file gets an IRI made from its field
path, so that a problem found by the intake shapes can be reported at that path.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from . import intake_check
from .errors import IntakeError, Problem
from .namespaces import CASE, MTUS
from .rulebase import RuleBase

CONTEXT_IRI = "https://w3id.org/mtus/context.jsonld"
_DAY_ZERO = dt.date(1, 1, 1)


class _CaseLoader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: dates stay text and are checked by the shapes."""


_CaseLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class CaseInput:
    """A case as RDF, with what is needed to report on it."""

    graph: Graph
    root: URIRef
    source: str
    input_hash: str
    field_paths: dict[URIRef, str] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None

    @property
    def identifier(self) -> str:
        value = self.graph.value(self.root, MTUS.identifier)
        return str(value) if value is not None else str(self.root)


def _assign_ids(node: Any, iri: str, path: str, paths: dict[URIRef, str]) -> None:
    if isinstance(node, dict):
        node["@id"] = iri
        paths[URIRef(iri)] = path
        for key, value in node.items():
            if key.startswith("@"):
                continue
            if isinstance(value, list):
                for i, item in enumerate(value):
                    _assign_ids(item, f"{iri}/{key}/{i}", f"{path}.{key}[{i}]" if path else f"{key}[{i}]", paths)
            else:
                _assign_ids(value, f"{iri}/{key}", f"{path}.{key}" if path else key, paths)


def _from_mapping(data: dict[str, Any], rulebase: RuleBase, source: str, raw: bytes) -> CaseInput:
    problems: list[Problem] = []
    doc = copy.deepcopy(data)
    expected = doc.pop("expected", None) or {}
    problems += intake_check.expected_block(expected, rulebase)
    case_id = doc.get("id")
    slug = urllib.parse.quote(str(case_id), safe="") if case_id not in (None, "") else "case"
    root = URIRef(f"{CASE}{slug}")
    paths: dict[URIRef, str] = {}
    _assign_ids(doc, str(root), "", paths)
    doc["@type"] = str(MTUS.Case)
    doc["@context"] = rulebase.context["@context"]
    graph = Graph()
    try:
        graph.parse(data=json.dumps(doc), format="json-ld")
    except Exception as exc:  # noqa: BLE001 - the JSON-LD processor raises many exception types
        problems.append(Problem("(case)", f"cannot be read as a case: {exc}"))
        raise IntakeError(source, problems) from None
    case = CaseInput(graph, root, source, hashlib.sha256(raw).hexdigest(), paths, expected, data)
    problems += intake_check.validate(case, rulebase)
    if problems:
        raise IntakeError(source, problems)
    return case


def _strip_remote_contexts(doc: Any, rulebase: RuleBase, source: str) -> Any:
    """Replace our context IRI by the bundled context; refuse any other remote context."""
    if isinstance(doc, dict):
        ctx = doc.get("@context")
        items = ctx if isinstance(ctx, list) else [ctx]
        new_items: list[Any] = []
        for item in items:
            if isinstance(item, str):
                if item != CONTEXT_IRI:
                    raise IntakeError(source, [Problem("@context", f"remote JSON-LD context {item!r} is "
                                                       f"not fetched; use {CONTEXT_IRI} or an inline context")])
                new_items.append(rulebase.context["@context"])
            elif item is not None:
                new_items.append(item)
        if ctx is not None:
            doc["@context"] = new_items
        for key, value in doc.items():
            if key != "@context":
                _strip_remote_contexts(value, rulebase, source)
    elif isinstance(doc, list):
        for item in doc:
            _strip_remote_contexts(item, rulebase, source)
    return doc


def _from_graph(graph: Graph, rulebase: RuleBase, source: str, raw: bytes) -> CaseInput:
    roots = [s for s in graph.subjects(RDF.type, MTUS.Case) if isinstance(s, URIRef)]
    if len(roots) != 1:
        raise IntakeError(source, [Problem("(graph)", f"expected exactly one node of type mtus:Case with an IRI, "
                                           f"found {len(roots)}")])
    case = CaseInput(graph, roots[0], source, hashlib.sha256(raw).hexdigest())
    problems = intake_check.validate(case, rulebase)
    if problems:
        raise IntakeError(source, problems)
    return case


def _read_path(path: Path, rulebase: RuleBase) -> CaseInput:
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IntakeError(source, [Problem("(file)", f"cannot be read: {exc.strerror}")]) from None
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = yaml.load(raw.decode("utf-8"), Loader=_CaseLoader)
        elif suffix == ".json":
            data = json.loads(raw)
        elif suffix == ".jsonld":
            doc = _strip_remote_contexts(json.loads(raw), rulebase, source)
            graph = Graph().parse(data=json.dumps(doc), format="json-ld")
            return _from_graph(graph, rulebase, source, raw)
        elif suffix in (".ttl", ".turtle"):
            return _from_graph(Graph().parse(data=raw.decode("utf-8"), format="turtle"), rulebase, source, raw)
        else:
            raise IntakeError(source, [Problem("(file)", f"unknown file type {suffix!r}; expected .yaml, .yml, "
                                               ".json, .jsonld or .ttl")])
    except IntakeError:
        raise
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntakeError(source, [Problem("(file)", f"not valid {suffix[1:].upper()}: {exc}")]) from None
    except Exception as exc:  # noqa: BLE001 - rdflib's parsers raise many exception types
        raise IntakeError(source, [Problem("(file)", f"not valid RDF: {exc}")]) from None
    if not isinstance(data, dict):
        raise IntakeError(source, [Problem("(top level)", "expected a mapping of case fields (id, review_date, "
                                           "requests, ...)")])
    if "resourceType" in data:  # a FHIR R4 Bundle (reasoner/fhir): read into the case format first
        from .fhir import bundle_in

        data = bundle_in.to_case(data, rulebase, source)
    return _from_mapping(data, rulebase, source, raw)


def read(case: str | Path | dict[str, Any] | Graph, rulebase: RuleBase) -> CaseInput:
    """Read a case from a path, a mapping in the case format, or an RDF graph."""
    if isinstance(case, Graph):
        raw = case.serialize(format="nt").encode()
        return _from_graph(case, rulebase, "(graph)", raw)
    if isinstance(case, dict):
        raw = json.dumps(case, sort_keys=True, default=str).encode()
        if "resourceType" in case:  # a FHIR R4 Bundle as a mapping
            from .fhir import bundle_in

            case = bundle_in.to_case(case, rulebase, "(Bundle)")
        return _from_mapping(case, rulebase, "(mapping)", raw)
    return _read_path(Path(case), rulebase)


def add_day_numbers(graph: Graph, rulebase: RuleBase) -> None:
    """For each property declared ``mtus:dayNumberOf`` a date property, add the day number."""
    for day_prop, date_prop in rulebase.ontology.subject_objects(MTUS.dayNumberOf):
        for node, value in list(graph.subject_objects(date_prop)):
            if isinstance(value, Literal) and value.datatype == XSD.date and value.ill_typed is False:
                date = value.toPython()
                if isinstance(date, dt.date):
                    graph.add((node, day_prop, Literal((date - _DAY_ZERO).days)))


def decide_as_of(case: CaseInput, day: dt.date) -> None:
    """Have the case decided under the rules in force on ``day`` (``--as-of``): every item's rule
    date reads as that day (mtus:asOfDate, kb/rules/01-rule-date.rq); the review date stays."""
    case.graph.set((case.root, MTUS.asOfDate, Literal(day)))
