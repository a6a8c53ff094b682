"""The FHIR code map (kb/fhir/code-map.ttl, and the RxCUIs of ontology/drugs-rxnorm.ttl) as a
lookup: (system, code) -> the project code it matches, the region and laterality it implies,
and the few non-code meanings (a normal study, a work-related incident)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import RDF, SKOS
from rdflib.term import Node

from .. import rulebase
from ..namespaces import MTUS
from ..rulebase import RuleBase

FMAP = Namespace("https://w3id.org/mtus/kb/fhir/")
CODE = "https://w3id.org/mtus/code/"
PROJECT_SYSTEM = CODE
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@dataclass(frozen=True)
class Mapped:
    """What one source code means in the project's terms."""

    target: URIRef | None  # the project code (None: only a flag below)
    exact: bool
    region: URIRef | None = None
    laterality: URIRef | None = None
    study_normal: bool | None = None
    work_related: bool | None = None
    concept: URIRef | None = None  # the mapping's node in kb/fhir/code-map.ttl


class CodeMap:
    def __init__(self, rb: RuleBase) -> None:
        self.rb = rb
        self.systems: dict[str, URIRef] = {}
        self.entries: dict[tuple[str, str], Mapped] = {}
        kb = rb.kb
        for scheme, system in kb.subject_objects(FMAP.system):
            self.systems[str(system)] = scheme  # type: ignore[assignment]
        scheme_system: dict[Node, str] = {scheme: system for system, scheme in self.systems.items()}
        for concept in kb.subjects(RDF.type, SKOS.Concept):
            in_scheme = kb.value(concept, SKOS.inScheme)
            notation = kb.value(concept, SKOS.notation)
            if in_scheme is None or in_scheme not in scheme_system or notation is None:
                continue
            exact = kb.value(concept, SKOS.exactMatch)
            close = kb.value(concept, SKOS.closeMatch)
            normal = kb.value(concept, FMAP.studyNormal)
            work = kb.value(concept, FMAP.workRelated)
            self.entries[(scheme_system[in_scheme], str(notation))] = Mapped(
                target=exact if isinstance(exact, URIRef) else close if isinstance(close, URIRef) else None,
                exact=exact is not None,
                region=kb.value(concept, FMAP.region),  # type: ignore[arg-type]
                laterality=kb.value(concept, FMAP.laterality),  # type: ignore[arg-type]
                study_normal=normal.toPython() if isinstance(normal, Literal) else None,
                work_related=work.toPython() if isinstance(work, Literal) else None,
                concept=concept,  # type: ignore[arg-type]
            )
        self.rxcui: dict[str, URIRef] = {}
        for drug, cui in rb.ontology.subject_objects(MTUS.rxcui):
            if isinstance(drug, URIRef):
                self.rxcui[str(cui)] = drug

    def lookup(self, system: str | None, code: str | None) -> Mapped | None:
        if not system or not code:
            return None
        if system == PROJECT_SYSTEM:
            iri = URIRef(CODE + code)
            return Mapped(iri, True) if (iri, RDF.type, MTUS.Code) in self.rb.closure else None
        if system == RXNORM:
            drug = self.rxcui.get(code)
            return Mapped(drug, True) if drug is not None else None
        return self.entries.get((system, code))

    def is_a(self, code: URIRef, cls: URIRef) -> bool:
        return (code, RDF.type, cls) in self.rb.closure

    def nearest(self, system: str | None, code: str | None) -> tuple[str, ...]:
        """Up to three mapped codes of the same system that look like ``code``."""
        if not system or not code:
            return ()
        if system == RXNORM:
            known = list(self.rxcui)
        elif system == PROJECT_SYSTEM:
            known = [str(c)[len(CODE):] for c in self.rb.closure.subjects(RDF.type, MTUS.Code)
                     if str(c).startswith(CODE)]
        else:
            known = [c for s, c in self.entries if s == system]
        return tuple(difflib.get_close_matches(code, known, n=3, cutoff=0.5))

    def codings_for(self, target: URIRef, region: URIRef | None = None,
                    prefer: tuple[str, ...] = ()) -> list[dict[str, str]]:
        """The source codings that map to ``target`` (exact matches first; a code that implies a
        region only if it is ``region``), for writing a Bundle from a case."""
        found: list[tuple[int, str, str]] = []
        for (system, notation), mapped in self.entries.items():
            if mapped.target != target or mapped.laterality is not None:
                continue
            if mapped.region is not None and mapped.region != region:
                continue
            if prefer and system not in prefer:
                continue
            found.append((0 if mapped.exact and mapped.region is None else 1, system, notation))
        for cui, drug in self.rxcui.items():
            if drug == target and (not prefer or RXNORM in prefer):
                found.append((0, RXNORM, cui))
        found.sort(key=lambda f: (f[0], prefer.index(f[1]) if f[1] in prefer else 0, f[2]))
        if not found:
            return [{"system": PROJECT_SYSTEM, "code": str(target)[len(CODE):]}]
        return [{"system": s, "code": c} for _, s, c in found[:1]]


def of(rb: RuleBase) -> CodeMap:
    """The code map of this rule-base load (built once)."""
    return rulebase.derived(rb, "fhir-code-map", CodeMap)
