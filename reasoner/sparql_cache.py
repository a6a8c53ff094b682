"""Memoised SPARQL parsing for rdflib (and so for pySHACL, which hands rdflib query strings).

rdflib parses and translates a query string on every ``Graph.query`` call; pySHACL runs the same
constraint and target queries for every focus node of every case. A translated query is immutable
in use (rdflib's own prepared queries are reused the same way), so the translation is kept per
(query text, base, prefixes). Installed once, on import of the package, as rdflib's "sparql"
query processor plugin; rdflib loads the plugin (and its SPARQL parser) on the first
``Graph.query``, so a process that never queries an rdflib graph (the fast path) never imports
the parser.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from rdflib import plugin
from rdflib.query import Processor

_RDFLIB = ("rdflib.plugins.sparql.processor", "SPARQLProcessor")


@lru_cache(maxsize=4096)
def _translated(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]) -> Any:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    return translateQuery(parseQuery(text), base, dict(namespaces) or None)


@cache
def _memo_processor() -> type[Processor]:
    from rdflib.plugins.sparql.processor import SPARQLProcessor

    class MemoProcessor(SPARQLProcessor):
        """rdflib's SPARQL processor, with each query string translated once."""

        def query(self, strOrQuery: Any, initBindings: Any = None, initNs: Any = None,  # type: ignore[override]
                  base: Any = None, DEBUG: bool = False) -> Any:
            if isinstance(strOrQuery, str):
                key = tuple(sorted((str(k), str(v)) for k, v in (initNs or {}).items()))
                strOrQuery = _translated(strOrQuery, base, key)
            return super().query(strOrQuery, initBindings, initNs, base, DEBUG)

    return MemoProcessor


def __getattr__(name: str) -> Any:
    if name == "MemoProcessor":  # what rdflib's plugin registry loads, on first use
        return _memo_processor()
    raise AttributeError(name)


def install() -> None:
    plugin.register("sparql", Processor, __name__, "MemoProcessor")


def uninstall() -> None:
    """rdflib's own processor again (the naive baseline of the benchmark parses every query)."""
    plugin.register("sparql", Processor, *_RDFLIB)
