"""Ontology consistency with HermiT (owlready2 runs it on the JVM): no class is unsatisfiable
and the ontology has a model. Slow (a JVM start); ``mtus lint --no-hermit`` leaves it out, and
``--section`` does not run it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL

from ..rulebase import RuleBase
from .problems import Problem, at, check
from .scope import Scope


@check("HermiT consistency", hermit=True, whole=True)
def hermit(rb: RuleBase, scope: Scope) -> list[Problem]:
    """The ontology is consistent and every class satisfiable (HermiT, an OWL 2 DL reasoner, on
    the merged modules; needs Java). Fix: find the axioms that conflict with the classes it
    names."""
    import owlready2

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mtus-ontology.nt"
        merged = Graph()
        merged += rb.ontology
        merged.remove((None, OWL.imports, None))  # the modules are all here; nothing is fetched
        merged.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        onto = world.get_ontology(path.as_uri()).load()
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return [Problem("ontology/", "(ontology)", "HermiT finds the ontology inconsistent")]
        unsatisfiable = list(world.inconsistent_classes())
    return [at(rb, URIRef(c.iri), "unsatisfiable class (HermiT)") for c in unsatisfiable]
