"""What a fast-path engine is built from, once per rule base and kept in the rule-base cache
(:func:`compile_startup`): the compiled section queries, each rule's text with what it needs,
reads and may write, the day-number properties, what the wording reads, the rule-base triples
the intake queries read, the codes' classes and the result paths; and the checks made on them
when an engine starts (:func:`two_passes_exact`)."""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from .. import intake_check, validation
from ..namespaces import PREFIXES
from ..rulebase import RuleBase
from .caseread import DayRules
from .queries import compile_all
from .rules import FastRule, iris, needs, writes
from .terms import prologue, to_ox

#: The ontology whose properties a case states (the case format's vocabulary).
CORE = URIRef("https://w3id.org/mtus/ontology/core")
_IRI = re.compile(r"<([^<>\s]+)>")
_PREFIXED = re.compile(r"(?<![\w<])(" + "|".join(PREFIXES) + r"):([A-Za-z_][\w\-]*)")


def wording_reads(rb: RuleBase) -> set[str]:
    """What the wording of a determination reads from the working graph besides what selection
    and the section's shapes read (decide.py, rationale.py, texts.describe): the types and the
    properties a case states, never a derived one (tests/test_fastpath.py checks the modules).
    A rule that writes one of these always runs."""
    stated = {str(p) for p in rb.ontology.subjects(RDFS.isDefinedBy, CORE)
              if (p, RDF.type, OWL.ObjectProperty) in rb.ontology or (p, RDF.type, OWL.DatatypeProperty) in rb.ontology}
    return stated | {str(RDF.type)}


def query_reads(text: str) -> set[str]:
    """Every IRI a query text mentions, written in full or with one of our prefixes."""
    return set(_IRI.findall(text)) | {str(PREFIXES[prefix]) + name for prefix, name in _PREFIXED.findall(text)}


def two_passes_exact(rules: list[FastRule], first: list[bool]) -> bool:
    """Whether running the rules of ``first`` before the others gives what running them all in
    order gives: no later-run rule reads what a first-pass rule placed after it may write."""
    for index, rule in enumerate(rules):
        if first[index]:
            continue
        for later, other in enumerate(rules[index + 1:], start=index + 1):
            if first[later] and (other.writes is None or other.writes & rule.reads):
                return False
    return True


def compile_startup(rb: RuleBase) -> dict[str, Any]:
    """What an engine is built from, kept in the rule-base cache (a new process reads it back
    without walking the rules' algebra or reading the ontology and shapes graphs): the compiled
    queries (:func:`compile_all`); each rule's text, what it needs, reads and may write; the
    day-number properties; what the wording reads; the rule-base triples the intake queries
    read; and the result path of every compiled branch as validation names it."""
    compiled = compile_all(rb)
    code_types: dict[str, list[Node]] = {}
    for s, o in rb.reference.subject_objects(RDF.type):
        if isinstance(s, URIRef):
            code_types.setdefault(str(s), []).append(o)
    paths = {branch.path: validation._named_path(rb.shapes, branch.path)
             for query in compiled["sections"].values() if query is not None for branch in query.branches}
    return {
        **compiled,
        "rules": [(rule.name, prologue() + rule.path.read_text(encoding="utf-8"), needs(rule.query.algebra),
                   frozenset(iris(rule.query.algebra.p)), writes(rule.query.algebra)) for rule in rb.rules],
        "days": DayRules.of(rb).by_date,
        "wording_reads": wording_reads(rb),
        "intake_extra": [ox.Triple(to_ox(s), to_ox(p), to_ox(o))  # type: ignore[arg-type]
                         for s, p, o in intake_check.reference_triples(rb)],
        "code_types": code_types,
        "paths": paths,
    }


class CodeTypes:
    """The classes of each code of the reference graph as triples (``code rdf:type class``),
    made when a case first uses the code (a new process reads the plain table)."""

    def __init__(self, table: dict[str, list[Node]]) -> None:
        self._table = table
        self._made: dict[str, list[ox.Triple]] = {}

    def get(self, code: Node, default: list[ox.Triple]) -> list[ox.Triple]:
        key = str(code)
        found = self._made.get(key)
        if found is None:
            classes = self._table.get(key)
            if classes is None:
                return default
            subject = ox.NamedNode(key)
            found = self._made[key] = [ox.Triple(subject, _RDF_TYPE, to_ox(o)) for o in classes]
        return found

    def __contains__(self, code: object) -> bool:
        return str(code) in self._table

    def __getitem__(self, code: Node) -> list[ox.Triple]:
        if code not in self:
            raise KeyError(code)
        return self.get(code, [])


_RDF_TYPE = ox.NamedNode(str(RDF.type))
