"""Whole queries built from compiled shapes: a section's result query and a conformance query.

A *section query* returns, for one focus node (the requested item), one row per validation
result of the section's node shapes: the branch that gave it (hence the node shape and path)
and the value. A *conformance query* asks whether any target of a shapes graph (the intake
shapes) violates its shape.

Branches of the same form (say, every sh:class on a plain predicate) become one UNION arm with
a VALUES table of their paths and parameters: Oxigraph's planning time grows faster than the
number of UNION arms, and it dominates the time of these queries.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from .. import intake, selection, thresholds
from ..namespaces import PREFIXES, SH
from ..rulebase import RuleBase
from .compile import ALLOWED, ARG, PATH, Branch, ShapeCompiler, Unsupported, fill
from .rules import iris
from .terms import SPARQL_PREFIXES, prologue, sparql

#: a section as in force over a period: its IRI and the threshold values it takes
SectionKey = tuple[URIRef, tuple[tuple[URIRef, dt.date], ...]]
_FOCI = "%%FOCI%%"
_GENERATED = re.compile(r"\?_g\d+\b")
_TARGET = "%%TARGET%%"
_COLUMNS = {PATH: "?_path", ARG: "?_arg", _TARGET: "?_target"}
_KEYED = re.compile(r"VALUES (\?\w+) \{ " + re.escape(ALLOWED) + r" \}")
#: UNION arms per query: Oxigraph plans a few small queries faster than one large one.
ARMS_PER_QUERY = 4


def _chunks(arms: list[str]) -> list[list[str]]:
    return [arms[i:i + ARMS_PER_QUERY] for i in range(0, len(arms), ARMS_PER_QUERY)] or [[]]


@dataclass(frozen=True)
class SectionQuery:
    """The validation results of a list of node shapes for a set of focus nodes (a few SELECTs,
    each row naming its focus node ?this)."""

    templates: tuple[str, ...]
    branches: tuple[Branch, ...]

    def texts(self, foci: list[URIRef]) -> list[str]:
        values = "VALUES ?this { " + " ".join(sparql(f) for f in foci) + " }"
        return [t.replace(_FOCI, values) for t in self.templates]


def _canonical(branch: Branch, head: str = "") -> tuple[str, str | None, str | None]:
    """The branch's pattern (after ``head``) with its generated variables renamed in order of
    appearance, so that branches of the same form have the same text; and its value and path
    variables under those names."""
    names: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        return names.setdefault(match.group(0), f"?_c{len(names)}")

    text = _GENERATED.sub(rename, f"{head} {branch.pattern}")
    value = names.get(branch.value, branch.value) if branch.value else None
    path = names.get(branch.path_var, branch.path_var) if branch.path_var else None
    return text, value, path


def _grouped(items: list[tuple[int, Branch, dict[str, str], str]]) -> list[tuple[str, list[str], str | None, str | None]]:
    """(arm pattern, VALUES header and rows, value var, path var) per group of same-form branches."""
    groups: dict[tuple[str, str | None, str | None, tuple[str, ...]], list[tuple[int, dict[str, str]]]] = {}
    for index, branch, params, head in items:
        text, value, path = _canonical(branch, head)
        key = (text, value, path, tuple(sorted(params)))
        groups.setdefault(key, []).append((index, params))
    out: list[tuple[str, list[str], str | None, str | None]] = []
    for (text, value, path, markers), members in groups.items():
        if len(members) == 1:
            index, params = members[0]
            out.append((f"BIND({index} AS ?_b) {fill(text, params)}", [], value, path))
            continue
        columns = [m for m in markers if m != ALLOWED]
        for marker in columns:
            text = text.replace(marker, _COLUMNS[marker])
        if ALLOWED in markers:  # each member's own list of terms, keyed by its branch number
            keyed = " ".join(f"({index} {term})" for index, params in members for term in params[ALLOWED].split())
            text = _KEYED.sub(_keyed_values(keyed), text)
        header = "VALUES (?_b " + " ".join(_COLUMNS[m] for m in columns) + ")"
        rows = [f"({index} " + " ".join(params[m] for m in columns) + ")" for index, params in members]
        out.append((text, [header, *rows], value, path))
    return out


def _keyed_values(rows: str) -> Callable[[re.Match[str]], str]:
    return lambda match: f"VALUES (?_b {match.group(1)}) {{ {rows} }}"


def section_query(shapes: Graph, node_shapes: Sequence[Node], known: set[Node]) -> SectionQuery:
    """One SELECT over every constraint of ``node_shapes`` (each owns the results of its own
    constraints and of its property shapes)."""
    compiler = ShapeCompiler(shapes, known)
    branches: list[Branch] = []
    for node_shape in node_shapes:
        if (node_shape, SH.path, None) in shapes:
            raise Unsupported(f"{node_shape} is a property shape, not a node shape")
        branches += compiler.violations(node_shape, "?this")
    arms = []
    for pattern, values, value, path in _grouped([(i, b, b.params, "") for i, b in enumerate(branches)]):
        table = f"{values[0]} {{ {' '.join(values[1:])} }} " if values else ""
        binds = f" BIND({value} AS ?value)" if value not in (None, "?this", "?value") else ""
        binds += f" BIND({path} AS ?path)" if path not in (None, "?path") else ""
        arms.append(f"{{ {_FOCI} {table}{pattern}{binds} }}")
    templates = tuple(prologue() + "SELECT DISTINCT ?this ?_b ?value ?path WHERE { "
                      + (" UNION ".join(chunk) if chunk else "FILTER(false)") + " }" for chunk in _chunks(arms))
    return SectionQuery(templates, tuple(branches))


def _targets(shapes: Graph, shape: Node) -> list[tuple[str, str]]:
    """(pattern binding ?this, with %%TARGET%%; the target term) per target of ``shape``."""
    if (shape, RDF.type, RDFS.Class) in shapes:
        raise Unsupported(f"implicit class target of {shape}")
    kinds = ((SH.targetClass, f"?this <{RDF.type}>/<{RDFS.subClassOf}>* {_TARGET} ."),
             (SH.targetNode, f"BIND({_TARGET} AS ?this)"),
             (SH.targetSubjectsOf, f"?this {_TARGET} [] ."),
             (SH.targetObjectsOf, f"[] {_TARGET} ?this ."))
    return [(pattern, sparql(term)) for prop, pattern in kinds for term in shapes.objects(shape, prop)]


def _target_items(shapes: Graph, compiler: ShapeCompiler) -> list[tuple[int, Branch, dict[str, str], str]]:
    """Every branch of every targeted shape, once per target (with the pattern binding ?this)."""
    targeted = {s for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
                for s in shapes.subjects(p, None)}
    items: list[tuple[int, Branch, dict[str, str], str]] = []
    for shape in sorted(targeted, key=str):
        targets = _targets(shapes, shape)
        for branch in compiler.violations(shape, "?this"):
            for target, term in targets:
                items.append((len(items), branch, {**branch.params, _TARGET: term}, target))
    return items


def conformance_queries(shapes: Graph) -> list[str]:
    """ASK queries: one is true when some target of ``shapes`` does not conform to its shape."""
    compiler = ShapeCompiler(shapes)
    arms = []
    for pattern, values, _, _ in _grouped(_target_items(shapes, compiler)):
        table = f"{values[0]} {{ {' '.join(values[1:])} }} " if values else ""
        arms.append(f"{{ {table}{pattern} }}")
    head = prologue({**SPARQL_PREFIXES, **compiler.prefixes})
    return [head + "ASK { " + (" UNION ".join(chunk) if chunk else "FILTER(false)") + " }" for chunk in _chunks(arms)]


def result_queries(shapes: Graph) -> tuple[list[str], list[Branch]]:
    """SELECT queries giving a row (?this, ?_b, ?value, ?path) per validation result that a
    target of ``shapes`` gives, as pySHACL would report it (``mtus lint`` runs the house style
    and SHACL-SHACL so); ?_b is the index of the result's branch in the list returned."""
    compiler = ShapeCompiler(shapes)
    targeted = {s for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
                for s in shapes.subjects(p, None)}
    items: list[tuple[int, Branch, dict[str, str], str]] = []
    for shape in sorted(targeted, key=str):
        # each focus node once, whatever number of targets selects it
        head = ("{ SELECT DISTINCT ?this WHERE { "
                + " UNION ".join(f"{{ {fill(pattern, {_TARGET: term})} }}" for pattern, term in _targets(shapes, shape))
                + " } }")
        items += [(len(items) + i, branch, branch.params, head)
                  for i, branch in enumerate(compiler.violations(shape, "?this"))]
    arms = []
    for pattern, values, value, path in _grouped(items):
        table = f"{values[0]} {{ {' '.join(values[1:])} }} " if values else ""
        binds = f" BIND({value} AS ?value)" if value not in (None, "?this", "?value") else ""
        binds += f" BIND({path} AS ?path)" if path not in (None, "?path") else ""
        arms.append(f"{{ {table}{pattern}{binds} }}")
    head = prologue({**SPARQL_PREFIXES, **compiler.prefixes})
    queries = [head + "SELECT DISTINCT ?this ?_b ?value ?path WHERE { "
               + (" UNION ".join(chunk) if chunk else "FILTER(false)") + " }" for chunk in _chunks(arms)]
    return queries, [branch for _, branch, _, _ in items]


