"""The analysts' query library: ``queries/*.rq``, one question per file, and ``mtus query``.

Each file starts with a header of comment lines::

    # title: Overturn rate by service, region and period
    # description: For each service, region and year of review ...
    #   (a description may go on over indented comment lines)
    # param: from xsd:date = 1900-01-01 -- first review date counted
    # param: service code? -- only this service

A parameter has a name (a variable of the query), a type (``xsd:string``, ``xsd:integer``,
``xsd:decimal``, ``xsd:date``, ``xsd:boolean``, ``iri``, ``code`` for a code of the case format,
``kb`` for a node of kb/) and either a default, ``?`` (optional: left unbound when not given) or
neither (required). Values are parsed to their type and bound as RDF terms (store/sparql.py),
never pasted into the query text. Only read queries run (SELECT and ASK): updates and SERVICE
(which would reach the network) are rejected before anything is sent to a store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import re
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.term import Node

from . import rulebase
from .errors import EXIT_OK, MtusError
from .namespaces import CODE, KB
from .store import EmbeddedStore, open_store, summary, tally
from .store.records import Backend
from .store.sparql import bind
from .store.terms import QueryResult, check_iri

FORMATS = ("table", "csv", "json")
TYPES = ("xsd:string", "xsd:integer", "xsd:decimal", "xsd:date", "xsd:boolean", "iri", "code", "kb")
_PARAM = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<type>[a-z:]+)(?P<optional>\?)?"
                    r"(?:\s*=\s*(?P<default>.*?))?\s*(?:--\s*(?P<doc>.*))?$")


class QueryError(MtusError):
    """A query or parameter the user can fix: names the parameter or file and what was expected."""


def library_folder() -> Path:
    """queries/ of the checkout, or of the installed package."""
    return rulebase.default_root() / "queries"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str | None
    optional: bool
    doc: str

    def term(self, text: str) -> Node:
        """The value as an RDF term of the parameter's type; QueryError naming what was expected."""
        try:
            return _typed(self.type, text.strip())
        except (ValueError, InvalidOperation):
            raise QueryError(f"--param {self.name}={text}: expected {_EXPECTED[self.type]}") from None

    def describe(self) -> str:
        kind = "optional" if self.optional else f"default {self.default}" if self.default is not None else "required"
        return f"{self.name} ({self.type}, {kind})" + (f": {self.doc}" if self.doc else "")


_EXPECTED = {
    "xsd:string": "text", "xsd:integer": "a whole number", "xsd:decimal": "a number",
    "xsd:date": "a date YYYY-MM-DD", "xsd:boolean": "true or false", "iri": "an absolute IRI",
    "code": "a code of the case format (e.g. acupuncture, lumbar_spine)",
    "kb": "the id of a kb/ node (e.g. cpmtg-2009-tpi or kb:cpmtg-2009-tpi)",
}


def _typed(kind: str, text: str) -> Node:
    if kind == "xsd:string":
        return Literal(text)
    if kind == "xsd:integer":
        return Literal(int(text), datatype=XSD.integer)
    if kind == "xsd:decimal":
        return Literal(Decimal(text), datatype=XSD.decimal)
    if kind == "xsd:date":
        return Literal(dt.date.fromisoformat(text), datatype=XSD.date)
    if kind == "xsd:boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return Literal(text.lower() == "true")
    if kind == "iri":
        return URIRef(check_iri(text))
    local = text.split(":", 1)[1] if text.startswith(("kb:", "code:")) else text
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", local):
        raise ValueError(text)
    return (KB if kind == "kb" else CODE)[local]


@dataclass(frozen=True)
class LibraryQuery:
    name: str
    path: Path
    title: str
    description: str
    parameters: tuple[Parameter, ...]
    text: str

    def bindings(self, given: dict[str, str]) -> dict[str, Node]:
        """Typed terms for every parameter given or defaulted; QueryError for the others."""
        known = {p.name: p for p in self.parameters}
        for name in given:
            if name not in known:
                names = ", ".join(known) or "none"
                raise QueryError(f"--param {name}: {self.name} has no parameter {name!r} (its parameters: {names})")
        out: dict[str, Node] = {}
        for param in self.parameters:
            if param.name in given:
                out[param.name] = param.term(given[param.name])
            elif param.default is not None:
                out[param.name] = param.term(param.default)
            elif not param.optional:
                raise QueryError(f"--param {param.name}=VALUE is required by {self.name}: "
                                 f"{_EXPECTED[param.type]}" + (f" ({param.doc})" if param.doc else ""))
        return out


