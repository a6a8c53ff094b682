"""The fast path: the same pipeline as :func:`reasoner.evaluate`, on one pyoxigraph store.

intake      Oxigraph's JSON-LD parser; the intake shapes compiled to a few ASK queries
inference   the rules of kb/rules/ run as they are, by Oxigraph, each when it can fire
selection   the selection module's own queries, by Oxigraph
validation  each section's shapes compiled to a few SELECTs (reasoner.fastpath.compile)
decisions   reasoner.decisions and reasoner.rationale, unchanged, over a view of the store

A batch of cases shares the store and each query: rules, selection and validation run once
per batch (cases cannot interfere: each has its own IRIs, and every rule and shape starts
from the case or the item).

A case may also be given as triples (:class:`~reasoner.fastpath.caseread.CaseTriples`, a
stored case graph); the reference path reads those as an RDF graph.

Whatever the fast path is not sure to read exactly as the reference path does (a Turtle or
JSON-LD file, an rdflib graph, a date not written YYYY-MM-DD, a shape the compiler does not
translate) and every case the intake shapes reject goes to the reference path, so that an
intake error carries the reference path's messages. ``fallbacks`` counts why.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.term import Node

from .. import api, formulary, intake_check, rulebase_cache, selection, validation
from .. import rulebase as rulebase_module
from ..catalog import Section
from ..determination import Determination
from ..errors import MtusError
from ..namespaces import MTUS
from ..rulebase import RuleBase
from ..texts import Texts
from ..validation import ShapeOutcome
from . import caseread, decide
from .caseread import DayRules, FastCase
from .queries import VALUES, SectionKey, SectionQuery, for_many
from .rules import FastRule, demanded
from .startup import CodeTypes, compile_startup, query_reads, two_passes_exact
from .store import CaseStore
from .terms import prologue, sparql, to_ox, to_rdflib
from .view import GraphView


@dataclass(frozen=True)
class _Pending:
    """A case of a batch read for the fast path."""

    index: int
    case: Any
    fast: FastCase
    days: list[ox.Triple]


def _root_of(name: str, roots: set[str]) -> str | None:
    """The root among ``roots`` of which the node ``name`` is the case or a part
    (``<root>/request/1``)."""
    while True:
        if name in roots:
            return name
        if "/" not in name:
            return None
        name = name.rsplit("/", 1)[0]


@dataclass(frozen=True)
class Kept:
    """What :meth:`Engine.evaluate_keeping` keeps of a case decided on the fast path, beside its
    determination: the case's own triples (its case graph) and the derived facts asked for, about
    nodes of the case, read from the store before it is reset."""

    triples: list[ox.Triple]
    facts: list[tuple[URIRef, URIRef, Node]]


class Engine:
    """Evaluates cases on the fast path; one per process (it owns a store)."""

    def __init__(self, rules: RuleBase | Path | None = None, recycle: int = 128) -> None:
        rb = rules if isinstance(rules, RuleBase) else rulebase_module.get(rules)
        self.rb = rb
        self.texts = Texts(rb.kb, rb.closure, rb.catalog.writer)
        # keyed by the load too: the queries name blank nodes of this load's shapes
        compiled = rulebase_cache.load_or_build(rb.root, f"{rb.digest}-{rb.build_id}", lambda: compile_startup(rb),
                                                kind="fastpath")
        reference = [ox.Quad(q.subject, q.predicate, q.object)
                     for q in ox.parse(compiled["reference"], format=ox.RdfFormat.N_TRIPLES)]
        self.store = CaseStore(reference, recycle)
        self.days = DayRules(compiled["days"])
        self.rules = [FastRule(*rule) for rule in compiled["rules"]]
        self.selection_reads: set[str] = compiled["selection_reads"]
        self.wording_reads = compiled["wording_reads"]
        self.first_pass = demanded(self.rules, self.selection_reads)
        self.two_passes = two_passes_exact(self.rules, self.first_pass)
        self._reads: dict[SectionKey, set[str]] = {}
        self.selection_query = for_many(prologue() + selection._SECTIONS, "request")
        self.edition_query = for_many(prologue() + selection._EDITION, "case")
        self.intake_queries: list[str] | None = compiled["intake"]
        self.intake_extra: list[ox.Triple] = compiled["intake_extra"]
        self.code_types = CodeTypes(compiled["code_types"])
        self._sections: dict[SectionKey, SectionQuery | None] = compiled["sections"]
        self._paths: dict[Node | None, Node | None] = dict(compiled["paths"])
        self.fallbacks: Counter[str] = Counter()
        #: rules not run, per rule, because a predicate they need was absent
        self.skipped: Counter[str] = Counter()
        #: seconds spent per phase (read, intake, rules, selection, validation, decisions, reset)
        self.timings: defaultdict[str, float] = defaultdict(float)

    # --- the reference path, for whatever the fast path does not take ---------------------

    def _reference(self, case: Any, why: str) -> Determination | MtusError:
        self.fallbacks[why] += 1
        try:
            return api.evaluate(case.graph() if isinstance(case, caseread.CaseTriples) else case, self.rb)
        except MtusError as exc:
            return exc

    def section(self, section: Section) -> SectionQuery | None:
        """The compiled query of a section as in force (None: the compiler does not translate it)."""
        return self._sections.get((section.iri, section.values_key))

    # --- cases ---------------------------------------------------------------------------

    def evaluate(self, case: str | Path | dict[str, Any] | Graph) -> Determination:
        """What :func:`reasoner.evaluate` gives for the case, decided on the fast path."""
        result = self.evaluate_batch([case])[0]
        if isinstance(result, MtusError):
            raise result
        return result

    def evaluate_batch(self, cases: Sequence[Any]) -> list[Determination | MtusError]:
        """Each case's determination, or the error the reference path raises for it.

        The cases of a batch share the store: their triples are added together and each rule
        runs once for all of them (every rule joins on the case or the item, and every case
        has its own IRIs; a case whose IRIs are not its own is evaluated in a round of its own).
        """
        return self.evaluate_keeping(cases)[0]

    def evaluate_keeping(self, cases: Sequence[Any], facts: tuple[URIRef, ...] = ()
                         ) -> tuple[list[Determination | MtusError], dict[int, Kept]]:
        """:meth:`evaluate_batch`, and for each case decided on the fast path (by its index)
        what is kept of it: its triples and its derived facts with one of the properties
        ``facts`` (the rules that derive them run whatever the sections read). A case missing
        from the second result was decided, or rejected, by the reference path."""
        kept: dict[int, Kept] = {}
        return self._evaluate(cases, facts, kept), kept

    def _evaluate(self, cases: Sequence[Any], facts: tuple[URIRef, ...], kept: dict[int, Kept]
                  ) -> list[Determination | MtusError]:
        clock = time.perf_counter()
        results: list[Determination | MtusError | None] = [None] * len(cases)
        pending: list[_Pending] = []
        solo: list[int] = []
        roots: set[str] = set()
        for index, case in enumerate(cases):
            if isinstance(case, Graph):
                results[index] = self._reference(case, "rdf-graph")
                continue
            try:
                fast = caseread.read(case, self.rb)
            except MtusError as exc:  # the case format refused it (the same reader as intake's)
                results[index] = exc
                continue
            if fast is None:
                results[index] = self._reference(case, "input-format")
                continue
            if intake_check.expected_block(fast.expected, self.rb):
                results[index] = self._reference(case, "intake")
                continue
            days = caseread.day_numbers(fast.triples, self.days)
            if days is None:
                results[index] = self._reference(case, "date-form")
                continue
            if len(cases) > 1 and (fast.root.value in roots or not caseread.own_iris(fast)):
                solo.append(index)
                continue
            roots.add(fast.root.value)
            pending.append(_Pending(index, case, fast, days))
        clock = self._lap("read", clock)
        if pending and self._intake_rejects(pending):
            accepted = []
            for item in pending:
                if len(pending) > 1 and not self._intake_rejects([item]):
                    accepted.append(item)
                else:
                    results[item.index] = self._reference(item.case, "intake")
            pending = accepted
        clock = self._lap("intake", clock)
        if pending:
            try:
                decided = self._decide(pending, facts)
                if facts:
                    found = self._facts(pending, facts)
                    for item in pending:
                        if item.index in decided:
                            kept[item.index] = Kept(item.fast.triples, found.get(item.fast.root.value, []))
            finally:
                clock = time.perf_counter()
                self.store.reset(len(pending))
                self._lap("reset", clock)
            for item in pending:
                done = decided.get(item.index)
                results[item.index] = done if done is not None else self._reference(item.case, "unsupported-shape")
        for index in solo:
            alone: dict[int, Kept] = {}
            results[index] = self._evaluate([cases[index]], facts, alone)[0]
            if 0 in alone:
                kept[index] = alone[0]
        return [r for r in results if r is not None]

    def _facts(self, batch: list[_Pending], properties: tuple[URIRef, ...]
               ) -> dict[str, list[tuple[URIRef, URIRef, Node]]]:
        """The store's triples with one of ``properties`` about a node of a case of the batch,
        by the case's root IRI (as exports.derived_facts reads them from a working graph)."""
        roots = {item.fast.root.value for item in batch}
        out: dict[str, list[tuple[URIRef, URIRef, Node]]] = {}
        for prop in properties:
            for quad in self.store.store.quads_for_pattern(None, to_ox(prop), None, ox.DefaultGraph()):  # type: ignore[arg-type]
                subject = quad.subject
                if not isinstance(subject, ox.NamedNode):
                    continue
                name = subject.value
                root = _root_of(name, roots)
                if root is not None:
                    out.setdefault(root, []).append((URIRef(name), prop, to_rdflib(quad.object)))
        return out

    def _intake_rejects(self, batch: list[_Pending]) -> bool:
        """The intake shapes over what intake_check gives pySHACL (per case: the case, its day
        numbers, the day-number declarations and the classes of the codes it uses)."""
        data = list(self.intake_extra)
        for item in batch:
            data += item.fast.triples + item.days
            for code in caseread.objects_of(item.fast.triples):
                data += self.code_types.get(code, [])
        assert self.intake_queries is not None
        return self.store.ask_scratch(self.intake_queries, data)

    def _decide(self, batch: list[_Pending], facts: tuple[URIRef, ...] = ()) -> dict[int, Determination]:
        """Determinations of the batch's cases (a case missing from the result must go to the
        reference path: one of its sections is outside what the compiler translates)."""
        store = self.store
        clock = time.perf_counter()
        store.begin(len(batch))
        for item in batch:
            store.add(item.fast.triples)
            store.add(item.days)
        self._run_rules(self.first_pass if self.two_passes else [True] * len(self.rules))
        clock = self._lap("rules", clock)
        view = GraphView(store.store)
        graph = cast(Graph, view)
        plans: list[tuple[_Pending, URIRef, list[tuple[URIRef, Section | None]]]] = []
        foci: dict[SectionKey, list[URIRef]] = {}
        requests_of: dict[int, list[URIRef]] = {}
        for item in batch:
            root = URIRef(item.fast.root.value)
            requests_of[item.index] = sorted((r for r in view.objects(root, MTUS.request) if isinstance(r, URIRef)),
                                             key=lambda r: api._request_key(graph, r))
        selected = self._select([r for requests in requests_of.values() for r in requests], graph)
        for item in batch:
            root = URIRef(item.fast.root.value)
            chosen = [(r, selected.get(r)) for r in requests_of[item.index]]
            if any(s is not None and self.section(s) is None for _, s in chosen):
                continue
            plans.append((item, root, chosen))
            for request, section in chosen:
                if section is not None:
                    foci.setdefault((section.iri, section.values_key), []).append(request)
        clock = self._lap("selection", clock)
        if self.two_passes:
            wanted = self.selection_reads | self.wording_reads | {str(p) for p in facts + formulary.READS}
            for key in foci:
                wanted |= self._section_reads(key)
            self._run_rules([b and not a for a, b in zip(self.first_pass, demanded(self.rules, wanted))])
            clock = self._lap("rules", clock)
        outcomes: dict[URIRef, ShapeOutcome] = {}
        for key, requests in foci.items():
            query = self._sections.get(key)
            assert query is not None
            outcomes.update(self.validate(requests, query))
        clock = self._lap("validation", clock)
        out: dict[int, Determination] = {}
        editions = self._editions([root for _, root, _ in plans])
        for item, root, chosen in plans:
            items = tuple(decide.item(graph, r, s, outcomes.get(r, ShapeOutcome()), self.texts) for r, s in chosen)
            out[item.index] = decide.determination(view, item.fast, root, items, editions.get(root), self.rb, self.texts)
        self._lap("decisions", clock)
        return out

    def _run_rules(self, which: list[bool]) -> None:
        """The chosen rules, in kb/rules/ order, each when the predicates it needs are present."""
        store = self.store
        present = store.predicates()
        for rule, run in zip(self.rules, which):
            if not run:
                self.skipped[rule.name] += 1
            elif rule.may_fire(present):
                if store.construct(rule.text):
                    present = store.predicates()
            else:
                self.skipped[rule.name] += 1

    def _section_reads(self, key: SectionKey) -> set[str]:
        """The predicates (every IRI) a section's compiled queries read."""
        if key not in self._reads:
            query = self._sections.get(key)
            self._reads[key] = set().union(*(query_reads(t) for t in (query.templates if query else ())))
        return self._reads[key]

    def _lap(self, phase: str, start: float) -> float:
        """Add the time since ``start`` to ``phase`` of ``timings``; the time now."""
        now = time.perf_counter()
        self.timings[phase] += now - start
        return now

    def _many(self, query: str, var: str, nodes: list[URIRef], column: str) -> dict[URIRef, list[Node]]:
        """The rows of selection's query for each node, in the query's order (selection binds
        ``var`` to one node; here a VALUES table binds it to each node of the batch)."""
        out: dict[URIRef, list[Node]] = {n: [] for n in nodes}
        if nodes:
            values = f"VALUES ?{var} {{ " + " ".join(sparql(n) for n in nodes) + " }"
            for row in self.store.select(query.replace(VALUES, values)):
                key, value = to_rdflib(row[var]), row[column]
                if isinstance(key, URIRef) and key in out and value is not None:
                    out[key].append(to_rdflib(value))
        return out

    def _select(self, requests: list[URIRef], graph: Graph) -> dict[URIRef, Section | None]:
        """The section selection.select chooses for each request: the first row it knows, as
        in force on the request's rule date."""
        catalog = self.rb.catalog
        chosen: dict[URIRef, Section | None] = {}
        for request, rows in self._many(self.selection_query, "request", requests, "section").items():
            known = [s for s in rows if isinstance(s, URIRef) and s in catalog.sections]
            chosen[request] = catalog.in_force(known[0], selection.rule_date(graph, request)) if known else None
        return chosen

    def _editions(self, roots: list[URIRef]) -> dict[URIRef, URIRef | None]:
        """selection.edition for each case: the first row."""
        return {root: rows[0] if rows and isinstance(rows[0], URIRef) else None
                for root, rows in self._many(self.edition_query, "case", roots, "edition").items()}

    def validate(self, requests: list[URIRef], query: SectionQuery) -> dict[URIRef, ShapeOutcome]:
        """The section's validation results per item, read as validation.validate_item does."""
        outcomes = {request: ShapeOutcome() for request in requests}
        parents = self.rb.parents
        for text in query.texts(requests):
            for row in self.store.select(text):
                branch = query.branches[int(row["_b"].value)]
                node_shape = parents.get(branch.source)
                focus = to_rdflib(row["this"])
                if node_shape is None or not isinstance(focus, URIRef) or focus not in outcomes:
                    continue
                value: Node | None = focus if branch.value in ("?this", "?value") else None
                if row["value"] is not None:
                    value = to_rdflib(row["value"])
                path = to_rdflib(row["path"]) if row["path"] is not None else self._path_name(branch.path)
                outcomes[focus].violated.setdefault(node_shape, []).append((path, value))
        return outcomes

    def _path_name(self, path: Node | None) -> Node | None:
        """The result path as validation.validate_item reads it (a complex path by a predicate)."""
        if path not in self._paths:
            self._paths[path] = validation._named_path(self.rb.shapes, path)
        return self._paths[path]

_ENGINES: dict[Path, Engine] = {}


def evaluate(case: str | Path | dict[str, Any] | Graph, rules: RuleBase | Path | None = None) -> Determination:
    """:func:`reasoner.evaluate` on the fast path (one engine per process and rule base)."""
    rb = rules if isinstance(rules, RuleBase) else rulebase_module.get(rules)
    engine = _ENGINES.get(rb.root)
    if engine is None or engine.rb is not rb:
        engine = _ENGINES[rb.root] = Engine(rb)
    return engine.evaluate(case)
