"""Rationale: the decision text of an item, assembled from kb/ wording and the case facts.

The section's recommendation summary opens it; each criterion that decided the item adds its
sentence from kb/ (met, not met, not documented), followed by the facts involved; a conclusion
from kb/presentation.ttl closes it. No clinical wording lives here.
"""

from __future__ import annotations

from rdflib import Graph, URIRef

from .catalog import Section
from .decisions import MET, NOT_DOCUMENTED, NOT_MET, OVERTURNED, CriterionResult, Fact
from .namespaces import MTUS
from .texts import Texts


def item_label(graph: Graph, request: URIRef, texts: Texts) -> str:
    service = texts.label(graph.value(request, MTUS.service))
    drug = graph.value(request, MTUS.drug)
    if drug is not None:
        service = texts("item-drug", service=service, drug=texts.label(drug))
    region = graph.value(request, MTUS.region)
    quantity = graph.value(request, MTUS.quantity)
    label = service
    if region is not None:
        label = texts("item-region", item=label, region=texts.label(region))
    if quantity is not None:
        label = texts("item-quantity", item=label, quantity=texts.label(quantity))
    return label


def fact_texts(graph: Graph, results: tuple[CriterionResult, ...], texts: Texts) -> dict[Fact, str]:
    """Each fact in words; a number written so that it keeps its side of the bounds of every
    criterion it was compared with."""
    bounds: dict[Fact, tuple[object, ...]] = {}
    for top in results:
        for result in top.walk():
            for fact in result.supporting + result.contradicting:
                bounds[fact] = bounds.get(fact, ()) + result.criterion.bounds
    return {fact: texts.describe(graph, fact.node, fact.path, limits) for fact, limits in bounds.items()}


def criterion_sentence(result: CriterionResult, facts: dict[Fact, str], texts: Texts) -> str:
    crit = result.criterion
    if not result.applicable:
        return crit.not_applicable_text or crit.met_text
    if result.status == MET:
        sentence, involved = crit.met_text, result.supporting
    elif result.status == NOT_MET:
        sentence, involved = crit.not_met_text or crit.not_documented_text, result.contradicting
    else:
        sentence, involved = crit.not_documented_text or crit.not_met_text, ()
    if result.branches and result.unmet:
        undocumented = [b.criterion.shortfall for b in result.branches if b.status == NOT_DOCUMENTED]
        contradicted = [b.criterion.shortfall for b in result.branches if b.status == NOT_MET]
        if undocumented:
            sentence = texts("alternatives-not-documented", sentence=sentence, branches="; ".join(undocumented))
        if contradicted:
            sentence = texts("alternatives-not-met", sentence=sentence, branches="; ".join(contradicted))
    if involved:
        sentence = texts("with-facts", sentence=sentence, facts="; ".join(facts[f] for f in involved))
    return sentence


def compose(section: Section, results: tuple[CriterionResult, ...], decision: str, label: str,
            facts: dict[Fact, str], texts: Texts) -> str:
    parts = []
    if section.search_step.order > 1:
        parts.append(texts("rationale-search-step", step=section.search_step.label,
                           description=section.search_step.description))
    parts.append(texts("rationale-opening", guideline=section.citation_title, summary=section.summary))
    if decision == OVERTURNED:
        parts += [criterion_sentence(r, facts, texts) for r in results if r.applicable]
        parts.append(texts(section.overturned_conclusion, item=label))
    else:
        parts += [criterion_sentence(r, facts, texts) for r in results if r.unmet]
        parts.append(texts("conclusion-upheld", item=label))
    return " ".join(p.strip() for p in parts if p.strip())
