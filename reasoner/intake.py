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
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.plugins.shared.jsonld import context as jsonld_context

from . import caseformat, intake_check
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


def _from_mapping(data: dict[str, Any], rulebase: RuleBase, source: str, raw: bytes,
                  checked: bool = False) -> CaseInput:
    if not checked:
        caseformat.check(data, rulebase, source)
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
    except Exception:  # noqa: BLE001 - the JSON-LD processor raises many exception types
        problems.append(Problem("(case)", "cannot be read as a case (the JSON-LD processor refused it)"))
        raise IntakeError(source, problems) from None
    case = CaseInput(graph, root, source, hashlib.sha256(raw).hexdigest(), paths, expected, data)
    problems += intake_check.validate(case, rulebase)
    if problems:
        raise IntakeError(source, problems)
    return case


def _contexts_bundled(doc: Any, rulebase: RuleBase, source: str) -> Any:
    """Replace our context IRI by the bundled context, wherever a context appears (top level,
    nested objects, term definitions: scoped contexts); refuse any other context given by
    reference (a URL or a path, remote or local) and every ``@import``, without opening
    anything."""
    todo: list[tuple[Any, str]] = [(doc, "")]
    while todo:
        node, path = todo.pop()
        if isinstance(node, list):
            todo.extend((item, caseformat.join(path, i)) for i, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        if "@import" in node:
            raise IntakeError(source, [Problem(_at(path, "@import"), "an imported context is not read; use "
                                               f"{CONTEXT_IRI} or an inline context")])
        if "@context" in node:
            ctx = node["@context"]
            items = ctx if isinstance(ctx, list) else [ctx]
            new_items: list[Any] = []
            for item in items:
                if isinstance(item, str):
                    if item != CONTEXT_IRI:
                        raise IntakeError(source, [Problem(_at(path, "@context"), "a context given by reference "
                                                           "(a URL or a file) is never read; use "
                                                           f"{CONTEXT_IRI} or an inline context")])
                    new_items.append(rulebase.context["@context"])
                elif item is None or isinstance(item, dict):
                    if item is not None:
                        new_items.append(item)
                else:
                    raise IntakeError(source, [Problem(_at(path, "@context"), "expected a context: a mapping, "
                                                       f"{CONTEXT_IRI}, or a list of those")])
            node["@context"] = new_items
        todo.extend((value, _at(path, key)) for key, value in node.items())
    return doc


def _at(path: str, key: str) -> str:
    return caseformat.join(path, key)  # a key that is not a plain name is not shown


class _NoFetch(threading.local):
    active = False


_NO_FETCH = _NoFetch()
_FETCH = jsonld_context.Context._fetch_context


def _fetch_guarded(self: Any, source: str, base: str | None, referenced: set[str]) -> Any:
    """rdflib's context loader, refused while a case is parsed (nothing is opened: the
    document loader of a case is this refusal; _contexts_bundled has already refused with a
    message naming the place, so this is a second wall)."""
    if _NO_FETCH.active:
        raise _ContextRefused()
    return _FETCH(self, source, base, referenced)


class _ContextRefused(Exception):
    pass


jsonld_context.Context._fetch_context = _fetch_guarded  # type: ignore[method-assign,assignment]


def _parse_rdf(data: str, fmt: str) -> Graph:
    _NO_FETCH.active = True
    try:
        return Graph().parse(data=data, format=fmt)
    finally:
        _NO_FETCH.active = False


def _from_graph(graph: Graph, rulebase: RuleBase, source: str, raw: bytes) -> CaseInput:
    for term in {t for triple in graph for t in triple}:
        if caseformat.bad_text(str(term)) or len(str(term)) > caseformat.LIMITS.text_chars:
            raise IntakeError(source, [Problem("(graph)", "a term that is not valid Unicode (a lone surrogate) "
                                               f"or longer than {caseformat.LIMITS.text_chars} characters")])
    roots = [s for s in graph.subjects(RDF.type, MTUS.Case) if isinstance(s, URIRef)]
    if len(roots) != 1:
        raise IntakeError(source, [Problem("(graph)", f"expected exactly one node of type mtus:Case with an IRI, "
                                           f"found {len(roots)}")])
    case = CaseInput(graph, roots[0], source, hashlib.sha256(raw).hexdigest())
    problems = intake_check.validate(case, rulebase)
    if problems:
        raise IntakeError(source, problems)
    return case


def read_file(path: Path) -> tuple[bytes, str]:
    """A case file's bytes and its suffix (raises IntakeError)."""
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise IntakeError(source, [Problem("(file)", f"unknown file type {suffix!r}; expected .yaml, .yml, "
                                           ".json, .jsonld or .ttl")])
    try:
        with path.open("rb") as handle:
            raw = handle.read(caseformat.LIMITS.file_bytes + 1)
    except OSError as exc:
        raise IntakeError(source, [Problem("(file)", f"cannot be read: {exc.strerror}")]) from None
    return raw, suffix


SUFFIXES = (".yaml", ".yml", ".json", ".jsonld", ".ttl", ".turtle")


def _read_path(path: Path, rulebase: RuleBase) -> CaseInput:
    source = str(path)
    raw, suffix = read_file(path)
    if suffix in (".yaml", ".yml", ".json"):
        return _from_mapping(caseformat.load(raw, suffix, rulebase, source), rulebase, source, raw, checked=True)
    if suffix == ".jsonld":
        doc = _contexts_bundled(caseformat.parse(raw, suffix, source), rulebase, source)
        try:
            graph = _parse_rdf(json.dumps(doc), "json-ld")
        except Exception:  # noqa: BLE001 - rdflib's parsers raise many exception types
            raise IntakeError(source, [Problem("(file)", "not valid JSON-LD (the JSON-LD processor refused it)")]) \
                from None
        return _from_graph(graph, rulebase, source, raw)
    if len(raw) > caseformat.LIMITS.file_bytes:
        raise IntakeError(source, [Problem("(file)", f"larger than {caseformat.LIMITS.file_bytes} bytes, "
                                           "the case-file limit")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(source, [Problem("(file)", f"not valid UTF-8 text (at byte {exc.start})")]) from None
    try:
        graph = _parse_rdf(text, "turtle")
    except RecursionError:
        raise IntakeError(source, [Problem("(file)", "not valid Turtle: nested too deeply")]) from None
    except Exception as exc:  # noqa: BLE001 - rdflib's parsers raise many exception types
        line = getattr(exc, "lines", None)
        where = f" at line {line}" if isinstance(line, int) else ""
        raise IntakeError(source, [Problem("(file)", f"not valid Turtle{where}")]) from None
    return _from_graph(graph, rulebase, source, raw)


def read(case: str | Path | dict[str, Any] | Graph, rulebase: RuleBase) -> CaseInput:
    """Read a case from a path, a mapping in the case format, or an RDF graph."""
    if isinstance(case, Graph):
        raw = case.serialize(format="nt").encode()
        return _from_graph(case, rulebase, "(graph)", raw)
    if isinstance(case, dict):
        raw = json.dumps(case, sort_keys=True, default=str).encode()
        case = caseformat.mapping(case, rulebase, "(mapping)")  # a FHIR Bundle is read into a case here
        return _from_mapping(case, rulebase, "(mapping)", raw, checked=True)
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
