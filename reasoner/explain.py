"""``mtus explain CASE``: what the reasoner saw and why it decided as it did (reference path).

An explanation has four parts: the case's stated facts; each derived fact with the step that
added it (intake's day numbers, or the first rule of kb/rules/ that derived it, run one at a
time in file order by :func:`inference.traced_working_graph`); per requested item, the candidate
sections with the selection conditions each met (:func:`selection.candidates`, the selection
query with its conditions as columns), and the chosen one; and per criterion of the chosen
section its kind, state, whether it applied and its shapes by role with their results
(:mod:`decisions` and :class:`validation.ShapeOutcome`, as ``mtus evaluate`` decides them).
Every clinical word comes from the rule base; the wording here is the tool's own.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from . import api, inference, intake, rulebase, selection, validation
from .catalog import Section
from .decisions import CriterionResult, Fact
from .errors import EXIT_OK, MtusError
from .explain_names import Names
from .namespaces import CODE, MTUS, local_name, qname
from .rulebase import RuleBase
from .texts import Texts


@dataclass(frozen=True)
class FactLine:
    """One triple in a reader's terms (short names and labels), with the step that added it."""

    subject: str
    predicate: str
    object: str
    subject_iri: str
    predicate_iri: str
    object_term: str
    source: str | None = None  # None for a stated fact; "intake" or the rule's name
    source_file: str | None = None


@dataclass(frozen=True)
class Reason:
    """Why a candidate section was not chosen: a code (for programs) and a sentence."""

    code: str
    text: str


@dataclass(frozen=True)
class CandidateLine:
    section: str
    iri: str
    label: str
    citation: str
    search_step: str
    step_order: int
    priority: int
    effective_from: str | None
    effective_until: str | None
    conditions: dict[str, bool]
    chosen: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class ShapeFact:
    """A (path, value) pair of a violated shape's results."""

    path: str
    path_iri: str | None
    value: str
    value_term: str | None
    description: str


@dataclass(frozen=True)
class ShapeLine:
    shape: str
    role: str
    violated: bool
    facts: tuple[ShapeFact, ...]


@dataclass(frozen=True)
class CriterionLine:
    criterion: str
    order: str
    statement: str
    kind: str
    state: str
    applies: bool
    shapes: tuple[ShapeLine, ...]
    supporting: tuple[ShapeFact, ...]
    contradicting: tuple[ShapeFact, ...]
    branches: tuple[CriterionLine, ...]


@dataclass(frozen=True)
class RequestExplanation:
    id: str
    item: str
    decision: str
    section: str | None
    section_label: str | None
    citation: str | None
    candidates: tuple[CandidateLine, ...]
    criteria: tuple[CriterionLine, ...]


@dataclass(frozen=True)
class Explanation:
    case: str
    source: str
    review_date: str
    stated: tuple[FactLine, ...]
    derived: tuple[FactLine, ...]
    requests: tuple[RequestExplanation, ...]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False) + "\n"


#: the order in which a criterion's shapes are listed, by role
_ROLES = (MTUS.Support, MTUS.Contradiction, MTUS.Applicability, MTUS.Evidence)


def _term(node: Node | None) -> str | None:
    if node is None:
        return None
    return str(node)


def _fact_line(triple: tuple[Node, Node, Node], names: Names, texts: Texts,
               source: str | None = None, source_file: str | None = None) -> FactLine:
    s, p, o = triple
    return FactLine(names.node(s), texts.label(p), names.node(o), str(s), str(p), str(o), source, source_file)


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _labels(texts: Texts, nodes: Iterable[Node]) -> str:
    found = sorted(texts.label(n) for n in nodes if isinstance(n, URIRef))
    return ", ".join(found) if found else "-"


