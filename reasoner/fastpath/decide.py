"""From validation outcomes to the determination, as :mod:`reasoner.api` assembles it.

An item is decided by ``api.decide_item`` and a case's determination assembled by
``api.determination``, as on the reference path; only what they read comes from the store.
"""

from __future__ import annotations

from rdflib import Graph, URIRef

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
    """The determination of a case (``api.determination``, with what the store says of it)."""
    ident = view.value(root, MTUS.identifier)
    return api.determination(str(ident) if ident is not None else str(root), root, view.value(root, MTUS.reviewDate),
                             fast.input_hash, fast.source, edition, items, rb, texts)
