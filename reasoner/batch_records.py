"""What the store keeps of an evaluated case (a ``CaseRecord``): its case graph, its
determination graph and the analyst facts of its working graph, as N-Triples written by
Oxigraph (no rdflib graph), from either engine."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from rdflib import Graph, URIRef

from . import exports, inference, intake
from .determination import Determination
from .fastpath.engine import Kept
from .namespaces import MTUS, local_name
from .rulebase import RuleBase
from .store.records import CaseRecord
from .store.terms import triples_to_ox

#: facts of the working graph that analysts query, copied into the determination graph when the
#: ontology declares them (the morphine-equivalent dose comes with the opioid sections)
ANALYST_FACTS = (MTUS.morphineEquivalentDailyDose,)


def analyst_properties(rb: RuleBase) -> tuple[URIRef, ...]:
    """The properties of ANALYST_FACTS that the rule base's ontology declares."""
    return tuple(p for p in ANALYST_FACTS if (p, None, None) in rb.ontology)


def derived_facts(case_input: intake.CaseInput, rb: RuleBase) -> Graph | None:
    """The analyst facts of the case's working graph. api.evaluate does not hand its working graph
    out, so it is built again here, only for cases that request a drug (the facts of
    ANALYST_FACTS are derived for requested medications)."""
    wanted = analyst_properties(rb)
    requests = list(case_input.graph.objects(case_input.root, MTUS.request))
    if not wanted or not any((r, MTUS.drug, None) in case_input.graph for r in requests):
        return None
    return exports.derived_facts(inference.infer(case_input, rb), case_input.root, wanted)


def _record(det: Determination, case_ntriples: str, derived: Any, source: str) -> CaseRecord:
    """The record of an evaluated case: the determination's triples (exports.determination_triples
    and the derived facts) turned into N-Triples by Oxigraph, without an rdflib graph."""
    triples = exports.determination_triples(det)
    if derived is not None:
        triples += list(derived)
    text = ox.serialize(triples_to_ox(triples), format=ox.RdfFormat.N_TRIPLES)
    decisions = tuple((i.request_id, local_name(i.service), i.decision) for i in det.items)
    return CaseRecord(source, det.case_id, str(det.case_iri), str(exports.determination_iri(det)),
                      det.input_hash, det.rulebase_digest, case_ntriples, (text or b"").decode("utf-8"), decisions)


def record_of(det: Determination, case_input: intake.CaseInput, rb: RuleBase, source: str) -> CaseRecord:
    """What the store keeps of an evaluated case: its case graph and its determination graph."""
    case_ntriples = ox.serialize(triples_to_ox(case_input.graph), format=ox.RdfFormat.N_TRIPLES)
    return _record(det, (case_ntriples or b"").decode("utf-8"), derived_facts(case_input, rb), source)


def kept_record(det: Determination, kept: Kept, source: str) -> CaseRecord:
    """The record of a case decided on the fast path, from what the engine kept of it."""
    case_ntriples = ox.serialize(kept.triples, format=ox.RdfFormat.N_TRIPLES)
    assert case_ntriples is not None
    return _record(det, case_ntriples.decode("utf-8"), kept.facts or None, source)
