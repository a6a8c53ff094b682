"""From validation outcomes to the determination, as :mod:`reasoner.api` assembles it.

These mirror ``api._item`` and the end of ``api.evaluate`` over a view of the store (the
differential test compares every field they fill); decisions, rationale and wording come from
the same modules as on the reference path.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rdflib import Graph, Literal, URIRef

from .. import api, decisions, rationale
from ..catalog import Section
from ..determination import Determination, ItemDecision
from ..namespaces import MTUS
from ..rulebase import RuleBase
from ..texts import Texts
from ..validation import ShapeOutcome
from .caseread import FastCase
from .view import GraphView


def item(graph: Graph, request: URIRef, section: Section | None, outcome: ShapeOutcome,
         texts: Texts) -> ItemDecision:
    """The decision of one requested item (``api._item``, with the outcome already known)."""
    ur = graph.value(request, MTUS.utilizationReview)
    cited_node = graph.value(ur, MTUS.guidelineCited) if ur is not None else None
    cited = str(cited_node) if cited_node is not None else None
    service = graph.value(request, MTUS.service)
    region = graph.value(request, MTUS.region)
    label = rationale.item_label(graph, request, texts)
    base: dict[str, Any] = {
        "request": request,
        "request_id": str(graph.value(request, MTUS.identifier)),
        "service": service,
        "region": region if isinstance(region, URIRef) else None,
        "item_label": label,
        "ur_guideline_cited": cited,
    }
    if section is None:
        return ItemDecision(**base, decision=decisions.NOT_ADDRESSED, section=None, criteria=(),
                            ur_guideline_mismatch=False, flags=(),
                            rationale=texts("conclusion-not-addressed", item=label), fact_text={})
    results, decision = decisions.evaluate_section(section, outcome)
    mismatch = api._mismatch(cited, section.recognised_by)
    flags = (texts("flag-ur-mismatch"),) if mismatch else ()
    facts = rationale.fact_texts(graph, results, texts)
    text = rationale.compose(section, results, decision, label, facts, texts)
    return ItemDecision(**base, decision=decision, section=section, criteria=results,
                        ur_guideline_mismatch=mismatch, flags=flags, rationale=text, fact_text=facts)


def determination(view: GraphView, fast: FastCase, root: URIRef, items: tuple[ItemDecision, ...],
                  edition: URIRef | None, rb: RuleBase, texts: Texts) -> Determination:
    """The determination of a case (the end of ``api.evaluate``)."""
    review = view.value(root, MTUS.reviewDate)
    ident = view.value(root, MTUS.identifier)
    return Determination(
        case_id=str(ident) if ident is not None else str(root),
        case_iri=root,
        review_date=review.toPython() if isinstance(review, Literal) else dt.date.min,
        rulebase_version=rb.version,
        rulebase_digest=rb.digest,
        input_hash=fast.input_hash,
        edition=edition,
        edition_label=texts.label(edition) if edition is not None else "",
        items=items,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        source=fast.source,
    )
