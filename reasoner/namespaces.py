"""The project's RDF namespaces."""

from __future__ import annotations

from rdflib import Namespace

MTUS = Namespace("https://w3id.org/mtus/ontology#")
CODE = Namespace("https://w3id.org/mtus/code/")
KB = Namespace("https://w3id.org/mtus/kb/")
SHAPE = Namespace("https://w3id.org/mtus/shapes/")
CASE = Namespace("https://w3id.org/mtus/case/")
DETERMINATION = Namespace("https://w3id.org/mtus/determination/")
SH = Namespace("http://www.w3.org/ns/shacl#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
PROV = Namespace("http://www.w3.org/ns/prov#")

PREFIXES: dict[str, Namespace] = {
    "mtus": MTUS,
    "code": CODE,
    "kb": KB,
    "shape": SHAPE,
    "sh": SH,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
}


def local_name(iri: object) -> str:
    """The code string of a code IRI (``code:L4-L5`` -> ``L4-L5``), else the last path segment."""
    text = str(iri)
    for ns in (CODE, MTUS, KB, SHAPE):
        if text.startswith(str(ns)):
            return text[len(str(ns)) :]
    return text.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def qname(iri: object) -> str:
    """``kb:cpmtg-2009-tpi-7`` for a term of a project namespace, else the IRI in angle brackets."""
    text = str(iri)
    for prefix, ns in PREFIXES.items():
        if text.startswith(str(ns)):
            return f"{prefix}:{text[len(str(ns)):]}"
    return f"<{text}>"
