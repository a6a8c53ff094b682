"""SPARQL text helpers shared by the stores: binding parameters, reading what a query is.

Parameters are bound as RDF terms, never as pasted text: each value is first parsed to its
declared type (querylib), then written as a term of an inline ``VALUES`` block at the start of
the query's outermost WHERE group. That is the SPARQL 1.1 way to give a query fixed bindings
over the protocol (rdflib's SPARQLStore does the same); the block is the same for the embedded
store and for an endpoint, so both evaluate the same query. Terms are serialised with their
escaping (a string value can never close the literal it is in), and the bound query is parsed
again before it runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from .terms import check_iri

_TOKEN = re.compile(
    r'(?P<comment>\#[^\n]*)'
    r'|(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')'
    r'|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'
    r'|(?P<var>[?$][A-Za-z0-9_]+)'
    r'|(?P<word>[A-Za-z_][\w.\-]*(?::[\w.%\-]*)?|:[\w.%\-]*)'
    r'|(?P<open>[{(])|(?P<close>[})])'
    r'|(?P<other>\S)',
    re.DOTALL,
)
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind != "comment":
            yield kind, match.group(), match.end()


def query_form(text: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first query-form keyword outside strings and IRIs."""
    for kind, value, _ in _tokens(text):
        if kind == "word" and value.upper() in FORMS:
            return value.upper()
    return None


def where_brace(text: str) -> int:
    """Offset just after the opening brace of the outermost WHERE group of a SELECT or ASK query."""
    form_seen = False
    depth = 0
    after_where = False
    for kind, value, end in _tokens(text):
        if kind == "word" and value.upper() in FORMS:
            form_seen = True
        elif kind == "word" and value.upper() == "WHERE" and form_seen and depth == 0:
            after_where = True
        elif kind == "open" and value == "(":
            depth += 1
        elif kind == "close" and value == ")":
            depth -= 1
        elif kind == "open" and value == "{" and depth == 0 and (after_where or form_seen):
            return end
    raise ValueError("no WHERE group found in the query")


#: SPARQL's string escapes (ECHAR): every character that could end or bend a "..." literal
_ESCAPES = {"\\": "\\\\", '"': '\\"', "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\b": "\\b", "\f": "\\f"}


def _literal(node: Literal) -> str:
    """A literal written in the one-line quoted form with every special character escaped, so
    that no value can close its quotes (rdflib's n3() picks a long-quote form that a value ending
    in a backslash and quote can escape)."""
    body = "".join(_ESCAPES.get(ch, ch) for ch in str(node))
    if node.language:
        if not re.fullmatch(r"[A-Za-z]+(-[A-Za-z0-9]+)*", node.language):
            raise ValueError(f"not a language tag: {node.language!r}")
        return f'"{body}"@{node.language}'
    if node.datatype is not None:
        return f'"{body}"^^<{check_iri(str(node.datatype))}>'
    return f'"{body}"'


def term(node: Node) -> str:
    """The SPARQL form of a term; IRIs are checked so that none can break out of its brackets."""
    if isinstance(node, URIRef):
        return f"<{check_iri(str(node))}>"
    if isinstance(node, Literal):
        return _literal(node)
    if isinstance(node, BNode):
        raise TypeError("a blank node cannot be bound as a parameter")
    raise TypeError(f"not an RDF term: {node!r}")


def bind(text: str, bindings: Mapping[str, Node]) -> str:
    """The query with an inline VALUES block binding each named variable to its term."""
    if not bindings:
        return text
    names = sorted(bindings)
    for name in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"not a SPARQL variable name: {name!r}")
    at = where_brace(text)
    block = (f" VALUES ({' '.join('?' + n for n in names)}) "
             f"{{ ({' '.join(term(bindings[n]) for n in names)}) }} ")
    return text[:at] + block + text[at:]
