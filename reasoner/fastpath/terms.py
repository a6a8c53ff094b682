"""RDF terms between rdflib and pyoxigraph, and terms written as SPARQL.

RDF 1.1 has no plain literals: Oxigraph gives ``xsd:string`` explicitly where rdflib leaves the
datatype out, so a string literal maps to an rdflib literal without datatype and back.
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from ..namespaces import PREFIXES

OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal

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
    """An rdflib term for a pyoxigraph term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise TypeError(f"not an RDF term: {term!r}")


def to_ox(term: Node) -> OxTerm:
    """A pyoxigraph term for an rdflib term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is None:
            return ox.Literal(str(term))
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    raise TypeError(f"not an RDF term: {term!r}")


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
