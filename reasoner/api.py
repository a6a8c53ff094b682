"""The Python API: ``evaluate(case) -> Determination``.

A case is a path (YAML, JSON, JSON-LD, Turtle), a mapping in the case format, or an RDF graph.
The pipeline runs one way: intake, inference, selection, validation, decisions, rationale.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from . import (
    decisions,
    formulary,
    inference,
    intake,
    quantity,
    rationale,
    rulebase,
    selection,
    validation,
)
from .catalog import Section
from .determination import Determination, ItemDecision
from .namespaces import MTUS
from .rulebase import RuleBase
from .texts import Texts


def _mismatch(cited: str | None, section_phrases: tuple[str, ...]) -> bool:
    if not cited:
        return False
    return not any(re.search(rf"(?<!\w){re.escape(phrase.strip())}", cited, re.IGNORECASE)
                   for phrase in section_phrases)


def _item(working: Graph, request: URIRef, rb: RuleBase, texts: Texts) -> ItemDecision:
    section = selection.select(working, request, rb).section
    return decide_item(working, request, section, texts,
                       lambda chosen: validation.validate_item(working, request, chosen, rb))


def cited_as(section: Section | None, rule: selection.RuleDate | None, texts: Texts) -> str:
    """The guideline as determinations cite it (the wording patterns are kb/ texts): the text the
    section's search step names (mtus:citedAs), else its document's, else, for a document with
    dated versions, the version in force on the rule date; else the section's own citation."""
    if section is None:
        return texts("citation-not-addressed")
    version = section.version_on(rule.day) if rule is not None else None
    pattern = section.search_step.cited_as or section.cited_as or ("citation-version" if version else "")
    if not pattern:
        return section.citation()
    return texts(pattern, title=section.citation_title, year=version.cited_year if version else "",
                 chapter=section.chapter or section.label, section=section.label)


def _dates(rule: selection.RuleDate | None) -> dict[str, Any]:
    if rule is None:
        return {}
    return {"edition": rule.edition, "date_key": rule.key, "rule_date": rule.day}


def _not_addressed(rule: selection.RuleDate | None, label: str, texts: Texts,
                   outside: Callable[[dt.date], dict[str, str] | None] = lambda _: None) -> str:
    """Why no section applies: no edition covers the item's dates, a section addresses the
    service but not the phase of the item's pain (``outside``: selection.outside_phase), or none
    addresses the service on its rule date."""
    if rule is None:
        return texts("conclusion-no-edition", item=label)
    phase = outside(rule.day)
    if phase is not None:
        return texts("conclusion-not-addressed-phase", item=label, date=rule.day.isoformat(),
                     kind=texts.label(rule.key), edition=texts.label(rule.edition), **phase)
    return texts("conclusion-not-addressed", item=label, date=rule.day.isoformat(), kind=texts.label(rule.key),
                 edition=texts.label(rule.edition))


def decide_item(working: Graph, request: URIRef, section: Section | None, texts: Texts,
                outcome_of: Callable[[Section], validation.ShapeOutcome]) -> ItemDecision:
    """The decision on one item from its selected section and the validation outcome that
    ``outcome_of`` gives for it; shared by every validation engine (reference and fast path)."""
    rule = selection.item_rule_date(working, request)
    ur = working.value(request, MTUS.utilizationReview)
    cited_node = working.value(ur, MTUS.guidelineCited) if ur is not None else None
    cited = str(cited_node) if cited_node is not None else None
    service = working.value(request, MTUS.service)
    region = working.value(request, MTUS.region)
    label = rationale.item_label(working, request, texts)
    base: dict[str, Any] = {
        "request": request,
        "request_id": str(working.value(request, MTUS.identifier)),
        "service": service,
        "region": region if isinstance(region, URIRef) else None,
        "item_label": label,
        "ur_guideline_cited": cited,
        "cited_as": cited_as(section, rule, texts),
        **_dates(rule),
        "formulary": formulary.answer(working, request, texts),
    }
    if section is None:
        return ItemDecision(**base, decision=decisions.NOT_ADDRESSED, section=None, criteria=(),
                            ur_guideline_mismatch=False, flags=(),
                            rationale=_not_addressed(rule, label, texts,
                                                     lambda day: selection.outside_phase(working, request, texts, day)),
                            fact_text={})
    outcome = outcome_of(section)
    results, decision = decisions.evaluate_section(section, outcome)
    mismatch = _mismatch(cited, section.recognised_by)
    flags = (texts("flag-ur-mismatch"),) if mismatch else ()
    facts = rationale.fact_texts(working, results, texts)
    text = rationale.compose(section, results, decision, label, facts, texts)
    return ItemDecision(**base, decision=decision, section=section, criteria=results,
                        ur_guideline_mismatch=mismatch, flags=flags, rationale=text, fact_text=facts,
                        physician_review_reason=review_reason(section, decision, base["cited_as"], texts),
                        supported_quantity=quantity.supported(results, rule.day if rule else None, texts))


def review_reason(section: Section, decision: decisions.Decision, cited: str, texts: Texts) -> str:
    """Why an item its encoded criteria certify still goes to a physician reviewer: the text its
    section's coverage names (mtus:reviewReason of mtus:Partial), else none. An item not certified
    goes to a physician anyway (Labor Code 4610)."""
    if decision != decisions.OVERTURNED or not section.review_reason:
        return ""
    return texts(section.review_reason, guideline=cited, section=section.label,
                 not_encoded=section.coverage_note.rstrip("."))


def evaluate(case: str | Path | dict[str, Any] | Graph, rules: RuleBase | Path | None = None, *,
             as_of: dt.date | None = None) -> Determination:
    """Evaluate every requested item of a case against the rule base (default: the bundled one);
    with ``as_of``, under the rules in force on that date (mtus:asOfDate; durations still end on
    the review date)."""
    rb = rules if isinstance(rules, RuleBase) else rulebase.get(rules)
    case_input = intake.read(case, rb)
    if as_of is not None:
        intake.decide_as_of(case_input, as_of)
    texts = Texts(rb.kb, rb.closure, rb.catalog.writer)
    with inference.working_graph(case_input, rb) as working:
        requests = sorted((r for r in working.objects(case_input.root, MTUS.request) if isinstance(r, URIRef)),
                          key=lambda r: _request_key(working, r))
        items = tuple(_item(working, r, rb, texts) for r in requests)
        edition = selection.edition(working, case_input.root)
        review = working.value(case_input.root, MTUS.reviewDate)
    return determination(case_input.identifier, case_input.root, review, case_input.input_hash, case_input.source,
                         edition, items, rb, texts)


def determination(case_id: str, case_iri: URIRef, review: Node | None, input_hash: str, source: str,
                  edition: URIRef | None, items: tuple[ItemDecision, ...], rb: RuleBase, texts: Texts) -> Determination:
    """The determination of a case from its decided items; shared by every validation engine."""
    return Determination(
        case_id=case_id,
        case_iri=case_iri,
        review_date=review.toPython() if isinstance(review, Literal) else dt.date.min,
        rulebase_version=rb.version,
        rulebase_digest=rb.digest,
        input_hash=input_hash,
        edition=edition,
        edition_label=texts.label(edition) if edition is not None else "",
        items=items,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        source=source,
        texts=texts,
    )


def _request_key(graph: Graph, request: URIRef) -> tuple[int, str]:
    ident = str(graph.value(request, MTUS.identifier) or "")
    # ASCII digits only: "²" is a digit to str.isdigit but not to int()
    return (int(ident), "") if ident.isascii() and ident.isdigit() and len(ident) < 10 else (1 << 30, ident)
