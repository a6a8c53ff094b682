"""Memoised SPARQL parsing for rdflib (and so for pySHACL, which hands rdflib query strings).

rdflib parses and translates a query string on every ``Graph.query`` call; pySHACL runs the same
constraint and target queries for every focus node of every case. A translated query is immutable
in use (rdflib's own prepared queries are reused the same way), so the translation is kept per
(query text, base, prefixes). Installed once, on import of the package.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rdflib.plugins.sparql import processor
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.sparql import Query

_original_query = processor.SPARQLProcessor.query


@lru_cache(maxsize=4096)
def _translated(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]) -> Query:
    return translateQuery(parseQuery(text), base, dict(namespaces) or None)


def _query(self: Any, strOrQuery: Any, initBindings: Any = None, initNs: Any = None,
           base: Any = None, DEBUG: bool = False) -> Any:
    if isinstance(strOrQuery, str):
        key = tuple(sorted((str(k), str(v)) for k, v in (initNs or {}).items()))
        strOrQuery = _translated(strOrQuery, base, key)
    return _original_query(self, strOrQuery, initBindings, initNs, base, DEBUG)


def install() -> None:
    if processor.SPARQLProcessor.query is not _query:
        processor.SPARQLProcessor.query = _query  # type: ignore[method-assign]
