"""Any SPARQL 1.1 endpoint: queries through SPARQLWrapper, loading through SPARQL Update.

Each write is one SPARQL Update request (drop the case's old graphs, insert the new ones),
which SPARQL 1.1 stores apply as one operation. Where the endpoint has a Graph Store Protocol
address for the whole dataset (Oxigraph's ``/store``), ``load_nquads`` posts N-Quads there.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from rdflib.term import Node
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from . import sparql
from .errors import StoreError
from .terms import QueryResult, check_iri, from_json


def _derived(url: str, tail: str) -> str:
    """Oxigraph and Fuseki name their services .../query, .../update, .../store (or /data)."""
    base, _, last = url.rstrip("/").rpartition("/")
    return f"{base}/{tail}" if last in ("query", "sparql") and base else url


class EndpointStore:
    """A remote store at ``query_url``; updates go to ``update_url`` (default: derived from it)."""

    def __init__(self, query_url: str, update_url: str | None = None, store_url: str | None = None,
                 timeout: int = 300) -> None:
        for name, url in (("--endpoint", query_url), ("--update-endpoint", update_url)):
            if url is not None and not url.startswith(("http://", "https://")):
                raise StoreError(f"{name} {url}: expected an http:// or https:// URL")
        self.query_url = check_iri(query_url)
        self.update_url = update_url or (_derived(query_url, "update") if query_url.endswith("/query")
                                         else query_url)
        self.store_url = store_url or _derived(query_url, "store")
        self.timeout = timeout
        self.description = f"SPARQL endpoint {query_url}"

    def _wrapper(self, url: str) -> SPARQLWrapper:
        wrapper = SPARQLWrapper(url, updateEndpoint=self.update_url, agent="mtus-reasoner")
        wrapper.setMethod(POST)
        wrapper.setTimeout(self.timeout)
        return wrapper

    def _fail(self, exc: Exception, url: str) -> StoreError:
        if isinstance(exc, urllib.error.HTTPError):
            body = exc.read().decode("utf-8", "replace")[:500]
            return StoreError(f"SPARQL endpoint {url} answered {exc.code}: {body}")
        if isinstance(exc, urllib.error.URLError):
            return StoreError(f"cannot reach the SPARQL endpoint {url}: {exc.reason}")
        return StoreError(f"SPARQL endpoint {url}: {exc}")

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> QueryResult:
        wrapper = self._wrapper(self.query_url)
        text = sparql.bind(query, bindings or {})
        wrapper.setQuery(text)
        # SPARQLWrapper guesses the form from keywords and can be misled by words in comments
        wrapper.queryType = sparql.query_form(text) or "SELECT"
        wrapper.setReturnFormat(JSON)
        try:
            data: Any = wrapper.queryAndConvert()
        except (SPARQLWrapperException, urllib.error.URLError, OSError) as exc:
            raise self._fail(exc, self.query_url) from None
        if not isinstance(data, dict):
            raise StoreError(f"SPARQL endpoint {self.query_url}: expected SPARQL JSON results")
        if "boolean" in data:
            return QueryResult(boolean=bool(data["boolean"]))
        names = list(data["head"]["vars"])
        rows = [tuple(from_json(b.get(n)) for n in names) for b in data["results"]["bindings"]]
        return QueryResult(names, rows)

    def update(self, text: str) -> None:
        request = urllib.request.Request(
            self.update_url, data=text.encode("utf-8"), method="POST",
            headers={"Content-Type": "application/sparql-update; charset=utf-8", "User-Agent": "mtus-reasoner"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read()
        except (urllib.error.URLError, OSError) as exc:
            raise self._fail(exc, self.update_url) from None

    def load_nquads(self, data: bytes | str, bulk: bool = False) -> None:
        """POST N-Quads to the Graph Store Protocol address of the dataset (adds them)."""
        body = data.encode("utf-8") if isinstance(data, str) else data
        request = urllib.request.Request(self.store_url, data=body, method="POST",
                                         headers={"Content-Type": "application/n-quads",
                                                  "User-Agent": "mtus-reasoner"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read()
        except (urllib.error.URLError, OSError) as exc:
            raise self._fail(exc, self.store_url) from None

    def flush(self) -> None:
        """Nothing to do: the endpoint commits each request."""

    def close(self) -> None:
        """Nothing to release."""
