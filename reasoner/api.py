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

from . import decisions, inference, intake, rationale, rulebase, selection, validation
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


def decide_item(working: Graph, request: URIRef, section: Section | None, texts: Texts,
                outcome_of: Callable[[Section], validation.ShapeOutcome]) -> ItemDecision:
    """The decision on one item from its selected section and the validation outcome that
    ``outcome_of`` gives for it; shared by every validation engine (reference and fast path)."""
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
    }
    if section is None:
        return ItemDecision(**base, decision=decisions.NOT_ADDRESSED, section=None, criteria=(),
                            ur_guideline_mismatch=False, flags=(),
                            rationale=texts("conclusion-not-addressed", item=label), fact_text={})
    outcome = outcome_of(section)
    results, decision = decisions.evaluate_section(section, outcome)
    mismatch = _mismatch(cited, section.recognised_by)
    flags = (texts("flag-ur-mismatch"),) if mismatch else ()
    facts = rationale.fact_texts(working, results, texts)
    text = rationale.compose(section, results, decision, label, facts, texts)
    return ItemDecision(**base, decision=decision, section=section, criteria=results,
                        ur_guideline_mismatch=mismatch, flags=flags, rationale=text, fact_text=facts)


def evaluate(case: str | Path | dict[str, Any] | Graph, rules: RuleBase | Path | None = None) -> Determination:
    """Evaluate every requested item of a case against the rule base (default: the bundled one)."""
    rb = rules if isinstance(rules, RuleBase) else rulebase.get(rules)
    case_input = intake.read(case, rb)
    texts = Texts(rb.kb, rb.closure)
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
    return (int(ident), "") if ident.isdigit() else (1 << 30, ident)