def parse_header(path: Path, text: str) -> LibraryQuery:
    title, description, params = "", [], []
    current: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        body = line[1:]
        key, _, rest = body.strip().partition(":")
        if key == "title":
            title, current = rest.strip(), None
        elif key == "description":
            description = [rest.strip()]
            current = description
        elif key == "param":
            match = _PARAM.match(rest.strip())
            if match is None or match["type"] not in TYPES:
                raise QueryError(f"{path}: bad parameter line {line.strip()!r}: expected "
                                 f"'# param: NAME TYPE[?] [= DEFAULT] [-- description]' with TYPE one of {', '.join(TYPES)}")
            params.append(Parameter(match["name"], match["type"], match["default"] or None,
                                    bool(match["optional"]), (match["doc"] or "").strip()))
            current = None
        elif current is not None and body.startswith("  "):
            current.append(body.strip())
        else:
            current = None  # another comment: it ends the description
    if not title:
        raise QueryError(f"{path}: the header needs a '# title:' line")
    return LibraryQuery(path.stem, path, title, " ".join(description), tuple(params), text)


def library(folder: Path | None = None) -> dict[str, LibraryQuery]:
    folder = folder or library_folder()
    return {p.stem: parse_header(p, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.rq"))}


def resolve(name_or_file: str, folder: Path | None = None) -> LibraryQuery:
    """A library query by name, or a query file (whose header may declare parameters)."""
    path = Path(name_or_file)
    if path.suffix == ".rq" or path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise QueryError(f"{path}: cannot be read ({exc.strerror})") from None
        header = text if text.lstrip().startswith("#") else f"# title: {path.stem}\n{text}"
        return parse_header(path, header)
    queries = library(folder)
    if name_or_file not in queries:
        near = difflib.get_close_matches(name_or_file, list(queries), n=3, cutoff=0.4)
        hint = f" (did you mean: {', '.join(near)}?)" if near else ""
        raise QueryError(f"no query named {name_or_file!r} in {folder or library_folder()}{hint}; "
                         "`mtus query --list` lists them")
    return queries[name_or_file]


def _walk(node: Any) -> bool:
    """True if the parsed query holds a SERVICE pattern anywhere."""
    if getattr(node, "name", None) == "ServiceGraphPattern":
        return True
    if isinstance(node, dict):
        return any(_walk(v) for v in node.values())
    if isinstance(node, list | tuple):
        return any(_walk(v) for v in node)
    children = getattr(node, "asList", None)
    return any(_walk(v) for v in children()) if callable(children) else False


def check_read_only(text: str, where: str, remember: bool = False) -> None:
    """Reject anything but a SELECT or ASK query, and any SERVICE (no network from user queries).
    ``remember``: the verdict is kept per text (library queries and their bound texts: rdflib's
    parser takes 0.1-1 s for one, and the service and the API run the same texts again; not
    for arbitrary texts, which could fill the memory)."""
    problem = (_remembered_problem if remember else _read_only_problem)(text)
    if problem is not None:
        raise QueryError(f"{where}: {problem}")


def _read_only_problem(text: str) -> str | None:
    """What makes ``text`` not a read-only query, or None."""
    try:
        parsed = parseQuery(text)
    except Exception as exc:  # noqa: BLE001 (pyparsing raises ParseException and friends)
        try:
            parseUpdate(text)
        except Exception:  # noqa: BLE001
            return f"not a valid SPARQL 1.1 query: {exc}"
        return "is a SPARQL update; mtus query runs only read queries (SELECT, ASK)"
    form = getattr(parsed[1], "name", "")
    if form not in ("SelectQuery", "AskQuery"):
        return f"is a {form.replace('Query', '').upper()} query; mtus query runs SELECT and ASK"
    if _walk(parsed[1]):
        return "uses SERVICE; queries run by mtus query may not reach other endpoints"
    return None


_remembered_problem = lru_cache(maxsize=256)(_read_only_problem)


def check_codes(query: LibraryQuery, bindings: dict[str, Node], rb: rulebase.RuleBase) -> None:
    """QueryError for a ``code`` or ``kb`` parameter naming nothing the rule base knows (a
    misspelt code would match no row), with the nearest known ones."""
    for param in query.parameters:
        value = bindings.get(param.name)
        if param.type not in ("code", "kb") or not isinstance(value, URIRef):
            continue
        graph, namespace = (rb.closure, CODE) if param.type == "code" else (rb.kb, KB)
        if (value, None, None) in graph:
            continue
        known = sorted({str(s)[len(str(namespace)):] for s in graph.subjects()
                        if isinstance(s, URIRef) and str(s).startswith(str(namespace))})
        near = difflib.get_close_matches(str(value)[len(str(namespace)):], known, n=3, cutoff=0.6)
        hint = f" (did you mean: {', '.join(near)}?)" if near else ""
        raise QueryError(f"--param {param.name}={str(value)[len(str(namespace)):]}: not a known "
                         f"{'code' if param.type == 'code' else 'kb node'}{hint}")


def bound_text(query: LibraryQuery, given: dict[str, str] | None = None, rb: rulebase.RuleBase | None = None) -> str:
    """The query's text with its parameters bound (checked: read-only, known codes when ``rb``
    is given); what ``--print-query`` prints, ready to paste into any SPARQL UI."""
    bindings = query.bindings(given or {})
    if rb is not None:
        check_codes(query, bindings, rb)
    check_read_only(query.text, str(query.path), remember=True)
    bound = bind(query.text, bindings)
    check_read_only(bound, str(query.path), remember=True)
    return bound


def run(store: Backend, query: LibraryQuery, given: dict[str, str] | None = None,
        rb: rulebase.RuleBase | None = None) -> QueryResult:
    """Check, bind and run a query; the same rows from any store (an embedded store written
    before the summary graph existed is summarised first, and the tally recomputed when the
    store changed since it was computed, as ``mtus query`` does)."""
    text = bound_text(query, given, rb)
    if isinstance(store, EmbeddedStore):
        summary.ensure(store)
    tally.ensure(store)  # the counts as of the store's last write
    return store.select(text)


#: numeric columns that name a thing rather than measure it: labels, not bars, by default
_NOT_AMOUNTS = re.compile(r"(^|_)(year|month|day|order|period|version|id|pages?)$")


def _number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def short(value: Any) -> str:
    """A value as a chart label: an IRI by its last segment."""
    return "" if value is None else str(value).rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def chart_columns(variables: list[str], rows: list[Any], value: str | None = None,
                  label: str | None = None) -> tuple[str | None, str | None]:
    """The column charted as bars and the one naming them: the given ones (QueryError for a
    column the result lacks, or a value column that is not a number), else the first numeric
    column that measures (a count, a rate; not a year or an order) and the first other column."""
    for given, what in ((value, "--chart-value"), (label, "--chart-label")):
        if given is not None and given not in variables:
            raise QueryError(f"{what} {given}: the result has no such column (its columns: {', '.join(variables)})")
    numeric = [v for i, v in enumerate(variables)
               if rows and all(r[i] is None or _number(r[i]) for r in rows) and any(r[i] is not None for r in rows)]
    if value is not None and value not in numeric:
        raise QueryError(f"--chart-value {value}: not a number column (number columns: {', '.join(numeric) or 'none'})")
    amounts = [v for v in numeric if not _NOT_AMOUNTS.search(v)]
    chosen = value or (amounts[0] if amounts else None)
    others = [v for v in variables if v not in numeric] + [v for v in numeric if v not in amounts]
    return chosen, label or (others[0] if others else None)


def chart(result: QueryResult, path: Path, title: str, value: str | None = None, label: str | None = None) -> None:
    """A horizontal bar chart (PNG): bars from the value column (default: the first count or
    amount), named by the label column (default: the first text column), at most 60 bars."""
    rows = result.values()
    chosen, named = chart_columns(result.variables, rows, value, label)
    if result.boolean is not None or chosen is None or named is None:
        raise QueryError(f"--chart {path}: needs a result with a label and a number column; this one has columns "
                         f"{', '.join(result.variables) or '(none)'}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise QueryError("--chart needs matplotlib: pip install 'mtus-reasoner[chart]'") from None
    vi, li = result.variables.index(chosen), result.variables.index(named)
    rows = rows[:60]
    names = [short(r[li]) for r in rows]
    counts = [float(r[vi] or 0) for r in rows]
    figure, axes = plt.subplots(figsize=(9, max(2.5, 0.35 * len(rows) + 1.2)))
    axes.barh(range(len(rows)), counts, color="#3b6ea5")
    axes.set_yticks(range(len(rows)), names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(chosen)
    axes.set_ylabel(named)
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    try:
        figure.savefig(path, format="png", dpi=110)
    except OSError as exc:
        raise QueryError(f"--chart {path}: cannot write ({exc.strerror})") from None
    finally:
        plt.close(figure)


def _param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE; got {text!r}")
    return name.strip(), value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .batch import add_store_arguments

    parser = sub.add_parser("query", help="run a query of the analysts' library (queries/*.rq) or a query file")
    parser.add_argument("query", nargs="?", metavar="NAME|FILE", help="a query name (see --list) or a .rq file")
    parser.add_argument("--list", action="store_true", help="list the queries with their parameters")
    parser.add_argument("--param", action="append", type=_param, default=[], metavar="NAME=VALUE",
                        help="a parameter value (repeatable); typed as the query header says")
    add_store_arguments(parser)
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--chart", type=Path, metavar="FILE.png",
                        help="also draw a bar chart (at most 60 bars) of a label-and-number result")
    parser.add_argument("--chart-value", metavar="COLUMN", default=None,
                        help="the number column drawn as bars (default: the first count or amount, not a year)")
    parser.add_argument("--chart-label", metavar="COLUMN", default=None,
                        help="the column naming the bars (default: the first text column)")
    parser.add_argument("--print-query", action="store_true",
                        help="print the query with its parameters bound (ready for any SPARQL UI) and run nothing")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="stop the query after this many seconds (exit 2)")
    parser.set_defaults(handler=main)


def listing(queries: dict[str, LibraryQuery]) -> str:
    lines: list[str] = []
    for query in queries.values():
        lines.append(f"{query.name}\n    {query.title}")
        lines += [f"    --param {p.describe()}" for p in query.parameters]
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    if args.list:
        sys.stdout.write(listing(library()))
        return EXIT_OK
    if not args.query:
        raise QueryError("name a query (mtus query --list shows them) or give a .rq file")
    query = resolve(args.query)
    given = dict(args.param)
    rb = rulebase.get(args.rules)
    bound = bound_text(query, given, rb)  # report a bad parameter or unknown code before opening the store
    if args.print_query:
        sys.stdout.write(bound if bound.endswith("\n") else bound + "\n")
        return EXIT_OK
    store = open_store(args.store, args.endpoint, args.update_endpoint, create=False)
    try:
        if isinstance(store, EmbeddedStore):
            summary.ensure(store)  # a store written before the summary existed
        tally.ensure(store)  # counts as of the last write (store/tally.py)
        result = _with_timeout(lambda: store.select(bound), args.timeout)
    finally:
        store.close()
    sys.stdout.write(result.table() if args.format == "table" else result.csv() if args.format == "csv"
                     else result.json())
    if args.chart is not None:
        chart(result, args.chart, query.title, args.chart_value, args.chart_label)
    return EXIT_OK


def _with_timeout(work: Any, seconds: float | None) -> QueryResult:
    """``work()``, or QueryError when it runs past ``seconds`` (the query runs in a daemon
    thread; the command exits without waiting for it)."""
    if seconds is None:
        result: QueryResult = work()
        return result
    import threading

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 (re-raised in the caller's thread)
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="mtus-query")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise QueryError(f"--timeout {seconds:g}: the query ran longer; it was stopped")
    if "error" in box:
        raise box["error"]
    found: QueryResult = box["result"]
    return found
