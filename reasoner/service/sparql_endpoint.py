"""The read-only SPARQL 1.1 Protocol endpoint over the store (``/sparql``, GET and POST).

Only SELECT and ASK run: querylib.check_read_only refuses updates, other forms and SERVICE
(no network from a query) before the store sees the text. Results stream from the store
(pyoxigraph yields solutions lazily), so the row limit stops reading at the limit, and the
timeout is checked between solutions and given to the client as 503 when it passes; a query
that computes long before its first row (a big aggregate) keeps one of the few worker slots
until it ends, and no more than ``slots`` queries run at once.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from ..querylib import QueryError, check_read_only

FORMATS = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}


class QueryTimeout(Exception):
    """The query ran past the endpoint's timeout."""


@dataclass(frozen=True)
class Answer:
    variables: list[str]
    rows: list[list[Any]]
    boolean: bool | None
    truncated: bool


def _term_json(term: Any) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        out["datatype"] = term.datatype.value
    return out


def _term_text(term: Any) -> str:
    return "" if term is None else term.value if not isinstance(term, ox.BlankNode) else f"_:{term.value}"


def _term_tsv(term: Any) -> str:
    return "" if term is None else str(term)


class Endpoint:
    def __init__(self, store: ox.Store, timeout: float, row_limit: int, slots: int = 2) -> None:
        self.store = store
        self.timeout = timeout
        self.row_limit = row_limit
        self._slots = threading.BoundedSemaphore(slots)

    def check(self, query: str) -> None:
        """QueryError unless a SELECT or ASK query without SERVICE."""
        check_read_only(query, "query")

    def run(self, query: str) -> Answer:
        """Run a checked query; QueryTimeout past the timeout, QueryError for a busy endpoint or
        a query the store refuses."""
        self.check(query)
        if not self._slots.acquire(timeout=self.timeout):
            raise QueryTimeout("every query slot is busy")
        try:
            return self._run(query, time.monotonic() + self.timeout)
        finally:
            self._slots.release()

    def _run(self, query: str, deadline: float) -> Answer:
        try:
            answer = self.store.query(query)
        except SyntaxError as exc:
            raise QueryError(f"query: not valid SPARQL 1.1: {exc}") from None
        if isinstance(answer, ox.QueryBoolean):
            return Answer([], [], bool(answer), False)
        if not isinstance(answer, ox.QuerySolutions):
            raise QueryError("query: only SELECT and ASK queries run here")
        names = [v.value for v in answer.variables]
        rows: list[list[Any]] = []
        truncated = False
        for solution in answer:
            if time.monotonic() > deadline:
                raise QueryTimeout(f"the query ran past {self.timeout:g} s")
            if len(rows) >= self.row_limit:
                truncated = True
                break
            rows.append([solution[n] for n in names])
        if time.monotonic() > deadline:
            raise QueryTimeout(f"the query ran past {self.timeout:g} s")
        return Answer(names, rows, None, truncated)


def serialise(answer: Answer, fmt: str) -> str:
    """W3C SPARQL 1.1 results as JSON, CSV or TSV."""
    if fmt == "json":
        if answer.boolean is not None:
            return json.dumps({"head": {}, "boolean": answer.boolean})
        bindings = [{n: _term_json(t) for n, t in zip(answer.variables, row, strict=True) if t is not None}
                    for row in answer.rows]
        return json.dumps({"head": {"vars": answer.variables}, "results": {"bindings": bindings}})
    if answer.boolean is not None:
        return ("true" if answer.boolean else "false") + "\n"
    buffer = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(answer.variables)
        for row in answer.rows:
            writer.writerow([_term_text(t) for t in row])
        return buffer.getvalue()
    lines = ["\t".join(f"?{v}" for v in answer.variables)]
    lines += ["\t".join(_term_tsv(t) for t in row) for row in answer.rows]
    return "\n".join(lines) + "\n"


def negotiate(accept: str | None, requested: str | None = None) -> str:
    """The results format: ``format`` if given (json, csv, tsv), else the first known Accept."""
    if requested in ("json", "csv", "tsv"):
        return requested
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in FORMATS:
            return FORMATS[media]
    return "json"


MEDIA = {"json": "application/sparql-results+json", "csv": "text/csv; charset=utf-8",
         "tsv": "text/tab-separated-values; charset=utf-8"}
