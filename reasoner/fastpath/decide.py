"""From validation outcomes to the determination, as :mod:`reasoner.api` assembles it.

An item is decided by ``api.decide_item``, as on the reference path; the determination mirrors
the end of ``api.evaluate`` over a view of the store (the differential test compares every
field it fills).
"""

from __future__ import annotations

import datetime as dt

from rdflib import Graph, Literal, URIRef

from .. import api
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
    """The decision of one requested item, with the validation outcome already known."""
    return api.decide_item(graph, request, section, texts, lambda _: outcome)


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