def _reasons(candidate: selection.Candidate, chosen: selection.Candidate | None, review: str,
             working: Graph, request: URIRef, rb: RuleBase, texts: Texts) -> tuple[Reason, ...]:
    section = candidate.section
    out: list[Reason] = []
    conditions = candidate.conditions
    if not conditions["inForce"]:
        until = _date(candidate.effective_until) or "no end date"
        rule = selection.item_rule_date(working, request)
        on = f"the item's rule date {rule.day.isoformat()} ({texts.label(rule.key)})" if rule else f"the review date {review}"
        out.append(Reason("not-in-force", f"not in force on {on} "
                                          f"(in force from {_date(candidate.effective_from)} to {until})"))
    if not conditions["regionAddressed"]:
        region = working.value(request, MTUS.region) or CODE.whole_body
        out.append(Reason("region-not-addressed", f"region not addressed: {texts.label(region)} "
                                                  f"(the section addresses {_labels(texts, section.regions)})"))
    drug = working.value(request, MTUS.drug)
    if not conditions["drugClassAddressed"]:
        classes = rb.kb.objects(section.iri, MTUS.addressesDrugClass)
        out.append(Reason("drug-class-not-addressed", f"drug class not addressed: {texts.label(drug) or '-'} "
                                                      f"(the section addresses {_labels(texts, classes)})"))
    if not conditions["drugAddressed"]:
        drugs = rb.kb.objects(section.iri, MTUS.addressesDrug)
        out.append(Reason("drug-not-addressed", f"drug not addressed: {texts.label(drug) or '-'} "
                                                f"(the section addresses {_labels(texts, drugs)})"))
    if not conditions["phaseAddressed"]:
        phases = rb.kb.objects(section.iri, MTUS.addressesPhase)
        out.append(Reason("phase-not-addressed", f"phase of pain not addressed: "
                                                 f"{texts.label(working.value(request, MTUS.painPhase)) or '-'} "
                                                 f"(the section addresses {_labels(texts, phases)})"))
    if out or chosen is None or candidate.section.iri == chosen.section.iri:
        return tuple(out)
    if candidate.step_order > chosen.step_order:
        return (Reason("later-search-step", f"a later step of the evidence search sequence: "
                                            f"{section.search_step.label} (step {candidate.step_order}) comes after "
                                            f"{chosen.section.search_step.label} (step {chosen.step_order})"),)
    if candidate.priority < chosen.priority:
        return (Reason("lower-priority", f"a lower selection priority ({candidate.priority}) than the chosen "
                                         f"section's ({chosen.priority})"),)
    return (Reason("ordered-after", "the same search step and selection priority as the chosen section; "
                                    "ordered after it by identifier"),)


def _candidates(working: Graph, request: URIRef, chosen: Section | None, review: str,
                rb: RuleBase, texts: Texts) -> tuple[CandidateLine, ...]:
    found = selection.candidates(working, request, rb)
    chosen_candidate = next((c for c in found if chosen is not None and c.section.iri == chosen.iri), None)
    return tuple(CandidateLine(
        section=local_name(c.section.iri),
        iri=str(c.section.iri),
        label=c.section.label,
        citation=c.section.citation(),
        search_step=c.section.search_step.label,
        step_order=c.step_order,
        priority=c.priority,
        effective_from=_date(c.effective_from),
        effective_until=_date(c.effective_until),
        conditions=dict(c.conditions),
        chosen=c is chosen_candidate,
        reasons=_reasons(c, chosen_candidate, review, working, request, rb, texts),
    ) for c in found)


def _shape_fact(path: Node | None, value: Node | None, working: Graph, names: Names, texts: Texts) -> ShapeFact:
    return ShapeFact(
        path=texts.label(path) if path is not None else "-",
        path_iri=_term(path),
        value=names.node(value) if value is not None else "",
        value_term=_term(value),
        description=texts.describe(working, value, path) if names.is_case_node(value) else "",
    )


def _criterion(result: CriterionResult, outcome: validation.ShapeOutcome, working: Graph,
               names: Names, texts: Texts) -> CriterionLine:
    crit = result.criterion
    shapes: list[ShapeLine] = []
    for role in _ROLES:
        for shape in crit.shapes.get(role, ()):
            pairs = outcome.violated.get(shape)
            found = tuple(_shape_fact(p, v, working, names, texts) for p, v in dict.fromkeys(pairs or []))
            shapes.append(ShapeLine(qname(shape), texts.label(role), pairs is not None, found))

    def facts(found: tuple[Fact, ...]) -> tuple[ShapeFact, ...]:
        return tuple(_shape_fact(f.path, f.node, working, names, texts) for f in found)

    return CriterionLine(
        criterion=local_name(crit.iri),
        order=crit.order,
        statement=crit.statement,
        kind=texts.label(crit.kind),
        state=result.status,
        applies=result.applicable,
        shapes=tuple(shapes),
        supporting=facts(result.supporting),
        contradicting=facts(result.contradicting),
        branches=tuple(_criterion(b, outcome, working, names, texts) for b in result.branches),
    )