VALUES = "%%VALUES%%"
_SELECT = re.compile(r"SELECT\s+(?:DISTINCT\s+)?", re.IGNORECASE)


def for_many(query: str, var: str) -> str:
    """A query of selection.py, which binds ``?var`` to one node, made to answer for a VALUES
    table of them (``%%VALUES%%``; projecting ``?var``): one query per batch, not per node."""
    if len(_SELECT.findall(query)) != 1 or query.count("WHERE {") != 1:
        raise Unsupported(f"cannot bind ?{var} of this query to a VALUES table")
    query = _SELECT.sub(lambda m: m.group(0) + f"?{var} ", query, count=1)
    return query.replace("WHERE {", f"WHERE {{ {VALUES}", 1)


def compile_all(rb: RuleBase) -> dict[str, Any]:
    """The intake shapes and every section's shapes as queries (None where the compiler does
    not translate them), one per period over which the values of the section's thresholds stay
    the same (keyed by section and values, as catalog.Catalog.values_key gives them); the
    predicates selection reads, and the reference graph with its day numbers as N-Triples; kept
    in the rule-base cache between processes."""
    try:
        intake_queries: list[str] | None = conformance_queries(rb.intake_shapes)
    except Unsupported:
        intake_queries = None
    known = set(rb.helper_shapes)
    sections: dict[SectionKey, SectionQuery | None] = {}
    for iri, section in rb.catalog.sections.items():
        shapes = section.shape_iris()
        used = [rb.catalog.thresholds[t] for t in section.thresholds() if t in rb.catalog.thresholds]
        for day in thresholds.periods(used, section.effective_from, section.effective_until):
            key = (iri, rb.catalog.values_key(section, day))
            try:
                sections[key] = section_query(rb.shapes_on(day), shapes, known | set(shapes))
            except Unsupported:
                sections[key] = None
    from rdflib.plugins.sparql import prepareQuery

    reference = rb.reference_graph
    intake.add_day_numbers(reference, rb)  # as inference does to the working graph
    selection_reads = set().union(*(iris(prepareQuery(q, initNs=dict(PREFIXES)).algebra)
                                    for q in (selection._SECTIONS, selection._EDITION)))
    return {"intake": intake_queries, "sections": sections, "selection_reads": selection_reads,
            "reference": reference.serialize(format="nt", encoding="utf-8")}
