"""RDF terms between rdflib and pyoxigraph, and terms written as SPARQL.

RDF 1.1 has no plain literals: Oxigraph gives ``xsd:string`` explicitly where rdflib leaves the
datatype out, so a string literal maps to an rdflib literal without datatype and back.
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from ..namespaces import PREFIXES
from ..store.terms import from_ox, to_ox

__all__ = ["SPARQL_PREFIXES", "prologue", "sparql", "to_ox", "to_rdflib"]

_XSD_STRING = str(XSD.string)
_OX_STRING = ox.NamedNode(_XSD_STRING)

#: The prefixes every query of the rule base may use (rdflib binds rdf, rdfs, xsd and owl itself).
SPARQL_PREFIXES: dict[str, str] = {
    "rdf": str(RDF), "rdfs": str(RDFS), "xsd": str(XSD), "owl": str(OWL),
    **{name: str(ns) for name, ns in PREFIXES.items()},
}


def prologue(prefixes: dict[str, str] | None = None) -> str:
    """PREFIX declarations for a query text."""
    return "".join(f"PREFIX {k}: <{v}>\n" for k, v in (prefixes or SPARQL_PREFIXES).items())


def to_rdflib(term: object) -> Node:
    """An rdflib term for a pyoxigraph term (the store's conversion; never None here)."""
    node = from_ox(term)
    if node is None:
        raise TypeError("not an RDF term: None")
    return node


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


def sparql(term: Node) -> str:
    """A term as it is written in a SPARQL query (IRIs in full, literals with their datatype)."""
    if isinstance(term, URIRef):
        text = str(term)
        if any(c in text for c in '<>"{}|^`\\ '):
            raise ValueError(f"IRI cannot be written in SPARQL: {text!r}")
        return f"<{text}>"
    if isinstance(term, Literal):
        lexical = f'"{_escape(str(term))}"'
        if term.language:
            return f"{lexical}@{term.language}"
        if term.datatype is not None and str(term.datatype) != _XSD_STRING:
            return f"{lexical}^^<{term.datatype}>"
        return lexical
    raise ValueError(f"a blank node cannot be a constant of a query: {term!r}")


def is_ox_string(term: object) -> bool:
    return isinstance(term, ox.Literal) and not term.language and term.datatype == _OX_STRING
