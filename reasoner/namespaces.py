"""The project's RDF namespaces."""

from __future__ import annotations

from functools import lru_cache

from rdflib import Namespace, URIRef


@lru_cache(maxsize=4096)
def _term(namespace: str, name: str) -> URIRef:
    return URIRef(namespace + name)


class _Namespace(Namespace):
    """A namespace whose terms are made once: rdflib's builds a new URIRef (and checks it) on
    every ``MTUS.request``, which the wording of a determination does thousands of times."""

    def term(self, name: str) -> URIRef:
        return _term(str(self), name) if isinstance(name, str) else URIRef(str(self))


MTUS = _Namespace("https://w3id.org/mtus/ontology#")
CODE = _Namespace("https://w3id.org/mtus/code/")
KB = _Namespace("https://w3id.org/mtus/kb/")
SHAPE = _Namespace("https://w3id.org/mtus/shapes/")
CASE = Namespace("https://w3id.org/mtus/case/")
DETERMINATION = Namespace("https://w3id.org/mtus/determination/")
SH = _Namespace("http://www.w3.org/ns/shacl#")
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
