"""RDF terms between rdflib, pyoxigraph and SPARQL JSON results, and query results as rows.

Every backend hands back rows of rdflib terms, so that the rows of one store can be compared
with those of another and rendered the same way (table, CSV, JSON).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from ..namespaces import qname

_XSD_STRING = str(XSD.string)
_BAD_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')


def check_iri(text: str) -> str:
    """The IRI itself if it can be written between angle brackets, else ValueError."""
    if not text or _BAD_IRI.search(text) or ":" not in text:
        raise ValueError(f"not an absolute IRI: {text!r}")
    return text


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as a pyoxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


_NAMED: dict[str, ox.NamedNode] = {}
_XSD_STRING_NODE = ox.NamedNode(_XSD_STRING)


def _named(iri: str) -> ox.NamedNode:
    node = _NAMED.get(iri)
    if node is None:
        if len(_NAMED) > 50_000:  # the project's own IRIs repeat; a case's do not: stay bounded
            _NAMED.clear()
        node = _NAMED[iri] = ox.NamedNode(iri)
    return node


def triples_to_ox(triples: Any) -> list[ox.Triple]:
    """rdflib triples as pyoxigraph triples, each once, in their first order (``to_ox`` with the
    IRIs of datatypes and predicates made once per process)."""
    out: dict[ox.Triple, None] = {}
    for s, p, o in triples:
        subject = _named(str(s)) if isinstance(s, URIRef) else to_ox(s)
        if isinstance(o, URIRef):
            value: ox.NamedNode | ox.BlankNode | ox.Literal = _named(str(o))
        elif isinstance(o, Literal) and not o.language:
            value = ox.Literal(str(o), datatype=_named(str(o.datatype)) if o.datatype is not None else _XSD_STRING_NODE)
        else:
            value = to_ox(o)
        out[ox.Triple(subject, _named(str(p)), value)] = None  # type: ignore[arg-type]
    return list(out)


def from_ox(term: Any) -> Node | None:
    """A pyoxigraph term (or None) as an rdflib term; xsd:string literals become plain literals."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"unsupported term in a result: {term!r}")


def from_json(binding: dict[str, str] | None) -> Node | None:
    """A term of the SPARQL 1.1 JSON results format as an rdflib term."""
    if binding is None:
        return None
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if "xml:lang" in binding:
        return Literal(value, lang=binding["xml:lang"])
    datatype = binding.get("datatype")
    if datatype is None or datatype == _XSD_STRING:
        return Literal(value)
    return Literal(value, datatype=URIRef(datatype))


def _python(term: Node | None) -> Any:
    if term is None:
        return None
    if isinstance(term, Literal):
        value = term.toPython()
        if isinstance(value, bool | int | float):
            return value
        if term.datatype == XSD.decimal:
            return float(term)
        return str(term)
    return str(term)


def _display(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        text = qname(term)
        return text[1:-1] if text.startswith("<") else text
    return str(term)


@dataclass
class QueryResult:
    """The answer to a SELECT (variables and rows of terms) or an ASK (boolean)."""

    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Node | None, ...]] = field(default_factory=list)
    boolean: bool | None = None

    def values(self) -> list[tuple[Any, ...]]:
        """The rows as plain Python values: numbers, booleans, strings (IRIs as text), None."""
        return [tuple(_python(t) for t in row) for row in self.rows]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.variables, row, strict=True)) for row in self.values()]

    def table(self) -> str:
        """Aligned plain-text columns; IRIs of the project's namespaces as prefixed names."""
        if self.boolean is not None:
            return f"{'yes' if self.boolean else 'no'}\n"
        cells = [[_display(t) for t in row] for row in self.rows]
        widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(self.variables)]
        lines = ["  ".join(v.ljust(w) for v, w in zip(self.variables, widths, strict=True)).rstrip(),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
        lines.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if self.boolean is not None:
            writer.writerow(["boolean"])
            writer.writerow(["true" if self.boolean else "false"])
            return out.getvalue()
        writer.writerow(self.variables)
        for row in self.values():
            writer.writerow(["" if v is None else v for v in row])
        return out.getvalue()

    def json(self) -> str:
        data: Any = {"boolean": self.boolean} if self.boolean is not None else \
            {"variables": self.variables, "rows": self.dicts()}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