def _request(working: Graph, request: URIRef, review: str, names: Names, rb: RuleBase,
             texts: Texts) -> RequestExplanation:
    chosen = selection.select(working, request, rb).section
    outcomes: list[validation.ShapeOutcome] = []

    def outcome_of(section: Section) -> validation.ShapeOutcome:
        outcomes.append(validation.validate_item(working, request, section, rb))
        return outcomes[-1]

    item = api.decide_item(working, request, chosen, texts, outcome_of)
    criteria = tuple(_criterion(r, outcomes[0], working, names, texts) for r in item.criteria) if outcomes else ()
    return RequestExplanation(
        id=item.request_id,
        item=item.item_label,
        decision=item.decision,
        section=local_name(chosen.iri) if chosen else None,
        section_label=chosen.label if chosen else None,
        citation=chosen.citation() if chosen else None,
        candidates=_candidates(working, request, chosen, review, rb, texts),
        criteria=criteria,
    )


def _requests(case: intake.CaseInput) -> dict[str, URIRef]:
    found = {str(case.graph.value(r, MTUS.identifier)): r
             for r in case.graph.objects(case.root, MTUS.request) if isinstance(r, URIRef)}
    return dict(sorted(found.items(), key=lambda kv: api._request_key(case.graph, kv[1])))


def explain(case_input: str | Path | dict[str, Any] | Graph, rb: RuleBase,
            request_id: str | None = None) -> Explanation:
    """The explanation of a case (a path, a mapping in the case format or a graph, as
    :func:`reasoner.evaluate` takes), or of one of its requests (an unknown id is an input error)."""
    case = intake.read(case_input, rb)
    requests = _requests(case)
    if request_id is not None:
        if request_id not in requests:
            raise MtusError(f"{case.source}: no request with id {request_id!r}; "
                            f"the case's requests are: {', '.join(requests) or '(none)'}")
        requests = {request_id: requests[request_id]}
    texts = Texts(rb.kb, rb.closure, rb.catalog.writer)
    review_node = case.graph.value(case.root, MTUS.reviewDate)
    review = str(review_node) if isinstance(review_node, Literal) else ""
    with inference.traced_working_graph(case, rb) as (working, steps):
        names = Names(case, texts)
        stated = tuple(_fact_line(t, names, texts) for t in names.ordered(case.graph))
        hidden = names.owned_by_other_requests(set(requests.values()))
        derived = tuple(
            _fact_line(t, names, texts, step.source,
                       str(step.rule.path.relative_to(rb.root)) if step.rule is not None else None)
            for step in steps if step.source != inference.STATED
            for t in names.ordered(step.added) if not hidden & {t[0], t[2]})
        explained = tuple(_request(working, r, review, names, rb, texts) for r in requests.values())
    return Explanation(case.identifier, case.source, review, stated, derived, explained)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("explain", help="show what the reasoner saw in a case: facts, derived facts with "
                                            "their rules, section selection and criteria")
    parser.add_argument("case", type=Path, help="a case file (.yaml, .yml, .json, .jsonld, .ttl)")
    parser.add_argument("--request", metavar="ID", default=None,
                        help="explain this request only (its id in the case)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--counterfactual", action="store_true",
                        help="per request, the verified sets of documentable changes that would turn the decision "
                             "(an overturned item: the entries it rests on); a YAML or JSON case")
    parser.add_argument("--max-size", dest="max_size", type=int, default=None,
                        help="with --counterfactual: most changes in a set (default 4)")
    parser.add_argument("--max-evaluations", dest="max_evaluations", type=int, default=None,
                        help="with --counterfactual: most re-evaluations per request (default 80)")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from .explain_text import render

    if getattr(args, "counterfactual", False):
        from . import counterfactuals

        found = counterfactuals.find(args.case, rulebase.get(args.rules), request=args.request,
                                     max_size=args.max_size, max_evaluations=args.max_evaluations)
        sys.stdout.write(json.dumps(found.as_json(), indent=2, ensure_ascii=False) + "\n" if args.format == "json"
                         else counterfactuals.render_text(found))
        return EXIT_OK
    explanation = explain(args.case, rulebase.get(args.rules), args.request)
    sys.stdout.write(explanation.to_json() if args.format == "json" else render(explanation))
    return EXIT_OK
