"""The naive baseline: each case the straightforward way, as a first version would do it.

rdflib reads the case (JSON-LD) and pySHACL checks it against the intake shapes; the case is
merged with the whole ontology and knowledge base (and what loading derives once: the
reference rules' flags and the implied end dates) and closed with OWL-RL (owlrl); the
derivation rules run in rdflib; pySHACL validates every requested item against every node
shape of the shapes graph (all sections at once; the section shapes have no targets, so they
are named); the decisions module reads the report. rdflib parses
every SPARQL query again each time (the memo of reasoner/sparql_cache.py is switched off).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import owlrl
import pyshacl
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from reasoner import decisions, intake, selection, sparql_cache
from reasoner.namespaces import MTUS, SH
from reasoner.rulebase import RuleBase
from reasoner.validation import ShapeOutcome, _named_path


@contextlib.contextmanager
def without_query_memo() -> Iterator[None]:
    sparql_cache.uninstall()
    try:
        yield
    finally:
        sparql_cache.install()


def evaluate(case: dict[str, Any], rb: RuleBase) -> list[tuple[str, str]]:
    """(request id, decision) per item of the case, decided the naive way."""
    with without_query_memo():
        case_input = intake.read(case, rb)
        data = Graph()
        data += rb.ontology
        data += rb.kb
        data += rb.reference  # what loading derives once: the reference rules' flags, implied end dates
        data += case_input.graph
        intake.add_day_numbers(data, rb)
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(data)
        for rule in rb.rules:
            data += data.query(rule.query).graph or Graph()
        requests = sorted(r for r in data.objects(case_input.root, MTUS.request) if isinstance(r, URIRef))
        every_shape = sorted(s for s in rb.shapes.subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef))
        shapes = rb.shapes_on(selection.rule_date(data, requests[0])) if requests else rb.shapes
        _, report, _ = pyshacl.validate(data, shacl_graph=shapes, focus_nodes=requests,
                                        use_shapes=every_shape, allow_infos=True)
        out = []
        for request in requests:
            section = selection.select(data, request, rb).section
            if section is None:
                out.append((str(data.value(request, MTUS.identifier)), decisions.NOT_ADDRESSED))
                continue
            outcome = ShapeOutcome()
            for result in report.subjects(RDF.type, SH.ValidationResult):
                source = report.value(result, SH.sourceShape)
                node_shape = rb.parents.get(source) if source is not None else None
                if node_shape is None or report.value(result, SH.focusNode) != request:
                    continue
                pair = (_named_path(report, report.value(result, SH.resultPath)), report.value(result, SH.value))
                outcome.violated.setdefault(node_shape, []).append(pair)
            _, decision = decisions.evaluate_section(section, outcome)
            out.append((str(data.value(request, MTUS.identifier)), decision))
        return out
