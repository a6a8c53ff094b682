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
from pathlib import Path
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.term import Node

from . import rulebase
from .errors import EXIT_OK, MtusError
from .namespaces import CODE, KB
from .store import open_store
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


def check_read_only(text: str, where: str) -> None:
    """Reject anything but a SELECT or ASK query, and any SERVICE (no network from user queries)."""
    try:
        parsed = parseQuery(text)
    except Exception as exc:  # noqa: BLE001 (pyparsing raises ParseException and friends)
        try:
            parseUpdate(text)
        except Exception:  # noqa: BLE001
            raise QueryError(f"{where}: not a valid SPARQL 1.1 query: {exc}") from None
        raise QueryError(f"{where}: is a SPARQL update; mtus query runs only read queries (SELECT, ASK)") from None
    form = getattr(parsed[1], "name", "")
    if form not in ("SelectQuery", "AskQuery"):
        raise QueryError(f"{where}: is a {form.replace('Query', '').upper()} query; mtus query runs SELECT and ASK")
    if _walk(parsed[1]):
        raise QueryError(f"{where}: uses SERVICE; queries run by mtus query may not reach other endpoints")


def run(store: Backend, query: LibraryQuery, given: dict[str, str] | None = None) -> QueryResult:
    """Check, bind and run a query; the same rows from any store."""
    bindings = query.bindings(given or {})
    check_read_only(query.text, str(query.path))
    bound = bind(query.text, bindings)
    check_read_only(bound, str(query.path))
    return store.select(bound)


def chart(result: QueryResult, path: Path, title: str) -> None:
    """A horizontal bar chart (PNG): labels from the text columns, bars from the first number column."""
    numeric = [i for i, _ in enumerate(result.variables)
               if result.rows and all(isinstance(v, int | float) and not isinstance(v, bool)
                                      for v in (row[i] for row in result.values()))]
    labels = [i for i in range(len(result.variables)) if i not in numeric]
    if result.boolean is not None or not numeric or not labels:
        raise QueryError(f"--chart {path}: needs a result with a label and a count (text columns and a number "
                         f"column); this one has columns {', '.join(result.variables) or '(none)'}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise QueryError("--chart needs matplotlib: pip install 'mtus-reasoner[chart]'") from None
    rows = result.values()
    names = [" / ".join("" if r[i] is None else str(r[i]).rsplit("/", 1)[-1].rsplit("#", 1)[-1] for i in labels)
             for r in rows]
    counts = [float(r[numeric[0]]) for r in rows]
    figure, axes = plt.subplots(figsize=(9, max(2.5, 0.35 * len(rows) + 1.2)))
    axes.barh(range(len(rows)), counts, color="#3b6ea5")
    axes.set_yticks(range(len(rows)), names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(result.variables[numeric[0]])
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
                        help="also draw a bar chart of a label-and-count result")
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
    query.bindings(given)  # report a bad parameter before opening the store
    store = open_store(args.store, args.endpoint, args.update_endpoint, create=False)
    try:
        result = run(store, query, given)
    finally:
        store.close()
    sys.stdout.write(result.table() if args.format == "table" else result.csv() if args.format == "csv"
                     else result.json())
    if args.chart is not None:
        chart(result, args.chart, query.title)
    return EXIT_OK
